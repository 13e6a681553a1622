/* test_dominators.c — the dominator tree and retained sizes on synthetic
 * graphs: hand-made ones with known answers, random ones against a brute
 * force (remove an object, see what becomes unreachable), and deep ones
 * that a recursive or quadratic implementation would not survive. */
#include "check.h"
#include "control.h"
#include "dominators.h"
#include "pyleaks_ctl.h"
#include "util.h"

#include <string.h>

/* A graph in CSR form both ways, from (src, dst) pairs. */
struct dg {
  uint32_t n;
  uint32_t *offs;
  uint32_t *edges;
  uint32_t *roffs;
  uint32_t *redges;
  struct pyl_graph g;
  struct pyl_arena a;
};

static uint32_t *xcalloc(size_t n) {
  uint32_t *p = calloc(n + 1, sizeof(uint32_t));
  ASSERT_TRUE(p != NULL);
  return p;
}

/* Edges keep their order per source; referrers come in ascending order. */
static void dg_build(struct dg *t, uint32_t n, const uint32_t *es,
                     const uint32_t *ed, size_t m) {
  memset(t, 0, sizeof(*t));
  t->n = n;
  t->offs = xcalloc((size_t)n + 1);
  t->roffs = xcalloc((size_t)n + 1);
  t->edges = xcalloc(m);
  t->redges = xcalloc(m);
  for (size_t k = 0; k < m; k++) {
    t->offs[es[k] + 1]++;
    t->roffs[ed[k] + 1]++;
  }
  for (uint32_t i = 0; i < n; i++) {
    t->offs[i + 1] += t->offs[i];
    t->roffs[i + 1] += t->roffs[i];
  }
  uint32_t *at = xcalloc((size_t)n + 1);
  memcpy(at, t->offs, ((size_t)n + 1) * sizeof(uint32_t));
  for (size_t k = 0; k < m; k++) {
    t->edges[at[es[k]]++] = ed[k];
  }
  memcpy(at, t->roffs, ((size_t)n + 1) * sizeof(uint32_t));
  for (uint32_t s = 0; s < n; s++) {
    for (uint32_t k = t->offs[s]; k < t->offs[s + 1]; k++) {
      t->redges[at[t->edges[k]]++] = s;
    }
  }
  free(at);
  t->g = (struct pyl_graph){.n = n,
                            .offs = t->offs,
                            .edges = t->edges,
                            .roffs = t->roffs,
                            .redges = t->redges};
  ASSERT_TRUE(pyl_arena_reserve(&t->a, 1ull << 30, 1u << 20));
}

/* From an array of pairs. */
static void dg_pairs(struct dg *t, uint32_t n, const uint32_t (*e)[2],
                     size_t m) {
  uint32_t *es = xcalloc(m);
  uint32_t *ed = xcalloc(m);
  for (size_t k = 0; k < m; k++) {
    es[k] = e[k][0];
    ed[k] = e[k][1];
  }
  dg_build(t, n, es, ed, m);
  free(es);
  free(ed);
}

static void dg_free(struct dg *t) {
  free(t->offs);
  free(t->edges);
  free(t->roffs);
  free(t->redges);
  pyl_arena_release(&t->a);
}

/* Size i + 1 for object i: every subtree sum is distinct enough to catch
 * an object counted under the wrong dominator. */
static uint32_t *sizes(uint32_t n) {
  uint32_t *s = xcalloc(n);
  for (uint32_t i = 0; i < n; i++) {
    s[i] = i + 1;
  }
  return s;
}

static void build(struct dg *t, struct pyl_dom *d, const uint32_t *src,
                  uint32_t n_src, const uint32_t *size) {
  pyl_arena_reset(&t->a);
  ASSERT_TRUE(pyl_dom_build(d, &t->g, src, n_src, size, &t->a));
  /* The whole plan: 24 bytes per object, outputs included. */
  ASSERT_TRUE(t->a.used <= 24 * ((size_t)t->n + 2) + 64);
  ASSERT_EQ(d->n, t->n);
}

enum { S = PYL_DOM_SUPER, X = PYL_NONE };

static void expect_idom(const struct pyl_dom *d, const uint32_t *want) {
  for (uint32_t v = 0; v < d->n; v++) {
    if (d->idom[v] != want[v]) {
      PYL_FAIL("idom[%u] = %u, want %u", v, d->idom[v], want[v]);
    }
  }
}

