/*
 * types.h — the table of type objects seen as the type of some object.
 *
 * A type is validated once (readable, its metatype is a type, sane sizes,
 * callable slots) and then gets a small dense id; every object records the
 * id of its type (uint32_t), so the per-object work after the first
 * sighting is a cache lookup.  The record caches what the hot loops need
 * (flags, sizes, the size rule, the GC slots) so they never read the type
 * object again.
 */
#ifndef PYL_TYPES_H
#define PYL_TYPES_H

#include "arena.h"
#include "vec.h"

#include <stddef.h>
#include <stdint.h>
/* libiberty's header needs size_t first */
#include <libiberty/hashtab.h>

struct pyl_view;

/* tp_flags bits (stable across 3.8-3.13) */
#define PYL_TPF_HEAPTYPE (1ull << 9)
#define PYL_TPF_HAVE_GC (1ull << 14)
#define PYL_TPF_LONG_SUBCLASS (1ull << 24)
#define PYL_TPF_LIST_SUBCLASS (1ull << 25)
#define PYL_TPF_TUPLE_SUBCLASS (1ull << 26)
#define PYL_TPF_BYTES_SUBCLASS (1ull << 27)
#define PYL_TPF_UNICODE_SUBCLASS (1ull << 28)
#define PYL_TPF_DICT_SUBCLASS (1ull << 29)
#define PYL_TPF_BASE_EXC_SUBCLASS (1ull << 30)
#define PYL_TPF_TYPE_SUBCLASS (1ull << 31)

/* How the shallow size of an instance is computed (docs/sizes.md). */
enum pyl_size_rule {
  PYL_SIZE_PLAIN = 0, /* basicsize + itemsize * |ob_size| */
  PYL_SIZE_LIST,
  PYL_SIZE_DICT,
  PYL_SIZE_SET,
  PYL_SIZE_BYTEARRAY,
  PYL_SIZE_STR,
  PYL_SIZE_INT,   /* digits from ob_size (lv_tag on 3.12+), at least one
                     on 3.11+ */
  PYL_SIZE_FIXED, /* tp_basicsize only: 3.11+ frames and generators have
                     a tp_itemsize but no ob_size field */
};

/* How referents are found when not by calling tp_traverse. */
enum pyl_decode {
  PYL_DECODE_TRAVERSE = 0, /* call tp_traverse */
  PYL_DECODE_STRUCTSEQ,    /* structseq_traverse needs a thread state */
};

struct pyl_type {
  uint64_t addr; /* first: the hash table keys on it */
  uint64_t flags;
  uint64_t basicsize;
  uint64_t itemsize;
  uint64_t traverse; /* tp_traverse when the type has GC, else 0 */
  uint64_t is_gc;    /* tp_is_gc or 0 */
  uint64_t count;    /* objects of this type in the graph */
  uint64_t bytes;    /* their shallow sizes */
  uint32_t name_off; /* qualified name, in the names area */
  uint32_t qualname_off;
  uint32_t row;     /* census row (types merged by name) */
  uint32_t nfields; /* PYL_DECODE_STRUCTSEQ: fields incl. hidden ones */
  uint8_t rule;     /* enum pyl_size_rule */
  uint8_t decode;   /* enum pyl_decode */
  uint8_t preheader;
};

enum {
  PYL_TYPE_CACHE = 64,
};

struct pyl_types {
  struct pyl_vec v_rec;    /* struct pyl_type[] */
  struct pyl_arena a_htab; /* the hash table's own memory */
  struct pyl_type *rec;
  htab_t htab;
  uint32_t n;
  struct {
    uint64_t addr;
    uint32_t id;
  } cache[PYL_TYPE_CACHE];
};

bool pyl_types_init(struct pyl_types *t);
void pyl_types_clear(struct pyl_types *t);
void pyl_types_release(struct pyl_types *t);

/* Id of the type at addr, validating and adding it on first sight.
 * PYL_NONE (objtab.h) when addr is not a plausible type object. */
uint32_t pyl_types_resolve_slow(struct pyl_view *c, uint64_t addr);

static inline unsigned pyl_types_cache_slot(uint64_t addr) {
  return (unsigned)((addr >> 4) ^ (addr >> 12)) % PYL_TYPE_CACHE;
}

static inline uint32_t pyl_types_resolve(struct pyl_view *c,
                                         struct pyl_types *t, uint64_t addr) {
  unsigned s = pyl_types_cache_slot(addr);
  if (t->cache[s].addr == addr && addr != 0) {
    return t->cache[s].id;
  }
  return pyl_types_resolve_slow(c, addr);
}

#endif /* PYL_TYPES_H */
