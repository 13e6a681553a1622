/*
 * analysis.h — the leak analysis (internal to analyze.c and the find_*.c
 * detectors): the dominator tree of the graph, and rows of suspects,
 * findings, containers and retained bytes per type.
 *
 * One pyl_analyze() call fills one struct pyl_an: the detectors read the
 * graph, the kinds of the types and the retained sizes, and add finding
 * rows with pyl_an_finding() (and some of the objects involved with
 * pyl_an_member()).  Thresholds are in one place (enum below) so that the
 * documentation and the tests can name them.
 */
#ifndef PYL_ANALYSIS_H
#define PYL_ANALYSIS_H

#include "dominators.h"
#include "kinds.h"
#include "query.h"

#include <stdbool.h>
#include <stdint.h>

enum {
  /* A finding needs at least this many objects of its kind. */
  PYL_AN_MIN_DEFAULT_ITEMS = 500,  /* items in a mutable default */
  PYL_AN_MIN_LRU_INSTANCES = 50,   /* instances kept by an lru_cache */
  PYL_AN_MIN_TRACEBACKS = 10,      /* exceptions kept in one container */
  PYL_AN_MIN_OBSERVERS = 100,      /* bound methods in one container */
  PYL_AN_MIN_GARBAGE = 100,        /* GC objects in unreachable cycles */
  PYL_AN_MIN_UNEXPLAINED = 100,    /* C-held objects of one type */
  PYL_AN_MIN_CONTAINER_ITEMS = 64, /* containers remembered for growth */
  PYL_AN_MAX_MEMBERS = 10,         /* objects listed per finding */
  PYL_AN_MAX_FINDINGS = 64,
};

struct pyl_an {
  struct pyl_call *call;
  struct pyl_ctx *c;
  struct pyl_qstr qs;
  struct pyl_kinds kinds;
  const struct pyl_dom *dom;
  struct pyl_analysis_row *rows;
  uint32_t n_rows;
  uint32_t max_rows;
  uint64_t *members;
  uint32_t n_members;
  uint32_t max_members;
  uint64_t *mark; /* a bitmap over objects, all clear between uses */
  struct pyl_analysis_info *info;
};

/* The kind of object i's type. */
static inline enum pyl_kind pyl_an_kind(const struct pyl_an *a, uint32_t i) {
  return (enum pyl_kind)a->kinds.kind[a->c->h.tab.type[i]];
}

static inline unsigned pyl_an_flags(const struct pyl_an *a, uint32_t i) {
  return a->kinds.flags[a->c->h.tab.type[i]];
}

/* A row for object i (PYL_NONE: no object) in a section; NULL when the
 * rows are full. */
struct pyl_analysis_row *pyl_an_row(struct pyl_an *a, uint64_t section,
                                    uint32_t i);

/* A finding about object i (or PYL_NONE), whose involved objects are of
 * type id subject (or PYL_NONE); NULL when full. */
struct pyl_analysis_row *pyl_an_finding(struct pyl_an *a, uint64_t kind,
                                        uint32_t i, uint64_t count,
                                        uint64_t bytes, uint32_t subject);

/* List object i as one of the finding's objects (up to a few). */
void pyl_an_member(struct pyl_an *a, struct pyl_analysis_row *row, uint32_t i);

/* The table index of the object at addr, or PYL_NONE. */
static inline uint32_t pyl_an_find(const struct pyl_an *a, uint64_t addr) {
  return addr == 0 ? PYL_NONE : pyl_objtab_find(&a->c->h.tab, addr);
}

/* Detectors (find_*.c).  Each scans what it needs and adds findings;
 * false when told to stop (the call is then failed). */
bool pyl_find_in_containers(struct pyl_an *a); /* observers, tracebacks */
bool pyl_find_defaults(struct pyl_an *a);      /* mutable defaults */
bool pyl_find_lru(struct pyl_an *a);           /* lru_cache on instances */
bool pyl_find_unreachable(struct pyl_an *a);   /* cyclic garbage */
bool pyl_find_held_by_c(struct pyl_an *a);     /* unexplained references */
bool pyl_find_in_state(struct pyl_an *a);      /* gc.garbage, sys.last_* */

#endif /* PYL_ANALYSIS_H */
