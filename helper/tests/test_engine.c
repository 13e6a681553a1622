/* test_engine.c — the entry points on a fake heap with a known answer. */
#define _GNU_SOURCE
#include "check.h"
#include "fakepy.h"
#include "layout.h"

#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>

static struct pyl_result *res(uint64_t addr) {
  return (struct pyl_result *)(uintptr_t)addr;
}

static void set_arg(const char *s) {
  ASSERT_TRUE(strlen(s) < pyl_arg_size());
  strcpy((char *)(uintptr_t)pyl_arg_addr(), s);
}

/* 100 tracked boxes of 3 own leaves + 1 shared leaf; box[0] also holds an
 * untracked box of 2 leaves; two a.Foo and one b.Foo holding box[1]; two
 * "maybe" objects, one that tp_is_gc disowns. */
struct heap {
  struct fakepy f;
  struct fake_obj *box[100];
  struct fake_obj *inner;
  struct fake_obj *shared;
  struct fake_obj *foo[3];
  struct fake_obj *maybe[2];
};

static void build(struct heap *h) {
  struct fakepy *f = &h->f;
  fakepy_init(f);
  h->shared = fakepy_leaf(f);
  h->inner = fakepy_box(f, &f->box, 2, -1);
  h->inner->items[0] = (uint64_t)(uintptr_t)fakepy_leaf(f);
  h->inner->items[1] = (uint64_t)(uintptr_t)fakepy_leaf(f);
  for (int i = 0; i < 100; i++) {
    h->box[i] = fakepy_box(f, &f->box, i == 0 ? 5 : 4, i % 4);
    for (int k = 0; k < 3; k++) {
      h->box[i]->items[k] = (uint64_t)(uintptr_t)fakepy_leaf(f);
    }
    h->box[i]->items[3] = (uint64_t)(uintptr_t)h->shared;
  }
  h->box[0]->items[4] = (uint64_t)(uintptr_t)h->inner;
  h->foo[0] = fakepy_box(f, &f->a_foo, 1, 2);
  h->foo[1] = fakepy_box(f, &f->a_foo, 1, 2);
  h->foo[2] = fakepy_box(f, &f->b_foo, 1, 3);
  for (int i = 0; i < 3; i++) {
    h->foo[i]->items[0] = (uint64_t)(uintptr_t)h->box[1];
  }
  h->maybe[0] = fakepy_box(f, &f->maybe, 0, 1);
  h->maybe[1] = fakepy_box(f, &f->maybe, 1, 1);
  h->maybe[1]->items[0] = (uint64_t)(uintptr_t)fakepy_leaf(f);
  fakepy_layout(f, pyl_layout_store());
}

