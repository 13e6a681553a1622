/*
 * objtab.h — the object table: dense indices for object addresses.
 *
 * Objects get indices 0..n-1 in discovery order.  Per object the table
 * keeps its address (addr[], 8 bytes) and its type id (type[], 4 bytes);
 * an open-addressing hash maps address -> index.  A hash slot is one
 * uint64_t: (tag << 32) | (index + 1), 0 meaning empty, so a probe
 * compares tags without touching addr[] and fresh (zero) pages are an
 * empty table.  The tag is the high half of the hash and the home slot is
 * tag * capacity >> 32: growing the table then needs no hash recomputed
 * (no addr[] reads), and walking the old table in order writes the new
 * one almost sequentially.
 *
 * Lookups on the hot path are batched by the caller: hash and
 * pyl_objtab_prefetch() each key as it comes, probe the batch later, so
 * the cache misses of a batch overlap instead of queueing.
 */
#ifndef PYL_OBJTAB_H
#define PYL_OBJTAB_H

#include "arena.h"

#include <stdbool.h>
#include <stdint.h>

#define PYL_NONE UINT32_MAX

struct pyl_objtab {
  struct pyl_arena a_addr;
  struct pyl_arena a_type;
  struct pyl_arena a_slots[2]; /* current table and the one to grow into */
  uint64_t *addr;
  uint32_t *type;
  uint64_t *slots;
  uint64_t cap;     /* slots in the current table */
  uint64_t grow_at; /* grow before n reaches this */
  uint32_t n;
  uint32_t max_objs;
  unsigned cur; /* index of the current a_slots */
};

/* Reserve address space for up to max_objs objects.  False if the kernel
 * refuses even that. */
bool pyl_objtab_init(struct pyl_objtab *t, uint32_t max_objs);

/* Empty the table and return its pages (keeps the reservations). */
void pyl_objtab_clear(struct pyl_objtab *t);

/* Unmap everything. */
void pyl_objtab_release(struct pyl_objtab *t);

static inline uint64_t pyl_objtab_hash(uint64_t key) {
  /* murmur3 finalizer: every input bit reaches the tag and the home. */
  key ^= key >> 33;
  key *= 0xff51afd7ed558ccdull;
  key ^= key >> 33;
  key *= 0xc4ceb9fe1a85ec53ull;
  key ^= key >> 33;
  return key;
}

static inline uint64_t pyl_objtab_tag(uint64_t h) { return h >> 32; }

static inline uint64_t pyl_objtab_home(const struct pyl_objtab *t, uint64_t h) {
  return (pyl_objtab_tag(h) * t->cap) >> 32;
}

static inline void pyl_objtab_prefetch(const struct pyl_objtab *t, uint64_t h) {
  /* A prefetch never faults, even into the unmapped table of cap 0. */
  __builtin_prefetch(&t->slots[pyl_objtab_home(t, h)]);
}

/* Index of the object at key (its hash h), or PYL_NONE. */
static inline uint32_t pyl_objtab_find_h(const struct pyl_objtab *t,
                                         uint64_t key, uint64_t h) {
  if (t->cap == 0) {
    return PYL_NONE;
  }
  uint64_t pos = pyl_objtab_home(t, h);
  uint64_t tag = pyl_objtab_tag(h);
  for (;;) {
    uint64_t s = t->slots[pos];
    if (s == 0) {
      return PYL_NONE;
    }
    if ((s >> 32) == tag && t->addr[(uint32_t)s - 1] == key) {
      return (uint32_t)s - 1;
    }
    if (++pos == t->cap) {
      pos = 0;
    }
  }
}

static inline uint32_t pyl_objtab_find(const struct pyl_objtab *t,
                                       uint64_t key) {
  return pyl_objtab_find_h(t, key, pyl_objtab_hash(key));
}

/* Find or add the object at key; a new object gets type id `type`.
 * *inserted tells which.  PYL_NONE when out of memory or full. */
uint32_t pyl_objtab_insert_h(struct pyl_objtab *t, uint64_t key, uint64_t h,
                             uint32_t type, bool *inserted);

static inline uint32_t pyl_objtab_insert(struct pyl_objtab *t, uint64_t key,
                                         uint32_t type, bool *inserted) {
  return pyl_objtab_insert_h(t, key, pyl_objtab_hash(key), type, inserted);
}

#endif /* PYL_OBJTAB_H */
