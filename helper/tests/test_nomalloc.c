/* test_nomalloc.c — the entry points never call the C allocator.
 *
 * A stopped thread of the target may hold malloc's lock, so any malloc
 * inside the helper could deadlock it.  This test interposes the
 * allocator in the test program and counts calls made while an entry
 * point runs.  (Not with AddressSanitizer, which owns malloc itself.) */
#include "check.h"
#include "fakepy.h"
#include "layout.h"

#include <stddef.h>
#include <string.h>

#define PYL_INTERPOSE (!PYL_TEST_ASAN)

static volatile int watching;
static volatile unsigned long calls;

#if PYL_INTERPOSE
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void __libc_free(void *p);
extern void *__libc_memalign(size_t align, size_t size);

static void note(void) {
  if (watching) {
    calls = calls + 1;
  }
}

void *malloc(size_t size) {
  note();
  return __libc_malloc(size);
}

void *calloc(size_t n, size_t size) {
  note();
  return __libc_calloc(n, size);
}

void *realloc(void *p, size_t size) {
  note();
  return __libc_realloc(p, size);
}

void free(void *p) {
  if (p != NULL) {
    note();
  }
  __libc_free(p);
}

void *aligned_alloc(size_t align, size_t size) {
  note();
  return __libc_memalign(align, size);
}

int posix_memalign(void **out, size_t align, size_t size) {
  note();
  *out = __libc_memalign(align, size);
  return *out == NULL ? 12 : 0;
}
#endif

static void test_no_malloc(void) {
#if PYL_INTERPOSE
  static struct fakepy f;
  fakepy_init(&f);
  for (int i = 0; i < 5000; i++) {
    struct fake_obj *b = fakepy_box(&f, i % 2 ? &f.a_foo : &f.box, 2, i % 4);
    b->items[0] = (uint64_t)(uintptr_t)fakepy_leaf(&f);
    b->items[1] = (uint64_t)(uintptr_t)fakepy_leaf(&f);
  }
  fakepy_layout(&f, pyl_layout_store());
  strcpy((char *)(uintptr_t)pyl_arg_addr(), "Foo");
  calls = 0;
  watching = 1;
  struct pyl_result *r =
      (struct pyl_result *)(uintptr_t)pyl_census(PYL_SORT_BYTES, 3, 0);
  int status = (int)r->status;
  uint64_t total = r->total_objects;
  r = (struct pyl_result *)(uintptr_t)pyl_objects(10, 0);
  int objects_status = (int)r->status;
  (void)pyl_invalidate();
  (void)pyl_census(PYL_SORT_COUNT, 0, 0);
  (void)pyl_release();
  watching = 0;
  ASSERT_EQ(status, PYL_OK);
  ASSERT_EQ(total, 5000 + 10000);
  ASSERT_EQ(objects_status, PYL_OK);
  ASSERT_EQ(calls, 0);
  /* the interposition itself works */
  watching = 1;
  free(malloc(10));
  watching = 0;
  ASSERT_EQ(calls, 2);
#else
  printf("  (skipped: the allocator belongs to the sanitizer)\n");
#endif
}

const struct pyl_test pyl_nomalloc_tests[] = {
    {"nomalloc/entry_points", test_no_malloc},
    PYL_TESTS_END,
};
