/*
 * objtab.h — the object table: dense indices for object addresses.
 *
 * Objects get indices 0..n-1 in discovery order.  Per object the table
 * keeps its address (addr[], 8 bytes) and its type id (type[], 4 bytes);
 * a hash table maps address -> index.  It is built so that a lookup costs
 * one cache miss, growing costs one cheap sequential pass, and the table
 * stays at 14-15 bytes per object whatever the number of objects:
 *
 * - Keys are exact.  An object address is 8-aligned and below 2^47, so
 *   key >> 3 has 44 bits; h = a bijective mix of those bits.  Its top 4
 *   bits pick one of 16 sub-tables, the other 40 (h') are hashed there: a
 *   sub-table of multiplier m has cap = m << j homes, and y = h' * m
 *   splits into the home y >> (40 - j) and frac, the low 40 - j bits.  A
 *   slot stores frac, the index and the distance from home, so (slot
 *   position, slot value) give back h and a hit never reads addr[].
 * - Each sub-table is ordered linear probing (Amble & Knuth), mirrored:
 *   slots are sorted by h, every element sits at its home or right below
 *   its successor, and a probe walks down from the home.  It stops at the
 *   first element smaller than the key, so a miss is as short as a hit;
 *   an insertion shifts the lower part of its run down by one.  Slots
 *   below home 0 (HEAD of them) take the runs that spill down, and
 *   slots[0] stays empty, so a probe needs no bounds check.
 * - A sub-table doubles in place: with y unchanged, the new home is twice
 *   the old one plus the top bit of frac, so homes only move up; placing
 *   the elements from the top down, each at its new home or right below
 *   the one placed before, never lands on an element not yet moved.  One
 *   pass with constant shifts, and no page of a second table.
 * - The multipliers m of the 16 sub-tables are spread over 16..31 like
 *   16 * 2^(k/16), so their loads (between 40% and 80% each) are at
 *   different points of their doubling cycles: the sum stays near its
 *   average instead of swinging by 2x.
 *
 * A slot is one uint64_t:
 *
 *   bits 50..63  distance from home + 1    (0 only in an empty slot)
 *   bits  B..49  frac                      (B = j + 10, so 40 - j bits)
 *   bits  0..B-1 index + 1
 *
 * so that, at probe distance d, the slot of the key itself equals
 * W(d) + index + 1 with W(d) = ((d + 1) << 50) | (frac << B); a slot below
 * W(d) (an empty one included) holds an element smaller than the key, so
 * the key is absent; a slot above W(d) + 2^B - 1 holds a greater one.
 *
 * Lookups on the hot path are batched by the caller: hash and
 * pyl_objtab_prefetch() each key as it comes, probe the batch later, so
 * the cache misses of a batch overlap instead of queueing.
 */
#ifndef PYL_OBJTAB_H
#define PYL_OBJTAB_H

#include "arena.h"
#include "util.h" /* PYL_NONE */
#include "vec.h"

#include <stdbool.h>
#include <stdint.h>

/* What pyl_objtab_hash() gives an address no object can have. */
#define PYL_OBJTAB_BAD_HASH (1ull << 63)

enum {
  PYL_OBJTAB_KEY_BITS = 44, /* (2^47 - 1) >> 3 */
  PYL_OBJTAB_SUB_BITS = 4,
  PYL_OBJTAB_SUBS = 1 << PYL_OBJTAB_SUB_BITS,
  PYL_OBJTAB_SUB_KEY_BITS = PYL_OBJTAB_KEY_BITS - PYL_OBJTAB_SUB_BITS,
  PYL_OBJTAB_DIST_SHIFT = 50,
  PYL_OBJTAB_HEAD = 512, /* slots below home 0 */
};

struct pyl_objtab_sub {
  uint64_t *slots;  /* slots[HEAD + home] is home's slot */
  uint64_t mul;     /* m */
  uint64_t cap;     /* homes: m << j */
  uint64_t grow_at; /* double before n reaches this */
  uint64_t n;
  unsigned fbits; /* 40 - j: bits of frac */
  unsigned ibits; /* B = j + 10: bits of index + 1 */
  struct pyl_arena arena;
};

struct pyl_objtab {
  struct pyl_vec v_addr;
  struct pyl_vec v_type;
  uint64_t *addr;
  uint32_t *type;
  uint32_t n;
  uint32_t max_objs;
  struct pyl_objtab_sub sub[PYL_OBJTAB_SUBS];
};

/* Reserve address space for up to max_objs objects.  False if the kernel
 * refuses even that. */
bool pyl_objtab_init(struct pyl_objtab *t, uint32_t max_objs);

/* Empty the table and return its pages (keeps the reservations). */
void pyl_objtab_clear(struct pyl_objtab *t);

/* Unmap everything. */
void pyl_objtab_release(struct pyl_objtab *t);

/* A bijection of the 44 significant bits of an object address (xor-shift
 * and odd multiplications modulo 2^44), so equal hashes mean equal keys;
 * PYL_OBJTAB_BAD_HASH for an address that is not 8-aligned or not below
 * 2^47 (never in the table). */
