/* arena.c — mmap-backed reservations that commit on demand. */
#define _GNU_SOURCE
#include "arena.h"

#include <sys/mman.h>

enum {
  PYL_COMMIT_GRAIN = 4096, /* smallest mprotect step: a page */
  /* Address space a reservation leaves free under RLIMIT_AS: the small
   * arenas reserved later (the maps snapshot) and the target need some. */
  PYL_HEADROOM = 64 * 1024 * 1024,
  /* Largest commit step beyond what was asked for. */
  PYL_COMMIT_AHEAD_MAX = 2 * 1024 * 1024,
  PYL_PAGE = 4096,
};

static uint64_t mapped_now;
static uint64_t mapped_peak;

uint64_t pyl_arena_mapped_now(void) { return mapped_now; }
uint64_t pyl_arena_mapped_peak(void) { return mapped_peak; }

static void account(int64_t delta) {
  mapped_now = (uint64_t)((int64_t)mapped_now + delta);
  if (mapped_now > mapped_peak) {
    mapped_peak = mapped_now;
  }
}

static size_t round_up(size_t v, size_t grain) {
  return (v + grain - 1) / grain * grain;
}

bool pyl_arena_reserve(struct pyl_arena *a, size_t want, size_t floor) {
  if (a->base != NULL) {
    return true;
  }
  want = round_up(want, PYL_COMMIT_GRAIN);
  if (floor > want) {
    floor = want;
  }
  for (size_t size = want; size >= floor && size > 0; size /= 2) {
    if (size > SIZE_MAX - PYL_HEADROOM) {
      continue;
    }
    void *p = mmap(NULL, size + PYL_HEADROOM, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p != MAP_FAILED) {
      (void)munmap((unsigned char *)p + size, PYL_HEADROOM);
      a->base = p;
      a->reserved = size;
      a->committed = 0;
      a->used = 0;
      return true;
    }
  }
  return false;
}

/* Make [committed, target) read-write and count it. */
static bool commit_to(struct pyl_arena *a, size_t target) {
  if (mprotect(a->base + a->committed, target - a->committed,
               PROT_READ | PROT_WRITE) != 0) {
    return false;
  }
#ifdef MADV_POPULATE_WRITE
  /* Fault the new pages in with one call instead of one trap per page
   * (Linux 5.14+; older kernels refuse and pages fault in on touch). */
  (void)madvise(a->base + a->committed, target - a->committed,
                MADV_POPULATE_WRITE);
#endif
  account((int64_t)(target - a->committed));
  a->committed = target;
  return true;
}

bool pyl_arena_commit(struct pyl_arena *a, size_t bytes) {
  if (bytes <= a->committed) {
    return true;
  }
  if (a->base == NULL || bytes > a->reserved) {
    return false;
  }
  /* Grow by an eighth at least (at most 2 MiB more than asked): arrays
   * that grow an element at a time need few syscalls, and the overshoot
   * stays small next to the 40-bytes-per-object budget. */
  size_t ahead = a->committed / 8;
  ahead = ahead < PYL_COMMIT_AHEAD_MAX ? ahead : PYL_COMMIT_AHEAD_MAX;
  size_t target = a->committed + ahead;
  if (target < bytes) {
    target = bytes;
  }
  target = round_up(target, PYL_COMMIT_GRAIN);
  if (target > a->reserved) {
    target = a->reserved;
  }
  return commit_to(a, target);
}

bool pyl_arena_commit_exact(struct pyl_arena *a, size_t bytes) {
  if (bytes <= a->committed) {
    return true;
  }
  if (a->base == NULL || bytes > a->reserved) {
    return false;
  }
  size_t target = round_up(bytes, PYL_PAGE);
  return commit_to(a, target < a->reserved ? target : a->reserved);
}

void *pyl_arena_alloc(struct pyl_arena *a, size_t size, size_t align) {
  size_t start = round_up(a->used, align);
  if (start < a->used || start + size < start) {
    return NULL;
  }
  if (!pyl_arena_commit(a, start + size)) {
    return NULL;
  }
  a->used = start + size;
  return a->base + start;
}

void pyl_arena_reset(struct pyl_arena *a) { a->used = 0; }

void pyl_arena_decommit(struct pyl_arena *a) {
  if (a->base == NULL || a->committed == 0) {
    a->used = 0;
    return;
  }
  /* DONTNEED on private anonymous memory drops the pages: the next touch
   * gets zero pages, which the hash table relies on. */
  (void)madvise(a->base, a->committed, MADV_DONTNEED);
  (void)mprotect(a->base, a->committed, PROT_NONE);
  account(-(int64_t)a->committed);
  a->committed = 0;
  a->used = 0;
}

void pyl_arena_release(struct pyl_arena *a) {
  if (a->base == NULL) {
    return;
  }
  account(-(int64_t)a->committed);
  (void)munmap(a->base, a->reserved);
  a->base = NULL;
  a->reserved = 0;
  a->committed = 0;
  a->used = 0;
}

void *pyl_arena_calloc_cb(void *arena, size_t n, size_t size) {
  if (size != 0 && n > SIZE_MAX / size) {
    return NULL;
  }
  /* A reset arena hands out old bytes: zero them. */
  void *p = pyl_arena_alloc(arena, n * size, 16);
  if (p != NULL) {
    __builtin_memset(p, 0, n * size);
  }
  return p;
}

void pyl_arena_free_cb(void *arena, void *p) {
  (void)arena;
  (void)p;
}
