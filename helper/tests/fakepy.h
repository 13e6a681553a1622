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

#endif /* PYL_FAKEPY_H */
