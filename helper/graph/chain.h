/*
 * chain.h — searches over the reference graph: the shortest chain from a
 * root to an object, and what an object no root reaches belongs to.
 *
 * Pure graph algorithms on dense indices (no target memory), so the unit
 * tests run them on synthetic graphs.  Every buffer comes from an arena
 * (the caller's scratch); nothing is allocated per object.  Each search is
 * linear in the edges it follows, and ends early, its answer incomplete,
 * when pyl_control_tick() says stop: the caller checks that afterwards.
 *
 * Chains: a breadth-first search backwards from the target over the
 * reverse edges until it meets an object some root holds.  Root objects
 * other than the target end the search there (a chain never passes
 * through another root: the nearest root explains it), the target itself
 * is searched through so that an object that is a root and also held by
 * others shows both.  Among roots at the same distance the earlier root
 * of the roots order wins.
 */
#ifndef PYL_CHAIN_H
#define PYL_CHAIN_H

#include "arena.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pyl_graph {
  uint32_t n;
  const uint32_t *offs; /* forward: edges[offs[i]..offs[i+1]) */
  const uint32_t *edges;
  const uint32_t *roffs; /* reverse: referrers of i */
  const uint32_t *redges;
};

static inline bool pyl_bit(const uint64_t *b, uint32_t i) {
  return (b[i >> 6] >> (i & 63)) & 1;
}

static inline void pyl_bit_set(uint64_t *b, uint32_t i) {
  b[i >> 6] |= 1ull << (i & 63);
}

/* A zeroed bitmap of n bits from the arena, or NULL. */
uint64_t *pyl_bitmap_new(struct pyl_arena *a, uint32_t n);

/* Which objects roots hold, and for each the roots (in roots order).
 * A root is only an object index here: the roots layer (roots/roots.h)
 * builds its rows above the graph and hands their objects down. */
struct pyl_rootset {
  uint32_t *obj; /* the object of root i */
  uint32_t n_roots;
  uint64_t *is_root; /* bitmap over objects */
  uint32_t *by_obj;  /* root indices sorted by (object, index) */
};

/* root_obj: the object of the first root, the next one stride bytes
 * further (&rows[0].obj, sizeof(rows[0]) for an array of rows; NULL when
 * n_roots is 0); roots outside [0, n_objs) are left out.  False when out
 * of memory. */
bool pyl_rootset_build(struct pyl_rootset *rs, const uint32_t *root_obj,
                       size_t stride, uint32_t n_roots, uint32_t n_objs,
                       struct pyl_arena *a);

/* The roots that hold obj: *first is the position in by_obj of the
 * earliest one; returns how many (0 when none). */
uint32_t pyl_rootset_find(const struct pyl_rootset *rs, uint32_t obj,
                          uint32_t *first);

/* A root object the backward search met, and how many references away
 * from the target it is. */
struct pyl_found {
  uint32_t obj;
  uint32_t dist;
};

struct pyl_search {
  uint32_t *next;  /* next[x]: what x refers to, one step nearer the target */
  uint32_t *queue; /* objects in the order visited */
  uint64_t *seen;  /* visited: objects that reach the target */
  struct pyl_found *found;
  uint32_t max_found;
  uint32_t n_found;
  uint32_t n_seen;
  bool complete; /* every object that reaches the target was visited */
};

bool pyl_search_alloc(struct pyl_search *s, uint32_t n_objs, uint32_t max_found,
                      struct pyl_arena *a);

/* Search backwards from target.  all = false: stop once the nearest
 * roots are found (found[] holds the nearest root objects, earliest root
 * first); all = true: explore everything that reaches the target
 * (found[] in order of distance).  Returns n_found. */
uint32_t pyl_chain_search(const struct pyl_graph *g,
                          const struct pyl_rootset *rs, uint32_t target,
                          bool all, struct pyl_search *s);

/* The chain from a visited object to the target, written to out (at most
 * max objects, the object first, the target last).  Returns its length. */
uint32_t pyl_chain_path(const struct pyl_search *s, uint32_t from,
                        uint32_t *out, uint32_t max);

/* Forward breadth-first search from the sources (duplicates allowed):
 * marks seen, appends every visited object to queue in visit order, and
 * sets parent[x] (if parent is not NULL) to the object x was first
 * reached from (PYL_NONE for sources).  Returns the number visited. */
uint32_t pyl_bfs_forward(const struct pyl_graph *g, const uint32_t *src,
                         uint32_t n_src, uint64_t *seen, uint32_t *queue,
                         uint32_t *parent);

/* What an object no root reaches belongs to. */
struct pyl_unreachable {
  uint64_t cycle_group; /* its strongly connected component, itself included */
  uint64_t garbage;     /* objects that reach it or that it reaches, that no
                           root reaches: what gc.collect() frees with it */
  uint64_t referrers;   /* objects that reach it */
};

/* s must be a complete search from target that found no root (its seen
 * set is everything that reaches the target).  False when out of memory. */
bool pyl_chain_unreachable(const struct pyl_graph *g,
                           const struct pyl_rootset *rs, uint32_t target,
                           const struct pyl_search *s, struct pyl_arena *a,
                           struct pyl_unreachable *out);

#endif /* PYL_CHAIN_H */
