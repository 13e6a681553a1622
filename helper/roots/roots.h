/*
 * roots.h — where chains start: modules, thread frames, interpreter state
 * and references no object explains ("held by C code").
 *
 * The roots are collected once per graph (after the walk) into the
 * context's root list; chain searches and py-backrefs read it.  A root
 * names one object of the table and says in words where it is held from,
 * in the form the user reads at the top of a chain:
 *
 *   module app.handlers
 *   thread 2 'worker-1' (tid 4242) frame put() app.py:88 local 'body'
 *   interpreter sys.modules
 *   held by C code (3 references unexplained)
 *
 * Roots only name objects already in the table: they never add objects,
 * so the census stays the gc module's set.
 */
#ifndef PYL_ROOTS_H
#define PYL_ROOTS_H

#include "arena.h"
#include "vec.h"

#include <stdbool.h>
#include <stdint.h>

struct pyl_heap;
struct pyl_sbuf;

enum pyl_root_kind {
  PYL_ROOT_MODULE = 1,      /* a module object of an interpreter's modules */
  PYL_ROOT_FRAME = 2,       /* a local/cell/stack slot of a thread's frame */
  PYL_ROOT_INTERPRETER = 3, /* a slot of interpreter or thread state */
  PYL_ROOT_C = 4,           /* refcount above every reference found */
};

struct pyl_root {
  uint32_t obj;  /* index in the object table */
  uint32_t kind; /* enum pyl_root_kind */
  uint32_t desc; /* offset of its NUL-terminated description in strings */
  uint32_t unexplained; /* PYL_ROOT_C: references no object explains */
};

struct pyl_roots {
  struct pyl_vec v_rows;
  struct pyl_arena a_strings;
  struct pyl_arena a_explained; /* uint32_t per object */
  struct pyl_arena a_tmp;       /* temporaries of one build */
  struct pyl_arena a_threads;   /* struct pyl_thread[] of one build */
  struct pyl_arena a_seen;      /* containers opened by one build */
  struct pyl_root *rows;
  char *strings;
  /* Per object: the references to it that the graph and the roots
   * explain (in-degree + strong references from roots that are not
   * edges).  ob_refcnt minus this is what no object explains. */
  uint32_t *explained;
  uint32_t n;
  uint64_t strings_len;
  uint32_t n_frames;        /* Python frames seen in all threads */
  uint32_t n_threads;       /* thread states seen */
  uint64_t n_overexplained; /* GC objects with more references found than
                               their refcount (refcounts changing under
                               us, or a reference counted twice) */
  bool incomplete;          /* a thread list or frame chain was cut */
  bool built;
};

bool pyl_roots_init(struct pyl_roots *r);
void pyl_roots_clear(struct pyl_roots *r);
void pyl_roots_release(struct pyl_roots *r);

/* Collect every root of the graph h (which must exist).  Modules and
 * frames and interpreter slots first, then the C-held residue, which
 * needs the in-degree of every object (from the edges) and the
 * references the other roots account for.  Returns PYL_OK or a negative
 * PYL_E* with a one-line cause in msg. */
int pyl_roots_build(struct pyl_heap *h, struct pyl_roots *r,
                    struct pyl_sbuf *msg);

/* ob_refcnt of object `obj` minus the references the graph and the
 * roots explain (negative when more were found; 0 for immortal objects).
 * Needs a built r. */
int64_t pyl_roots_unexplained(struct pyl_heap *h, const struct pyl_roots *r,
                              uint32_t obj);

/* The description of a root. */
static inline const char *pyl_root_desc(const struct pyl_roots *r,
                                        const struct pyl_root *root) {
  return r->strings + root->desc;
}

/* The object of the first row, for pyl_rootset_build() (graph/chain.h)
 * with stride sizeof(struct pyl_root); NULL when there are none. */
static inline const uint32_t *pyl_roots_objs(const struct pyl_roots *r) {
  return r->n != 0 ? &r->rows[0].obj : NULL;
}

#endif /* PYL_ROOTS_H */
