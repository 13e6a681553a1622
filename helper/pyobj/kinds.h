/*
 * kinds.h — which builtin layout a type's instances have, decided once
 * per type (not per object) from its tp_base chain, and the length of a
 * container read from its own fields.
 *
 * The leak analysis asks "is this a list, a bound method, an exception?"
 * of millions of objects; with a kind per type id that is one array
 * lookup.  A subclass has its base's kind (a dict subclass is a dict), a
 * type no kind knows is PYL_KIND_OTHER.
 */
#ifndef PYL_KINDS_H
#define PYL_KINDS_H

#include "view.h"

#include <stdbool.h>
#include <stdint.h>

enum pyl_kind {
  PYL_KIND_OTHER = 0,
  PYL_KIND_DICT,
  PYL_KIND_LIST,
  PYL_KIND_TUPLE,
  PYL_KIND_SET, /* set and frozenset */
  PYL_KIND_DEQUE,
  PYL_KIND_FUNCTION,
  PYL_KIND_METHOD, /* a bound method */
  PYL_KIND_LRU,    /* functools._lru_cache_wrapper */
  PYL_KIND_TRACEBACK,
  PYL_KIND_MODULE,
  PYL_KIND_TYPE,
  PYL_KIND_FRAME,
  PYL_KIND_STR,
  PYL_KIND_COUNT,
};

/* Flags beside the kind (pyl_kinds.flags). */
#define PYL_KF_EXCEPTION 1u /* a BaseException subclass */
#define PYL_KF_HEAPTYPE 2u  /* instances of a class made at run time */
#define PYL_KF_BUILTIN 4u   /* the exact builtin type of its kind */

struct pyl_kinds {
  uint8_t *kind;  /* per type id: enum pyl_kind */
  uint8_t *flags; /* per type id: PYL_KF_* */
  uint32_t n;
};

/* Whether the type object at type has tp_name `name`: read each time, so
 * for decisions per type or per labelled object, not per heap object. */
bool pyl_type_named(struct pyl_view *c, uint64_t type, const char *name);

/* Classify the first n type ids of c->types into k (arrays from a). */
bool pyl_kinds_build(struct pyl_kinds *k, struct pyl_view *c,
                     struct pyl_arena *a);

/* Items of a container of kind `kind` at addr (dict, list, tuple, set,
 * deque), -1 for other kinds or when unreadable. */
int64_t pyl_container_len(struct pyl_view *c, enum pyl_kind kind,
                          uint64_t addr);

static inline bool pyl_kind_is_container(enum pyl_kind k) {
  return k == PYL_KIND_DICT || k == PYL_KIND_LIST || k == PYL_KIND_SET ||
         k == PYL_KIND_DEQUE;
}

#endif /* PYL_KINDS_H */
