/* rev.c — reverse edges by counting sort of the CSR. */
#include "rev.h"

#include "control.h"

enum {
  PYL_ARENA_FLOOR = 1 << 20,
};

bool pyl_rev_init(struct pyl_rev *r, uint32_t max_objs, uint64_t max_edges) {
  if (max_edges > UINT32_MAX) {
    max_edges = UINT32_MAX;
  }
  if (!pyl_vec_reserve(&r->v_offs, sizeof(uint32_t), (uint64_t)max_objs + 2,
                       PYL_ARENA_FLOOR) ||
      !pyl_vec_reserve(&r->v_edges, sizeof(uint32_t), max_edges,
                       PYL_ARENA_FLOOR)) {
    pyl_rev_release(r);
    return false;
  }
  r->offs = pyl_vec_data(&r->v_offs);
  r->edges = pyl_vec_data(&r->v_edges);
  pyl_rev_clear(r);
  return true;
}

void pyl_rev_clear(struct pyl_rev *r) {
  pyl_vec_clear(&r->v_offs);
  pyl_vec_clear(&r->v_edges);
  r->n = 0;
  r->built = false;
}

void pyl_rev_release(struct pyl_rev *r) {
  pyl_vec_release(&r->v_offs);
  pyl_vec_release(&r->v_edges);
  r->offs = NULL;
  r->edges = NULL;
  r->n = 0;
  r->built = false;
}

bool pyl_rev_build(struct pyl_rev *r, const struct pyl_csr *g, uint32_t n) {
  uint64_t m = n == 0 ? 0 : g->offs[n];
  r->built = false;
  if (!pyl_vec_fit(&r->v_offs, (uint64_t)n + 2) ||
      (m != 0 && !pyl_vec_fit(&r->v_edges, m))) {
    return false;
  }
  uint32_t *offs = r->offs;
  /* Pages may hold a previous graph's counts. */
  __builtin_memset(offs, 0, ((size_t)n + 2) * sizeof(uint32_t));
  const uint32_t *edges = g->edges;
  for (uint64_t k = 0; k < m; k++) {
    offs[edges[k] + 1]++;
  }
  /* offs[i] = start of i; filling advances it to the end of i, which is
   * the start of i + 1: shift back afterwards instead of a second array. */
  for (uint32_t i = 0; i < n; i++) {
    offs[i + 1] += offs[i];
  }
  for (uint32_t src = 0; src < n; src++) {
    if (!pyl_control_tick()) {
      return false;
    }
    for (uint32_t k = g->offs[src]; k < g->offs[src + 1]; k++) {
      r->edges[offs[edges[k]]++] = src;
    }
  }
  for (uint32_t i = n; i > 0; i--) {
    offs[i] = offs[i - 1];
  }
  offs[0] = 0;
  r->n = n;
  r->built = true;
  return true;
}
