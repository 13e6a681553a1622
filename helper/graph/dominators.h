/*
 * dominators.h — the dominator tree of the reference graph and the bytes
 * each object retains (what would be freed with it).
 *
 * The flow graph is the objects plus a virtual super-root whose
 * successors are the root objects.  u dominates v when every path from
 * the super-root to v passes through u; the bytes v retains are the
 * shallow sizes of the objects it dominates, itself included.  Descending
 * from the super-root along the child that retains the most leads from a
 * big holder down to where the objects pile up (Eclipse MAT's "leak
 * suspects").
 *
 * Algorithm: Lengauer–Tarjan semidominators as in semi-NCA (Georgiadis,
 * "Finding dominators in practice"; LLVM's SemiNCA): a depth-first
 * numbering, semidominators with path compression, then each immediate
 * dominator as the nearest common ancestor of the DFS parent and the
 * semidominator in the dominator tree built so far.  Semi-NCA's walk up
 * that tree is quadratic on some graphs (a long chain whose every link is
 * a DFS ancestor of many objects also held from its top), so the walk
 * follows Myers' skew-binary jump pointers: O(log n) per object, and
 * O(m log n) in all.  Nothing recurses (heaps hold lists a million links
 * long): the DFS stack is the DFS parent chain plus a per-object edge
 * cursor and end, and path compression reverses the path in place on the
 * way up instead of stacking it.
 *
 * Memory plan: one arena block of six arrays W0..W5 of (n + 2) uint32_t,
 * 24 bytes per object for everything, outputs included, and nothing
 * else; the graph is only read.  Reached objects get preorder numbers
 * 1..N-1 (0 is the super-root); [num] arrays are indexed by number,
 * [obj] arrays by object.  Each phase reuses what the one before no
 * longer needs:
 *
 *       DFS             semidominators   NCA             outputs
 *   W0  num [obj]       num              -               idom [obj]
 *   W1  vertex [num]    vertex           -               vertex
 *   W2  parent [num]    parent           idom [num]      idom [num]
 *   W3  ancestor [num]  ancestor         jump [num]      retained [obj]
 *   W4  edge end [num]  label [num]      depth [num]       (W3+W4, u64)
 *   W5  cursor [num]    semi [num]       semi            big_child [obj]
 *
 * Labels are written as each number is processed (nothing reads one
 * before), so the DFS can keep its edge ends there.  The super-root's
 * cursor is the index in the source list; a source that the DFS reached
 * first from another object gets parent 0 when the super-root's cursor
 * comes to it (its semidominator and immediate dominator are the
 * super-root) while its ancestor link keeps the real DFS parent, which
 * path compression must follow.
 *
 * Every loop ticks pyl_control_tick(); a stop makes pyl_dom_build return
 * false and its outputs are not valid.
 */
#ifndef PYL_DOMINATORS_H
#define PYL_DOMINATORS_H

#include "arena.h"
#include "chain.h"

#include <stdbool.h>
#include <stdint.h>

/* idom of an object dominated only by the super-root (the dominator tree's
 * root); also what pyl_dom_children takes to list the super-root's
 * children.  PYL_NONE (util.h) is the idom of an object not reached. */
#define PYL_DOM_SUPER (UINT32_MAX - 1)

struct pyl_dom {
  uint32_t n;
  uint32_t *idom;           /* [n]: an object, PYL_DOM_SUPER or PYL_NONE */
  uint64_t *retained;       /* [n]: bytes; 0 for an object not reached */
  uint32_t *big_child;      /* [n]: the child retaining the most, PYL_NONE for a
                               leaf; ties go to the lower object index */
  uint32_t super_big_child; /* the same for the super-root */
  uint64_t super_retained;  /* bytes of every reached object */
  uint32_t n_reached;       /* objects reached from the sources */
};

/* The dominator tree of g from a super-root whose successors are src[0..
 * n_src) (duplicates allowed, indices >= g->n ignored), and the retained
 * bytes given each object's shallow size size[0..g->n).  Everything comes
 * from a (24 * (g->n + 2) bytes, see above); d's arrays live there.  False
 * when out of memory or told to stop. */
bool pyl_dom_build(struct pyl_dom *d, const struct pyl_graph *g,
                   const uint32_t *src, uint32_t n_src, const uint32_t *size,
                   struct pyl_arena *a);

/* The children of v (an object or PYL_DOM_SUPER) in the dominator tree,
 * in index order: writes at most max to out and returns how many there
 * are.  One pass over idom: for a few calls per query, not for a walk of
 * the whole tree. */
uint32_t pyl_dom_children(const struct pyl_dom *d, uint32_t v, uint32_t *out,
                          uint32_t max);

#endif /* PYL_DOMINATORS_H */
