/*
 * vec.h — a growable array at the base of its own arena.
 *
 * The tables the helper builds (objects, edges, types, name rows, roots)
 * have no size known up front, only a ceiling: the ceiling is reserved as
 * address space and pages are committed as the array grows, so it never
 * moves and pointers into it stay valid while it grows.  Clearing gives
 * the pages back (a later use sees zeroes again) but keeps the
 * reservation; releasing unmaps it.  The caller keeps the count: an array
 * is only ever told how many elements must fit.
 */
#ifndef PYL_VEC_H
#define PYL_VEC_H

#include "arena.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pyl_vec {
  struct pyl_arena arena; /* the elements start at arena.base */
  uint64_t cap;           /* elements that fit in the committed pages */
  size_t elem;            /* bytes per element */
};

/* Reserve room for `max_n` elements of `elem` bytes, fewer (down to
 * `floor` bytes) when the kernel refuses that much address space.  No-op
 * if already reserved. */
bool pyl_vec_reserve(struct pyl_vec *v, size_t elem, uint64_t max_n,
                     size_t floor);

/* Commit pages until `n` elements fit; false past the reservation. */
bool pyl_vec_grow(struct pyl_vec *v, uint64_t n);

/* Make `n` elements fit; the hot paths inline the common case, where they
 * already do. */
static inline bool pyl_vec_fit(struct pyl_vec *v, uint64_t n) {
  return n <= v->cap || pyl_vec_grow(v, n);
}

static inline void *pyl_vec_data(const struct pyl_vec *v) {
  return v->arena.base;
}

/* Give every page back; keep the reservation. */
void pyl_vec_clear(struct pyl_vec *v);

/* Unmap the reservation. */
void pyl_vec_release(struct pyl_vec *v);

#endif /* PYL_VEC_H */