static void test_chain(void) {
  static const uint32_t e[][2] = {{0, 1}, {1, 2}, {2, 3}};
  struct dg t;
  dg_pairs(&t, 4, e, 3);
  static const uint32_t size[] = {1, 2, 3, 4};
  const uint32_t src[] = {0};
  struct pyl_dom d;
  build(&t, &d, src, 1, size);
  expect_idom(&d, (const uint32_t[]){S, 0, 1, 2});
  ASSERT_EQ(d.retained[0], 10);
  ASSERT_EQ(d.retained[1], 9);
  ASSERT_EQ(d.retained[2], 7);
  ASSERT_EQ(d.retained[3], 4);
  ASSERT_EQ(d.big_child[0], 1);
  ASSERT_EQ(d.big_child[2], 3);
  ASSERT_EQ(d.big_child[3], PYL_NONE);
  ASSERT_EQ(d.super_big_child, 0);
  ASSERT_EQ(d.super_retained, 10);
  ASSERT_EQ(d.n_reached, 4);
  uint32_t out[4];
  ASSERT_EQ(pyl_dom_children(&d, PYL_DOM_SUPER, out, 4), 1);
  ASSERT_EQ(out[0], 0);
  ASSERT_EQ(pyl_dom_children(&d, 3, out, 4), 0);
  dg_free(&t);
}

/* 0 -> 1, 2 -> 3 and a tail 3 -> 4: 3 is held through either side, so
 * only 0 dominates it. */
static void test_diamond(void) {
  static const uint32_t e[][2] = {{0, 1}, {0, 2}, {1, 3}, {2, 3}, {3, 4}};
  struct dg t;
  dg_pairs(&t, 5, e, 5);
  uint32_t *size = sizes(5);
  const uint32_t src[] = {0};
  struct pyl_dom d;
  build(&t, &d, src, 1, size);
  expect_idom(&d, (const uint32_t[]){S, 0, 0, 0, 3});
  ASSERT_EQ(d.retained[0], 15);
  ASSERT_EQ(d.retained[1], 2);
  ASSERT_EQ(d.retained[3], 9);
  ASSERT_EQ(d.big_child[0], 3);
  uint32_t out[2];
  ASSERT_EQ(pyl_dom_children(&d, 0, out, 2), 3); /* 1, 2, 3; two fit */
  ASSERT_EQ(out[0], 1);
  ASSERT_EQ(out[1], 2);
  free(size);
  dg_free(&t);
}

/* The flow graph of Lengauer and Tarjan's paper (1979, figure 1). */
static void test_lengauer_tarjan(void) {
  enum { R, A, B, C, D, E, F, G, H, I, J, K, L, N };
  static const uint32_t e[][2] = {
      {R, A}, {R, B}, {R, C}, {A, D}, {B, A}, {B, D}, {B, E},
      {C, F}, {C, G}, {D, L}, {E, H}, {F, I}, {G, I}, {G, J},
      {H, E}, {H, K}, {I, K}, {J, I}, {K, I}, {K, R}, {L, H}};
  struct dg t;
  dg_pairs(&t, N, e, sizeof(e) / sizeof(e[0]));
  uint32_t size[N];
  for (uint32_t i = 0; i < N; i++) {
    size[i] = 1;
  }
  const uint32_t src[] = {R};
  struct pyl_dom d;
  build(&t, &d, src, 1, size);
  expect_idom(&d, (const uint32_t[]){S, R, R, R, R, R, C, C, R, R, G, R, D});
  ASSERT_EQ(d.retained[R], N);
  ASSERT_EQ(d.retained[C], 4); /* C, F, G, J */
  ASSERT_EQ(d.retained[D], 2);
  ASSERT_EQ(d.big_child[R], C);
  ASSERT_EQ(d.big_child[G], J);
  dg_free(&t);
}

/* Cycles and self loops: dominance follows the way in, not the way
 * around; duplicate edges change nothing. */
