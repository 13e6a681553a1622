/* test_queries.c — the roots, chain and references entry points on the
 * fake heap: rows, strings and error paths (labels of real CPython types are checked on
 * real targets by the pytest suite). */
#include "check.h"
#include "fakepy.h"
#include "layout.h"

#include <string.h>

static struct pyl_result *res(uint64_t addr) {
  return (struct pyl_result *)(uintptr_t)addr;
}

static const char *str_at(const struct pyl_result *r, uint64_t off) {
  ASSERT_TRUE(off < r->strings_size);
  return (const char *)(uintptr_t)r->strings_addr + off;
}

static uint64_t addr_of(const void *p) { return (uint64_t)(uintptr_t)p; }

struct heap {
  struct fakepy f;
  struct fake_obj *box;
  struct fake_obj *leaf[3];
};

static void build(struct heap *h) {
  fakepy_init(&h->f);
  h->box = fakepy_box(&h->f, &h->f.box, 4, 2);
  for (int i = 0; i < 3; i++) {
    h->leaf[i] = fakepy_leaf(&h->f);
    h->box->items[i] = addr_of(h->leaf[i]);
  }
  h->box->items[3] = addr_of(h->leaf[1]); /* the same referent twice */
  fakepy_layout(&h->f, pyl_layout_store());
}

/* One row per reference, in graph order when no decoder knows the type,
 * each with its type name, size and a label. */
static void test_refs_rows(void) {
  static struct heap h;
  build(&h);
  struct pyl_result *r = res(pyl_refs(addr_of(h.box), 0, 0));
  ASSERT_EQ(r->status, PYL_OK);
  ASSERT_EQ(r->kind, PYL_RESULT_REFS);
  ASSERT_EQ(r->n_rows, 4);
  ASSERT_EQ(r->row_size, sizeof(struct pyl_edge_row));
  const struct pyl_edge_row *rows =
      (const struct pyl_edge_row *)(uintptr_t)r->rows_addr;
  const struct fake_obj *want[] = {h.leaf[0], h.leaf[1], h.leaf[2], h.leaf[1]};
  char label[32];
  for (int k = 0; k < 4; k++) {
    ASSERT_EQ(rows[k].address, addr_of(want[k]));
    ASSERT_EQ(rows[k].via, addr_of(h.box));
    ASSERT_EQ(rows[k].depth, 1);
    ASSERT_EQ(rows[k].root_kind, 0);
    ASSERT_STREQ(str_at(r, rows[k].name_off), "leaf");
    snprintf(label, sizeof(label), "referent #%d", k);
    ASSERT_STREQ(str_at(r, rows[k].label_off), label);
  }
  ASSERT_EQ(r->info_size, sizeof(struct pyl_target_info));
  const struct pyl_target_info *info =
      (const struct pyl_target_info *)(uintptr_t)r->info_addr;
  ASSERT_EQ(info->address, addr_of(h.box));
  ASSERT_STREQ(str_at(r, info->name_off), "box");
  /* At most max_rows rows, the first in reading order; all counted. */
  r = res(pyl_refs(addr_of(h.box), 3, 0));
  ASSERT_EQ(r->status, PYL_OK);
  ASSERT_EQ(r->n_rows, 3);
  ASSERT_EQ(r->n_rows_total, 4);
  rows = (const struct pyl_edge_row *)(uintptr_t)r->rows_addr;
  for (int k = 0; k < 3; k++) {
    ASSERT_EQ(rows[k].address, addr_of(want[k]));
  }
  ASSERT_EQ(res(pyl_release())->mapped_bytes, 0);
}

static void test_not_an_object(void) {
  static struct heap h;
  build(&h);
  /* Inside an object, and an address no object has. */
  const uint64_t bad[] = {addr_of(h.box) + 8, 0x1000};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    struct pyl_result *r = res(pyl_refs(bad[i], 0, 0));
    ASSERT_EQ(r->status, (uint64_t)(int64_t)PYL_ENOTOBJECT);
    ASSERT_EQ(r->kind, PYL_RESULT_STATUS);
    ASSERT_EQ(r->n_rows, 0);
    ASSERT_TRUE(strstr(r->message, "is not a live Python object") != NULL);
  }
  struct pyl_result *r = res(pyl_backrefs(addr_of(h.box), 0, 0, 0));
  ASSERT_EQ(r->status, (uint64_t)(int64_t)PYL_EINVAL);
  ASSERT_EQ(res(pyl_release())->mapped_bytes, 0);
}

/* The fake layout has no interpreter state: queries that need roots fail
 * cleanly, with a cause, and the graph stays usable. */
static void test_no_roots(void) {
  static struct heap h;
  build(&h);
  struct pyl_result *r = res(pyl_chain(addr_of(h.leaf[0]), 0, 0));
  ASSERT_TRUE((int64_t)r->status < 0);
  ASSERT_EQ(r->kind, PYL_RESULT_STATUS);
  ASSERT_TRUE(r->message[0] != '\0');
  r = res(pyl_refs(addr_of(h.box), 0, 0));
  ASSERT_EQ(r->status, PYL_OK);
  ASSERT_EQ(r->graph_reused, 1);
  ASSERT_EQ(res(pyl_release())->mapped_bytes, 0);
}

const struct pyl_test pyl_queries_tests[] = {
    {"queries/refs_rows", test_refs_rows},
    {"queries/not_an_object", test_not_an_object},
    {"queries/no_roots", test_no_roots},
    PYL_TESTS_END};
