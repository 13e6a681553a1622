/* maps.c — parse /proc/self/maps into sorted readable/executable ranges. */
#define _GNU_SOURCE
#include "maps.h"

#include "util.h"

#include <fcntl.h>
#include <unistd.h>

enum {
  PYL_MAPS_READ_STEP = 64 * 1024,
  PYL_MAPS_RESERVE = 256 * 1024 * 1024,
  PYL_MAPS_FIELDS_BEFORE_PATH = 4, /* perms offset dev inode */
};

static const char *skip_spaces(const char *p, const char *end) {
  while (p < end && (*p == ' ' || *p == '\t')) {
    p++;
  }
  return p;
}

static const char *skip_field(const char *p, const char *end) {
  while (p < end && *p != ' ' && *p != '\t' && *p != '\n') {
    p++;
  }
  return p;
}

static const char *parse_hex(const char *p, const char *end, uint64_t *out) {
  uint64_t v = 0;
  const char *start = p;
  while (p < end) {
    int d = pyl_hex_digit(*p);
    if (d < 0) {
      break;
    }
    v = (v << 4) | (uint64_t)d;
    p++;
  }
  *out = v;
  return p == start ? NULL : p;
}

/* Device files and the vDSO data pages may fault on read (vvar pages of a
 * time namespace raise SIGBUS): never treat them as readable memory. */
static bool risky_path(const char *p, const char *end) {
  if (pyl_has_prefix(p, end, "[vvar")) {
    return true;
  }
  return pyl_has_prefix(p, end, "/dev/") &&
         !pyl_has_prefix(p, end, "/dev/zero") &&
         !pyl_has_prefix(p, end, "/dev/shm/");
}

static void add_range(struct pyl_range *v, uint32_t *n, uint64_t lo,
                      uint64_t hi) {
  if (*n > 0 && v[*n - 1].hi == lo) {
    v[*n - 1].hi = hi;
    return;
  }
  v[*n].lo = lo;
  v[*n].hi = hi;
  (*n)++;
}

bool pyl_maps_parse(struct pyl_maps *m, const char *text, uint64_t len) {
  if (!pyl_arena_reserve(&m->arena, PYL_MAPS_RESERVE,
                         (size_t)PYL_MAPS_READ_STEP * 4)) {
    return false;
  }
  const char *end = text + len;
  uint64_t lines = 1;
  for (const char *p = text; p < end; p++) {
    lines += *p == '\n';
  }
  struct pyl_range *rd = pyl_arena_alloc(&m->arena, (size_t)lines * sizeof(*rd),
                                         _Alignof(struct pyl_range));
  struct pyl_range *ex = pyl_arena_alloc(&m->arena, (size_t)lines * sizeof(*ex),
                                         _Alignof(struct pyl_range));
  if (rd == NULL || ex == NULL) {
    return false;
  }
  uint32_t n_rd = 0;
  uint32_t n_ex = 0;
  const char *p = text;
  while (p < end) {
    const char *eol = p;
    while (eol < end && *eol != '\n') {
      eol++;
    }
    uint64_t lo = 0;
    uint64_t hi = 0;
    const char *q = parse_hex(p, eol, &lo);
    if (q != NULL && q < eol && *q == '-') {
      q = parse_hex(q + 1, eol, &hi);
    } else {
      q = NULL;
    }
    if (q != NULL && hi > lo && lo < PYL_ADDR_LIMIT) {
      if (hi > PYL_ADDR_LIMIT) {
        hi = PYL_ADDR_LIMIT;
      }
      q = skip_spaces(q, eol);
      const char *perms = q;
      const char *path = q;
      for (int f = 0; f < PYL_MAPS_FIELDS_BEFORE_PATH; f++) {
        path = skip_spaces(skip_field(path, eol), eol);
      }
      bool ok_path = !risky_path(path, eol);
      if (eol - perms >= 4 && ok_path) {
        if (perms[0] == 'r') {
          add_range(rd, &n_rd, lo, hi);
        }
        if (perms[2] == 'x') {
          add_range(ex, &n_ex, lo, hi);
        }
      }
    }
    p = eol + 1;
  }
  m->rd = rd;
  m->n_rd = n_rd;
  m->ex = ex;
  m->n_ex = n_ex;
  for (uint32_t i = 0; i < PYL_CHUNK_SLOTS; i++) {
    m->granule[i] = 0;
  }
  return true;
}

bool pyl_maps_load(struct pyl_maps *m) {
  if (!pyl_arena_reserve(&m->arena, PYL_MAPS_RESERVE,
                         (size_t)PYL_MAPS_READ_STEP * 4)) {
    return false;
  }
  pyl_arena_reset(&m->arena);
  int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return false;
  }
  size_t len = 0;
  bool ok = true;
  for (;;) {
    if (!pyl_arena_commit(&m->arena, len + PYL_MAPS_READ_STEP)) {
      ok = false;
      break;
    }
    ssize_t got = read(fd, m->arena.base + len, PYL_MAPS_READ_STEP);
    if (got < 0) {
      ok = false;
      break;
    }
    if (got == 0) {
      break;
    }
    len += (size_t)got;
  }
  (void)close(fd);
  if (!ok) {
    return false;
  }
  m->arena.used = len;
  return pyl_maps_parse(m, (const char *)m->arena.base, len);
}

void pyl_maps_release(struct pyl_maps *m) {
  pyl_arena_release(&m->arena);
  m->rd = NULL;
  m->ex = NULL;
  m->n_rd = 0;
  m->n_ex = 0;
  for (uint32_t i = 0; i < PYL_CHUNK_SLOTS; i++) {
    m->granule[i] = 0;
  }
}

/* Index of the last range whose lo <= addr, or -1. */
static int64_t find_range(const struct pyl_range *v, uint32_t n,
                          uint64_t addr) {
  uint32_t lo = 0;
  uint32_t hi = n;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (v[mid].lo <= addr) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return (int64_t)lo - 1;
}

bool pyl_maps_readable_slow(struct pyl_maps *m, uint64_t addr, uint64_t len) {
  uint64_t end = addr + len;
  if (end < addr || end > PYL_ADDR_LIMIT || len == 0) {
    return false;
  }
  int64_t i = find_range(m->rd, m->n_rd, addr);
  if (i < 0 || m->rd[i].hi < end) {
    return false;
  }
  const struct pyl_range *r = &m->rd[i];
  for (uint64_t g = addr >> PYL_CHUNK_SHIFT; g <= (end - 1) >> PYL_CHUNK_SHIFT;
       g++) {
    if ((g << PYL_CHUNK_SHIFT) >= r->lo &&
        ((g + 1) << PYL_CHUNK_SHIFT) <= r->hi) {
      m->granule[g % PYL_CHUNK_SLOTS] = (g << 1) | 1;
    }
  }
  return true;
}

bool pyl_maps_executable(const struct pyl_maps *m, uint64_t addr) {
  int64_t i = find_range(m->ex, m->n_ex, addr);
  return i >= 0 && addr < m->ex[i].hi;
}
