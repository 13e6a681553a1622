/* test_chain.c — reverse edges, chain search and unreachable analysis on
 * synthetic graphs. */
#include "chain.h"
#include "check.h"
#include "csr.h"
#include "objtab.h"
#include "rev.h"
#include "roots.h"

#include <string.h>

struct tg {
  struct pyl_csr csr;
  struct pyl_rev rev;
  struct pyl_arena scratch;
  struct pyl_graph g;
  uint32_t n;
};

/* Edges as (src, dst) pairs; sources need not be sorted. */
static void tg_build(struct tg *t, uint32_t n, const uint32_t (*e)[2],
                     size_t n_e) {
  memset(t, 0, sizeof(*t));
  ASSERT_TRUE(pyl_csr_init(&t->csr, n + 16, (uint64_t)n_e + 16));
  ASSERT_TRUE(pyl_rev_init(&t->rev, n + 16, (uint64_t)n_e + 16));
  ASSERT_TRUE(pyl_arena_reserve(&t->scratch, 64u << 20, 1u << 20));
  for (uint32_t src = 0; src < n; src++) {
    ASSERT_TRUE(pyl_csr_begin(&t->csr, src));
    for (size_t k = 0; k < n_e; k++) {
      if (e[k][0] == src) {
        uint64_t slot = pyl_csr_slot(&t->csr);
        ASSERT_NE(slot, UINT64_MAX);
        pyl_csr_set(&t->csr, slot, e[k][1]);
      }
    }
  }
  ASSERT_TRUE(pyl_csr_finish(&t->csr, n));
  ASSERT_TRUE(pyl_rev_build(&t->rev, &t->csr, n));
  t->n = n;
  t->g = (struct pyl_graph){.n = n,
                            .offs = t->csr.offs,
                            .edges = t->csr.edges,
                            .roffs = t->rev.offs,
                            .redges = t->rev.edges};
}

static void tg_free(struct tg *t) {
  pyl_csr_release(&t->csr);
  pyl_rev_release(&t->rev);
  pyl_arena_release(&t->scratch);
}

static bool has_edge(const struct tg *t, uint32_t a, uint32_t b) {
  for (uint32_t k = t->g.offs[a]; k < t->g.offs[a + 1]; k++) {
    if (t->g.edges[k] == b) {
      return true;
    }
  }
  return false;
}

static void test_rev_matches_brute_force(void) {
  enum { N = 300, E = 3000 };
  static uint32_t e[E][2];
  unsigned long long st = 42;
  for (int k = 0; k < E; k++) {
    e[k][0] = (uint32_t)(pyl_test_rand(&st) % N);
    e[k][1] = (uint32_t)(pyl_test_rand(&st) % N);
  }
  e[0][0] = 5; /* a duplicate edge is kept twice */
  e[0][1] = 7;
  e[1][0] = 5;
  e[1][1] = 7;
  struct tg t;
  tg_build(&t, N, e, E);
  ASSERT_EQ(t.rev.offs[N], E);
  for (uint32_t dst = 0; dst < N; dst++) {
    uint32_t k = t.rev.offs[dst];
    for (uint32_t src = 0; src < N; src++) {
      for (uint32_t f = t.g.offs[src]; f < t.g.offs[src + 1]; f++) {
        if (t.g.edges[f] == dst) {
          ASSERT_TRUE(k < t.rev.offs[dst + 1]);
          ASSERT_EQ(t.rev.edges[k], src); /* ascending, one per edge */
          k++;
        }
      }
    }
    ASSERT_EQ(k, t.rev.offs[dst + 1]);
  }
  ASSERT_TRUE(pyl_rev_degree(&t.rev, 7) >= 2);
  /* A rebuild over dirty pages gives the same answer. */
  uint32_t before = t.rev.offs[100];
  ASSERT_TRUE(pyl_rev_build(&t.rev, &t.csr, N));
  ASSERT_EQ(t.rev.offs[100], before);
  tg_free(&t);
}

static void search(struct tg *t, const struct pyl_root *roots, uint32_t nr,
                   uint32_t target, bool all, struct pyl_rootset *rs,
                   struct pyl_search *s) {
  pyl_arena_reset(&t->scratch);
  ASSERT_TRUE(pyl_rootset_build(rs, nr != 0 ? &roots[0].obj : NULL,
                                sizeof(roots[0]), nr, t->n, &t->scratch));
  ASSERT_TRUE(pyl_search_alloc(s, t->n, nr + 1, &t->scratch));
  (void)pyl_chain_search(&t->g, rs, target, all, s);
}

