/* validate.c — checks of builtin containers before their tp_traverse. */
#include "validate.h"

#include "pydict.h"
#include "view.h"

enum {
  /* Sizes beyond these cannot be allocated: they only bound the
   * arithmetic (and catch garbage early). */
  PYL_MAX_ITEMS_LOG2 = 40,
  PYL_SET_MINSIZE = 8,
};

/* fill and used come right before mask in PySetObject of every supported
 * version ({ob_base, fill, used, mask, table, ...}, 3.8-3.14), so their
 * offsets follow from the layout's mask offset. */
enum {
  PYL_SET_FILL_BEFORE_MASK = 16,
  PYL_SET_USED_BEFORE_MASK = 8,
};

static bool count_ok(int64_t n) {
  return n >= 0 && n < ((int64_t)1 << PYL_MAX_ITEMS_LOG2);
}

/* An array of n words at addr that tp_traverse will read. */
static bool words_readable(struct pyl_view *c, uint64_t addr, uint64_t n) {
  return n == 0 ||
         (addr % PYL_PTR == 0 && pyl_mem_ptr(&c->mem, addr, n * PYL_PTR));
}

static const char *check_list(struct pyl_view *c, const void *p) {
  const struct pyl_layout *L = c->L;
  int64_t size = pyl_ld_i64(p, L->ob_size_off);
  int64_t allocated = pyl_ld_i64(p, L->list_allocated_off);
  uint64_t items = pyl_ld_u64(p, L->list_ob_item_off);
  if (!count_ok(size)) {
    return "list: size out of range";
  }
  /* list.sort() empties the list and sets allocated to -1 meanwhile. */
  if (size == 0 && allocated == -1) {
    return NULL;
  }
  if (!count_ok(allocated) || size > allocated) {
    return "list: size above its allocation";
  }
  if (allocated != 0 && items == 0) {
    return "list: no item array";
  }
  /* The whole allocation: the census counts it too. */
  if (!words_readable(c, items, (uint64_t)allocated)) {
    return "list: item array unreadable";
  }
  return NULL;
}

static const char *check_tuple(struct pyl_view *c, uint64_t addr,
                               const void *p) {
  const struct pyl_layout *L = c->L;
  int64_t size = pyl_ld_i64(p, L->ob_size_off);
  if (!count_ok(size)) {
    return "tuple: size out of range";
  }
  if (!words_readable(c, addr + L->tuple_ob_item_off, (uint64_t)size)) {
    return "tuple: size runs into unmapped memory";
  }
  return NULL;
}

/* ((size << 1) / 3 in every supported version. */
static uint64_t usable_fraction(uint64_t size) { return (size << 1) / 3; }

static const char *check_dict(struct pyl_view *c, const void *p) {
  const struct pyl_layout *L = c->L;
  uint64_t keys = pyl_ld_u64(p, L->dict_ma_keys_off);
  uint64_t values = pyl_ld_u64(p, L->dict_ma_values_off);
  int64_t used = pyl_ld_i64(p, L->dict_ma_used_off);
  const void *kp = NULL;
  if (keys != 0 && keys % PYL_PTR == 0) {
    kp = pyl_mem_ptr(&c->mem, keys, L->dk_indices_off);
  }
  if (kp == NULL) {
    return "dict: keys table unreadable";
  }
  struct pyl_dict_shape k;
  if (!pyl_dict_shape(L, kp, &k)) {
    return "dict: keys table has an implausible size";
  }
  int64_t usable = pyl_ld_i64(kp, L->dk_usable_off);
  int64_t nentries = pyl_ld_i64(kp, L->dk_nentries_off);
  uint64_t cap = usable_fraction(k.size);
  if (nentries < 0 || (uint64_t)nentries > cap || usable < 0 ||
      (uint64_t)usable > cap || used < 0 || used > nentries) {
    return "dict: entry counts do not fit its keys table";
  }
  uint64_t entries = keys + L->dk_indices_off + k.index_bytes;
  if (nentries != 0 &&
      pyl_mem_ptr(&c->mem, entries, (uint64_t)nentries * k.esize) == NULL) {
    return "dict: entries unreadable";
  }
  if (values != 0) {
    /* Before 3.13 an empty split dict reads nothing there (and may point
     * at a static empty array). */
    uint64_t len = L->dict_values_values_off + (uint64_t)nentries * PYL_PTR;
    if (values % PYL_PTR != 0 ||
        (len != 0 && pyl_mem_ptr(&c->mem, values, len) == NULL)) {
      return "dict: split values unreadable";
    }
  }
  return NULL;
}

static const char *check_set(struct pyl_view *c, const void *p) {
  const struct pyl_layout *L = c->L;
  int64_t mask = pyl_ld_i64(p, L->set_mask_off);
  int64_t fill = pyl_ld_i64(p, L->set_mask_off - PYL_SET_FILL_BEFORE_MASK);
  int64_t used = pyl_ld_i64(p, L->set_mask_off - PYL_SET_USED_BEFORE_MASK);
  uint64_t table = pyl_ld_u64(p, L->set_table_off);
  if (mask < PYL_SET_MINSIZE - 1 || !count_ok(mask) ||
      ((mask + 1) & mask) != 0) {
    return "set: mask is not a power of two minus one";
  }
  if (used < 0 || used > fill || fill > mask + 1) {
    return "set: fill and used do not fit its table";
  }
  if (table == 0 || table % PYL_PTR != 0 ||
      pyl_mem_ptr(&c->mem, table, ((uint64_t)mask + 1) * L->sizeof_setentry) ==
          NULL) {
    return "set: table unreadable";
  }
  return NULL;
}

const char *pyl_validate(struct pyl_view *c, const struct pyl_type *ty,
                         uint64_t addr, const void *p) {
  switch (pyl_shape_of(ty)) {
  case PYL_SHAPE_LIST:
    return check_list(c, p);
  case PYL_SHAPE_TUPLE:
    return check_tuple(c, addr, p);
  case PYL_SHAPE_DICT:
    return check_dict(c, p);
  case PYL_SHAPE_SET:
    return check_set(c, p);
  case PYL_SHAPE_OTHER:
    break;
  }
  return NULL;
}

bool pyl_validate_covers(const struct pyl_view *c, const struct pyl_type *ty) {
  const struct pyl_layout *L = c->L;
  uint64_t a = ty->addr;
  return a == L->list_type || a == L->tuple_type || a == L->dict_type ||
         a == L->set_type || a == L->frozenset_type;
}
