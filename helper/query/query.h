/*
 * query.h — steps shared by the entry points past the census (queries.c,
 * query_chain.c, query_pick.c, query_backrefs.c): the strings of a
 * result, the lazily built reverse edges and roots, the object asked
 * about, and rows of references.  Internal to those files.
 */
#ifndef PYL_QUERY_H
#define PYL_QUERY_H

#include "chain.h"
#include "engine.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
  PYL_LABEL_MAX = 256, /* one label */
  PYL_TEXT_MAX = 512,  /* one explanation */
  PYL_GC_UNKNOWN = 2,  /* pyl_target_info.gc_enabled when unknown */
};

/* The strings of a result: the type names area is copied first, so that
 * a row's name_off is the type record's own offset; labels and
 * descriptions follow. */
struct pyl_qstr {
  struct pyl_arena *a;
  uint64_t empty; /* offset of "" */
  bool oom;
};

void pyl_qstr_begin(struct pyl_call *call, struct pyl_qstr *s);
/* Offset of a copy of str (of "" when out of memory: see pyl_qstr_end). */
uint64_t pyl_qstr_add(struct pyl_qstr *s, const char *str);
/* Point the result at the strings, or fail the call if they ran out. */
void pyl_qstr_end(struct pyl_call *call, struct pyl_qstr *s);

/* n elements of size bytes from the scratch arena (fails the call). */
void *pyl_q_scratch(struct pyl_call *call, size_t n, size_t size);

/* Index of the object at addr, or PYL_NONE with PYL_ENOTOBJECT and a
 * message saying why not (null, unreadable, no object starts there). */
uint32_t pyl_q_find(struct pyl_call *call, uint64_t addr);

/* Whether the call must stop (pyl_control_tick()); then it is failed with
 * PYL_EABORTED and the reason. */
bool pyl_q_stopped(struct pyl_call *call);

/* Reverse edges, then roots (their C-held residue needs the graph); each
 * built once per graph, its reservation made on first use. */
void pyl_q_need_rev(struct pyl_call *call, struct pyl_target_info *info);
void pyl_q_need_roots(struct pyl_call *call, struct pyl_target_info *info);

struct pyl_q_obj {
  uint64_t address;
  uint64_t type_addr;
  uint64_t size;
  uint64_t name_off;
};

struct pyl_q_obj pyl_q_obj(struct pyl_ctx *c, uint32_t i);

/* The result's struct pyl_target_info (zeroed), or NULL (call failed). */
struct pyl_target_info *pyl_q_info(struct pyl_call *call);
void pyl_q_describe(struct pyl_call *call, struct pyl_target_info *info,
                    uint32_t target);

struct pyl_graph pyl_q_graph(const struct pyl_ctx *c);

/* The object whose __dict__ y is (an instance, a module, a class), or
 * PYL_NONE: its entries read as that object's attributes.  Needs the
 * reverse edges. */
uint32_t pyl_q_namespace_owner(struct pyl_ctx *c, uint32_t y);

/* gc.isenabled() of the target: 1, 0, or PYL_GC_UNKNOWN. */
uint64_t pyl_q_gc_enabled(struct pyl_ctx *c);

/* The label of src -> dst (prev: the hop before src, or PYL_NONE). */
void pyl_q_label(struct pyl_ctx *c, uint32_t src, uint32_t dst, uint32_t prev,
                 struct pyl_qstr *s, uint64_t *off);
/* A row for object obj, label and root description "". */
void pyl_q_edge_row(struct pyl_ctx *c, struct pyl_edge_row *row, uint32_t obj,
                    struct pyl_qstr *s);

/* objects.c: the census row of the type named `want` (qualified, or a
 * short name only one type has), or UINT32_MAX with the call failed:
 * PYL_ENOTYPE, PYL_EAMBIGUOUS (the message names the candidates) or
 * PYL_EINVAL for "". */
uint32_t pyl_q_type_row(struct pyl_call *call, const char *want);

/* query_pick.c: the object of the type named at pyl_arg_addr() that
 * explains the others (info->picked_why_off says which and why).  Resets
 * the scratch arena.  PYL_NONE with the call failed when none. */
uint32_t pyl_q_pick(struct pyl_call *call, struct pyl_target_info *info,
                    struct pyl_qstr *qs);

#endif /* PYL_QUERY_H */