/* root 0 -> 1 -> 2 -> ... -> 200 (the target), and a longer detour 0 ->
 * 300 -> ... -> 390 that joins at 50: the search must find the 201-object
 * chain through the direct path, checked edge by edge. */
static void test_long_chain(void) {
  enum { N = 400 };
  static uint32_t e[N * 2][2];
  size_t ne = 0;
  for (uint32_t i = 0; i < 200; i++) {
    e[ne][0] = i;
    e[ne++][1] = i + 1;
  }
  e[ne][0] = 0;
  e[ne++][1] = 300;
  for (uint32_t i = 300; i < 390; i++) {
    e[ne][0] = i;
    e[ne++][1] = i + 1;
  }
  e[ne][0] = 390;
  e[ne++][1] = 50;
  struct tg t;
  tg_build(&t, N, e, ne);
  struct pyl_root roots[] = {{.obj = 0, .kind = PYL_ROOT_MODULE}};
  struct pyl_rootset rs;
  struct pyl_search s;
  search(&t, roots, 1, 200, false, &rs, &s);
  ASSERT_EQ(s.n_found, 1);
  ASSERT_EQ(s.found[0].obj, 0);
  ASSERT_EQ(s.found[0].dist, 200);
  static uint32_t path[N];
  uint32_t len = pyl_chain_path(&s, 0, path, N);
  ASSERT_EQ(len, 201);
  ASSERT_EQ(path[0], 0);
  ASSERT_EQ(path[200], 200);
  for (uint32_t i = 1; i < len; i++) {
    ASSERT_TRUE(has_edge(&t, path[i - 1], path[i]));
  }
  /* Cut the direct path at 30 -> 31: now the detour is the way. */
  for (size_t k = 0; k < ne; k++) {
    if (e[k][0] == 30) {
      e[k][1] = 399;
    }
  }
  tg_free(&t);
  tg_build(&t, N, e, ne);
  search(&t, roots, 1, 200, false, &rs, &s);
  ASSERT_EQ(s.n_found, 1);
  len = pyl_chain_path(&s, 0, path, N);
  ASSERT_EQ(len, 1 + 91 + 151); /* 0, 300..390, 50..200 */
  for (uint32_t i = 1; i < len; i++) {
    ASSERT_TRUE(has_edge(&t, path[i - 1], path[i]));
  }
  tg_free(&t);
}

/* Two roots at the same distance: both are found; the nearer root wins
 * over a farther one; a root behind another root is not reached. */
static void test_roots_and_all(void) {
  /* 1 -> 3 -> 4 (target); 2 -> 3; 5 -> 6 -> 0 -> 4; 7 -> 1 (7 behind
   * root 1); 8 -> 8 (unrelated) */
  static const uint32_t e[][2] = {{1, 3}, {3, 4}, {2, 3}, {5, 6},
                                  {6, 0}, {0, 4}, {7, 1}, {8, 8}};
  struct tg t;
  tg_build(&t, 9, e, sizeof(e) / sizeof(e[0]));
  struct pyl_root roots[] = {
      {.obj = 2, .kind = PYL_ROOT_MODULE},
      {.obj = 1, .kind = PYL_ROOT_MODULE},
      {.obj = 5, .kind = PYL_ROOT_FRAME},
      {.obj = 7, .kind = PYL_ROOT_INTERPRETER},
      {.obj = 1, .kind = PYL_ROOT_C},
  };
  struct pyl_rootset rs;
  struct pyl_search s;
  search(&t, roots, 5, 4, false, &rs, &s);
  ASSERT_EQ(s.n_found, 2); /* the whole level of distance 2 */
  ASSERT_EQ(s.found[0].dist, 2);
  ASSERT_EQ(s.found[1].dist, 2);
  uint32_t first = 0;
  ASSERT_EQ(pyl_rootset_find(&rs, 1, &first), 2);
  ASSERT_EQ(rs.by_obj[first], 1); /* roots order within an object */
  ASSERT_EQ(rs.by_obj[first + 1], 4);
  ASSERT_EQ(pyl_rootset_find(&rs, 3, &first), 0);
  ASSERT_FALSE(s.complete);

  search(&t, roots, 5, 4, true, &rs, &s);
  ASSERT_EQ(s.n_found, 3); /* 1, 2 and 5; never 7, behind root 1 */
  ASSERT_TRUE(s.complete);
  bool saw5 = false;
  for (uint32_t i = 0; i < s.n_found; i++) {
    ASSERT_NE(s.found[i].obj, 7);
    saw5 = saw5 || s.found[i].obj == 5;
    if (i > 0) {
      ASSERT_TRUE(s.found[i].dist >= s.found[i - 1].dist);
    }
  }
  ASSERT_TRUE(saw5);

  /* The target is a root itself: a chain of one object, and with all
   * roots the search goes on through it. */
  search(&t, roots, 5, 1, false, &rs, &s);
  ASSERT_EQ(s.n_found, 1);
  ASSERT_EQ(s.found[0].obj, 1);
  ASSERT_EQ(s.found[0].dist, 0);
  search(&t, roots, 5, 1, true, &rs, &s);
  ASSERT_EQ(s.n_found, 2);
  ASSERT_EQ(s.found[1].obj, 7);
  tg_free(&t);
}