static void test_census_counts(void) {
  static struct heap h;
  build(&h);
  struct pyl_result *r = res(pyl_census(PYL_SORT_COUNT, 0, 0));
  ASSERT_EQ(r->magic, PYL_RESULT_MAGIC);
  ASSERT_EQ(r->status, PYL_OK);
  ASSERT_EQ(r->kind, PYL_RESULT_CENSUS);
  ASSERT_STREQ(r->message, "");
  /* 101 boxes, 300 + 2 + 1 + 1 leaves, 3 foos, 2 maybes */
  ASSERT_EQ(r->total_objects, 101 + 304 + 3 + 2);
  ASSERT_EQ(r->n_gc_tracked, 100 + 3 + 2);
  ASSERT_EQ(r->n_edges, 100 * 4 + 1 + 2 + 3 + 1);
  ASSERT_EQ(r->n_types, 5);
  ASSERT_EQ(r->n_rows, 5);
  ASSERT_EQ(r->n_rows_total, 5);
  ASSERT_EQ(r->row_size, sizeof(struct pyl_census_row));
  ASSERT_EQ(r->graph_reused, 0);
  ASSERT_TRUE(r->mapped_bytes > 0);
  ASSERT_TRUE(r->peak_mapped_bytes >= r->mapped_bytes);
  const struct pyl_census_row *leaf = fakepy_census_row(r, "leaf");
  const struct pyl_census_row *box = fakepy_census_row(r, "box");
  const struct pyl_census_row *maybe = fakepy_census_row(r, "maybe");
  ASSERT_TRUE(leaf != NULL && box != NULL && maybe != NULL);
  ASSERT_EQ(leaf->count, 304);
  ASSERT_EQ(leaf->bytes, 304 * 16);
  ASSERT_EQ(leaf->type_addr, (uint64_t)(uintptr_t)&h.f.leaf);
  ASSERT_EQ(leaf->n_type_objects, 1);
  /* box: 24 + 8 * items + 16 (GC head) */
  ASSERT_EQ(box->count, 101);
  ASSERT_EQ(box->bytes, 99 * (40 + 32) + (40 + 40) + (40 + 16));
  /* tp_is_gc says the empty one is not GC: no GC head, not traversed */
  ASSERT_EQ(maybe->count, 2);
  ASSERT_EQ(maybe->bytes, 24 + (40 + 8));
  uint64_t total = 0;
  const struct pyl_census_row *rows =
      (const struct pyl_census_row *)(uintptr_t)r->rows_addr;
  for (uint64_t i = 0; i < r->n_rows; i++) {
    total += rows[i].bytes;
    if (i > 0) {
      ASSERT_TRUE(rows[i - 1].count >= rows[i].count);
    }
  }
  ASSERT_EQ(r->total_bytes, total);
  ASSERT_STREQ((const char *)(uintptr_t)r->strings_addr + rows[0].name_off,
               "leaf");
}

static void test_census_sort_and_top(void) {
  static struct heap h;
  build(&h);
  struct pyl_result *r = res(pyl_census(PYL_SORT_BYTES, 2, 0));
  ASSERT_EQ(r->status, PYL_OK);
  ASSERT_EQ(r->n_rows, 2);
  ASSERT_EQ(r->n_rows_total, 5);
  const struct pyl_census_row *rows =
      (const struct pyl_census_row *)(uintptr_t)r->rows_addr;
  ASSERT_STREQ((const char *)(uintptr_t)r->strings_addr + rows[0].name_off,
               "box");
  ASSERT_STREQ((const char *)(uintptr_t)r->strings_addr + rows[1].name_off,
               "leaf");
  /* ties are broken by name: a.Foo and b.Foo have 2 and 1 objects, so
   * sort the three smallest by count: maybe (2) vs a.Foo (2) -> a.Foo */
  r = res(pyl_census(PYL_SORT_COUNT, 0, 0));
  rows = (const struct pyl_census_row *)(uintptr_t)r->rows_addr;
  ASSERT_EQ(r->graph_reused, 1);
  ASSERT_STREQ((const char *)(uintptr_t)r->strings_addr + rows[2].name_off,
               "a.Foo");
  ASSERT_STREQ((const char *)(uintptr_t)r->strings_addr + rows[3].name_off,
               "maybe");
  r = res(pyl_census(7, 0, 0));
  ASSERT_EQ(r->status, PYL_EINVAL);
  ASSERT_EQ(r->kind, PYL_RESULT_STATUS);
}

