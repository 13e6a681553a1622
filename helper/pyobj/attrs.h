/*
 * attrs.h — one attribute of an instance, by name.
 *
 * The same decoders that name an object's references in chains
 * (facts_attrs.c) find where this version keeps instance attributes:
 * __slots__ members, the inline values of 3.11+, or the __dict__.
 */
#ifndef PYL_ATTRS_H
#define PYL_ATTRS_H

#include <stdint.h>

struct pyl_view;

/* The value of attribute `name` of the instance at obj, or 0 when it has
 * none or it cannot be read.  Uses the top of c->scratch, which it gives
 * back. */
uint64_t pyl_attr_lookup(struct pyl_view *c, uint64_t obj, const char *name);

#endif /* PYL_ATTRS_H */
