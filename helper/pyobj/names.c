/* names.c — rendering qualified type names and merging rows by name. */
#include "names.h"

#include "view.h"
#include "pydict.h"
#include "pystr.h"

enum {
  PYL_NAME_MAX = 512, /* longer names are cut */
  PYL_NAMES_RESERVE = 256 * 1024 * 1024,
  PYL_NAMES_FLOOR = 1 << 20,
  PYL_NAMES_HTAB_INITIAL = 1024,
  PYL_PAGE = 4096,
};

static hashval_t row_hash(const void *p) {
  return htab_hash_string(((const struct pyl_name_row *)p)->name);
}

static int row_eq(const void *a, const void *b) {
  return pyl_streq(((const struct pyl_name_row *)a)->name,
                   ((const struct pyl_name_row *)b)->name);
}

bool pyl_names_init(struct pyl_names *n) {
  if (!pyl_arena_reserve(&n->a_str, PYL_NAMES_RESERVE, PYL_NAMES_FLOOR) ||
      !pyl_vec_reserve(&n->v_rows, sizeof(struct pyl_name_row),
                       PYL_NAMES_RESERVE / sizeof(struct pyl_name_row),
                       PYL_NAMES_FLOOR) ||
      !pyl_arena_reserve(&n->a_htab, PYL_NAMES_RESERVE, PYL_NAMES_FLOOR)) {
    pyl_names_release(n);
    return false;
  }
  n->rows = pyl_vec_data(&n->v_rows);
  pyl_names_clear(n);
  return true;
}

void pyl_names_clear(struct pyl_names *n) {
  pyl_arena_decommit(&n->a_str);
  pyl_vec_clear(&n->v_rows);
  pyl_arena_decommit(&n->a_htab);
  n->htab = NULL;
  n->n_rows = 0;
}

void pyl_names_release(struct pyl_names *n) {
  pyl_arena_release(&n->a_str);
  pyl_vec_release(&n->v_rows);
  pyl_arena_release(&n->a_htab);
  n->rows = NULL;
  n->htab = NULL;
  n->n_rows = 0;
}

uint32_t pyl_names_add(struct pyl_names *n, const char *s) {
  size_t len = pyl_strlen(s) + 1;
  if (n->a_str.used == 0) {
    /* offset 0 is the empty string */
    char *z = pyl_arena_alloc(&n->a_str, 1, 1);
    if (z == NULL) {
      return UINT32_MAX;
    }
    *z = '\0';
  }
  size_t off = n->a_str.used;
  char *dst = pyl_arena_alloc(&n->a_str, len, 1);
  if (dst == NULL || off > UINT32_MAX) {
    return UINT32_MAX;
  }
  __builtin_memcpy(dst, s, len);
  return (uint32_t)off;
}

/* Copy a C string from the target, page by page so that a string ending
 * just before an unmapped page is still read. */
static bool read_cstr(struct pyl_view *c, uint64_t addr, char *buf,
                      size_t cap) {
  size_t len = 0;
  while (len + 1 < cap) {
    uint64_t a = addr + len;
    uint64_t chunk = PYL_PAGE - a % PYL_PAGE;
    if (chunk > cap - 1 - len) {
      chunk = cap - 1 - len;
    }
    const char *p = pyl_mem_ptr(&c->mem, a, chunk);
    if (p == NULL) {
      break;
    }
    for (uint64_t i = 0; i < chunk; i++) {
      if (p[i] == '\0') {
        buf[len] = '\0';
        return len > 0;
      }
      buf[len++] = p[i];
    }
  }
  buf[len] = '\0';
  return len > 0;
}

static void append(char *buf, size_t cap, size_t *len, const char *s) {
  while (*s != '\0' && *len + 1 < cap) {
    buf[(*len)++] = *s++;
  }
  buf[*len] = '\0';
}