static void test_cycles(void) {
  static const uint32_t e[][2] = {{0, 1}, {1, 2}, {2, 0}, {2, 2},
                                  {1, 1}, {1, 2}, {1, 2}, {3, 3}};
  struct dg t;
  dg_pairs(&t, 4, e, sizeof(e) / sizeof(e[0]));
  uint32_t *size = sizes(4);
  struct pyl_dom d;
  build(&t, &d, (const uint32_t[]){0}, 1, size);
  expect_idom(&d, (const uint32_t[]){S, 0, 1, X});
  ASSERT_EQ(d.retained[0], 6);
  ASSERT_EQ(d.retained[3], 0); /* not reached: garbage, the caller's */
  ASSERT_EQ(d.n_reached, 3);
  build(&t, &d, (const uint32_t[]){2}, 1, size);
  expect_idom(&d, (const uint32_t[]){2, 0, S, X});
  ASSERT_EQ(d.retained[2], 6);
  ASSERT_EQ(d.retained[1], 2);
  free(size);
  dg_free(&t);
}

/* Several sources; a source also reached from another source is still
 * dominated by the super-root alone, whatever the order of the sources. */
static void test_sources(void) {
  static const uint32_t e[][2] = {{0, 1}, {1, 2}, {2, 3}, {0, 4},
                                  {5, 4}, {6, 7}, {7, 6}};
  struct dg t;
  dg_pairs(&t, 8, e, sizeof(e) / sizeof(e[0]));
  uint32_t *size = sizes(8);
  struct pyl_dom d;
  build(&t, &d, (const uint32_t[]){0, 2, 5}, 3, size);
  expect_idom(&d, (const uint32_t[]){S, 0, S, 2, S, S, X, X});
  ASSERT_EQ(d.retained[0], 3);
  ASSERT_EQ(d.retained[2], 7);
  ASSERT_EQ(d.retained[4], 5);
  ASSERT_EQ(d.super_retained, 21);
  ASSERT_EQ(d.super_big_child, 2);
  uint32_t out[8];
  ASSERT_EQ(pyl_dom_children(&d, PYL_DOM_SUPER, out, 8), 4);
  ASSERT_EQ(out[0], 0);
  ASSERT_EQ(out[3], 5);
  /* Duplicates, out-of-range indices and the other order. */
  build(&t, &d, (const uint32_t[]){5, 2, 99, 2, 0, 5, 0}, 7, size);
  expect_idom(&d, (const uint32_t[]){S, 0, S, 2, S, S, X, X});
  ASSERT_EQ(d.retained[2], 7);
  /* 1 as a source: the super-root holds 1 directly, 2 through 1. */
  build(&t, &d, (const uint32_t[]){0, 1}, 2, size);
  expect_idom(&d, (const uint32_t[]){S, S, 1, 2, 0, X, X, X});
  ASSERT_EQ(d.retained[0], 6);
  ASSERT_EQ(d.retained[1], 9);
  ASSERT_EQ(d.super_big_child, 1);
  /* A cycle reached from two of its members. */
  build(&t, &d, (const uint32_t[]){7, 6}, 2, size);
  expect_idom(&d, (const uint32_t[]){X, X, X, X, X, X, S, S});
  ASSERT_EQ(d.super_retained, 15);
  ASSERT_EQ(d.super_big_child, 7);
  free(size);
  dg_free(&t);
}

static void test_empty(void) {
  struct dg t;
  dg_build(&t, 0, NULL, NULL, 0);
  struct pyl_dom d;
  build(&t, &d, NULL, 0, NULL);
  ASSERT_EQ(d.n_reached, 0);
  ASSERT_EQ(d.super_retained, 0);
  ASSERT_EQ(d.super_big_child, PYL_NONE);
  ASSERT_EQ(pyl_dom_children(&d, PYL_DOM_SUPER, NULL, 0), 0);
  dg_free(&t);
  /* Objects but no sources: nothing is reached. */
  static const uint32_t e[][2] = {{0, 1}};
  dg_pairs(&t, 3, e, 1);
  uint32_t *size = sizes(3);
  build(&t, &d, NULL, 0, size);
  expect_idom(&d, (const uint32_t[]){X, X, X});
  ASSERT_EQ(d.retained[0], 0);
  ASSERT_EQ(d.big_child[0], PYL_NONE);
  ASSERT_EQ(d.super_big_child, PYL_NONE);
  ASSERT_EQ(d.super_retained, 0);
  free(size);
  dg_free(&t);
}

