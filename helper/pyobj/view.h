/*
 * view.h — what reading the target's objects needs: the layout gdb
 * filled, the memory backend, the type table and its names, the arena
 * for the current call's buffers, and the warning count.
 *
 * The lowest piece of the helper's context: everything from pyobj/ up
 * takes it, while the graph (graph/heap.h), the roots and the entry
 * points' own state sit above it in their own layers and hold a
 * pointer to it (query/engine.h puts them together).
 */
#ifndef PYL_VIEW_H
#define PYL_VIEW_H

#include "arena.h"
#include "layout.h"
#include "mem.h"
#include "names.h"
#include "types.h"
#include "util.h"

#include <stdbool.h>
#include <stdint.h>

enum {
  PYL_MSG_SIZE = 256,
};

struct pyl_view {
  const struct pyl_layout *L;
  struct pyl_mem mem;
  struct pyl_types types;
  struct pyl_names names;
  struct pyl_arena scratch; /* rows and buffers of the current call */
  uint64_t type_extent;     /* bytes of a type object the helper reads */
  uint64_t n_warnings;
  char warning[PYL_MSG_SIZE]; /* the first warning */
};

/* Count a warning.  True for the first one: b is then set up on
 * c->warning for the caller to describe it (later ones are only counted,
 * so a corrupt heap costs one message, not one per object). */
static inline bool pyl_warn(struct pyl_view *c, struct pyl_sbuf *b) {
  if (c->n_warnings++ != 0) {
    return false;
  }
  pyl_sbuf_init(b, c->warning, sizeof(c->warning));
  return true;
}

#endif /* PYL_VIEW_H */
