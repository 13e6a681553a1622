/*
 * addrset.h — a set of 8-aligned addresses in arena memory.
 *
 * Open addressing, at most half full.  The low three bits of a slot are
 * free for the caller's marks.  Growing takes a table four times larger
 * from the same arena and leaves the old one there: the arena is reset as
 * a whole when the caller is done.
 */
#ifndef PYL_ADDRSET_H
#define PYL_ADDRSET_H

#include "arena.h"

#include <stdbool.h>
#include <stdint.h>

#define PYL_ADDRSET_MARKS 7ull

struct pyl_addrset {
  struct pyl_arena *arena;
  uint64_t *slots; /* 0 = empty, else address | marks */
  uint64_t cap;    /* a power of two */
  uint64_t n;
  bool grew; /* set when slots moved (the caller clears it) */
};

/* An empty set of `cap` slots (a power of two) from arena a. */
bool pyl_addrset_init(struct pyl_addrset *s, struct pyl_arena *a, uint64_t cap);

/* The slot holding addr, or the empty slot where it would go. */
uint64_t *pyl_addrset_slot(const struct pyl_addrset *s, uint64_t addr);

/* 1 when addr was added, 0 when it was there, -1 when out of memory. */
int pyl_addrset_add(struct pyl_addrset *s, uint64_t addr);

#endif /* PYL_ADDRSET_H */
