/* test_validate.c — corrupt objects and GC lists on a fake heap: the
 * validators' verdicts, and a walk that skips what is bad, warns, and
 * still counts everything else. */
#define _GNU_SOURCE
#include "check.h"
#include "control.h"
#include "view.h"
#include "fakepy.h"
#include "layout.h"
#include "pyleaks_ctl.h"
#include "validate.h"

#include <string.h>
#include <sys/mman.h>

#define A(p) ((uint64_t)(uintptr_t)(p))

static struct pyl_result *res(uint64_t addr) {
  return (struct pyl_result *)(uintptr_t)addr;
}

/* A page no one may read: what garbage pointers point to. */
static uint64_t forbidden_page(void) {
  void *p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_TRUE(p != MAP_FAILED);
  return A(p);
}

/* A context with the fake layout and a fresh snapshot of the mappings,
 * for calling the validators directly. */
static struct pyl_view *direct_ctx(struct fakepy *f) {
  static struct pyl_view c;
  fakepy_builtins(f, pyl_layout_store());
  c.L = pyl_layout_store();
  ASSERT_TRUE(pyl_mem_open(&c.mem));
  return &c;
}

static const char *verdict(struct pyl_view *c, struct fake_type *t, void *obj) {
  /* mappings made since the last verdict count */
  ASSERT_TRUE(pyl_mem_open(&c->mem));
  struct pyl_type ty = {.addr = A(t),
                        .flags = t->tp_flags,
                        .basicsize = (uint64_t)t->tp_basicsize,
                        .itemsize = (uint64_t)t->tp_itemsize};
  if (t == (struct fake_type *)(uintptr_t)c->L->set_type) {
    ty.rule = PYL_SIZE_SET;
  }
  return pyl_validate(c, &ty, A(obj), obj);
}

static void expect_bad(const char *why, const char *fragment) {
  if (why == NULL || strstr(why, fragment) == NULL) {
    PYL_FAIL("expected a verdict with \"%s\", got \"%s\"", fragment,
             why ? why : "(accepted)");
  }
}

static void test_list(void) {
  static struct fakepy f;
  fakepy_init(&f);
  fakepy_layout(&f, pyl_layout_store());
  struct pyl_view *c = direct_ctx(&f);
  struct fake_list *l = fakepy_list(&f, 3, 0);
  ASSERT_TRUE(verdict(c, &f.list, l) == NULL);
  uint64_t *items = l->ob_item;
  l->ob_item = (uint64_t *)(uintptr_t)forbidden_page();
  expect_bad(verdict(c, &f.list, l), "item array unreadable");
  l->ob_item = (uint64_t *)(uintptr_t)(A(items) + 4); /* misaligned */
  expect_bad(verdict(c, &f.list, l), "item array unreadable");
  l->ob_item = NULL;
  expect_bad(verdict(c, &f.list, l), "no item array");
  l->ob_item = items;
  l->ob_size = 4;
  expect_bad(verdict(c, &f.list, l), "above its allocation");
  l->ob_size = -1;
  expect_bad(verdict(c, &f.list, l), "size out of range");
  l->ob_size = 1ll << 50;
  l->allocated = 1ll << 50;
  expect_bad(verdict(c, &f.list, l), "size out of range");
  /* in the middle of list.sort() */
  l->ob_size = 0;
  l->allocated = -1;
  l->ob_item = NULL;
  ASSERT_TRUE(verdict(c, &f.list, l) == NULL);
  l->ob_size = 1;
  expect_bad(verdict(c, &f.list, l), "above its allocation");
}

