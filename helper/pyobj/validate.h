/*
 * validate.h — is an object sound enough for its tp_traverse to read?
 *
 * The target's tp_traverse functions trust the object they are given: a
 * list's item pointer and size, a tuple's size, a dict's keys table, a
 * set's table.  Garbage there sends them reading wild memory, which kills
 * the whole call.  Before the walk calls one, the variable part of the
 * builtin containers (and of their subclasses, whose traverse ends in the
 * builtin one) is checked against the layout and the mapped ranges: a few
 * loads of the header plus one range check of what tp_traverse would read
 * anyway.  Which checks apply comes from the cached type record (flags and
 * size rule), never from the type's name.
 */
#ifndef PYL_VALIDATE_H
#define PYL_VALIDATE_H

#include "types.h"

#include <stdbool.h>
#include <stdint.h>

struct pyl_view;

/* The builtin container an instance of the type is built on. */
enum pyl_shape {
  PYL_SHAPE_OTHER = 0,
  PYL_SHAPE_LIST,
  PYL_SHAPE_TUPLE,
  PYL_SHAPE_DICT,
  PYL_SHAPE_SET, /* set and frozenset */
};

static inline enum pyl_shape pyl_shape_of(const struct pyl_type *ty) {
  if (ty->flags & PYL_TPF_LIST_SUBCLASS) {
    return PYL_SHAPE_LIST;
  }
  if (ty->flags & PYL_TPF_TUPLE_SUBCLASS) {
    return PYL_SHAPE_TUPLE;
  }
  if (ty->flags & PYL_TPF_DICT_SUBCLASS) {
    return PYL_SHAPE_DICT;
  }
  if (ty->rule == PYL_SIZE_SET) {
    return PYL_SHAPE_SET;
  }
  return PYL_SHAPE_OTHER;
}

/* NULL when the object at addr may be traversed and sized; else what is
 * wrong with it, for a warning.  p is pyl_mem_ptr() of its fixed part
 * (tp_basicsize bytes). */
const char *pyl_validate(struct pyl_view *c, const struct pyl_type *ty,
                         uint64_t addr, const void *p);

/* Whether, for an object that passed pyl_validate(), the type's
 * tp_traverse reads nothing that was not checked: the exact builtin
 * list, tuple, dict, set and frozenset.  (A subclass's traverse also
 * reads its instance dict, slots and inline values.) */
bool pyl_validate_covers(const struct pyl_view *c, const struct pyl_type *ty);

/* A refcount no live object can have: zero, negative, or beyond any
 * number of references memory can hold.  The immortal refcounts of
 * 3.12/3.13 (_Py_IMMORTAL_REFCNT, UINT_MAX on 64-bit) and of 3.14
 * (3 << 30, plus flag bits from bit 48 for static objects) lie below the
 * bound, so they are plausible. */
static inline bool pyl_refcnt_plausible(int64_t refcnt) {
  return refcnt > 0 && refcnt < ((int64_t)1 << 60);
}

#endif /* PYL_VALIDATE_H */
