/*
 * csr.h — the reference graph in compressed sparse row form.
 *
 * Sources are added in increasing index order (the walk processes objects
 * in table order), so the graph is built by appending: offs[i] is where
 * the edges of object i start in edges[], offs[n] the total.  An edge is
 * appended as a slot first and filled in later, when the batch that
 * resolves referent addresses to indices runs; a slot the batch could not
 * resolve (a bad pointer) is set to PYL_NONE and squeezed out by
 * pyl_csr_finish().  4 bytes per object plus 4 per edge.
 */
#ifndef PYL_CSR_H
#define PYL_CSR_H

#include "objtab.h"
#include "vec.h"

#include <stdbool.h>
#include <stdint.h>

struct pyl_csr {
  struct pyl_vec v_offs;
  struct pyl_vec v_edges;
  uint32_t *offs;
  uint32_t *edges;
  uint64_t n_edges;   /* slots appended */
  uint64_t max_edges; /* offsets are uint32_t */
  uint64_t n_dropped; /* slots set to PYL_NONE */
  uint32_t n_src;     /* offs[0..n_src) are written */
};

bool pyl_csr_init(struct pyl_csr *c, uint32_t max_objs, uint64_t max_edges);
void pyl_csr_clear(struct pyl_csr *c);
void pyl_csr_release(struct pyl_csr *c);

/* Start the edges of source src (>= every source begun before). */
bool pyl_csr_begin(struct pyl_csr *c, uint32_t src);

/* Append an edge slot to the current source; returns its position, or
 * UINT64_MAX when out of memory. */
static inline uint64_t pyl_csr_slot(struct pyl_csr *c) {
  uint64_t k = c->n_edges;
  if (k >= c->max_edges || !pyl_vec_fit(&c->v_edges, k + 1)) {
    return UINT64_MAX;
  }
  c->n_edges = k + 1;
  return k;
}

static inline void pyl_csr_set(struct pyl_csr *c, uint64_t slot, uint32_t dst) {
  c->edges[slot] = dst;
  c->n_dropped += dst == PYL_NONE;
}

/* Close the graph at n objects: write the remaining offsets and remove
 * dropped slots. */
bool pyl_csr_finish(struct pyl_csr *c, uint32_t n);

#endif /* PYL_CSR_H */
