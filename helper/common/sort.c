/* sort.c — bottom-up merge sort. */
#include "sort.h"

enum {
  PYL_SORT_RUN = 16, /* insertion-sorted runs before merging */
};

static void insertion(uint32_t *v, size_t n, pyl_cmp_fn cmp, const void *ctx) {
  for (size_t i = 1; i < n; i++) {
    uint32_t x = v[i];
    size_t j = i;
    while (j > 0 && cmp(x, v[j - 1], ctx) < 0) {
      v[j] = v[j - 1];
      j--;
    }
    v[j] = x;
  }
}

static void merge(const uint32_t *src, uint32_t *dst, size_t lo, size_t mid,
                  size_t hi, pyl_cmp_fn cmp, const void *ctx) {
  size_t i = lo;
  size_t j = mid;
  size_t k = lo;
  while (i < mid && j < hi) {
    /* The right run wins only when strictly smaller: stable. */
    if (cmp(src[j], src[i], ctx) < 0) {
      dst[k++] = src[j++];
    } else {
      dst[k++] = src[i++];
    }
  }
  while (i < mid) {
    dst[k++] = src[i++];
  }
  while (j < hi) {
    dst[k++] = src[j++];
  }
}

void pyl_sort_u32(uint32_t *v, uint32_t *scratch, size_t n, pyl_cmp_fn cmp,
                  const void *ctx) {
  for (size_t lo = 0; lo < n; lo += PYL_SORT_RUN) {
    size_t len = n - lo < PYL_SORT_RUN ? n - lo : PYL_SORT_RUN;
    insertion(v + lo, len, cmp, ctx);
  }
  uint32_t *src = v;
  uint32_t *dst = scratch;
  for (size_t width = PYL_SORT_RUN; width < n; width *= 2) {
    for (size_t lo = 0; lo < n; lo += 2 * width) {
      size_t mid = lo + width < n ? lo + width : n;
      size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
      merge(src, dst, lo, mid, hi, cmp, ctx);
    }
    uint32_t *t = src;
    src = dst;
    dst = t;
  }
  if (src != v) {
    for (size_t i = 0; i < n; i++) {
      v[i] = src[i];
    }
  }
}
