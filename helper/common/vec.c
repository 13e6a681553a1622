/* vec.c — growable arrays on arenas. */
#include "vec.h"

bool pyl_vec_reserve(struct pyl_vec *v, size_t elem, uint64_t max_n,
                     size_t floor) {
  if (v->arena.base != NULL) {
    return true;
  }
  if (elem == 0 || max_n > (uint64_t)SIZE_MAX / elem) {
    return false;
  }
  v->elem = elem;
  v->cap = 0;
  return pyl_arena_reserve(&v->arena, (size_t)max_n * elem, floor);
}

bool pyl_vec_grow(struct pyl_vec *v, uint64_t n) {
  if (v->elem == 0 || n > (uint64_t)SIZE_MAX / v->elem ||
      !pyl_arena_commit(&v->arena, (size_t)n * v->elem)) {
    return false;
  }
  v->cap = v->arena.committed / v->elem;
  return true;
}

void pyl_vec_clear(struct pyl_vec *v) {
  pyl_arena_decommit(&v->arena);
  v->cap = 0;
}

void pyl_vec_release(struct pyl_vec *v) {
  pyl_arena_release(&v->arena);
  v->cap = 0;
}
