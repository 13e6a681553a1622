/*
 * walk.h — building the graph: every object of the heap and its edges.
 *
 * Seeds are the objects on every GC list of the layout (all generations,
 * permanent included).  Objects are then processed in table order; each
 * GC-managed one is traversed, its referents are resolved to indices
 * (new ones join the table, to be processed in turn) and become its edges.
 * The result is the set gc.get_objects() (after gc.unfreeze()) plus the
 * closure of gc.get_referents() over it.
 *
 * Referents are resolved in batches so their cache misses overlap: each
 * is hashed, and its hash slot and header prefetched, as it is visited;
 * the batch is then probed, and a new object is validated and added right
 * where its probe stopped.
 *
 * A corrupt heap gives warnings (pyl_warn), not a failed walk: a pointer
 * to no plausible object is dropped; a builtin container whose variable
 * part is garbage (validate.h), or whose tp_traverse faults, is counted
 * but not traversed; a GC list is followed up to a broken link only (what
 * comes after is still found through references); an implausible
 * refcount is reported.  The walk stops early only when told to
 * (pyl_control_tick: PYL_EABORTED) or out of helper memory.
 */
#ifndef PYL_WALK_H
#define PYL_WALK_H

#include "util.h"

#include <stdint.h>

struct pyl_heap;

/* Build the graph into the (cleared) tables of h.  Returns PYL_OK or a
 * negative status with the cause in msg. */
int pyl_walk(struct pyl_heap *h, uint64_t flags, struct pyl_sbuf *msg);

#endif /* PYL_WALK_H */