/* Ties between children go to the lower index. */
static void test_ties(void) {
  static const uint32_t e[][2] = {{0, 3}, {0, 2}, {0, 1}};
  struct dg t;
  dg_pairs(&t, 4, e, 3);
  static const uint32_t size[] = {1, 5, 5, 5};
  struct pyl_dom d;
  build(&t, &d, (const uint32_t[]){0}, 1, size);
  ASSERT_EQ(d.big_child[0], 1);
  build(&t, &d, (const uint32_t[]){3, 2}, 2, size);
  ASSERT_EQ(d.super_big_child, 2);
  dg_free(&t);
}

static void test_out_of_memory_and_stop(void) {
  static const uint32_t e[][2] = {{0, 1}};
  struct dg t;
  dg_pairs(&t, 1000, e, 1);
  uint32_t *size = sizes(1000);
  struct pyl_dom d;
  struct pyl_arena small = {0};
  ASSERT_TRUE(pyl_arena_reserve(&small, 4096, 4096));
  ASSERT_FALSE(pyl_dom_build(&d, &t.g, (const uint32_t[]){0}, 1, size, &small));
  pyl_arena_release(&small);
  pyl__control_stop = PYL_ABORT_USER;
  ASSERT_FALSE(pyl_dom_build(&d, &t.g, (const uint32_t[]){0}, 1, size, &t.a));
  pyl_control_reset();
  build(&t, &d, (const uint32_t[]){0}, 1, size);
  ASSERT_EQ(d.idom[1], 0);
  free(size);
  dg_free(&t);
}

/* The brute force: what the super-root reaches when `cut` is removed. */
static void reach(const struct dg *t, const uint32_t *src, uint32_t n_src,
                  uint32_t cut, unsigned char *seen, uint32_t *queue) {
  memset(seen, 0, t->n);
  uint32_t tail = 0;
  for (uint32_t i = 0; i < n_src; i++) {
    uint32_t s = src[i];
    if (s < t->n && s != cut && !seen[s]) {
      seen[s] = 1;
      queue[tail++] = s;
    }
  }
  for (uint32_t head = 0; head < tail; head++) {
    uint32_t x = queue[head];
    for (uint32_t k = t->offs[x]; k < t->offs[x + 1]; k++) {
      uint32_t y = t->edges[k];
      if (y != cut && !seen[y]) {
        seen[y] = 1;
        queue[tail++] = y;
      }
    }
  }
}

enum { MAXN = 200 };

/* dom[v][u]: v dominates u (u unreachable once v is removed). */
static unsigned char dom[MAXN][MAXN];

static void check_brute_force(const struct dg *t, const struct pyl_dom *d,
                              const uint32_t *src, uint32_t n_src,
                              const uint32_t *size) {
  uint32_t n = t->n;
  static unsigned char base[MAXN];
  static unsigned char cut[MAXN];
  static uint32_t queue[MAXN];
  reach(t, src, n_src, PYL_NONE, base, queue);
  uint64_t total = 0;
  uint32_t n_reached = 0;
  for (uint32_t v = 0; v < n; v++) {
    if (base[v]) {
      total += size[v];
      n_reached++;
    }
    reach(t, src, n_src, v, cut, queue);
    for (uint32_t u = 0; u < n; u++) {
      dom[v][u] = base[v] && base[u] && !cut[u];
    }
  }
  ASSERT_EQ(d->n_reached, n_reached);
  ASSERT_EQ(d->super_retained, total);
  static uint32_t want[MAXN];
  for (uint32_t u = 0; u < n; u++) {
    want[u] = base[u] ? S : X;
    /* The strict dominator that all the others dominate. */
    for (uint32_t v = 0; v < n; v++) {
      if (v == u || !dom[v][u]) {
        continue;
      }
      bool deepest = true;
      for (uint32_t w = 0; w < n && deepest; w++) {
        deepest = w == u || w == v || !dom[w][u] || dom[w][v];
      }
      if (deepest) {
        ASSERT_TRUE(want[u] == S); /* only one */
        want[u] = v;
      }
    }
  }
  expect_idom(d, want);
  for (uint32_t v = 0; v < n; v++) {
    uint64_t r = 0;
    for (uint32_t u = 0; u < n; u++) {
      r += dom[v][u] ? size[u] : 0;
    }
    if (d->retained[v] != r) {
      PYL_FAIL("retained[%u] = %llu, want %llu", v,
               (unsigned long long)d->retained[v], (unsigned long long)r);
    }
  }
  /* The biggest child, of every object and of the super-root. */
  for (uint32_t p = 0; p <= n; p++) {
    uint32_t node = p == n ? S : p;
    uint32_t best = PYL_NONE;
    for (uint32_t c = 0; c < n; c++) {
      if (want[c] == node &&
          (best == PYL_NONE || d->retained[c] > d->retained[best])) {
        best = c;
      }
    }
    ASSERT_EQ(p == n ? d->super_big_child : d->big_child[p], best);
  }
}

