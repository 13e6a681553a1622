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

#include "csr.h"
#include "layout.h"
#include "mem.h"
#include "names.h"
#include "objtab.h"
#include "pyleaks_abi.h"
#include "rev.h"
#include "roots.h"
#include "types.h"

#include <stdbool.h>
#include <stdint.h>

enum {
  PYL_MSG_SIZE = 256,
};

struct pyl_ctx {
  const struct pyl_layout *L;
  struct pyl_mem mem;
  struct pyl_objtab tab;
  struct pyl_csr csr;
  struct pyl_types types;
  struct pyl_names names;
  struct pyl_arena work;    /* buffers of the walk */
  struct pyl_arena scratch; /* rows and buffers of the current call */
  /* Reserved by the first chain/refs query (queries.c), so that a
   * census never pays for them; cleared and released with the graph. */
  struct pyl_rev rev;     /* reverse edges, built on first need */
  struct pyl_roots roots; /* where chains start, built on first need */
  struct pyl_arena qstr;  /* strings of the current chain/refs result */
  bool reserved;          /* the big reservations are made */
  bool have_graph;
  uint64_t type_extent;  /* bytes of a type object the helper reads */
  uint64_t total_bytes;  /* sum of shallow sizes */
  uint64_t n_gc_tracked; /* objects found on the GC lists */
  uint64_t n_warnings;
  uint64_t walk_ns;
  char warning[PYL_MSG_SIZE]; /* the first warning */
};

/* Count a warning.  True for the first one: b is then set up on
 * c->warning for the caller to describe it (later ones are only counted). */
bool pyl_warn(struct pyl_ctx *c, struct pyl_sbuf *b);

/* Nanoseconds of CLOCK_MONOTONIC. */
uint64_t pyl_now_ns(void);

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

/* The NUL-terminated string argument gdb wrote at pyl_arg_addr(). */
const char *pyl_call_arg(void);

#endif /* PYL_ENGINE_H */
