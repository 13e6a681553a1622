/*
 * referents.h — what an object refers to, and whether it is GC-managed.
 *
 * The live backend asks the interpreter itself: tp_is_gc and tp_traverse
 * with our own visit function are the only calls the helper makes into
 * the target (the cycle collector does exactly the same).  A core-file
 * backend will decode builtin layouts instead.
 */
#ifndef PYL_REFERENTS_H
#define PYL_REFERENTS_H

#include "types.h"

#include <stdbool.h>
#include <stdint.h>

/* Called once per referent; return 0 to go on, non-zero to stop. */
typedef int (*pyl_visit_fn)(void *referent, void *arg);

/* HAVE_GC, and tp_is_gc (if the type has one) says yes.  Only then may
 * pyl_referents() be called: type_traverse aborts the process on a
 * static type. */
bool pyl_object_is_gc(const struct pyl_type *ty, uint64_t addr);

struct pyl_view;

/* Visit the referents of a GC-managed object that pyl_validate()
 * accepted.  False when reading the object faulted and was abandoned
 * (then some referents may have been visited, or none). */
bool pyl_referents(struct pyl_view *c, const struct pyl_type *ty, uint64_t addr,
                   pyl_visit_fn visit, void *arg);

#endif /* PYL_REFERENTS_H */
