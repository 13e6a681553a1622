/* find_containers.c — what a container's items say: bound methods of
 * many instances (an observer list that never lets go) and exceptions
 * kept with their tracebacks (each keeping frames and their locals). */
#include "analysis.h"

#include "peek.h"

/* The most frequent value of a stream, if one is (Boyer-Moore vote):
 * one pass, no table. */
struct vote {
  uint32_t value;
  uint32_t weight;
};

static void vote(struct vote *v, uint32_t x) {
  if (v->weight == 0) {
    v->value = x;
  }
  v->weight += v->value == x ? 1 : (uint32_t)-1;
}

struct tally {
  uint64_t methods;
  uint64_t exceptions;
  struct vote self_type;
  struct vote exc_type;
};

static bool kept_traceback(struct pyl_an *a, uint32_t x) {
  struct pyl_view *c = &a->c->v;
  uint64_t tb = pyl_peek(c, a->c->h.tab.addr[x] + c->L->exc_traceback_off);
  return tb != 0 && tb != c->L->none_object;
}

static void look_at(struct pyl_an *a, uint32_t x, struct tally *t) {
  struct pyl_ctx *c = a->c;
  enum pyl_kind kind = pyl_an_kind(a, x);
  if (kind == PYL_KIND_METHOD) {
    uint32_t self = pyl_an_find(
        a, pyl_peek(&c->v, c->h.tab.addr[x] + c->v.L->method_self_off));
    if (self != PYL_NONE && (pyl_an_flags(a, self) & PYL_KF_HEAPTYPE) != 0) {
      t->methods++;
      vote(&t->self_type, c->h.tab.type[self]);
    }
  } else if (kind == PYL_KIND_TRACEBACK ||
             ((pyl_an_flags(a, x) & PYL_KF_EXCEPTION) != 0 &&
              kept_traceback(a, x))) {
    t->exceptions++;
    vote(&t->exc_type, c->h.tab.type[x]);
  }
}

bool pyl_find_in_containers(struct pyl_an *a) {
  struct pyl_ctx *c = a->c;
  const uint32_t *offs = c->h.csr.offs;
  const uint32_t *edges = c->h.csr.edges;
  uint32_t least = PYL_AN_MIN_TRACEBACKS < PYL_AN_MIN_OBSERVERS
                       ? PYL_AN_MIN_TRACEBACKS
                       : PYL_AN_MIN_OBSERVERS;
  for (uint32_t i = 0; i < c->h.tab.n; i++) {
    if ((i & 0xffff) == 0 && pyl_q_stopped(a->call)) {
      return false;
    }
    if (!pyl_kind_is_container(pyl_an_kind(a, i)) ||
        offs[i + 1] - offs[i] < least) {
      continue;
    }
    struct tally t = {0};
    for (uint32_t e = offs[i]; e < offs[i + 1]; e++) {
      look_at(a, edges[e], &t);
    }
    uint64_t bytes = a->dom->idom[i] != PYL_NONE ? a->dom->retained[i] : 0;
    if (t.methods >= PYL_AN_MIN_OBSERVERS) {
      pyl_an_finding(a, PYL_FIND_OBSERVER, i, t.methods, bytes,
                     t.self_type.value);
    }
    if (t.exceptions >= PYL_AN_MIN_TRACEBACKS) {
      pyl_an_finding(a, PYL_FIND_RETAINED_TRACEBACK, i, t.exceptions, bytes,
                     t.exc_type.value);
    }
  }
  return true;
}
