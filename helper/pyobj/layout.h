/*
 * layout.h — the struct pyl_layout gdb writes, and its validation.
 *
 * The storage is larger than the struct so a plugin that packs more
 * fields than this helper knows (a newer layout_fields.def) cannot write
 * past it; the helper then uses the fields it knows.
 */
#ifndef PYL_LAYOUT_H
#define PYL_LAYOUT_H

#include "pyleaks_abi.h"
#include "util.h"

#include <stdint.h>

enum pyl_layout_index {
#define PYL_LAYOUT_FIELD(name) PYL_LF_##name,
#include "../layout_fields.def"
#undef PYL_LAYOUT_FIELD
  PYL_LAYOUT_NFIELDS
};

enum {
  PYL_LAYOUT_CAPACITY = 512, /* uint64_t words gdb may write */
  PYL_LAYOUT_MAX_OFFSET = 4096,
  PYL_GC_LISTS_MAX = 16,
};

/* The layout gdb writes into (pyl_layout_addr()). */
struct pyl_layout *pyl_layout_store(void);

/* Minor version (8 for 3.8, ...) of the layout's py_version_hex. */
static inline unsigned pyl_layout_minor(const struct pyl_layout *l) {
  return (unsigned)((l->py_version_hex >> 16) & 0xff);
}

/* The i-th GC list head. */
uint64_t pyl_layout_gc_list(const struct pyl_layout *l, unsigned i);

/* Check magic, field count, version and sanity of every field.  Returns
 * PYL_OK, PYL_ELAYOUT or PYL_EVERSION with a one-line cause in msg. */
int pyl_layout_check(const struct pyl_layout *l, struct pyl_sbuf *msg);

#endif /* PYL_LAYOUT_H */