static void test_tuple(void) {
  static struct fakepy f;
  fakepy_init(&f);
  fakepy_layout(&f, pyl_layout_store());
  struct pyl_view *c = direct_ctx(&f);
  struct fake_obj *t = fakepy_tuple(&f, 2, 0);
  ASSERT_TRUE(verdict(c, &f.tuple, t) == NULL);
  t->ob_size = 1ll << 36; /* 512 GiB of items */
  expect_bad(verdict(c, &f.tuple, t), "unmapped memory");
  t->ob_size = -3;
  expect_bad(verdict(c, &f.tuple, t), "size out of range");
  /* items that run off the end of a mapping */
  unsigned char *pages = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_TRUE(pages != MAP_FAILED);
  ASSERT_EQ(munmap(pages + 4096, 4096), 0);
  struct fake_obj *edge = (struct fake_obj *)(void *)(pages + 4096 - 48);
  edge->ob_type = &f.tuple;
  edge->ob_size = 3; /* 24 + 24 bytes: fits */
  ASSERT_TRUE(verdict(c, &f.tuple, edge) == NULL);
  edge->ob_size = 4;
  expect_bad(verdict(c, &f.tuple, edge), "unmapped memory");
}

static void test_dict(void) {
  static struct fakepy f;
  fakepy_init(&f);
  fakepy_layout(&f, pyl_layout_store());
  struct pyl_view *c = direct_ctx(&f);
  struct fake_obj *leaf = fakepy_leaf(&f);
  uint64_t kv[2] = {A(leaf), A(leaf)};
  struct fake_dict *d = fakepy_dict(&f, kv, kv + 1, 1, 0);
  ASSERT_TRUE(verdict(c, &f.dict, d) == NULL);
  struct fake_keys *keys = d->ma_keys;
  d->ma_keys = (struct fake_keys *)(uintptr_t)forbidden_page();
  expect_bad(verdict(c, &f.dict, d), "keys table unreadable");
  d->ma_keys = NULL;
  expect_bad(verdict(c, &f.dict, d), "keys table unreadable");
  d->ma_keys = keys;
  keys->dk_log2_size = 40;
  expect_bad(verdict(c, &f.dict, d), "implausible size");
  keys->dk_log2_size = 3;
  keys->dk_log2_index_bytes = 7; /* more than 8 bytes per index */
  expect_bad(verdict(c, &f.dict, d), "implausible size");
  keys->dk_log2_index_bytes = 3;
  keys->dk_kind = 9;
  expect_bad(verdict(c, &f.dict, d), "implausible size");
  keys->dk_kind = 0;
  keys->dk_nentries = 6; /* 8 slots hold at most 5 */
  expect_bad(verdict(c, &f.dict, d), "entry counts");
  keys->dk_nentries = 1;
  d->ma_used = 2;
  expect_bad(verdict(c, &f.dict, d), "entry counts");
  d->ma_used = 1;
  keys->dk_usable = -1;
  expect_bad(verdict(c, &f.dict, d), "entry counts");
  keys->dk_usable = 4;
  /* a split table whose values are gone */
  keys->dk_kind = 2;
  d->ma_values = (uint64_t *)(uintptr_t)forbidden_page();
  expect_bad(verdict(c, &f.dict, d), "split values unreadable");
  static uint64_t values[4];
  d->ma_values = values;
  ASSERT_TRUE(verdict(c, &f.dict, d) == NULL);
  /* entries cut off by unmapped memory: a keys table at a page's end */
  unsigned char *pages = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_TRUE(pages != MAP_FAILED);
  ASSERT_EQ(munmap(pages + 4096, 4096), 0);
  struct fake_keys *cut = (struct fake_keys *)(void *)(pages + 4096 - 48);
  memcpy(cut, keys, sizeof(*cut));
  cut->dk_kind = 0;
  d->ma_values = NULL;
  d->ma_keys = cut; /* 32 + 8 index bytes, then 8 of the 24-byte entry */
  expect_bad(verdict(c, &f.dict, d), "entries unreadable");
  /* an empty split dict: nothing to read at its values before 3.13,
   * the header of its values from 3.13 */
  d->ma_keys = keys;
  keys->dk_kind = 2;
  keys->dk_nentries = 0;
  d->ma_used = 0;
  d->ma_values = (uint64_t *)(uintptr_t)forbidden_page();
  ASSERT_TRUE(verdict(c, &f.dict, d) == NULL);
  pyl_layout_store()->py_version_hex = 0x030d00f0;
  pyl_layout_store()->dict_values_values_off = 8;
  expect_bad(verdict(c, &f.dict, d), "split values unreadable");
  pyl_layout_store()->dict_values_values_off = 0;
  d->ma_values = NULL;
  keys->dk_kind = 0;
  keys->dk_nentries = 1;
  d->ma_used = 1;
  /* 3.8-3.10: dk_size */
  pyl_layout_store()->py_version_hex = 0x030a0af0;
  pyl_layout_store()->dk_size_off = 8;
  int64_t *size = (int64_t *)(void *)((char *)keys + 8);
  d->ma_keys = keys;
  *size = 8;
  ASSERT_TRUE(verdict(c, &f.dict, d) == NULL);
  *size = 12;
  expect_bad(verdict(c, &f.dict, d), "implausible size");
  *size = -8;
  expect_bad(verdict(c, &f.dict, d), "implausible size");
}

