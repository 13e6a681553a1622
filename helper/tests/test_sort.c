/* test_sort.c — the merge sort against a reference, and its stability. */
#include "check.h"
#include "sort.h"

#include <string.h>

static int cmp_value(uint32_t a, uint32_t b, const void *ctx) {
  const uint32_t *v = ctx;
  return v[a] < v[b] ? -1 : v[a] > v[b] ? 1 : 0;
}

static void check_size(size_t n, uint32_t range) {
  static uint32_t values[5000];
  static uint32_t idx[5000];
  static uint32_t tmp[5000];
  unsigned long long st = n * 31 + range;
  for (size_t i = 0; i < n; i++) {
    values[i] = (uint32_t)(pyl_test_rand(&st) % range);
    idx[i] = (uint32_t)i;
  }
  pyl_sort_u32(idx, tmp, n, cmp_value, values);
  static uint8_t seen[5000];
  memset(seen, 0, sizeof(seen));
  for (size_t i = 0; i < n; i++) {
    ASSERT_TRUE(idx[i] < n);
    ASSERT_FALSE(seen[idx[i]]);
    seen[idx[i]] = 1;
    if (i > 0) {
      ASSERT_TRUE(values[idx[i - 1]] <= values[idx[i]]);
      if (values[idx[i - 1]] == values[idx[i]]) {
        ASSERT_TRUE(idx[i - 1] < idx[i]); /* stable */
      }
    }
  }
}

static void test_sizes(void) {
  const size_t sizes[] = {0, 1, 2, 15, 16, 17, 31, 32, 33, 100, 1000, 4999};
  for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
    check_size(sizes[i], 1000000);
    check_size(sizes[i], 3); /* many ties */
  }
}

static int cmp_desc(uint32_t a, uint32_t b, const void *ctx) {
  (void)ctx;
  return a > b ? -1 : a < b ? 1 : 0;
}

static void test_sorted_inputs(void) {
  uint32_t v[100];
  uint32_t tmp[100];
  for (uint32_t i = 0; i < 100; i++) {
    v[i] = i;
  }
  pyl_sort_u32(v, tmp, 100, cmp_desc, NULL);
  for (uint32_t i = 0; i < 100; i++) {
    ASSERT_EQ(v[i], 99 - i);
  }
  pyl_sort_u32(v, tmp, 100, cmp_desc, NULL);
  for (uint32_t i = 0; i < 100; i++) {
    ASSERT_EQ(v[i], 99 - i);
  }
}

const struct pyl_test pyl_sort_tests[] = {
    {"sort/sizes", test_sizes},
    {"sort/sorted_inputs", test_sorted_inputs},
    PYL_TESTS_END,
};
