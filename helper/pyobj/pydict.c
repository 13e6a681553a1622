/* pydict.c — dict keys tables of 3.8-3.13. */
#include "pydict.h"

#include "view.h"
#include "pystr.h"

enum {
  PYL_DICT_MAX_LOG2 = 31, /* sanity bound on a table we read */
  PYL_DICT_ENTRY_GENERAL = 24,
  PYL_DICT_ENTRY_UNICODE = 16,
};

bool pyl_dict_shape(const struct pyl_layout *L, const void *kp,
                    struct pyl_dict_shape *k) {
  if (pyl_layout_minor(L) <= 10) {
    /* dk_size, and an index width that follows from it */
    int64_t size = pyl_ld_i64(kp, L->dk_size_off);
    if (size <= 0 || size > ((int64_t)1 << PYL_DICT_MAX_LOG2) ||
        (size & (size - 1)) != 0) {
      return false;
    }
    unsigned width = size <= 0xff ? 1 : size <= 0xffff ? 2 : 4;
    k->size = (uint64_t)size;
    k->index_bytes = k->size * width;
    k->esize = PYL_DICT_ENTRY_GENERAL;
    k->kind = PYL_DICT_KIND_GENERAL;
    return true;
  }
  /* dk_log2_index_bytes is log2_size plus the log2 of the index width */
  unsigned log2 = pyl_ld_u8(kp, L->dk_log2_size_off);
  unsigned log2_index = pyl_ld_u8(kp, L->dk_log2_index_bytes_off);
  unsigned kind = pyl_ld_u8(kp, L->dk_kind_off);
  if (log2 > PYL_DICT_MAX_LOG2 || log2_index < log2 || log2_index > log2 + 3 ||
      kind > PYL_DICT_KIND_SPLIT) {
    return false;
  }
  k->size = 1ull << log2;
  k->index_bytes = 1ull << log2_index;
  k->esize = kind == PYL_DICT_KIND_GENERAL ? PYL_DICT_ENTRY_GENERAL
                                           : PYL_DICT_ENTRY_UNICODE;
  k->kind = kind;
  return true;
}

struct keys {
  int64_t refcnt;
  uint64_t size;        /* slots in the index */
  uint64_t index_bytes; /* bytes of the index array */
  uint64_t usable;      /* dk_usable */
  uint64_t nentries;
  uint64_t entries; /* address of entry 0 */
  unsigned esize;   /* bytes per entry */
  unsigned key_off; /* of me_key inside an entry */
  bool split_kind;  /* 3.11+: dk_kind says split */
};

static bool read_keys(struct pyl_view *c, uint64_t addr, struct keys *k) {
  const struct pyl_layout *L = c->L;
  if (addr == 0 || addr % 8 != 0) {
    return false;
  }
  const void *p = pyl_mem_ptr(&c->mem, addr, L->dk_indices_off);
  if (p == NULL) {
    return false;
  }
  k->refcnt = pyl_ld_i64(p, L->dk_refcnt_off);
  int64_t usable = pyl_ld_i64(p, L->dk_usable_off);
  int64_t nentries = pyl_ld_i64(p, L->dk_nentries_off);
  struct pyl_dict_shape shape;
  if (!pyl_dict_shape(L, p, &shape)) {
    return false;
  }
  k->size = shape.size;
  k->index_bytes = shape.index_bytes;
  k->esize = shape.esize;
  k->key_off = shape.kind == PYL_DICT_KIND_GENERAL ? PYL_PTR : 0;
  k->split_kind = shape.kind == PYL_DICT_KIND_SPLIT;
  if (nentries < 0 || (uint64_t)nentries > k->size || usable < 0) {
    return false;
  }
  k->usable = (uint64_t)usable;
  k->nentries = (uint64_t)nentries;
  k->entries = addr + L->dk_indices_off + k->index_bytes;
  return true;
}

static uint64_t values_array(struct pyl_view *c, uint64_t ma_values) {
  return ma_values + c->L->dict_values_values_off;
}

bool pyl_dict_foreach(struct pyl_view *c, uint64_t addr, pyl_dict_fn fn,
                      void *arg) {
  const struct pyl_layout *L = c->L;
  uint64_t keys_addr = 0;
  uint64_t values = 0;
  if (!pyl_read_u64(&c->mem, addr + L->dict_ma_keys_off, &keys_addr) ||
      !pyl_read_u64(&c->mem, addr + L->dict_ma_values_off, &values)) {
    return false;
  }
  struct keys k;
  if (!read_keys(c, keys_addr, &k)) {
    return false;
  }
  const void *ents = pyl_mem_ptr(&c->mem, k.entries, k.nentries * k.esize);
  const void *vals = NULL;
  if (values != 0) {
    vals = pyl_mem_ptr(&c->mem, values_array(c, values), k.nentries * PYL_PTR);
  }
  if (k.nentries == 0) {
    return true;
  }
  if (ents == NULL || (values != 0 && vals == NULL)) {
    return false;
  }
  for (uint64_t i = 0; i < k.nentries; i++) {
    uint64_t off = i * k.esize;
    uint64_t key = pyl_ld_u64(ents, off + k.key_off);
    uint64_t value = values != 0 ? pyl_ld_u64(vals, i * PYL_PTR)
                                 : pyl_ld_u64(ents, off + k.key_off + PYL_PTR);
    if (key != 0 && value != 0 && fn(key, value, arg) != 0) {
      break;
    }
  }
  return true;
}

struct get_str {
  struct pyl_view *c;
  const char *name;
  uint64_t value;
};

static int match_key(uint64_t key, uint64_t value, void *arg) {
  struct get_str *g = arg;
  if (pyl_is_str(g->c, key) && pyl_str_equals(g->c, key, g->name)) {
    g->value = value;
    return 1;
  }
  return 0;
}

uint64_t pyl_dict_get_str(struct pyl_view *c, uint64_t addr, const char *name) {
  struct get_str g = {.c = c, .name = name, .value = 0};
  (void)pyl_dict_foreach(c, addr, match_key, &g);
  return g.value;
}

uint64_t pyl_dict_extra(struct pyl_view *c, uint64_t addr) {
  const struct pyl_layout *L = c->L;
  uint64_t keys_addr = 0;
  uint64_t values = 0;
  struct keys k;
  if (!pyl_read_u64(&c->mem, addr + L->dict_ma_keys_off, &keys_addr) ||
      !pyl_read_u64(&c->mem, addr + L->dict_ma_values_off, &values) ||
      !read_keys(c, keys_addr, &k)) {
    return 0;
  }
  uint64_t usable_fraction = (k.size << 1) / 3;
  uint64_t extra = 0;
  if (values != 0) {
    /* 3.11+ sizes split values by what the shared keys can still take. */
    uint64_t slots =
        pyl_layout_minor(L) <= 10 ? usable_fraction : k.nentries + k.usable;
    extra += slots * PYL_PTR;
  }
  if (k.refcnt == 1) {
    extra += L->sizeof_dict_keys + k.index_bytes + usable_fraction * k.esize;
  }
  return extra;
}
