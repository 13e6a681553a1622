/* test_csr.c — building the CSR graph, including dropped edges. */
#include "check.h"
#include "csr.h"

#include <string.h>

static void add_edge(struct pyl_csr *c, uint32_t dst) {
  uint64_t k = pyl_csr_slot(c);
  ASSERT_NE(k, UINT64_MAX);
  pyl_csr_set(c, k, dst);
}

static void test_build(void) {
  struct pyl_csr c;
  memset(&c, 0, sizeof(c));
  ASSERT_TRUE(pyl_csr_init(&c, 1000, 10000));
  /* 0 -> 1, 2; 1 has none; 2 -> 0; 3, 4 not begun; 5 -> 5 */
  ASSERT_TRUE(pyl_csr_begin(&c, 0));
  add_edge(&c, 1);
  add_edge(&c, 2);
  ASSERT_TRUE(pyl_csr_begin(&c, 2));
  add_edge(&c, 0);
  ASSERT_TRUE(pyl_csr_begin(&c, 5));
  add_edge(&c, 5);
  ASSERT_FALSE(pyl_csr_begin(&c, 4)); /* out of order */
  ASSERT_TRUE(pyl_csr_finish(&c, 7));
  const uint32_t want_offs[] = {0, 2, 2, 3, 3, 3, 4, 4};
  for (int i = 0; i <= 7; i++) {
    ASSERT_EQ(c.offs[i], want_offs[i]);
  }
  ASSERT_EQ(c.edges[0], 1);
  ASSERT_EQ(c.edges[1], 2);
  ASSERT_EQ(c.edges[2], 0);
  ASSERT_EQ(c.edges[3], 5);
  ASSERT_EQ(c.n_edges, 4);
  pyl_csr_release(&c);
}

static void test_dropped_and_late_fill(void) {
  struct pyl_csr c;
  memset(&c, 0, sizeof(c));
  ASSERT_TRUE(pyl_csr_init(&c, 1000, 10000));
  /* Slots are filled after later sources began (as the batch does). */
  ASSERT_TRUE(pyl_csr_begin(&c, 0));
  uint64_t a = pyl_csr_slot(&c);
  uint64_t b = pyl_csr_slot(&c);
  ASSERT_TRUE(pyl_csr_begin(&c, 1));
  uint64_t d = pyl_csr_slot(&c);
  ASSERT_TRUE(pyl_csr_begin(&c, 2));
  uint64_t e = pyl_csr_slot(&c);
  uint64_t f = pyl_csr_slot(&c);
  pyl_csr_set(&c, a, PYL_NONE);
  pyl_csr_set(&c, b, 7);
  pyl_csr_set(&c, d, PYL_NONE);
  pyl_csr_set(&c, e, 8);
  pyl_csr_set(&c, f, 9);
  ASSERT_EQ(c.n_dropped, 2);
  ASSERT_TRUE(pyl_csr_finish(&c, 3));
  ASSERT_EQ(c.n_edges, 3);
  const uint32_t want_offs[] = {0, 1, 1, 3};
  for (int i = 0; i <= 3; i++) {
    ASSERT_EQ(c.offs[i], want_offs[i]);
  }
  ASSERT_EQ(c.edges[0], 7);
  ASSERT_EQ(c.edges[1], 8);
  ASSERT_EQ(c.edges[2], 9);
  pyl_csr_release(&c);
}

static void test_random_graph(void) {
  struct pyl_csr c;
  memset(&c, 0, sizeof(c));
  enum { N = 20000 };
  static uint32_t deg[N];
  ASSERT_TRUE(pyl_csr_init(&c, N, 1u << 20));
  unsigned long long st = 3;
  uint64_t total = 0;
  for (uint32_t i = 0; i < N; i++) {
    deg[i] = (uint32_t)(pyl_test_rand(&st) % 5);
    if (deg[i] == 0 && i % 3 == 0) {
      continue; /* not begun: must still get an empty range */
    }
    ASSERT_TRUE(pyl_csr_begin(&c, i));
    for (uint32_t k = 0; k < deg[i]; k++) {
      add_edge(&c, (i + k) % N);
    }
    total += deg[i];
  }
  ASSERT_TRUE(pyl_csr_finish(&c, N));
  ASSERT_EQ(c.offs[N], total);
  for (uint32_t i = 0; i < N; i++) {
    ASSERT_EQ(c.offs[i + 1] - c.offs[i], deg[i]);
    for (uint32_t k = 0; k < deg[i]; k++) {
      ASSERT_EQ(c.edges[c.offs[i] + k], (i + k) % N);
    }
  }
  pyl_csr_release(&c);
}

static void test_edge_limit(void) {
  struct pyl_csr c;
  memset(&c, 0, sizeof(c));
  ASSERT_TRUE(pyl_csr_init(&c, 10, 3));
  ASSERT_TRUE(pyl_csr_begin(&c, 0));
  ASSERT_NE(pyl_csr_slot(&c), UINT64_MAX);
  ASSERT_NE(pyl_csr_slot(&c), UINT64_MAX);
  ASSERT_NE(pyl_csr_slot(&c), UINT64_MAX);
  ASSERT_EQ(pyl_csr_slot(&c), UINT64_MAX);
  pyl_csr_release(&c);
}

const struct pyl_test pyl_csr_tests[] = {
    {"csr/build", test_build},
    {"csr/dropped_and_late_fill", test_dropped_and_late_fill},
    {"csr/random_graph", test_random_graph},
    {"csr/edge_limit", test_edge_limit},
    PYL_TESTS_END,
};
