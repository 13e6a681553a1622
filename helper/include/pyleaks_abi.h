/*
 * pyleaks_abi.h — the contract between the gdb plugin and the helper.
 *
 * The helper is a shared object that gdb dlopen()s into the target process
 * (live mode).  gdb writes a struct pyl_layout into the helper's own memory,
 * calls one entry point at a time with only the calling thread resumed, and
 * reads the struct pyl_result the entry point returns the address of.
 * Everything here is plain uint64_t so gdb can pack and unpack it with
 * Python's struct module without DWARF for the helper.
 *
 * Ownership: every buffer an entry point returns belongs to the helper and
 * stays valid until the next entry point call (pyl_release() frees all of
 * it).  The graph (object table + edges) survives between calls until
 * pyl_invalidate() or pyl_release().
 *
 * Error convention: an entry point never crashes on bad input it can
 * detect; it returns a result whose status is a negative PYL_E* code and
 * whose message is one line saying the cause.
 */
#ifndef PYLEAKS_ABI_H
#define PYLEAKS_ABI_H

#include <stdint.h>

#define PYL_LAYOUT_MAGIC 0x3154554f59414c50ull /* "PLAYOUT1" */
#define PYL_RESULT_MAGIC 0x31544c5352594c50ull /* "PYLRSLT1" */

/* Filled by gdb, field by field, from layout_fields.def. */
struct pyl_layout {
#define PYL_LAYOUT_FIELD(name) uint64_t name;
#include "../layout_fields.def"
#undef PYL_LAYOUT_FIELD
};

/* Status codes (negative) */
enum pyl_status {
  PYL_OK = 0,
  PYL_EINVAL = -1,      /* bad argument (e.g. unknown sort key) */
  PYL_ELAYOUT = -2,     /* layout missing, wrong magic or insane values */
  PYL_ENOMEM = -3,      /* could not map helper memory */
  PYL_EGCBUSY = -4,     /* a garbage collection is in progress */
  PYL_ECORRUPT = -5,    /* a GC list is inconsistent (walk aborted) */
  PYL_ENOTYPE = -6,     /* py-objects: no live object of that type */
  PYL_EAMBIGUOUS = -7,  /* py-objects: short name matches several types */
  PYL_ENOGRAPH = -8,    /* a query needs the graph and none is built */
  PYL_EVERSION = -9,    /* py_version_hex not supported */
};

enum pyl_result_kind {
  PYL_RESULT_STATUS = 0,  /* header only */
  PYL_RESULT_CENSUS = 1,  /* rows are struct pyl_census_row */
  PYL_RESULT_OBJECTS = 2, /* rows are struct pyl_object_row */
};

enum pyl_sort_key {
  PYL_SORT_COUNT = 0,
  PYL_SORT_BYTES = 1,
};

/* Flags for pyl_census() */
#define PYL_CENSUS_FORCE 1ull /* walk even while a collection is running */

struct pyl_result {
  uint64_t magic;           /* PYL_RESULT_MAGIC */
  int64_t status;           /* PYL_OK or a negative enum pyl_status */
  uint64_t kind;            /* enum pyl_result_kind */
  uint64_t total_objects;   /* objects in the table (whole heap) */
  uint64_t total_bytes;     /* sum of shallow sizes of all of them */
  uint64_t n_gc_tracked;    /* of which found on the GC lists */
  uint64_t n_edges;         /* references in the graph */
  uint64_t n_types;         /* distinct type objects seen */
  uint64_t n_warnings;      /* bad pointers skipped during the walk */
  uint64_t walk_ns;         /* time the walk that built the graph took */
  uint64_t call_ns;         /* time this entry point took */
  uint64_t graph_reused;    /* 1 when this call reused an existing graph */
  uint64_t mapped_bytes;    /* helper memory mapped now */
  uint64_t peak_mapped_bytes; /* most helper memory mapped (touched) so far */
  uint64_t n_rows;          /* rows returned (after --top / --limit) */
  uint64_t n_rows_total;    /* rows before truncation */
  uint64_t rows_addr;       /* address of the first row */
  uint64_t row_size;        /* sizeof one row */
  uint64_t strings_addr;    /* NUL-terminated UTF-8 strings, rows refer by offset */
  uint64_t strings_size;
  char message[256];        /* one-line cause when status < 0; else the first
                               warning or "" */
};

/* One line of the census: all objects whose type has this name. */
struct pyl_census_row {
  uint64_t count;
  uint64_t bytes;
  uint64_t name_off;  /* offset of the type name in strings */
  uint64_t type_addr; /* one type object with that name */
  uint64_t n_type_objects; /* distinct type objects merged under the name */
};

/* One object of the type asked for. */
struct pyl_object_row {
  uint64_t address;
  uint64_t type_addr;
  uint64_t size;      /* shallow size, as in the census */
  uint64_t name_off;  /* qualified type name in strings */
};

#if defined(__GNUC__)
#define PYL_EXPORT __attribute__((visibility("default")))
#else
#define PYL_EXPORT
#endif

/* Address of the helper's struct pyl_layout, for gdb to write into. */
PYL_EXPORT uint64_t pyl_layout_addr(void);

/* Address and size of a scratch buffer for string arguments (4096 bytes). */
PYL_EXPORT uint64_t pyl_arg_addr(void);
PYL_EXPORT uint64_t pyl_arg_size(void);

/* Build the graph if there is none (walk every GC list, traverse every
 * object with tp_traverse), then return the census by type name, sorted by
 * sort_key (enum pyl_sort_key) descending, at most top_n rows (0 = all).
 * flags: PYL_CENSUS_FORCE.  Returns the address of a struct pyl_result. */
PYL_EXPORT uint64_t pyl_census(uint64_t sort_key, uint64_t top_n,
                               uint64_t flags);

/* Objects whose type name matches the NUL-terminated name gdb wrote at
 * pyl_arg_addr(): the qualified name ("app.handlers.Handler", "dict") or
 * the short one (the qualname "Handler", or the last dotted component).
 * Builds the graph first if needed.  At most limit rows (0 = all), in
 * table order.  n_rows_total counts all matches. */
PYL_EXPORT uint64_t pyl_objects(uint64_t limit, uint64_t flags);

/* Forget the graph (the target ran since it was built); keeps the mappings
 * reserved for reuse but returns their pages to the kernel. */
PYL_EXPORT uint64_t pyl_invalidate(void);

/* Unmap every byte the helper mapped.  After this the helper holds no
 * memory and may be dlclose()d. */
PYL_EXPORT uint64_t pyl_release(void);

#endif /* PYLEAKS_ABI_H */