/* Random graphs of every shape the generator can think of: sparse,
 * dense, long chains with edges back (deep DFS and long compressed
 * paths), few and many sources. */
static void test_random_vs_brute_force(void) {
  unsigned long long st = 7;
  static uint32_t es[MAXN * 8];
  static uint32_t ed[MAXN * 8];
  static uint32_t src[16];
  static uint32_t size[MAXN];
  struct dg t;
  struct pyl_arena shared = {0};
  ASSERT_TRUE(pyl_arena_reserve(&shared, 1u << 20, 1u << 20));
  for (int round = 0; round < 3000; round++) {
    uint32_t n =
        1 + (uint32_t)(pyl_test_rand(&st) % (round < 1000 ? 12 : MAXN));
    uint32_t per = (uint32_t)(pyl_test_rand(&st) % 5);
    uint32_t m = 0;
    bool chain = pyl_test_rand(&st) % 2 == 0;
    for (uint32_t i = 0; chain && i + 1 < n; i++) {
      es[m] = i;
      ed[m++] = i + 1;
    }
    uint32_t extra = (uint32_t)(pyl_test_rand(&st) % (per * n + 1));
    for (uint32_t k = 0; k < extra; k++) {
      uint32_t from = (uint32_t)(pyl_test_rand(&st) % n);
      /* Mostly backwards on a chain: cycles through long paths. */
      bool back = chain && pyl_test_rand(&st) % 4 != 0;
      es[m] = from;
      ed[m++] = (uint32_t)(pyl_test_rand(&st) % (back ? from + 1 : n));
    }
    uint32_t n_src = (uint32_t)(pyl_test_rand(&st) % 6);
    for (uint32_t i = 0; i < n_src; i++) {
      /* Now and then an index past the end, which is ignored. */
      src[i] = (uint32_t)(pyl_test_rand(&st) % (n + 1));
    }
    for (uint32_t i = 0; i < n; i++) {
      size[i] = (uint32_t)(pyl_test_rand(&st) % 4);
    }
    dg_build(&t, n, es, ed, m);
    struct pyl_dom d;
    build(&t, &d, src, n_src, size);
    check_brute_force(&t, &d, src, n_src, size);
    /* Again over the dirty pages of a shared, reset arena. */
    pyl_arena_reset(&shared);
    struct pyl_dom d2;
    ASSERT_TRUE(pyl_dom_build(&d2, &t.g, src, n_src, size, &shared));
    for (uint32_t v = 0; v < n; v++) {
      ASSERT_EQ(d2.idom[v], d.idom[v]);
      ASSERT_EQ(d2.retained[v], d.retained[v]);
      ASSERT_EQ(d2.big_child[v], d.big_child[v]);
    }
    dg_free(&t);
  }
  pyl_arena_release(&shared);
}

enum { DEEP = 1000000 };

/* A chain of a million objects, each also referring back to the one at
 * half its index: the DFS goes a million deep, and path compression runs
 * over paths that long. */