static inline uint64_t pyl_objtab_hash(uint64_t key) {
  const uint64_t mask = (1ull << PYL_OBJTAB_KEY_BITS) - 1;
  if ((key & 7) != 0 || (key >> 47) != 0) {
    return PYL_OBJTAB_BAD_HASH;
  }
  uint64_t x = key >> 3;
  x ^= x >> 23;
  x = (x * 0xff51afd7ed558ccdull) & mask;
  x ^= x >> 21;
  x = (x * 0xc4ceb9fe1a85ec53ull) & mask;
  x ^= x >> 22;
  return x;
}

static inline const struct pyl_objtab_sub *
pyl_objtab_sub_of(const struct pyl_objtab *t, uint64_t h) {
  return &t->sub[(h >> PYL_OBJTAB_SUB_KEY_BITS) & (PYL_OBJTAB_SUBS - 1)];
}

/* y = h' * m, where the home and frac come from. */
static inline uint64_t pyl_objtab_y(const struct pyl_objtab_sub *s,
                                    uint64_t h) {
  return (h & ((1ull << PYL_OBJTAB_SUB_KEY_BITS) - 1)) * s->mul;
}

/* always_inline: gcc 12 otherwise finds this function free of side
 * effects and deletes the calls, prefetch and all. */
static inline __attribute__((always_inline)) void
pyl_objtab_prefetch(const struct pyl_objtab *t, uint64_t h) {
  /* A prefetch never faults: a bad hash or a sub-table not yet mapped
   * only prefetch nothing useful.  Locality 2 (prefetcht1) fills the L2,
   * whose miss queue is deeper than the L1's: more misses overlap (7 ns
   * a random line instead of 10 here, batches of 256).  The two lines
   * below too: the probe, and an insertion's shift down to the end of the
   * run, go down from the home (measured: 10% faster with one line below,
   * 4% more with the second). */
  const struct pyl_objtab_sub *s = pyl_objtab_sub_of(t, h);
  const uint64_t *home =
      &s->slots[PYL_OBJTAB_HEAD + (pyl_objtab_y(s, h) >> s->fbits)];
  __builtin_prefetch(home, 0, 2);
  __builtin_prefetch(home - 8, 0, 2);
  __builtin_prefetch(home - 16, 0, 2);
}

/* W(0) of y (see above); W(d) = W(0) + d << 50. */
static inline uint64_t pyl_objtab_want(const struct pyl_objtab_sub *s,
                                       uint64_t y) {
  uint64_t fmask = (1ull << s->fbits) - 1;
  return (1ull << PYL_OBJTAB_DIST_SHIFT) | ((y & fmask) << s->ibits);
}

/* Index of the object of hash h, or PYL_NONE; *stop is the slot where
 * the probe ended (where an insertion would go; the run below it is what
 * an insertion shifts). */
static inline uint32_t pyl_objtab_probe(const struct pyl_objtab *t, uint64_t h,
                                        const uint64_t **stop) {
  const struct pyl_objtab_sub *s = pyl_objtab_sub_of(t, h);
  *stop = NULL;
  if (s->cap == 0 || h == PYL_OBJTAB_BAD_HASH) {
    return PYL_NONE;
  }
  uint64_t y = pyl_objtab_y(s, h);
  const uint64_t *p = &s->slots[PYL_OBJTAB_HEAD + (y >> s->fbits)];
  uint64_t w = pyl_objtab_want(s, y);
  uint64_t one = 1ull << s->ibits;
  for (;; p--, w += 1ull << PYL_OBJTAB_DIST_SHIFT) {
    uint64_t v = *p;
    if (v < w) {
      *stop = p;
      return PYL_NONE;
    }
    if (v - w < one) {
      *stop = p;
      return (uint32_t)(v - w) - 1;
    }
  }
}

/* Index of the object at key (its hash h), or PYL_NONE. */
static inline uint32_t pyl_objtab_find_h(const struct pyl_objtab *t,
                                         uint64_t key, uint64_t h) {
  (void)key; /* the hash is exact */
  const uint64_t *stop;
  return pyl_objtab_probe(t, h, &stop);
}

static inline uint32_t pyl_objtab_find(const struct pyl_objtab *t,
                                       uint64_t key) {
  return pyl_objtab_find_h(t, key, pyl_objtab_hash(key));
}

/* Find or add the object at key; a new object gets type id `type`.
 * *inserted tells which.  PYL_NONE when out of memory or full, or for a
 * key that is no object address (PYL_OBJTAB_BAD_HASH). */
uint32_t pyl_objtab_insert_h(struct pyl_objtab *t, uint64_t key, uint64_t h,
                             uint32_t type, bool *inserted);

/* Add the object at key (hash h), which a probe just found absent,
 * stopping at *stop (and nothing was added since): saves probing again.
 * PYL_NONE when out of memory or full. */
uint32_t pyl_objtab_add_at(struct pyl_objtab *t, uint64_t key, uint64_t h,
                           const uint64_t *stop, uint32_t type);

static inline uint32_t pyl_objtab_insert(struct pyl_objtab *t, uint64_t key,
                                         uint32_t type, bool *inserted) {
  return pyl_objtab_insert_h(t, key, pyl_objtab_hash(key), type, inserted);
}

#endif /* PYL_OBJTAB_H */
