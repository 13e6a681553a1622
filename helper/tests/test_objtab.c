/* test_objtab.c — the address -> index hash and its growth. */
#include "check.h"
#include "objtab.h"

#include <string.h>

static uint64_t fake_addr(unsigned long long *st) {
  /* 16-aligned addresses below 2^47, like pymalloc objects */
  return (pyl_test_rand(st) % (1ull << 43)) << 4;
}

/* The table's invariants, from the slots alone: in every sub-table every
 * element decodes to the hash of its object's address, sits at or below
 * its home, right below its successor when not at home, in increasing
 * hash order; slots[0] is empty, every object has exactly one slot and
 * the loads stay within bounds. */
static void check_layout(const struct pyl_objtab *t) {
  uint64_t count = 0;
  for (unsigned k = 0; k < PYL_OBJTAB_SUBS; k++) {
    const struct pyl_objtab_sub *sub = &t->sub[k];
    if (sub->cap == 0) {
      ASSERT_EQ(sub->n, 0);
      continue;
    }
    uint64_t fmask = (1ull << sub->fbits) - 1;
    uint64_t imask = (1ull << sub->ibits) - 1;
    uint64_t prev_h = 0;
    bool have_prev = false;
    uint64_t sub_count = 0;
    uint64_t end = PYL_OBJTAB_HEAD + sub->cap;
    ASSERT_EQ(sub->slots[0], 0);
    ASSERT_EQ(sub->fbits + sub->ibits, PYL_OBJTAB_DIST_SHIFT);
    ASSERT_TRUE(sub->n <= sub->cap * 4 / 5);
    for (uint64_t p = 0; p < end; p++) {
      uint64_t s = sub->slots[p];
      if (s == 0) {
        continue;
      }
      uint64_t dist = (s >> PYL_OBJTAB_DIST_SHIFT) - 1;
      ASSERT_TRUE(p + dist >= PYL_OBJTAB_HEAD);
      uint64_t home = p + dist - PYL_OBJTAB_HEAD;
      ASSERT_TRUE(home < sub->cap);
      uint64_t y = (home << sub->fbits) | ((s >> sub->ibits) & fmask);
      ASSERT_EQ(y % sub->mul, 0);
      uint64_t h = ((uint64_t)k << PYL_OBJTAB_SUB_KEY_BITS) | (y / sub->mul);
      uint64_t idx1 = s & imask;
      ASSERT_TRUE(idx1 >= 1 && idx1 <= t->n);
      ASSERT_EQ(pyl_objtab_hash(t->addr[idx1 - 1]), h);
      if (dist > 0) {
        ASSERT_TRUE(p + 1 < end && sub->slots[p + 1] != 0);
      }
      ASSERT_TRUE(!have_prev || prev_h < h);
      prev_h = h;
      have_prev = true;
      sub_count++;
    }
    ASSERT_EQ(sub_count, sub->n);
    count += sub_count;
  }
  ASSERT_EQ(count, t->n);
}

