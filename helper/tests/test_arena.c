/* test_arena.c — reservations, commit growth, accounting, zeroing. */
#include "arena.h"
#include "check.h"

#include <string.h>

static void test_reserve_commit(void) {
  struct pyl_arena a = {0};
  uint64_t before = pyl_arena_mapped_now();
  ASSERT_TRUE(pyl_arena_reserve(&a, 1ull << 30, 1 << 20));
  ASSERT_EQ(a.reserved, 1ull << 30);
  ASSERT_EQ(a.committed, 0);
  ASSERT_EQ(pyl_arena_mapped_now(), before);
  ASSERT_TRUE(pyl_arena_commit(&a, 100));
  ASSERT_TRUE(a.committed >= 100);
  ASSERT_EQ(a.committed % 4096, 0);
  ASSERT_EQ(pyl_arena_mapped_now(), before + a.committed);
  memset(a.base, 0xab, a.committed);
  size_t old = a.committed;
  ASSERT_TRUE(pyl_arena_commit(&a, old + 1));
  ASSERT_TRUE(a.committed > old);
  ASSERT_EQ(a.base[old - 1], 0xab); /* grew in place */
  ASSERT_FALSE(pyl_arena_commit(&a, a.reserved + 1));
  pyl_arena_release(&a);
  ASSERT_EQ(a.base, NULL);
  ASSERT_EQ(pyl_arena_mapped_now(), before);
}

static void test_alloc_alignment(void) {
  struct pyl_arena a = {0};
  ASSERT_TRUE(pyl_arena_reserve(&a, 1 << 24, 1 << 20));
  unsigned char *p = pyl_arena_alloc(&a, 3, 1);
  unsigned char *q = pyl_arena_alloc(&a, 8, 64);
  ASSERT_TRUE(p != NULL && q != NULL);
  ASSERT_EQ((uintptr_t)q % 64, 0);
  ASSERT_TRUE(q >= p + 3);
  ASSERT_EQ(pyl_arena_alloc(&a, 1 << 25, 8), NULL); /* past reservation */
  pyl_arena_reset(&a);
  ASSERT_EQ(pyl_arena_alloc(&a, 1, 1), a.base);
  pyl_arena_release(&a);
}

static void test_decommit_zeroes(void) {
  struct pyl_arena a = {0};
  ASSERT_TRUE(pyl_arena_reserve(&a, 1 << 24, 1 << 20));
  unsigned char *p = pyl_arena_alloc(&a, 1 << 20, 8);
  ASSERT_TRUE(p != NULL);
  memset(p, 0x5a, 1 << 20);
  uint64_t peak = pyl_arena_mapped_peak();
  pyl_arena_decommit(&a);
  ASSERT_EQ(a.committed, 0);
  ASSERT_EQ(pyl_arena_mapped_peak(), peak);
  unsigned char *r = pyl_arena_alloc(&a, 1 << 20, 8);
  ASSERT_EQ(r, p);
  for (size_t i = 0; i < (1 << 20); i += 4093) {
    ASSERT_EQ(r[i], 0);
  }
  pyl_arena_release(&a);
}

static void test_fit(void) {
  struct pyl_arena a = {0};
  ASSERT_TRUE(pyl_arena_reserve(&a, 1 << 24, 1 << 20));
  ASSERT_TRUE(pyl_arena_fit(&a, 1000, 8));
  ASSERT_TRUE(a.committed >= 8000);
  ASSERT_FALSE(pyl_arena_fit(&a, UINT64_MAX / 2, 8));
  ASSERT_FALSE(pyl_arena_fit(&a, (1 << 24) / 8 + 1, 8));
  pyl_arena_release(&a);
}

static void test_commit_exact(void) {
  /* Exactly what is asked (to the page), where pyl_arena_commit() would
   * commit ahead; the big-step growth of the object table relies on it. */
  struct pyl_arena a = {0};
  uint64_t before = pyl_arena_mapped_now();
  ASSERT_TRUE(pyl_arena_reserve(&a, 1 << 26, 1 << 20));
  ASSERT_TRUE(pyl_arena_commit_exact(&a, 5000));
  ASSERT_EQ(a.committed, 8192);
  ASSERT_TRUE(pyl_arena_commit_exact(&a, 3u << 20));
  ASSERT_EQ(a.committed, 3u << 20);
  ASSERT_TRUE(pyl_arena_commit_exact(&a, 100)); /* never shrinks */
  ASSERT_EQ(a.committed, 3u << 20);
  ASSERT_EQ(pyl_arena_mapped_now(), before + (3u << 20));
  ASSERT_FALSE(pyl_arena_commit_exact(&a, (1 << 26) + 1));
  ASSERT_TRUE(pyl_arena_commit(&a, (3u << 20) + 1));
  ASSERT_TRUE(a.committed > (3u << 20) + 4096); /* this one goes ahead */
  ASSERT_TRUE(a.committed <= (3u << 20) + (2u << 20));
  pyl_arena_release(&a);
  ASSERT_EQ(pyl_arena_mapped_now(), before);
}

const struct pyl_test pyl_arena_tests[] = {
    {"arena/reserve_commit", test_reserve_commit},
    {"arena/alloc_alignment", test_alloc_alignment},
    {"arena/decommit_zeroes", test_decommit_zeroes},
    {"arena/fit", test_fit},
    {"arena/commit_exact", test_commit_exact},
    PYL_TESTS_END,
};
