/*
 * heap.h — the graph of the target's heap: every object (objtab), its
 * edges (csr) and, once a query needs them, the reverse edges (rev).
 *
 * Built by pyl_walk() over the objects the view reads; roots and the
 * entry points read it.  It survives between entry point calls until
 * the target may have changed (query/engine.h owns the life cycle).
 */
#ifndef PYL_HEAP_H
#define PYL_HEAP_H

#include "arena.h"
#include "csr.h"
#include "objtab.h"
#include "rev.h"
#include "view.h"

#include <stdint.h>

#define PYL_SIZE_BIG UINT32_MAX

struct pyl_heap {
  struct pyl_view *v; /* how its objects are read */
  struct pyl_objtab tab;
  /* Per object: its shallow size, PYL_SIZE_BIG when it does not fit
   * (pyl_heap_size() then reads it again); kept for retained sizes. */
  struct pyl_vec v_size;
  uint32_t *size;
  struct pyl_csr csr;
  struct pyl_rev rev;    /* built on first need (query/queries.c) */
  struct pyl_arena work; /* buffers of the walk */
  uint64_t total_bytes;  /* sum of shallow sizes */
  uint64_t n_gc_tracked; /* objects found on the GC lists */
};

bool pyl_heap_init_sizes(struct pyl_heap *h, uint32_t max_objs);

/* Record the shallow size of object i (the walk adds objects in order). */
bool pyl_heap_set_size(struct pyl_heap *h, uint32_t i, uint64_t size);

/* The shallow size of object i, as the census counted it. */
uint64_t pyl_heap_size(struct pyl_heap *h, uint32_t i);

#endif /* PYL_HEAP_H */