static void test_set(void) {
  static struct fakepy f;
  fakepy_init(&f);
  fakepy_layout(&f, pyl_layout_store());
  struct pyl_view *c = direct_ctx(&f);
  uint64_t keys[2] = {A(fakepy_leaf(&f)), A(fakepy_leaf(&f))};
  struct fake_set *s = fakepy_set(&f, keys, 2, 0);
  ASSERT_TRUE(verdict(c, &f.set, s) == NULL);
  s->mask = 12;
  expect_bad(verdict(c, &f.set, s), "power of two");
  s->mask = 3; /* below PySet_MINSIZE */
  expect_bad(verdict(c, &f.set, s), "power of two");
  s->mask = 7;
  s->used = 3;
  expect_bad(verdict(c, &f.set, s), "fill and used");
  s->used = 2;
  s->fill = 9;
  expect_bad(verdict(c, &f.set, s), "fill and used");
  s->fill = 2;
  s->table = (struct fake_setentry *)(uintptr_t)forbidden_page();
  expect_bad(verdict(c, &f.set, s), "table unreadable");
  s->table = s->smalltable;
  s->mask = 1023; /* a table bigger than the one there is */
  s->table =
      (struct fake_setentry *)(void *)(uintptr_t)(forbidden_page() - 4096 * 3);
  expect_bad(verdict(c, &f.set, s), "table unreadable");
}

static void test_covers_and_refcnt(void) {
  static struct fakepy f;
  fakepy_init(&f);
  fakepy_layout(&f, pyl_layout_store());
  struct pyl_view *c = direct_ctx(&f);
  struct pyl_type list = {.addr = A(&f.list), .flags = f.list.tp_flags};
  struct pyl_type sub = {.addr = A(&f.a_foo), .flags = f.list.tp_flags};
  ASSERT_TRUE(pyl_validate_covers(c, &list));
  ASSERT_FALSE(pyl_validate_covers(c, &sub));
  ASSERT_EQ(pyl_shape_of(&sub), PYL_SHAPE_LIST);
  ASSERT_TRUE(pyl_refcnt_plausible(1));
  ASSERT_TRUE(pyl_refcnt_plausible(0xffffffffll));
  ASSERT_TRUE(pyl_refcnt_plausible((3ll << 30) | (4ll << 48)));
  ASSERT_FALSE(pyl_refcnt_plausible(0));
  ASSERT_FALSE(pyl_refcnt_plausible(-1));
  ASSERT_FALSE(pyl_refcnt_plausible(1ll << 62));
}

/* 20 tracked lists of 2 leaves each, and one of every builtin shape
 * holding a shared leaf. */
struct heap {
  struct fakepy f;
  struct fake_list *lists[20];
  struct fake_obj *tuple;
  struct fake_dict *dict;
  struct fake_set *set;
  struct fake_obj *shared;
};

enum {
  HEAP_OBJECTS = 20 + 40 + 3 + 1,
  HEAP_EDGES = 20 * 2 + 1 + 2 + 1,
};

