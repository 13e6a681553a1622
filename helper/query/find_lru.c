/* find_lru.c — an lru_cache whose keys hold instances: a cached method
 * keeps every `self` it was called on (and all they hold) for as long as
 * the cache lives, which for a class attribute is forever. */
#include "analysis.h"

#include "peek.h"
#include "pydict.h"

struct keys {
  struct pyl_an *a;
  bool clear; /* second pass: unmark */
  uint64_t instances;
  uint32_t type;
};

static bool instance(const struct pyl_an *a, uint32_t x) {
  return x != PYL_NONE && (pyl_an_flags(a, x) & PYL_KF_HEAPTYPE) != 0 &&
         pyl_an_kind(a, x) == PYL_KIND_OTHER;
}

static void count(struct keys *k, uint32_t x) {
  struct pyl_an *a = k->a;
  if (!instance(a, x)) {
    return;
  }
  if (k->clear) {
    a->mark[x >> 6] &= ~(1ull << (x & 63));
  } else if (!pyl_bit(a->mark, x)) {
    pyl_bit_set(a->mark, x);
    k->instances++;
    k->type = a->c->h.tab.type[x];
  }
}

/* A key is the argument itself or a tuple (a list subclass in the pure
 * Python version) of the arguments. */
static int on_key(uint64_t key, uint64_t value, void *arg) {
  (void)value;
  struct keys *k = arg;
  struct pyl_ctx *c = k->a->c;
  uint32_t x = pyl_an_find(k->a, key);
  if (x == PYL_NONE) {
    return 0;
  }
  enum pyl_kind kind = pyl_an_kind(k->a, x);
  if (kind == PYL_KIND_TUPLE || kind == PYL_KIND_LIST) {
    for (uint32_t e = c->h.csr.offs[x]; e < c->h.csr.offs[x + 1]; e++) {
      count(k, c->h.csr.edges[e]);
    }
  } else {
    count(k, x);
  }
  return 0;
}

bool pyl_find_lru(struct pyl_an *a) {
  struct pyl_ctx *c = a->c;
  uint64_t off = c->v.L->lru_cache_off;
  if (off == 0) {
    return true;
  }
  for (uint32_t i = 0; i < c->h.tab.n; i++) {
    if ((i & 0xffff) == 0 && pyl_q_stopped(a->call)) {
      return false;
    }
    if (pyl_an_kind(a, i) != PYL_KIND_LRU) {
      continue;
    }
    uint64_t cache = pyl_peek(&c->v, c->h.tab.addr[i] + off);
    if (pyl_an_find(a, cache) == PYL_NONE) {
      continue;
    }
    struct keys k = {.a = a, .type = PYL_NONE};
    pyl_dict_foreach(&c->v, cache, on_key, &k);
    uint64_t found = k.instances;
    k.clear = true;
    pyl_dict_foreach(&c->v, cache, on_key, &k);
    if (found >= PYL_AN_MIN_LRU_INSTANCES) {
      uint64_t bytes = a->dom->idom[i] != PYL_NONE ? a->dom->retained[i] : 0;
      pyl_an_finding(a, PYL_FIND_LRU_INSTANCES, i, found, bytes, k.type);
    }
  }
  return true;
}
