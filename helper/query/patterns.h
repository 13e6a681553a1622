/*
 * patterns.h — the objects of one type grouped by how they are held: the
 * chain a forward search from all roots first reaches each one by, read
 * with indices and keys generalised (`module app ._sessions [*]`).
 * Internal to the query layer: pyl_patterns() returns the groups, and
 * py-chain --type picks its object from the biggest one.
 */
#ifndef PYL_PATTERNS_H
#define PYL_PATTERNS_H

#include "query.h"

#include <stdint.h>

/* One group.  pattern is PYL_NONE for the objects no root reaches. */
struct pyl_pattern_group {
  uint32_t pattern;
  uint32_t example; /* the first reached: its chain is the shortest */
  uint64_t count;
  uint64_t bytes;
};

struct pyl_pattern_set {
  struct pyl_pattern_group *groups; /* biggest count first */
  uint32_t n_groups;
  uint64_t total; /* objects of the type */
  bool retained;  /* bytes are retained sizes (the dominator tree exists) */
  /* Interned pattern nodes: a node is its parent pattern, a label and the
   * type of the object it ends at. */
  struct pyl_pattern_node *nodes;
  uint32_t n_nodes;
  char *labels;
};

/* Group the objects of census row `row`.  False with the call failed
 * (out of memory, told to stop).  Needs the roots (pyl_q_need_roots). */
bool pyl_q_patterns(struct pyl_call *call, uint32_t row,
                    struct pyl_pattern_set *out);

/* The pattern as text into b: the root, the labels, the type. */
void pyl_q_pattern_text(const struct pyl_call *call,
                        const struct pyl_pattern_set *set, uint32_t pattern,
                        struct pyl_sbuf *b);

#endif /* PYL_PATTERNS_H */
