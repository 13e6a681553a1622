/*
 * sort.h — a stable merge sort of uint32_t keys (qsort may malloc).
 *
 * Bottom-up and iterative: no recursion on the target thread's stack.
 * The caller passes a scratch array of n elements.
 */
#ifndef PYL_SORT_H
#define PYL_SORT_H

#include <stddef.h>
#include <stdint.h>

/* Negative when a sorts before b. */
typedef int (*pyl_cmp_fn)(uint32_t a, uint32_t b, const void *ctx);

void pyl_sort_u32(uint32_t *v, uint32_t *scratch, size_t n, pyl_cmp_fn cmp,
                  const void *ctx);

#endif /* PYL_SORT_H */
