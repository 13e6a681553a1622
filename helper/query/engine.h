/*
 * engine.h — the helper's state: one graph of the target's heap.
 *
 * Entry points are plain functions called by gdb one at a time, so there
 * is a single context (engine.c).  The graph (object table, edges, types,
 * names) survives between calls until invalidated; the scratch arena holds
 * what one call returns and is reset at the start of the next call.
 */
#ifndef PYL_ENGINE_H
#define PYL_ENGINE_H

#include "dominators.h"
#include "heap.h"
#include "pyleaks_abi.h"
#include "roots.h"
#include "util.h"
#include "view.h"

#include <stdbool.h>
#include <stdint.h>

/* The layers' states put together: what reading objects needs (v), the
 * graph (h, whose h.v is &v), its roots, and the life cycle of both. */
struct pyl_ctx {
  struct pyl_view v;
  struct pyl_heap h;
  /* Reserved by the first chain/refs query (queries.c), so that a
   * census never pays for them; cleared and released with the graph. */
  struct pyl_roots roots; /* where chains start, built on first need */
  struct pyl_arena qstr;  /* strings of the current chain/refs result */
  struct pyl_dom dom;     /* the dominator tree, built on first analysis */
  struct pyl_arena a_dom; /* its memory */
  bool reserved;          /* the big reservations are made */
  bool have_graph;
  bool have_dom;
  uint64_t walk_ns;
};

/* One entry point call: begin (validates the layout, resets the scratch
 * arena and the result), optionally make sure the graph exists, fill the
 * rows, end (totals, timings, message).  The result is static storage so
 * that it survives pyl_release(). */
struct pyl_call {
  struct pyl_ctx *c;
  struct pyl_result *res;
  struct pyl_sbuf msg;
  uint64_t t0;
  int status;
};

void pyl_call_begin(struct pyl_call *call);
void pyl_call_graph(struct pyl_call *call, uint64_t flags);
uint64_t pyl_call_end(struct pyl_call *call, uint64_t kind);

/* Set the status and message of a failing call. */
void pyl_call_fail(struct pyl_call *call, int status, const char *why);

/* Unmap the old identities gdb wrote for py-leaks --new (identity.c),
 * which live outside the context between two entry point calls. */
void pyl_ids_forget(void);

/* The NUL-terminated string argument gdb wrote at pyl_arg_addr(). */
const char *pyl_call_arg(void);

#endif /* PYL_ENGINE_H */