/* Slots of all sub-tables. */
static uint64_t table_slots(const struct pyl_objtab *t) {
  uint64_t slots = 0;
  for (unsigned k = 0; k < PYL_OBJTAB_SUBS; k++) {
    slots += t->sub[k].cap;
  }
  return slots;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a;
  uint64_t y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static void test_hash_is_exact(void) {
  /* Consecutive addresses (the worst case for a weak mix): distinct
   * hashes, spread evenly over the homes of a 4096-home table. */
  enum { N = 200000, HOMES = 4096 };
  static uint64_t hs[N];
  static uint32_t per_home[HOMES];
  for (uint64_t i = 0; i < N; i++) {
    hs[i] = pyl_objtab_hash(0x7f0000000000ull + i * 8);
    ASSERT_TRUE(hs[i] < (1ull << PYL_OBJTAB_KEY_BITS));
    per_home[hs[i] >> (PYL_OBJTAB_KEY_BITS - 12)]++;
  }
  qsort(hs, N, sizeof(hs[0]), cmp_u64);
  for (uint64_t i = 1; i < N; i++) {
    ASSERT_NE(hs[i], hs[i - 1]);
  }
  for (unsigned i = 0; i < HOMES; i++) {
    /* about 49 each: Poisson tails stay well inside these */
    ASSERT_TRUE(per_home[i] > 15 && per_home[i] < 100);
  }
  ASSERT_EQ(pyl_objtab_hash(0x1004), PYL_OBJTAB_BAD_HASH);
  ASSERT_EQ(pyl_objtab_hash(1ull << 47), PYL_OBJTAB_BAD_HASH);
  ASSERT_EQ(pyl_objtab_hash(UINT64_MAX - 7), PYL_OBJTAB_BAD_HASH);
  ASSERT_NE(pyl_objtab_hash((1ull << 47) - 8), PYL_OBJTAB_BAD_HASH);
  ASSERT_NE(pyl_objtab_hash(0), PYL_OBJTAB_BAD_HASH);
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
  /* the staggered sub-tables keep the load between 45% and 80% */
  ASSERT_TRUE(table_slots(&t) * 4 / 5 >= t.n);
  ASSERT_TRUE(table_slots(&t) * 45 / 100 <= t.n);
  check_layout(&t);
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
  check_layout(&t);
  pyl_objtab_release(&t);
}

static void test_growth_keeps_layout(void) {
  /* Check the table right after each doubling of a sub-table. */
  struct pyl_objtab t;
  memset(&t, 0, sizeof(t));
  ASSERT_TRUE(pyl_objtab_init(&t, 1u << 20));
  unsigned long long st = 9;
  uint64_t slots = 0;
  unsigned growths = 0;
  bool ins = false;
  for (uint32_t i = 0; i < 300000; i++) {
    uint64_t k = fake_addr(&st);
    ASSERT_NE(pyl_objtab_insert(&t, k, 0, &ins), PYL_NONE);
    if (table_slots(&t) != slots) {
      slots = table_slots(&t);
      growths++;
      if (growths % 7 == 0) {
        check_layout(&t);
      }
      ASSERT_EQ(t.addr[pyl_objtab_find(&t, k)], k);
    }
  }
  ASSERT_TRUE(growths >= 16 * 6);
  check_layout(&t);
  pyl_objtab_release(&t);
}

static void test_memory_per_object(void) {
  /* Whatever the number of objects, the table costs under 16 bytes per
   * object (the staggered doublings), and memory is committed as used. */
  struct pyl_objtab t;
  memset(&t, 0, sizeof(t));
  ASSERT_TRUE(pyl_objtab_init(&t, 1u << 22));
  unsigned long long st = 5;
  bool ins = false;
  uint64_t before = pyl_arena_mapped_now();
  for (uint32_t i = 1; i <= 2000000; i++) {
    ASSERT_NE(pyl_objtab_insert(&t, fake_addr(&st), 0, &ins), PYL_NONE);
    if (i >= 200000 && i % 25000 == 0) {
      uint64_t bytes = 0;
      for (unsigned k = 0; k < PYL_OBJTAB_SUBS; k++) {
        bytes += t.sub[k].arena.committed;
      }
      ASSERT_TRUE(bytes < 16ull * i);
    }
  }
  /* the table, addr[] and type[] */
  uint64_t budget = (16ull + 12) * 2000000 + (4u << 20);
  ASSERT_TRUE(pyl_arena_mapped_now() - before < budget);
  pyl_objtab_release(&t);
}

static void test_bad_keys(void) {
  struct pyl_objtab t;
  memset(&t, 0, sizeof(t));
  ASSERT_TRUE(pyl_objtab_init(&t, 1000));
  bool ins = true;
  ASSERT_EQ(pyl_objtab_insert(&t, 0x1003, 0, &ins), PYL_NONE);
  ASSERT_FALSE(ins);
  ASSERT_EQ(pyl_objtab_insert(&t, 0x1000, 0, &ins), 0);
  /* an unaligned or non-canonical key never aliases an object */
  ASSERT_EQ(pyl_objtab_find(&t, 0x1001), PYL_NONE);
  ASSERT_EQ(pyl_objtab_find(&t, 0x1000 | (1ull << 47)), PYL_NONE);
  ASSERT_EQ(pyl_objtab_find(&t, 0x1000), 0);
  ASSERT_EQ(pyl_objtab_add_at(&t, 0x1001, pyl_objtab_hash(0x1001), NULL, 0),
            PYL_NONE);
  ASSERT_EQ(t.n, 1);
  pyl_objtab_release(&t);
}

static void test_add_at_probe_stop(void) {
  /* Adding where a probe stopped gives the same table as inserting, in
   * a sub-table not in use yet, in one in use and across doublings. */
  struct pyl_objtab t;
  memset(&t, 0, sizeof(t));
  ASSERT_TRUE(pyl_objtab_init(&t, 1u << 20));
  unsigned long long st = 77;
  for (uint32_t i = 0; i < 100000; i++) {
    uint64_t k = fake_addr(&st);
    uint64_t h = pyl_objtab_hash(k);
    const uint64_t *stop = NULL;
    uint32_t idx = pyl_objtab_probe(&t, h, &stop);
    if (idx == PYL_NONE) {
      ASSERT_EQ(pyl_objtab_add_at(&t, k, h, stop, i % 5), t.n - 1);
    } else {
      ASSERT_EQ(t.addr[idx], k); /* a repeated random key */
    }
  }
  ASSERT_TRUE(t.n > 99990);
  check_layout(&t);
  for (uint32_t i = 0; i < t.n; i++) {
    ASSERT_EQ(pyl_objtab_find(&t, t.addr[i]), i);
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
    {"objtab/hash_is_exact", test_hash_is_exact},
    {"objtab/insert_find", test_insert_find},
    {"objtab/growth_keeps_layout", test_growth_keeps_layout},
    {"objtab/memory_per_object", test_memory_per_object},
    {"objtab/bad_keys", test_bad_keys},
    {"objtab/add_at_probe_stop", test_add_at_probe_stop},
    {"objtab/duplicates_and_types", test_duplicates_and_types},
    {"objtab/same_tag_collisions", test_same_tag_collisions},
    {"objtab/clear_and_limit", test_clear_and_limit},
    PYL_TESTS_END,
};
