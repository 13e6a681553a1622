/*
 * decode.h — referents of builtin layouts, read instead of traversed.
 *
 * Used where calling the type's tp_traverse is unsafe in a stopped target
 * (it needs a thread state that an idle process does not have).  Each
 * decoder visits exactly what the CPython traverse function of that
 * version visits, in the same order.
 */
#ifndef PYL_DECODE_H
#define PYL_DECODE_H

#include "referents.h"

/* structseq_traverse: the type when it is a heap type (3.9+), then the
 * n_fields items (hidden fields beyond ob_size included). */
void pyl_decode_structseq(struct pyl_view *c, const struct pyl_type *ty,
                          uint64_t addr, pyl_visit_fn visit, void *arg);

#endif /* PYL_DECODE_H */
