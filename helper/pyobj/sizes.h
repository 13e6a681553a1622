/*
 * sizes.h — the shallow size of one object (docs/sizes.md).
 *
 * tp_basicsize + tp_itemsize * |ob_size| + the PyGC_Head when the object
 * is GC-managed + the pre-header of managed dict/weakref types, plus the
 * buffers the object owns by itself (list item array, dict keys table and
 * split values, set table, bytearray buffer, str data and its cached
 * UTF-8/wchar_t copies).  For list, tuple, bytes, float, set, frozenset,
 * bytearray, str and int this equals sys.getsizeof() of the object.
 */
#ifndef PYL_SIZES_H
#define PYL_SIZES_H

#include "types.h"

#include <stdbool.h>
#include <stdint.h>

struct pyl_view;

uint64_t pyl_object_size(struct pyl_view *c, const struct pyl_type *ty,
                         uint64_t addr, bool is_gc);

/* The part that does not depend on the object's contents: tp_basicsize,
 * the PyGC_Head and the pre-header.  What the census counts for an object
 * whose variable part is garbage. */
uint64_t pyl_object_base_size(struct pyl_view *c, const struct pyl_type *ty,
                              bool is_gc);

#endif /* PYL_SIZES_H */
