/* csr.c — building the CSR reference graph. */
#include "csr.h"

enum {
  PYL_ARENA_FLOOR = 1 << 20,
};

bool pyl_csr_init(struct pyl_csr *c, uint32_t max_objs, uint64_t max_edges) {
  if (max_edges > UINT32_MAX) {
    max_edges = UINT32_MAX;
  }
  if (!pyl_vec_reserve(&c->v_offs, sizeof(uint32_t), (uint64_t)max_objs + 1,
                       PYL_ARENA_FLOOR) ||
      !pyl_vec_reserve(&c->v_edges, sizeof(uint32_t), max_edges,
                       PYL_ARENA_FLOOR)) {
    pyl_csr_release(c);
    return false;
  }
  c->offs = pyl_vec_data(&c->v_offs);
  c->edges = pyl_vec_data(&c->v_edges);
  c->max_edges = max_edges;
  pyl_csr_clear(c);
  return true;
}

void pyl_csr_clear(struct pyl_csr *c) {
  pyl_vec_clear(&c->v_offs);
  pyl_vec_clear(&c->v_edges);
  c->n_edges = 0;
  c->n_dropped = 0;
  c->n_src = 0;
}

void pyl_csr_release(struct pyl_csr *c) {
  pyl_vec_release(&c->v_offs);
  pyl_vec_release(&c->v_edges);
  c->offs = NULL;
  c->edges = NULL;
  c->n_edges = 0;
  c->n_dropped = 0;
  c->n_src = 0;
  c->max_edges = 0;
}

bool pyl_csr_begin(struct pyl_csr *c, uint32_t src) {
  if (src < c->n_src) {
    return false;
  }
  if (!pyl_vec_fit(&c->v_offs, (uint64_t)src + 2)) {
    return false;
  }
  for (uint32_t i = c->n_src; i <= src; i++) {
    c->offs[i] = (uint32_t)c->n_edges;
  }
  c->n_src = src + 1;
  return true;
}

bool pyl_csr_finish(struct pyl_csr *c, uint32_t n) {
  if (n < c->n_src || !pyl_vec_fit(&c->v_offs, (uint64_t)n + 1)) {
    return false;
  }
  for (uint32_t i = c->n_src; i <= n; i++) {
    c->offs[i] = (uint32_t)c->n_edges;
  }
  c->n_src = n;
  if (c->n_dropped == 0) {
    return true;
  }
  uint32_t w = 0;
  uint32_t start = c->offs[0];
  for (uint32_t i = 0; i < n; i++) {
    uint32_t end = c->offs[i + 1];
    c->offs[i] = w;
    for (uint32_t k = start; k < end; k++) {
      if (c->edges[k] != PYL_NONE) {
        c->edges[w++] = c->edges[k];
      }
    }
    start = end;
  }
  c->offs[n] = w;
  c->n_edges = w;
  c->n_dropped = 0;
  return true;
}
