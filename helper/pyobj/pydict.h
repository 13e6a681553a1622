/*
 * pydict.h — reading CPython dicts without calling into the interpreter.
 *
 * The keys table encoding differs by version (the layout gives offsets,
 * the encodings are these small per-version code paths):
 *   3.8-3.10  dk_size; index width 1/2/4/8 by dk_size; 24-byte entries
 *             {hash, key, value}; split tables keep values in ma_values[].
 *   3.11+     dk_log2_size, dk_log2_index_bytes, dk_kind: 0 general
 *             (24-byte entries), 1 unicode (16-byte {key, value}), 2 split
 *             (unicode entries, values in a PyDictValues: values[] at +0 on
 *             3.11/3.12, after a 4-byte header padded to 8 on 3.13).
 */
#ifndef PYL_PYDICT_H
#define PYL_PYDICT_H

#include <stdbool.h>
#include <stdint.h>

struct pyl_layout;
struct pyl_view;

/* The shape of a keys table, from its header (readable at kp up to
 * dk_indices_off): how many index slots, how many bytes of index, how
 * many bytes per entry, and its kind (3.11+: dk_kind; 0 before). */
struct pyl_dict_shape {
  uint64_t size;
  uint64_t index_bytes;
  unsigned esize;
  unsigned kind;
};

enum {
  PYL_DICT_KIND_GENERAL = 0, /* 24-byte entries {hash, key, value} */
  PYL_DICT_KIND_UNICODE = 1, /* 16-byte entries {key, value} */
  PYL_DICT_KIND_SPLIT = 2,   /* unicode entries, values elsewhere */
};

/* False when the header is implausible for the version. */
bool pyl_dict_shape(const struct pyl_layout *L, const void *kp,
                    struct pyl_dict_shape *k);

/* Called per (key, value) with a non-NULL value, in entry order; return
 * non-zero to stop. */
typedef int (*pyl_dict_fn)(uint64_t key, uint64_t value, void *arg);

/* Iterate the dict at addr.  False when its tables are unreadable or
 * implausible (then nothing, or only a prefix, was visited). */
bool pyl_dict_foreach(struct pyl_view *c, uint64_t addr, pyl_dict_fn fn,
                      void *arg);

/* The value stored under the str key `name` (ASCII), or 0. */
uint64_t pyl_dict_get_str(struct pyl_view *c, uint64_t addr, const char *name);

/* Bytes the dict owns outside its object: the keys table when not shared
 * and the split values array (dict.__sizeof__ minus tp_basicsize). */
uint64_t pyl_dict_extra(struct pyl_view *c, uint64_t addr);

#endif /* PYL_PYDICT_H */
