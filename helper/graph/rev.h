/*
 * rev.h — the reverse edges of the graph: who refers to each object.
 *
 * Built once per graph, on the first query that walks references
 * backwards (py-chain, py-backrefs, the roots' in-degrees), by a counting
 * sort of the CSR: roffs[i]..roffs[i+1] index the referrers of object i
 * in redges[] (source indices, ascending, one per forward edge, so a
 * source that refers twice appears twice).  4 bytes per object plus 4 per
 * edge, like the forward graph; kept until the graph is invalidated.
 */
#ifndef PYL_REV_H
#define PYL_REV_H

#include "csr.h"
#include "vec.h"

#include <stdbool.h>
#include <stdint.h>

struct pyl_rev {
  struct pyl_vec v_offs;
  struct pyl_vec v_edges;
  uint32_t *offs;
  uint32_t *edges;
  uint32_t n;
  bool built;
};

bool pyl_rev_init(struct pyl_rev *r, uint32_t max_objs, uint64_t max_edges);
void pyl_rev_clear(struct pyl_rev *r);
void pyl_rev_release(struct pyl_rev *r);

/* Build the reverse of the n-object graph g.  False when out of memory
 * or told to stop (pyl_control_tick()); then it is not built. */
bool pyl_rev_build(struct pyl_rev *r, const struct pyl_csr *g, uint32_t n);

/* References to object i found in the graph. */
static inline uint32_t pyl_rev_degree(const struct pyl_rev *r, uint32_t i) {
  return r->offs[i + 1] - r->offs[i];
}

#endif /* PYL_REV_H */