static void build(struct heap *h) {
  struct fakepy *f = &h->f;
  fakepy_init(f);
  fakepy_layout(f, pyl_layout_store());
  fakepy_builtins(f, pyl_layout_store());
  h->shared = fakepy_leaf(f);
  for (int i = 0; i < 20; i++) {
    h->lists[i] = fakepy_list(f, 2, i % 3);
    h->lists[i]->ob_item[0] = A(fakepy_leaf(f));
    h->lists[i]->ob_item[1] = A(fakepy_leaf(f));
  }
  h->tuple = fakepy_tuple(f, 1, 2);
  h->tuple->items[0] = A(h->shared);
  uint64_t kv[2] = {A(h->shared), A(h->shared)};
  h->dict = fakepy_dict(f, kv, kv + 1, 1, 2);
  h->set = fakepy_set(f, kv, 1, 2);
}

static void expect_message(const struct pyl_result *r, const char *what,
                           const void *obj) {
  char want[128];
  snprintf(want, sizeof(want), "%s%#llx", what,
           (unsigned long long)(uintptr_t)obj);
  if (strstr(r->message, want) == NULL) {
    PYL_FAIL("message \"%s\" does not say \"%s\"", r->message, want);
  }
}

static void test_walk_healthy(void) {
  static struct heap h;
  build(&h);
  struct pyl_result *r = res(pyl_census(PYL_SORT_COUNT, 0, 0));
  ASSERT_EQ(r->status, PYL_OK);
  ASSERT_EQ(r->n_warnings, 0);
  ASSERT_EQ(r->total_objects, HEAP_OBJECTS);
  ASSERT_EQ(r->n_gc_tracked, 23);
  ASSERT_EQ(r->n_edges, HEAP_EDGES);
}

/* Each corrupt container is counted, sized by its fixed part only, not
 * traversed; everything else comes out as on a healthy heap. */
static void test_walk_skips_corrupt_containers(void) {
  static struct heap h;
  build(&h);
  uint64_t bad = forbidden_page();
  /* the first object on list 0 (lists[0]) and two later ones */
  h.lists[0]->ob_item = (uint64_t *)(uintptr_t)bad;
  h.lists[7]->ob_size = 1000;
  h.tuple->ob_size = 1ll << 38;
  h.dict->ma_keys = (struct fake_keys *)(uintptr_t)bad;
  h.set->mask = 6;
  struct pyl_result *r = res(pyl_census(PYL_SORT_COUNT, 0, 0));
  ASSERT_EQ(r->status, PYL_OK);
  ASSERT_EQ(r->n_warnings, 5);
  expect_message(r, "skipped object ", h.lists[0]);
  ASSERT_TRUE(strstr(r->message, "(list: item array unreadable)") != NULL);
  /* lists[0] and [7] lose their leaves; the shared leaf is held by
   * nothing that was traversed */
  ASSERT_EQ(r->total_objects, HEAP_OBJECTS - 4 - 1);
  ASSERT_EQ(r->n_gc_tracked, 23);
  ASSERT_EQ(r->n_edges, 18 * 2);
  const struct pyl_census_row *tuple = fakepy_census_row(r, "tuple");
  const struct pyl_census_row *dict = fakepy_census_row(r, "dict");
  const struct pyl_census_row *list = fakepy_census_row(r, "list");
  ASSERT_TRUE(tuple != NULL && dict != NULL && list != NULL);
  ASSERT_EQ(tuple->count, 1);
  ASSERT_EQ(tuple->bytes, 24 + 16);
  ASSERT_EQ(dict->bytes, sizeof(struct fake_dict) + 16);
  /* 18 sound lists: fixed part, GC head and 2 items; 2 without items */
  ASSERT_EQ(list->count, 20);
  ASSERT_EQ(list->bytes, 20 * (sizeof(struct fake_list) + 16) + 18 * 16);
}