static void test_deep_chain(void) {
  uint32_t *es = xcalloc(2 * (size_t)DEEP);
  uint32_t *ed = xcalloc(2 * (size_t)DEEP);
  size_t m = 0;
  for (uint32_t i = 0; i + 1 < DEEP; i++) {
    es[m] = i;
    ed[m++] = i + 1;
    es[m] = i + 1;
    ed[m++] = (i + 1) / 2;
  }
  struct dg t;
  dg_build(&t, DEEP, es, ed, m);
  uint32_t *size = xcalloc(DEEP);
  for (uint32_t i = 0; i < DEEP; i++) {
    size[i] = 1;
  }
  struct pyl_dom d;
  build(&t, &d, (const uint32_t[]){0}, 1, size);
  for (uint32_t i = 1; i < DEEP; i++) {
    ASSERT_EQ(d.idom[i], i - 1);
    ASSERT_EQ(d.retained[i], DEEP - i);
    ASSERT_EQ(d.big_child[i - 1], i);
  }
  ASSERT_EQ(d.super_retained, DEEP);
  free(size);
  free(es);
  free(ed);
  dg_free(&t);
}

/* A list holding a million items that also form a linked list: the DFS
 * goes down the links, a million deep, yet the list dominates each item
 * directly; every item needs the walk up the dominator tree to the list. */
static void test_list_star(void) {
  uint32_t *es = xcalloc(2 * (size_t)DEEP);
  uint32_t *ed = xcalloc(2 * (size_t)DEEP);
  size_t m = 0;
  for (uint32_t i = 1; i < DEEP; i++) {
    es[m] = 0;
    ed[m++] = i;
    if (i + 1 < DEEP) {
      es[m] = i;
      ed[m++] = i + 1;
    }
  }
  struct dg t;
  dg_build(&t, DEEP, es, ed, m);
  uint32_t *size = sizes(DEEP);
  struct pyl_dom d;
  build(&t, &d, (const uint32_t[]){0}, 1, size);
  for (uint32_t i = 1; i < DEEP; i++) {
    ASSERT_EQ(d.idom[i], 0);
    ASSERT_EQ(d.retained[i], i + 1);
  }
  ASSERT_EQ(d.big_child[0], DEEP - 1);
  ASSERT_EQ(pyl_dom_children(&d, 0, NULL, 0), DEEP - 1);
  free(size);
  free(es);
  free(ed);
  dg_free(&t);
}

/* Where semi-NCA's plain walk up the dominator tree is quadratic: a chain
 * c1 .. ck whose tail refers to k objects that c1 refers to as well (after
 * c2, so the DFS reaches them from the tail).  Each object's DFS parent is
 * ck, k steps below its immediate dominator c1: k * k steps walked one by
 * one, a few hundred billion here; the jump pointers take log k. */
static void test_long_walks(void) {
  enum { K = DEEP / 2 };
  uint32_t *es = xcalloc(3 * (size_t)K);
  uint32_t *ed = xcalloc(3 * (size_t)K);
  size_t m = 0;
  for (uint32_t i = 0; i + 1 < K; i++) {
    es[m] = i;
    ed[m++] = i + 1;
  }
  for (uint32_t j = 0; j < K; j++) {
    es[m] = K - 1;
    ed[m++] = K + j;
    es[m] = 0;
    ed[m++] = K + j;
  }
  struct dg t;
  dg_build(&t, 2 * K, es, ed, m);
  uint32_t *size = sizes(2 * K);
  struct pyl_dom d;
  build(&t, &d, (const uint32_t[]){0}, 1, size);
  for (uint32_t j = 0; j < K; j++) {
    ASSERT_EQ(d.idom[K + j], 0);
  }
  for (uint32_t i = 1; i < K; i++) {
    ASSERT_EQ(d.idom[i], i - 1);
  }
  ASSERT_EQ(d.big_child[0], 1); /* the chain: about K * K / 2 bytes */
  free(size);
  free(es);
  free(ed);
  dg_free(&t);
}

const struct pyl_test pyl_dominators_tests[] = {
    {"dominators/chain", test_chain},
    {"dominators/diamond", test_diamond},
    {"dominators/lengauer_tarjan", test_lengauer_tarjan},
    {"dominators/cycles", test_cycles},
    {"dominators/sources", test_sources},
    {"dominators/empty", test_empty},
    {"dominators/ties", test_ties},
    {"dominators/out_of_memory_and_stop", test_out_of_memory_and_stop},
    {"dominators/random_vs_brute_force", test_random_vs_brute_force},
    {"dominators/deep_chain", test_deep_chain},
    {"dominators/list_star", test_list_star},
    {"dominators/long_walks", test_long_walks},
    PYL_TESTS_END};