/* 10 <-> 11 <-> 12 form a cycle with the target 10; 13 refers into it
 * (garbage, not in the cycle); the cycle refers to 14 (garbage leaf) and
 * to 2 (reachable from root 1).  0 is unrelated. */
static void test_unreachable(void) {
  static const uint32_t e[][2] = {{10, 11}, {11, 12}, {12, 10}, {13, 11},
                                  {12, 14}, {10, 2},  {1, 2},   {2, 3}};
  struct tg t;
  tg_build(&t, 15, e, sizeof(e) / sizeof(e[0]));
  struct pyl_root roots[] = {{.obj = 1, .kind = PYL_ROOT_MODULE}};
  struct pyl_rootset rs;
  struct pyl_search s;
  search(&t, roots, 1, 10, false, &rs, &s);
  ASSERT_EQ(s.n_found, 0);
  ASSERT_TRUE(s.complete);
  ASSERT_EQ(s.n_seen, 4); /* 10, 12, 11, 13 */
  struct pyl_unreachable u;
  ASSERT_TRUE(pyl_chain_unreachable(&t.g, &rs, 10, &s, &t.scratch, &u));
  ASSERT_EQ(u.cycle_group, 3);
  ASSERT_EQ(u.garbage, 5); /* 10, 11, 12, 13, 14 */
  ASSERT_EQ(u.referrers, 3);

  /* A lone object nothing refers to. */
  search(&t, roots, 1, 14, false, &rs, &s);
  ASSERT_EQ(s.n_found, 0);
  ASSERT_TRUE(pyl_chain_unreachable(&t.g, &rs, 14, &s, &t.scratch, &u));
  ASSERT_EQ(u.cycle_group, 1);
  ASSERT_EQ(u.garbage, 5); /* 14 and the cycle plus 13 that reach it */
  search(&t, roots, 1, 0, false, &rs, &s);
  ASSERT_TRUE(pyl_chain_unreachable(&t.g, &rs, 0, &s, &t.scratch, &u));
  ASSERT_EQ(u.cycle_group, 1);
  ASSERT_EQ(u.garbage, 1);
  ASSERT_EQ(u.referrers, 0);
  tg_free(&t);
}

static void test_forward_parents(void) {
  static const uint32_t e[][2] = {{0, 1}, {0, 2}, {1, 3},
                                  {2, 3}, {3, 4}, {5, 4}};
  struct tg t;
  tg_build(&t, 6, e, sizeof(e) / sizeof(e[0]));
  uint64_t *seen = pyl_bitmap_new(&t.scratch, 6);
  uint32_t queue[6];
  uint32_t parent[6];
  const uint32_t src[] = {5, 0, 5};
  uint32_t n = pyl_bfs_forward(&t.g, src, 3, seen, queue, parent);
  ASSERT_EQ(n, 6);
  ASSERT_EQ(queue[0], 5);
  ASSERT_EQ(queue[1], 0);
  ASSERT_EQ(parent[5], PYL_NONE);
  ASSERT_EQ(parent[4], 5); /* first reached from the first source */
  ASSERT_EQ(parent[3], 1);
  tg_free(&t);
}

const struct pyl_test pyl_chain_tests[] = {
    {"chain/rev_matches_brute_force", test_rev_matches_brute_force},
    {"chain/long_chain", test_long_chain},
    {"chain/roots_and_all", test_roots_and_all},
    {"chain/unreachable", test_unreachable},
    {"chain/forward_parents", test_forward_parents},
    PYL_TESTS_END};
