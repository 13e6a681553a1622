/*
 * names.h — type names, and census rows aggregated by name.
 *
 * Every type in the table gets its qualified name rendered once per graph
 * (docs/architecture.md "Type names"): a static type's tp_name as is; a
 * heap type's __module__ (from its tp_dict) + "." + ht_qualname, or the
 * bare qualname when the module is "builtins", missing or not a str.
 * Types with the same name (a class defined twice, reloaded modules) are
 * merged into one row.  Names live in one string area that the results
 * point into by offset.
 */
#ifndef PYL_NAMES_H
#define PYL_NAMES_H

#include "arena.h"
#include "vec.h"

#include <stddef.h>
#include <stdint.h>
/* libiberty's header needs size_t first */
#include <libiberty/hashtab.h>

struct pyl_view;

struct pyl_name_row {
  const char *name; /* first: the hash table keys on it */
  uint64_t count;
  uint64_t bytes;
  uint64_t type_addr; /* the first type seen with this name */
  uint64_t n_types;
  uint32_t name_off;
};

struct pyl_names {
  struct pyl_arena a_str; /* NUL-terminated UTF-8 strings */
  struct pyl_vec v_rows;  /* struct pyl_name_row[] */
  struct pyl_arena a_htab;
  struct pyl_name_row *rows;
  htab_t htab;
  uint32_t n_rows;
};

bool pyl_names_init(struct pyl_names *n);
void pyl_names_clear(struct pyl_names *n);
void pyl_names_release(struct pyl_names *n);

/* Add a string to the area; its offset, or UINT32_MAX when full. */
uint32_t pyl_names_add(struct pyl_names *n, const char *s);

static inline const char *pyl_names_str(const struct pyl_names *n,
                                        uint32_t off) {
  return (const char *)n->a_str.base + off;
}

/* Render the name of every type and aggregate the rows. */
bool pyl_names_build(struct pyl_view *c);

#endif /* PYL_NAMES_H */
