/*
 * code.h — the local slots of a code object and their names.
 *
 * A frame's localsplus array holds the variables first; which name and
 * whether a cell goes with slot i is decided by the code object, in two
 * ways:
 *
 *   3.8-3.10  co_nlocals locals named by co_varnames, then one slot per
 *             co_cellvars and co_freevars entry (those hold cells);
 *   3.11+     co_nlocalsplus slots named by co_localsplusnames, the kind
 *             of each in the bytes co_localspluskinds (CO_FAST_CELL,
 *             CO_FAST_FREE).
 *
 * The frames of the roots and the labels of frame objects and generators
 * both name slots through this.
 */
#ifndef PYL_CODE_H
#define PYL_CODE_H

#include <stdbool.h>
#include <stdint.h>

struct pyl_view;

enum {
  PYL_CODE_MAX_SLOTS = 1 << 20, /* locals + cells + frees we believe */
};

struct pyl_code_slots {
  uint64_t names[3]; /* 3.8-3.10 varnames, cellvars, freevars; 3.11+
                        localsplusnames in names[0] */
  uint32_t count[3]; /* how many slots each names */
  uint32_t n;        /* localsplus entries that are variables */
  uint64_t kinds;    /* 3.11+: address of the co_localspluskinds bytes */
};

/* The slots of the code object at code; false when it is no code object
 * or its name tuples are shorter than its slot count. */
bool pyl_code_slots(struct pyl_view *c, uint64_t code,
                    struct pyl_code_slots *s);

/* The str naming slot i (< s->n), or 0. */
uint64_t pyl_code_slot_name(struct pyl_view *c, const struct pyl_code_slots *s,
                            uint32_t i);

/* Whether slot i is a cell or free variable (it then holds a cell once
 * the frame has started). */
bool pyl_code_slot_is_cell(struct pyl_view *c, const struct pyl_code_slots *s,
                           uint32_t i);

#endif /* PYL_CODE_H */
