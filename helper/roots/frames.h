/*
 * frames.h — the threads of an interpreter and the Python frames each one
 * is running, read from the thread states (never through objects: from
 * 3.11 the running frames are _PyInterpreterFrame structs that object
 * traversal does not visit).
 *
 *   3.8-3.10  tstate->frame, a PyFrameObject chained by f_back; locals in
 *             f_localsplus named by co_varnames + co_cellvars +
 *             co_freevars.  Frames are objects, but those run by the eval
 *             loop are usually not GC-tracked: their references are edges
 *             of the graph only when the frame object is in the table.
 *   3.11/3.12 tstate->cframe->current_frame, 3.13 tstate->current_frame:
 *             _PyInterpreterFrame chained by `previous`; localsplus named
 *             by co_localsplusnames with kinds co_localspluskinds.  Shim
 *             frames (owner FRAME_OWNED_BY_CSTACK, 3.12+) are skipped.
 *             A generator's frame is traversed by the generator object.
 *
 * For each frame the walk reports every reference the frame holds as a
 * slot, saying whether the graph already explains it (an edge) so that
 * the refcount arithmetic counts each reference once.
 */
#ifndef PYL_FRAMES_H
#define PYL_FRAMES_H

#include <stdbool.h>
#include <stdint.h>

struct pyl_view;
struct pyl_objtab;
struct pyl_sbuf;

struct pyl_thread {
  uint64_t tstate;
  uint64_t ident;  /* thread_id: the pthread_t, threading.get_ident() */
  uint64_t tid;    /* native_thread_id (3.11+), else 0 */
  uint32_t number; /* 1 = the main thread, then in the order they started */
  char name[48];   /* threading's name for it, or "" when not known */
};

/* The thread states of the interpreter at `interp`, into out[0..max):
 * the main thread first, then the others oldest first.  Returns how many;
 * *more is set when the list was longer than max or broken. */
uint32_t pyl_threads(struct pyl_view *c, uint64_t interp,
                     struct pyl_thread *out, uint32_t max, bool *more);

/* "thread 2 'worker-1' (tid 4242)" (3.11+) or "thread 2 (ident 0x7f...)"
 * when threading does not know the thread. */
void pyl_thread_name(const struct pyl_thread *t, struct pyl_sbuf *b);

enum pyl_slot_kind {
  PYL_SLOT_LOCAL = 1,   /* a local variable (argument included) */
  PYL_SLOT_CELL,        /* the value inside the cell of a cell/free var */
  PYL_SLOT_CELL_OBJ,    /* the cell object of a cell/free variable */
  PYL_SLOT_STACK,       /* a value stack entry below the saved top */
  PYL_SLOT_STACK_MAYBE, /* a value stack entry of a running frame whose top
                           is only in a CPU register: maybe stale */
  PYL_SLOT_FUNC,        /* the function being run (3.11+) */
  PYL_SLOT_LOCALS,      /* f_locals (module and class bodies, exec) */
  PYL_SLOT_FRAME_OBJ,   /* 3.11+ frame_obj, or the 3.8-3.10 frame object
                           itself, held by the eval loop */
  PYL_SLOT_OTHER,       /* code, globals, builtins, f_back, f_trace */
};

struct pyl_slot {
  uint64_t value; /* the object referenced */
  uint64_t name;  /* the str naming the variable, or 0 */
  uint8_t kind;   /* enum pyl_slot_kind */
  bool counted;   /* a strong reference that no edge of the graph holds */
  bool root;      /* worth showing as a root */
};

struct pyl_frame {
  uint64_t addr; /* PyFrameObject (3.8-3.10) or _PyInterpreterFrame */
  uint64_t code;
  int64_t line;   /* -1 when unknown */
  uint32_t depth; /* 0 = innermost */
};

struct pyl_frame_visitor {
  /* Once per frame before its slots. */
  void (*frame)(void *arg, const struct pyl_frame *f);
  /* Once per non-NULL reference of the frame. */
  void (*slot)(void *arg, const struct pyl_frame *f, const struct pyl_slot *s);
  void *arg;
};

/* Walk the frames of thread t, innermost first (tab: the graph's objects,
 * whose own slots are edges already).  False when the chain
 * was cut by unreadable memory, or a frame with an unreadable code object
 * was skipped. */
bool pyl_frames_walk(struct pyl_view *c, const struct pyl_objtab *tab,
                     const struct pyl_thread *t,
                     const struct pyl_frame_visitor *v);

/* "FUNC() FILE:LINE" of a code object (co_qualname from 3.11, co_name
 * before; the file's basename; no ":LINE" when line < 0). */
void pyl_code_where(struct pyl_view *c, uint64_t code, int64_t line,
                    struct pyl_sbuf *b);

/* Fill t->name from the threading module of the interpreter at interp
 * (threading._active[ident]._name), leaving it "" when any step is
 * missing (threading never imported, a thread started from C). */
void pyl_thread_lookup_name(struct pyl_view *c, uint64_t interp,
                            struct pyl_thread *t);

#endif /* PYL_FRAMES_H */