static void test_objects_queries(void) {
  static struct heap h;
  build(&h);
  set_arg("a.Foo");
  struct pyl_result *r = res(pyl_objects(0, 0));
  ASSERT_EQ(r->status, PYL_OK);
  ASSERT_EQ(r->kind, PYL_RESULT_OBJECTS);
  ASSERT_EQ(r->n_rows, 2);
  ASSERT_EQ(r->n_rows_total, 2);
  ASSERT_EQ(r->row_size, sizeof(struct pyl_object_row));
  const struct pyl_object_row *o =
      (const struct pyl_object_row *)(uintptr_t)r->rows_addr;
  ASSERT_EQ(o[0].address, (uint64_t)(uintptr_t)h.foo[0]);
  ASSERT_EQ(o[1].address, (uint64_t)(uintptr_t)h.foo[1]);
  ASSERT_EQ(o[0].type_addr, (uint64_t)(uintptr_t)&h.f.a_foo);
  ASSERT_EQ(o[0].size, 24 + 8 + 16);
  ASSERT_STREQ((const char *)(uintptr_t)r->strings_addr + o[0].name_off,
               "a.Foo");

  set_arg("box");
  r = res(pyl_objects(10, 0));
  ASSERT_EQ(r->status, PYL_OK);
  ASSERT_EQ(r->graph_reused, 1);
  ASSERT_EQ(r->n_rows, 10);
  ASSERT_EQ(r->n_rows_total, 101);

  set_arg("Foo");
  r = res(pyl_objects(0, 0));
  ASSERT_EQ(r->status, PYL_EAMBIGUOUS);
  ASSERT_TRUE(strstr(r->message, "a.Foo") != NULL);
  ASSERT_TRUE(strstr(r->message, "b.Foo") != NULL);
  ASSERT_EQ(r->n_rows, 0);

  set_arg("nosuch");
  r = res(pyl_objects(0, 0));
  ASSERT_EQ(r->status, PYL_ENOTYPE);
  ASSERT_STREQ(r->message, "no live object of type 'nosuch'");

  set_arg("");
  r = res(pyl_objects(0, 0));
  ASSERT_EQ(r->status, PYL_EINVAL);
}

static void test_bad_pointers(void) {
  static struct heap h;
  build(&h);
  /* unmapped, misaligned, and an "object" whose type is not a type */
  struct fake_obj *bad = fakepy_box(&h.f, &h.f.box, 4, 0);
  bad->items[0] = 0x10;
  bad->items[1] = (uint64_t)(uintptr_t)h.shared + 4;
  bad->items[2] = (uint64_t)(uintptr_t)h.box[2]->items[0];
  struct fake_obj *liar = fakepy_leaf(&h.f);
  liar->ob_type = (struct fake_type *)(void *)h.shared; /* not a type */
  bad->items[3] = (uint64_t)(uintptr_t)liar;
  /* a box whose header is mapped but whose body runs off the mapping */
  unsigned char *pages = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_TRUE(pages != MAP_FAILED);
  ASSERT_EQ(munmap(pages + 4096, 4096), 0);
  struct fake_obj *cut = (struct fake_obj *)(void *)(pages + 4096 - 16);
  cut->ob_refcnt = 1;
  cut->ob_type = &h.f.box;
  h.box[3]->items[1] = (uint64_t)(uintptr_t)cut; /* replaces a leaf */
  struct pyl_result *r = res(pyl_census(PYL_SORT_COUNT, 0, 0));
  ASSERT_EQ(r->status, PYL_OK);
  ASSERT_EQ(r->n_warnings, 4);
  ASSERT_TRUE(strstr(r->message, "skipped unreadable pointer 0x10") != NULL);
  ASSERT_EQ(r->total_objects, 410 + 1 - 1);
  ASSERT_EQ(r->n_edges, 407 + 1 - 1);
}

static void test_gc_busy(void) {
  static struct heap h;
  build(&h);
  h.f.collecting = 1;
  struct pyl_result *r = res(pyl_census(PYL_SORT_COUNT, 0, 0));
  ASSERT_EQ(r->status, PYL_EGCBUSY);
  ASSERT_TRUE(strstr(r->message, "garbage collection") != NULL);
  /* forced: during a collection _gc_prev holds gc_refs, not links */
  fakepy_gc(h.box[5])->prev = 0x1230;
  r = res(pyl_census(PYL_SORT_COUNT, 0, PYL_CENSUS_FORCE));
  ASSERT_EQ(r->status, PYL_OK);
  ASSERT_EQ(r->total_objects, 410);
}