/* A corrupt container found through a reference, not on a GC list. */
static void test_walk_skips_referenced(void) {
  static struct heap h;
  build(&h);
  struct fake_list *inner = fakepy_list(&h.f, 1, -1);
  inner->ob_item[0] = A(h.shared);
  h.lists[4]->ob_item[1] = A(inner); /* replaces a leaf */
  inner->ob_size = -7;
  struct pyl_result *r = res(pyl_census(PYL_SORT_COUNT, 0, 0));
  ASSERT_EQ(r->status, PYL_OK);
  ASSERT_EQ(r->n_warnings, 1);
  expect_message(r, "skipped object ", inner);
  ASSERT_TRUE(strstr(r->message, "size out of range") != NULL);
  ASSERT_EQ(r->total_objects, HEAP_OBJECTS);
  ASSERT_EQ(r->n_edges, HEAP_EDGES);
}

static void test_walk_refcnt(void) {
  static struct heap h;
  build(&h);
  h.lists[3]->ob_refcnt = 1ull << 62;
  ((struct fake_obj *)(uintptr_t)h.lists[5]->ob_item[1])->ob_refcnt = 0;
  struct pyl_result *r = res(pyl_census(PYL_SORT_COUNT, 0, 0));
  ASSERT_EQ(r->status, PYL_OK);
  ASSERT_EQ(r->n_warnings, 2);
  expect_message(r, "object ", h.lists[3]);
  ASSERT_TRUE(
      strstr(r->message, "implausible refcount (4611686018427387904)") != NULL);
  /* only a warning: both are still counted and traversed */
  ASSERT_EQ(r->total_objects, HEAP_OBJECTS);
  ASSERT_EQ(r->n_edges, HEAP_EDGES);
  pyl_invalidate();
  build(&h);
  h.tuple->ob_refcnt = (uint64_t)-5;
  r = res(pyl_census(PYL_SORT_COUNT, 0, 0));
  ASSERT_EQ(r->n_warnings, 1);
  ASSERT_TRUE(strstr(r->message, "implausible refcount (-5)") != NULL);
}

/* A list is 0 <- lists[0] <- lists[3] <- ... in tracking order. */
static void test_walk_gc_next_unreadable(void) {
  static struct heap h;
  build(&h);
  /* list 1 holds lists[1], [4], ..., [19]: break it after lists[4] */
  fakepy_gc((struct fake_obj *)(void *)h.lists[4])->next = forbidden_page();
  struct pyl_result *r = res(pyl_census(PYL_SORT_COUNT, 0, 0));
  ASSERT_EQ(r->status, PYL_OK);
  ASSERT_EQ(r->n_warnings, 1);
  expect_message(r, "GC list 1 broken after object ", h.lists[4]);
  ASSERT_TRUE(strstr(r->message, "next link points to unreadable memory") !=
              NULL);
  /* lists[7..19] on list 1 are held by nothing: lost with their leaves */
  ASSERT_EQ(r->n_gc_tracked, 23 - 5);
  ASSERT_EQ(r->total_objects, HEAP_OBJECTS - 5 * 3);
}

static void test_walk_gc_list_found_by_reference(void) {
  static struct heap h;
  build(&h);
  /* lists[1] (on list 1, before the break) holds the lists after it */
  struct fake_list *holder = h.lists[1];
  holder->ob_item = aligned_alloc(16, 8 * 8);
  holder->allocated = 8;
  holder->ob_size = 0;
  for (int i = 7; i < 20; i += 3) {
    holder->ob_item[holder->ob_size++] = A(h.lists[i]);
  }
  fakepy_gc((struct fake_obj *)(void *)h.lists[4])->next = 0x10;
  struct pyl_result *r = res(pyl_census(PYL_SORT_COUNT, 0, 0));
  ASSERT_EQ(r->status, PYL_OK);
  ASSERT_EQ(r->n_warnings, 1);
  expect_message(r, "GC list 1 broken after object ", h.lists[4]);
  /* holder lost its 2 leaves for the 5 lists, which are all found */
  ASSERT_EQ(r->n_gc_tracked, 23 - 5);
  ASSERT_EQ(r->total_objects, HEAP_OBJECTS - 2);
  ASSERT_EQ(r->n_edges, HEAP_EDGES - 2 + 5);
}

