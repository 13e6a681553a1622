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

struct pyl_heap {
  struct pyl_view *v; /* how its objects are read */
  struct pyl_objtab tab;
  struct pyl_csr csr;
  struct pyl_rev rev;    /* built on first need (query/queries.c) */
  struct pyl_arena work; /* buffers of the walk */
  uint64_t total_bytes;  /* sum of shallow sizes */
  uint64_t n_gc_tracked; /* objects found on the GC lists */
};

#endif /* PYL_HEAP_H */