static void test_layout_errors(void) {
  static struct heap h;
  build(&h);
  struct pyl_layout *L = pyl_layout_store();
  L->magic = 0;
  struct pyl_result *r = res(pyl_census(PYL_SORT_COUNT, 0, 0));
  ASSERT_EQ(r->status, PYL_ELAYOUT);
  ASSERT_EQ(r->kind, PYL_RESULT_STATUS);
  fakepy_layout(&h.f, L);
  L->py_version_hex = 0x030710f0;
  r = res(pyl_census(PYL_SORT_COUNT, 0, 0));
  ASSERT_EQ(r->status, PYL_EVERSION);
  ASSERT_STREQ(r->message,
               "CPython 3.7 is not supported (pyleaks supports 3.8 to 3.13)");
  L->py_version_hex = 0x030e00a0;
  ASSERT_EQ(res(pyl_census(PYL_SORT_COUNT, 0, 0))->status, PYL_EVERSION);
  fakepy_layout(&h.f, L);
  L->tp_flags_off = 5000;
  r = res(pyl_census(PYL_SORT_COUNT, 0, 0));
  ASSERT_EQ(r->status, PYL_ELAYOUT);
  ASSERT_TRUE(strstr(r->message, "tp_flags_off") != NULL);
  fakepy_layout(&h.f, L);
  L->nfields = 3;
  ASSERT_EQ(res(pyl_census(PYL_SORT_COUNT, 0, 0))->status, PYL_ELAYOUT);
  fakepy_layout(&h.f, L);
  L->gc_list_count = 0;
  ASSERT_EQ(res(pyl_census(PYL_SORT_COUNT, 0, 0))->status, PYL_ELAYOUT);
  fakepy_layout(&h.f, L);
  ASSERT_EQ(res(pyl_census(PYL_SORT_COUNT, 0, 0))->status, PYL_OK);
}

static void test_invalidate_release(void) {
  static struct heap h;
  build(&h);
  struct pyl_result *r = res(pyl_census(PYL_SORT_COUNT, 0, 0));
  ASSERT_EQ(r->status, PYL_OK);
  ASSERT_EQ(r->total_objects, 410);
  /* the target "ran": a new tracked box appears */
  fakepy_box(&h.f, &h.f.box, 0, 0);
  r = res(pyl_census(PYL_SORT_COUNT, 0, 0));
  ASSERT_EQ(r->graph_reused, 1);
  ASSERT_EQ(r->total_objects, 410);
  r = res(pyl_invalidate());
  ASSERT_EQ(r->status, PYL_OK);
  ASSERT_EQ(r->mapped_bytes, 0);
  r = res(pyl_census(PYL_SORT_COUNT, 0, 0));
  ASSERT_EQ(r->graph_reused, 0);
  ASSERT_EQ(r->total_objects, 411);
  r = res(pyl_release());
  ASSERT_EQ(r->status, PYL_OK);
  ASSERT_EQ(r->mapped_bytes, 0);
  ASSERT_EQ(r->rows_addr, 0);
  r = res(pyl_census(PYL_SORT_COUNT, 0, 0));
  ASSERT_EQ(r->status, PYL_OK);
  ASSERT_EQ(r->total_objects, 411);
  ASSERT_EQ(res(pyl_release())->mapped_bytes, 0);
}

/* Under a small RLIMIT_AS the reservations shrink instead of failing. */
static void test_small_address_space(void) {
  if (PYL_TEST_ASAN) {
    printf("  (skipped: AddressSanitizer needs the address space)\n");
    return;
  }
  static struct heap h;
  build(&h);
  struct rlimit lim = {.rlim_cur = (rlim_t)3 << 30,
                       .rlim_max = (rlim_t)3 << 30};
  ASSERT_EQ(setrlimit(RLIMIT_AS, &lim), 0);
  struct pyl_result *r = res(pyl_census(PYL_SORT_COUNT, 0, 0));
  ASSERT_EQ(r->status, PYL_OK);
  ASSERT_EQ(r->total_objects, 410);
  ASSERT_EQ(res(pyl_release())->mapped_bytes, 0);
}

const struct pyl_test pyl_engine_tests[] = {
    {"engine/census_counts", test_census_counts},
    {"engine/census_sort_and_top", test_census_sort_and_top},
    {"engine/objects_queries", test_objects_queries},
    {"engine/bad_pointers", test_bad_pointers},
    {"engine/gc_busy", test_gc_busy},
    {"engine/layout_errors", test_layout_errors},
    {"engine/invalidate_release", test_invalidate_release},
    {"engine/small_address_space", test_small_address_space},
    PYL_TESTS_END,
};