static void test_walk_gc_prev_and_head(void) {
  static struct heap h;
  build(&h);
  /* lists[6] is the third object of list 0: its prev link is wrong */
  fakepy_gc((struct fake_obj *)(void *)h.lists[6])->prev = 0x1230;
  /* and list 2's head is unreadable */
  pyl_layout_store()->gc_list_2 = forbidden_page();
  struct pyl_result *r = res(pyl_census(PYL_SORT_COUNT, 0, 0));
  ASSERT_EQ(r->status, PYL_OK);
  ASSERT_EQ(r->n_warnings, 2);
  expect_message(r, "GC list 0 broken at object ", h.lists[6]);
  ASSERT_TRUE(strstr(r->message, "prev link does not match") != NULL);
  /* list 0 keeps lists[0] and [3]; list 1 is whole; list 2 is lost */
  ASSERT_EQ(r->n_gc_tracked, 2 + 7);
  pyl_invalidate();
  build(&h);
  pyl_layout_store()->gc_list_2 = forbidden_page();
  r = res(pyl_census(PYL_SORT_COUNT, 0, 0));
  ASSERT_EQ(r->n_warnings, 1);
  ASSERT_TRUE(strstr(r->message, "GC list 2 broken at its head") != NULL);
  ASSERT_TRUE(strstr(r->message, ": unreadable") != NULL);
  /* a loop: lists[19] (last of list 1) links back to lists[1] */
  pyl_invalidate();
  build(&h);
  struct fake_gc *first = fakepy_gc((struct fake_obj *)(void *)h.lists[1]);
  fakepy_gc((struct fake_obj *)(void *)h.lists[19])->next = A(first);
  r = res(pyl_census(PYL_SORT_COUNT, 0, 0));
  ASSERT_EQ(r->status, PYL_OK);
  ASSERT_EQ(r->n_warnings, 1);
  expect_message(r, "GC list 1 broken at object ", h.lists[1]);
  ASSERT_EQ(r->total_objects, HEAP_OBJECTS);
}

/* What gdb's abort request looks like from inside the walk. */
static int interrupting_traverse(void *self, int (*visit)(void *, void *),
                                 void *arg) {
  (void)self;
  (void)visit;
  (void)arg;
  pyl__control_stop = PYL_ABORT_USER;
  return 0;
}

static void test_walk_aborted(void) {
  static struct heap h;
  build(&h);
  h.f.a_foo.tp_traverse = interrupting_traverse;
  (void)fakepy_box(&h.f, &h.f.a_foo, 0, 1);
  struct pyl_result *r = res(pyl_census(PYL_SORT_COUNT, 0, 0));
  ASSERT_EQ(r->status, PYL_EABORTED);
  ASSERT_STREQ(r->message, "stopped: pyleaks was interrupted");
  ASSERT_EQ(r->n_rows, 0);
  /* nothing half built is kept: the next call walks again, whole */
  h.f.a_foo.tp_traverse = h.f.b_foo.tp_traverse;
  r = res(pyl_census(PYL_SORT_COUNT, 0, 0));
  ASSERT_EQ(r->status, PYL_OK);
  ASSERT_EQ(r->graph_reused, 0);
  ASSERT_EQ(r->total_objects, HEAP_OBJECTS + 1);
}

const struct pyl_test pyl_validate_tests[] = {
    {"validate/list", test_list},
    {"validate/tuple", test_tuple},
    {"validate/dict", test_dict},
    {"validate/set", test_set},
    {"validate/covers_and_refcnt", test_covers_and_refcnt},
    {"validate/walk_healthy", test_walk_healthy},
    {"validate/walk_skips_corrupt_containers",
     test_walk_skips_corrupt_containers},
    {"validate/walk_skips_referenced", test_walk_skips_referenced},
    {"validate/walk_refcnt", test_walk_refcnt},
    {"validate/walk_gc_next_unreadable", test_walk_gc_next_unreadable},
    {"validate/walk_gc_list_found_by_reference",
     test_walk_gc_list_found_by_reference},
    {"validate/walk_gc_prev_and_head", test_walk_gc_prev_and_head},
    {"validate/walk_aborted", test_walk_aborted},
    PYL_TESTS_END,
};
