/*
 * fakepy.h — a tiny fake CPython heap for engine tests without Python.
 *
 * Type objects, GC headers and lists laid out at offsets the test layout
 * announces, with real tp_traverse functions, so the whole engine (walk,
 * types, names, census, objects) runs in-process on data whose answer is
 * known.  Memory comes from malloc: the test process is the "target".
 */
#ifndef PYL_FAKEPY_H
#define PYL_FAKEPY_H

#include "pyleaks_abi.h"

#include <stddef.h>
#include <stdint.h>

/* Laid out like the first fields a PyTypeObject needs (offsets are what
 * fakepy_layout() announces, not CPython's). */
struct fake_type {
  uint64_t ob_refcnt;
  struct fake_type *ob_type;
  int64_t ob_size;
  const char *tp_name;
  int64_t tp_basicsize;
  int64_t tp_itemsize;
  uint64_t tp_flags;
  int (*tp_traverse)(void *, int (*)(void *, void *), void *);
  int (*tp_is_gc)(void *);
  struct fake_type *tp_base;
  void *tp_dict;
  void *ht_qualname;
  void *tp_members;
};

struct fake_gc {
  uint64_t next;
  uint64_t prev;
};

/* A container: PyVarObject header then ob_size item pointers. */
struct fake_obj {
  uint64_t ob_refcnt;
  struct fake_type *ob_type;
  int64_t ob_size;
  uint64_t items[];
};

struct fakepy {
  struct fake_type meta;   /* "type" */
  struct fake_type object; /* "object" */
  struct fake_type box;    /* "box": GC container, visits its items */
  struct fake_type leaf;   /* "leaf": not GC, 16 bytes */
  struct fake_type a_foo;  /* "a.Foo": GC container */
  struct fake_type b_foo;  /* "b.Foo": GC container */
  struct fake_type maybe;  /* "maybe": GC, tp_is_gc says no when size 0 */
  struct fake_gc lists[4];
  int collecting;
  /* Builtin-shaped containers at the 3.12 offsets fakepy_layout()
   * announces, whose tp_traverse reads them as CPython's does (so a
   * corrupt one crashes the test unless the helper skips it).  Not the
   * layout's builtins unless fakepy_builtins() says so. */
  struct fake_type list;  /* "list" */
  struct fake_type tuple; /* "tuple" */
  struct fake_type dict;  /* "dict": combined tables, any dk_kind */
  struct fake_type set;   /* "set" */
};

void fakepy_init(struct fakepy *f);

/* Fill the layout store for the fake heap (version 3.12). */
void fakepy_layout(struct fakepy *f, struct pyl_layout *L);

/* A new leaf (not GC). */
struct fake_obj *fakepy_leaf(struct fakepy *f);

/* A new container of type t with n items (set by the caller), tracked on
 * GC list `list` when list >= 0. */
struct fake_obj *fakepy_box(struct fakepy *f, struct fake_type *t, int64_t n,
                            int list);

/* The GC header of a container. */
struct fake_gc *fakepy_gc(struct fake_obj *o);

/* PyListObject, PyDictObject, PyDictKeysObject (3.12), PySetObject. */
struct fake_list {
  uint64_t ob_refcnt;
  struct fake_type *ob_type;
  int64_t ob_size;
  uint64_t *ob_item;
  int64_t allocated;
};

struct fake_dict {
  uint64_t ob_refcnt;
  struct fake_type *ob_type;
  int64_t ma_used;
  uint64_t ma_version_tag;
  struct fake_keys *ma_keys;
  uint64_t *ma_values;
};

struct fake_keys {
  int64_t dk_refcnt;
  uint8_t dk_log2_size;
  uint8_t dk_log2_index_bytes;
  uint8_t dk_kind;
  uint8_t pad;
  uint32_t dk_version;
  int64_t dk_usable;
  int64_t dk_nentries;
  int8_t dk_indices[]; /* then the entries */
};

struct fake_setentry {
  uint64_t key;
  int64_t hash;
};

struct fake_set {
  uint64_t ob_refcnt;
  struct fake_type *ob_type;
  int64_t fill;
  int64_t used;
  int64_t mask;
  struct fake_setentry *table;
  int64_t hash;
  int64_t finger;
  struct fake_setentry smalltable[8];
  uint64_t weakreflist;
};

/* Point the layout's list/tuple/dict/set types at the fake ones. */
void fakepy_builtins(struct fakepy *f, struct pyl_layout *L);

/* A zeroed GC object of `size` bytes and type t (refcount 1), tracked on
 * GC list `list` when list >= 0. */
void *fakepy_gc_new(struct fakepy *f, struct fake_type *t, size_t size,
                    int list);

/* A list of n items (allocated == n), a tuple of n items (set by the
 * caller), a set of the given items. */
struct fake_list *fakepy_list(struct fakepy *f, int64_t n, int list);
struct fake_obj *fakepy_tuple(struct fakepy *f, int64_t n, int list);
struct fake_set *fakepy_set(struct fakepy *f, const uint64_t *keys, int n,
                            int list);

/* A dict with a combined table of 8 slots (general entries) holding the
 * n (<= 5) key/value pairs. */
struct fake_dict *fakepy_dict(struct fakepy *f, const uint64_t *keys,
                              const uint64_t *values, int n, int list);

/* The census row of result r named name, or NULL. */
const struct pyl_census_row *fakepy_census_row(const struct pyl_result *r,
                                               const char *name);

#endif /* PYL_FAKEPY_H */
