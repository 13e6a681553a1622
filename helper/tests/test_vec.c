/* test_vec.c — growable arrays: growth in place, clearing, release. */
#include "check.h"
#include "vec.h"

#include <string.h>

struct rec {
  uint64_t a;
  uint32_t b;
};

static void test_grow_in_place(void) {
  struct pyl_vec v = {0};
  uint64_t before = pyl_arena_mapped_now();
  ASSERT_TRUE(pyl_vec_reserve(&v, sizeof(struct rec), 1 << 20, 1 << 16));
  ASSERT_EQ(v.cap, 0);
  ASSERT_EQ(pyl_arena_mapped_now(), before);
  struct rec *r = pyl_vec_data(&v);
  ASSERT_TRUE(r != NULL);
  for (uint32_t i = 0; i < 100000; i++) {
    ASSERT_TRUE(pyl_vec_fit(&v, (uint64_t)i + 1));
    r[i] = (struct rec){.a = i, .b = ~i};
  }
  ASSERT_TRUE(v.cap >= 100000);
  ASSERT_EQ(v.cap, v.arena.committed / sizeof(struct rec));
  ASSERT_EQ(pyl_vec_data(&v), (void *)r); /* never moved */
  for (uint32_t i = 0; i < 100000; i += 997) {
    ASSERT_EQ(r[i].a, i);
    ASSERT_EQ(r[i].b, ~i);
  }
  ASSERT_EQ(pyl_arena_mapped_now(), before + v.arena.committed);
  pyl_vec_release(&v);
  ASSERT_EQ(pyl_vec_data(&v), NULL);
  ASSERT_EQ(v.cap, 0);
  ASSERT_EQ(pyl_arena_mapped_now(), before);
}

static void test_limits(void) {
  struct pyl_vec v = {0};
  ASSERT_TRUE(pyl_vec_reserve(&v, 8, 1 << 17, 1 << 16));
  ASSERT_TRUE(pyl_vec_fit(&v, 1 << 17));
  ASSERT_FALSE(pyl_vec_fit(&v, (1 << 17) + 1));  /* past the reservation */
  ASSERT_FALSE(pyl_vec_fit(&v, UINT64_MAX / 2)); /* bytes overflow */
  ASSERT_TRUE(pyl_vec_fit(&v, 5));               /* still usable */
  pyl_vec_release(&v);
  struct pyl_vec w = {0};
  ASSERT_FALSE(pyl_vec_reserve(&w, 16, UINT64_MAX / 8, 1 << 16));
  ASSERT_FALSE(pyl_vec_fit(&w, 1)); /* never reserved */
}

static void test_clear_zeroes(void) {
  struct pyl_vec v = {0};
  uint64_t before = pyl_arena_mapped_now();
  ASSERT_TRUE(pyl_vec_reserve(&v, sizeof(uint32_t), 1 << 22, 1 << 16));
  uint32_t *p = pyl_vec_data(&v);
  ASSERT_TRUE(pyl_vec_fit(&v, 1 << 18));
  memset(p, 0x5a, (size_t)(1 << 18) * sizeof(uint32_t));
  pyl_vec_clear(&v);
  ASSERT_EQ(v.cap, 0);
  ASSERT_EQ(pyl_arena_mapped_now(), before);
  /* the reservation is kept: same base, fresh zero pages */
  ASSERT_TRUE(pyl_vec_reserve(&v, sizeof(uint32_t), 1 << 22, 1 << 16));
  ASSERT_EQ(pyl_vec_data(&v), (void *)p);
  ASSERT_TRUE(pyl_vec_fit(&v, 1 << 18));
  for (uint32_t i = 0; i < 1 << 18; i += 4099) {
    ASSERT_EQ(p[i], 0);
  }
  pyl_vec_release(&v);
  ASSERT_EQ(pyl_arena_mapped_now(), before);
}

const struct pyl_test pyl_vec_tests[] = {
    {"vec/grow_in_place", test_grow_in_place},
    {"vec/limits", test_limits},
    {"vec/clear_zeroes", test_clear_zeroes},
    PYL_TESTS_END,
};
