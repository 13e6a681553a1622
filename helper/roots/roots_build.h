/*
 * roots_build.h — the state of one pyl_roots_build() shared by roots.c
 * (rows, modules, interpreter and thread slots, frames), roots_types.c
 * (type objects' own references) and roots_residue.c (references that
 * non-GC objects hold, and the C-held residue).  Internal to those files.
 */
#ifndef PYL_ROOTS_BUILD_H
#define PYL_ROOTS_BUILD_H

#include "addrset.h"
#include "heap.h"
#include "roots.h"

#include "peek.h"

#include <stdbool.h>
#include <stdint.h>

enum {
  PYL_DESC_MAX = 512, /* longest root description (longer ones are cut) */
  PYL_MAX_STATE_OFFSET = 1 << 24, /* sanity bound on the *_offset fields */
};

struct pyl_build {
  struct pyl_view *c; /* h->v */
  struct pyl_heap *h;
  struct pyl_roots *r;
  struct pyl_sbuf *msg;
  int status;
  uint64_t interp;    /* the interpreter being read */
  uint32_t interp_no; /* 0 for the main one, else its position */
  /* Objects seen in the value stack window of a running frame (whose top
   * only a CPU register knows), in frame order: they explain one
   * reference each, when one is missing.  Bit 31 marks those used. */
  uint32_t *maybe;
  uint32_t n_maybe;
  /* Containers that are not in the table (untracked constant tuples,
   * nested code objects) opened already: each holds its references once,
   * however many code objects share it. */
  struct pyl_addrset hidden;
};

#define PYL_MAYBE_USED (1u << 31)

/* Index of the object at addr, or PYL_NONE. */
static inline uint32_t pyl_rb_find(const struct pyl_build *b, uint64_t addr) {
  return addr == 0 ? PYL_NONE : pyl_objtab_find(&b->h->tab, addr);
}

/* One more strong reference to the object at addr that no edge holds. */
static inline void pyl_rb_count(struct pyl_build *b, uint64_t addr) {
  uint32_t i = pyl_rb_find(b, addr);
  if (i != PYL_NONE) {
    b->r->explained[i]++;
  }
}

void pyl_rb_nomem(struct pyl_build *b);

/* Append a root row (strings: an offset from pyl_rb_string). */
void pyl_rb_add(struct pyl_build *b, uint32_t obj, unsigned kind, uint32_t desc,
                uint32_t unexplained);

/* Copy a description into the strings; UINT32_MAX when out of memory. */
uint32_t pyl_rb_string(struct pyl_build *b, const char *s);

/* A root for the object at addr, when it is in the table; `counted` when
 * the reference is strong and not an edge of the graph. */
void pyl_rb_root(struct pyl_build *b, uint64_t addr, unsigned kind,
                 const char *desc, bool counted);

/* "interpreter " or "interpreter 2 " (a subinterpreter) */
void pyl_rb_interp_prefix(const struct pyl_build *b, struct pyl_sbuf *s);

/* tp_name of a type object into s (page-safe, cut when long). */
void pyl_rb_type_name(struct pyl_build *b, uint64_t type, struct pyl_sbuf *s);

/* roots_state.c: the slots of the interpreter b->interp; of thread t;
 * libpython's C globals and the extension modules' saved dicts (once). */
struct pyl_thread;
void pyl_roots_interp(struct pyl_build *b);
void pyl_roots_thread(struct pyl_build *b, const struct pyl_thread *t);
void pyl_roots_globals(struct pyl_build *b);

/* roots_types.c: type objects are not all traversed (static types never,
 * and type_traverse skips tp_subclasses): roots for what they hold. */
void pyl_roots_types(struct pyl_build *b);

/* roots_residue.c */
void pyl_roots_holders(struct pyl_build *b);
/* Count what a code object (not a GC object) holds. */
void pyl_rb_code_refs(struct pyl_build *b, uint64_t code);
/* The references of non-GC instances to their heap type; after the frames,
 * as it clamps at the refcount (some traverse functions visit them). */
void pyl_roots_instances(struct pyl_build *b);
int64_t pyl_rb_residue(struct pyl_build *b, uint32_t obj);
void pyl_roots_residue(struct pyl_build *b);

#endif /* PYL_ROOTS_BUILD_H */
