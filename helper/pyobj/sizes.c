/* sizes.c — shallow sizes, one rule per builtin layout. */
#include "sizes.h"

#include "view.h"
#include "pydict.h"
#include "pystr.h"

enum {
  PYL_INT_TAG_SHIFT = 3, /* 3.12+: lv_tag = ndigits << 3 | sign bits */
};

static uint64_t var_items(struct pyl_view *c, const struct pyl_type *ty,
                          uint64_t addr) {
  int64_t n = 0;
  if (ty->itemsize == 0 ||
      !pyl_read_i64(&c->mem, addr + c->L->ob_size_off, &n)) {
    return 0;
  }
  /* ints before 3.12 keep the sign in ob_size */
  return ty->itemsize * (n < 0 ? -(uint64_t)n : (uint64_t)n);
}

static uint64_t list_extra(struct pyl_view *c, uint64_t addr) {
  int64_t allocated = 0;
  if (!pyl_read_i64(&c->mem, addr + c->L->list_allocated_off, &allocated) ||
      allocated < 0) {
    return 0;
  }
  return (uint64_t)allocated * PYL_PTR;
}

static uint64_t set_extra(struct pyl_view *c, uint64_t addr) {
  const struct pyl_layout *L = c->L;
  int64_t mask = 0;
  uint64_t table = 0;
  if (!pyl_read_i64(&c->mem, addr + L->set_mask_off, &mask) ||
      !pyl_read_u64(&c->mem, addr + L->set_table_off, &table) || mask < 0 ||
      table == addr + L->set_smalltable_off) {
    return 0;
  }
  return ((uint64_t)mask + 1) * L->sizeof_setentry;
}

static uint64_t bytearray_extra(struct pyl_view *c, uint64_t addr) {
  int64_t alloc = 0;
  if (!pyl_read_i64(&c->mem, addr + c->L->bytearray_alloc_off, &alloc) ||
      alloc < 0) {
    return 0;
  }
  return (uint64_t)alloc;
}

static uint64_t int_digits(struct pyl_view *c, const struct pyl_type *ty,
                           uint64_t addr) {
  unsigned minor = pyl_layout_minor(c->L);
  uint64_t ndigits = 0;
  if (minor >= 12) {
    uint64_t tag = 0;
    if (pyl_read_u64(&c->mem, addr + c->L->long_lv_tag_off, &tag)) {
      ndigits = tag >> PYL_INT_TAG_SHIFT;
    }
  } else {
    ndigits = var_items(c, ty, addr) / (ty->itemsize ? ty->itemsize : 1);
  }
  /* From 3.11 int.__sizeof__ counts the digit that zero still has. */
  if (minor >= 11 && ndigits == 0) {
    ndigits = 1;
  }
  return ty->itemsize * ndigits;
}

uint64_t pyl_object_base_size(struct pyl_view *c, const struct pyl_type *ty,
                              bool is_gc) {
  uint64_t size = ty->basicsize;
  if (is_gc) {
    size += c->L->sizeof_gc_head;
  }
  if (ty->preheader) {
    size += c->L->preheader_size;
  }
  return size;
}

uint64_t pyl_object_size(struct pyl_view *c, const struct pyl_type *ty,
                         uint64_t addr, bool is_gc) {
  uint64_t size = ty->basicsize;
  switch ((enum pyl_size_rule)ty->rule) {
  case PYL_SIZE_PLAIN:
    size += var_items(c, ty, addr);
    break;
  case PYL_SIZE_LIST:
    size += var_items(c, ty, addr) + list_extra(c, addr);
    break;
  case PYL_SIZE_DICT:
    size += pyl_dict_extra(c, addr);
    break;
  case PYL_SIZE_SET:
    size += set_extra(c, addr);
    break;
  case PYL_SIZE_BYTEARRAY:
    size += bytearray_extra(c, addr);
    break;
  case PYL_SIZE_STR:
    size = pyl_str_size(c, addr, ty->basicsize);
    break;
  case PYL_SIZE_INT:
    size += int_digits(c, ty, addr);
    break;
  case PYL_SIZE_FIXED:
    break;
  }
  return size - ty->basicsize + pyl_object_base_size(c, ty, is_gc);
}
