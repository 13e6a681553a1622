/* find_defaults.c — mutable default arguments that piled up: a list,
 * dict or set in a function's __defaults__ or __kwdefaults__, the one
 * object every call without that argument shares. */
#include "analysis.h"

#include "peek.h"

static bool reported(const struct pyl_an *a, uint64_t addr) {
  for (uint32_t r = 0; r < a->n_rows; r++) {
    if (a->rows[r].section == PYL_SECTION_FINDING &&
        a->rows[r].kind == PYL_FIND_MUTABLE_DEFAULT &&
        a->rows[r].address == addr) {
      return true;
    }
  }
  return false;
}

/* The referents of a defaults tuple or kwdefaults dict that are big
 * mutable containers. */
static void defaults_in(struct pyl_an *a, uint32_t holder) {
  struct pyl_ctx *c = a->c;
  if (holder == PYL_NONE) {
    return;
  }
  for (uint32_t e = c->h.csr.offs[holder]; e < c->h.csr.offs[holder + 1]; e++) {
    uint32_t x = c->h.csr.edges[e];
    enum pyl_kind kind = pyl_an_kind(a, x);
    if (!pyl_kind_is_container(kind)) {
      continue;
    }
    int64_t len = pyl_container_len(&c->v, kind, c->h.tab.addr[x]);
    if (len >= PYL_AN_MIN_DEFAULT_ITEMS && !reported(a, c->h.tab.addr[x])) {
      uint64_t bytes = a->dom->idom[x] != PYL_NONE ? a->dom->retained[x] : 0;
      pyl_an_finding(a, PYL_FIND_MUTABLE_DEFAULT, x, (uint64_t)len, bytes,
                     c->h.tab.type[x]);
    }
  }
}

bool pyl_find_defaults(struct pyl_an *a) {
  struct pyl_ctx *c = a->c;
  const struct pyl_layout *L = c->v.L;
  for (uint32_t i = 0; i < c->h.tab.n; i++) {
    if ((i & 0xffff) == 0 && pyl_q_stopped(a->call)) {
      return false;
    }
    if (pyl_an_kind(a, i) != PYL_KIND_FUNCTION) {
      continue;
    }
    uint64_t f = c->h.tab.addr[i];
    if (L->func_defaults_off != 0) {
      defaults_in(a, pyl_an_find(a, pyl_peek(&c->v, f + L->func_defaults_off)));
    }
    if (L->func_kwdefaults_off != 0) {
      defaults_in(a,
                  pyl_an_find(a, pyl_peek(&c->v, f + L->func_kwdefaults_off)));
    }
  }
  return true;
}
