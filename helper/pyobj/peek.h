/*
 * peek.h — typed reads of target memory for the decoders of labels and
 * reprs: 0 (or false) for anything unreadable or misaligned, never a
 * fault.  Only a few objects are decoded per query, so each read checks
 * the mappings on its own.
 */
#ifndef PYL_PEEK_H
#define PYL_PEEK_H

#include "view.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The one reader of a target word with a fallback: every layer above
 * reads pointers and sizes through it. */
static inline uint64_t pyl_peek(struct pyl_view *c, uint64_t addr) {
  uint64_t v = 0;
  return addr % PYL_PTR == 0 && pyl_read_u64(&c->mem, addr, &v) ? v : 0;
}

static inline int64_t pyl_peek_i64(struct pyl_view *c, uint64_t addr) {
  return (int64_t)pyl_peek(c, addr);
}

static inline int32_t pyl_peek_i32(struct pyl_view *c, uint64_t addr) {
  uint32_t v = 0;
  return pyl_read_u32(&c->mem, addr, &v) ? (int32_t)v : 0;
}

static inline unsigned pyl_peek_u8(struct pyl_view *c, uint64_t addr) {
  const void *p = pyl_mem_ptr(&c->mem, addr, 1);
  return p != NULL ? pyl_ld_u8(p, 0) : 0;
}

/* ob_type of an object, tp_flags of a type. */
static inline uint64_t pyl_peek_type(struct pyl_view *c, uint64_t obj) {
  return pyl_peek(c, obj + c->L->ob_type_off);
}

static inline uint64_t pyl_peek_flags(struct pyl_view *c, uint64_t type) {
  return pyl_peek(c, type + c->L->tp_flags_off);
}

/* Item i of a tuple, or 0. */
static inline uint64_t pyl_peek_item(struct pyl_view *c, uint64_t tuple,
                                     int64_t i) {
  const struct pyl_layout *L = c->L;
  if (tuple == 0 || i < 0 || i >= pyl_peek_i64(c, tuple + L->ob_size_off)) {
    return 0;
  }
  return pyl_peek(c, tuple + L->tuple_ob_item_off + (uint64_t)i * 8);
}

/* The C string at addr into buf (cut at cap-1); false if unreadable. */
static inline bool pyl_peek_cstr(struct pyl_view *c, uint64_t addr, char *buf,
                                 size_t cap) {
  size_t i = 0;
  for (; i + 1 < cap; i++) {
    const void *p = pyl_mem_ptr(&c->mem, addr + i, 1);
    if (p == NULL) {
      break;
    }
    buf[i] = (char)pyl_ld_u8(p, 0);
    if (buf[i] == '\0') {
      return true;
    }
  }
  buf[i] = '\0';
  return i > 0;
}

#endif /* PYL_PEEK_H */