/* Qualified name and qualname of the type into the two buffers. */
static void render(struct pyl_view *c, const struct pyl_type *ty, char *name,
                   char *qual) {
  const struct pyl_layout *L = c->L;
  uint64_t tp_name = 0;
  name[0] = '\0';
  qual[0] = '\0';
  if (ty->flags & PYL_TPF_HEAPTYPE) {
    uint64_t q = 0;
    uint64_t dict = 0;
    if (pyl_read_u64(&c->mem, ty->addr + L->ht_qualname_off, &q) &&
        pyl_is_str(c, q) && pyl_str_utf8(c, q, qual, PYL_NAME_MAX)) {
      char module[PYL_NAME_MAX];
      uint64_t m = 0;
      module[0] = '\0';
      if (pyl_read_u64(&c->mem, ty->addr + L->tp_dict_off, &dict) &&
          dict != 0) {
        m = pyl_dict_get_str(c, dict, "__module__");
      }
      size_t len = 0;
      if (m != 0 && pyl_is_str(c, m) &&
          pyl_str_utf8(c, m, module, PYL_NAME_MAX) &&
          !pyl_streq(module, "builtins")) {
        append(name, PYL_NAME_MAX, &len, module);
        append(name, PYL_NAME_MAX, &len, ".");
      }
      append(name, PYL_NAME_MAX, &len, qual);
      return;
    }
  }
  if (pyl_read_u64(&c->mem, ty->addr + L->tp_name_off, &tp_name) &&
      read_cstr(c, tp_name, name, PYL_NAME_MAX)) {
    size_t len = 0;
    append(qual, PYL_NAME_MAX, &len, pyl_last_component(name));
    return;
  }
  struct pyl_sbuf b;
  pyl_sbuf_init(&b, name, PYL_NAME_MAX);
  pyl_sbuf_str(&b, "<unreadable type ");
  pyl_sbuf_hex(&b, ty->addr);
  pyl_sbuf_str(&b, ">");
  size_t len = 0;
  append(qual, PYL_NAME_MAX, &len, name);
}

static bool add_to_row(struct pyl_names *n, struct pyl_type *ty) {
  struct pyl_name_row probe = {.name = pyl_names_str(n, ty->name_off)};
  void **slot = htab_find_slot(n->htab, &probe, INSERT);
  if (slot == NULL) {
    return false;
  }
  struct pyl_name_row *row = *slot;
  if (row == NULL) {
    if (!pyl_vec_fit(&n->v_rows, (uint64_t)n->n_rows + 1)) {
      return false;
    }
    row = &n->rows[n->n_rows++];
    *row = (struct pyl_name_row){
        .name = probe.name, .type_addr = ty->addr, .name_off = ty->name_off};
    *slot = row;
  }
  row->count += ty->count;
  row->bytes += ty->bytes;
  row->n_types++;
  ty->row = (uint32_t)(row - n->rows);
  return true;
}

bool pyl_names_build(struct pyl_view *c) {
  struct pyl_names *n = &c->names;
  pyl_names_clear(n);
  n->htab =
      htab_create_alloc_ex(PYL_NAMES_HTAB_INITIAL, row_hash, row_eq, NULL,
                           &n->a_htab, pyl_arena_calloc_cb, pyl_arena_free_cb);
  if (n->htab == NULL) {
    return false;
  }
  for (uint32_t i = 0; i < c->types.n; i++) {
    struct pyl_type *ty = &c->types.rec[i];
    char name[PYL_NAME_MAX];
    char qual[PYL_NAME_MAX];
    render(c, ty, name, qual);
    ty->name_off = pyl_names_add(n, name);
    ty->qualname_off = pyl_names_add(n, qual);
    if (ty->name_off == UINT32_MAX || ty->qualname_off == UINT32_MAX) {
      return false;
    }
    ty->row = UINT32_MAX;
    if (ty->count > 0 && !add_to_row(n, ty)) {
      return false;
    }
  }
  return true;
}
