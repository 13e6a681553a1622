/* test_objtab.c — the address -> index hash and its growth. */
#include "check.h"
#include "objtab.h"

#include <string.h>

static uint64_t fake_addr(unsigned long long *st) {
  /* 16-aligned addresses below 2^47, like pymalloc objects */
  return (pyl_test_rand(st) % (1ull << 43)) << 4;
}

static void test_insert_find(void) {
  struct pyl_objtab t;
  memset(&t, 0, sizeof(t));
  ASSERT_TRUE(pyl_objtab_init(&t, 1u << 22));
  enum { N = 300000 }; /* several growths past the initial 65536 slots */
  static uint64_t keys[N];
  unsigned long long st = 42;
  for (uint32_t i = 0; i < N; i++) {
    keys[i] = fake_addr(&st);
    bool ins = false;
    uint32_t idx = pyl_objtab_insert(&t, keys[i], i % 7, &ins);
    if (ins) {
      ASSERT_EQ(idx, t.n - 1);
    } else {
      ASSERT_EQ(t.addr[idx], keys[i]); /* a repeated random key */
    }
  }
  ASSERT_TRUE(t.n > N - 10);
  ASSERT_TRUE(t.cap * 7 / 10 >= t.n);
  for (uint32_t i = 0; i < N; i++) {
    uint32_t idx = pyl_objtab_find(&t, keys[i]);
    ASSERT_NE(idx, PYL_NONE);
    ASSERT_EQ(t.addr[idx], keys[i]);
  }
  for (uint32_t i = 0; i < t.n; i++) {
    ASSERT_EQ(pyl_objtab_find(&t, t.addr[i]), i);
  }
  unsigned long long other = 7;
  uint32_t misses = 0;
  for (uint32_t i = 0; i < 10000; i++) {
    uint64_t k = fake_addr(&other) | 8; /* 8 mod 16: never inserted */
    misses += pyl_objtab_find(&t, k) == PYL_NONE;
  }
  ASSERT_EQ(misses, 10000);
  pyl_objtab_release(&t);
}

static void test_duplicates_and_types(void) {
  struct pyl_objtab t;
  memset(&t, 0, sizeof(t));
  ASSERT_TRUE(pyl_objtab_init(&t, 1u << 20));
  ASSERT_EQ(pyl_objtab_find(&t, 0x1000), PYL_NONE); /* empty, unmapped */
  bool ins = false;
  ASSERT_EQ(pyl_objtab_insert(&t, 0x1000, 5, &ins), 0);
  ASSERT_TRUE(ins);
  ASSERT_EQ(pyl_objtab_insert(&t, 0x2000, 6, &ins), 1);
  ASSERT_EQ(pyl_objtab_insert(&t, 0x1000, 9, &ins), 0);
  ASSERT_FALSE(ins);
  ASSERT_EQ(t.type[0], 5); /* the first type sticks */
  ASSERT_EQ(t.type[1], 6);
  ASSERT_EQ(t.n, 2);
  pyl_objtab_release(&t);
}

static void test_same_tag_collisions(void) {
  /* Keys that share a home slot chain must all stay findable. */
  struct pyl_objtab t;
  memset(&t, 0, sizeof(t));
  ASSERT_TRUE(pyl_objtab_init(&t, 1u << 20));
  bool ins = false;
  for (uint64_t k = 1; k <= 40000; k++) {
    ASSERT_EQ(pyl_objtab_insert(&t, k * 8, 0, &ins), k - 1);
  }
  for (uint64_t k = 1; k <= 40000; k++) {
    ASSERT_EQ(pyl_objtab_find(&t, k * 8), k - 1);
  }
  pyl_objtab_release(&t);
}

static void test_clear_and_limit(void) {
  struct pyl_objtab t;
  memset(&t, 0, sizeof(t));
  ASSERT_TRUE(pyl_objtab_init(&t, 1000));
  bool ins = false;
  for (uint64_t k = 0; k < 1000; k++) {
    ASSERT_NE(pyl_objtab_insert(&t, 0x10000 + k * 16, 0, &ins), PYL_NONE);
  }
  ASSERT_EQ(pyl_objtab_insert(&t, 0x8, 0, &ins), PYL_NONE); /* full */
  pyl_objtab_clear(&t);
  ASSERT_EQ(t.n, 0);
  ASSERT_EQ(pyl_objtab_find(&t, 0x10000), PYL_NONE);
  ASSERT_EQ(pyl_objtab_insert(&t, 0x10000, 3, &ins), 0);
  ASSERT_TRUE(ins);
  ASSERT_EQ(pyl_objtab_find(&t, 0x10010), PYL_NONE); /* old entry gone */
  pyl_objtab_release(&t);
}

const struct pyl_test pyl_objtab_tests[] = {
    {"objtab/insert_find", test_insert_find},
    {"objtab/duplicates_and_types", test_duplicates_and_types},
    {"objtab/same_tag_collisions", test_same_tag_collisions},
    {"objtab/clear_and_limit", test_clear_and_limit},
    PYL_TESTS_END,
};
