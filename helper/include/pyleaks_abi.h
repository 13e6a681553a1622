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
  PYL_ENOTOBJECT = -10, /* the address is not an object of the graph */
  PYL_EABORTED = -11,   /* stopped early: asked to, out of time, or gdb gone */
};

enum pyl_result_kind {
  PYL_RESULT_STATUS = 0,   /* header only */
  PYL_RESULT_CENSUS = 1,   /* rows are struct pyl_census_row */
  PYL_RESULT_OBJECTS = 2,  /* rows are struct pyl_object_row */
  PYL_RESULT_ROOTS = 3,    /* rows are struct pyl_root_row */
  PYL_RESULT_CHAIN = 4,    /* rows are struct pyl_edge_row (hops), aux rows
                              struct pyl_chain_row, info pyl_target_info */
  PYL_RESULT_REFS = 5,     /* rows are struct pyl_edge_row (referents),
                              info struct pyl_target_info */
  PYL_RESULT_BACKREFS = 6, /* rows are struct pyl_edge_row (referrers),
                              info struct pyl_target_info */
  PYL_RESULT_ANALYSIS = 7, /* rows struct pyl_analysis_row, aux rows
                              uint64_t addresses, info struct
                              pyl_analysis_info */
  PYL_RESULT_PATTERNS = 9, /* rows struct pyl_pattern_row */
};

enum pyl_sort_key {
  PYL_SORT_COUNT = 0,
  PYL_SORT_BYTES = 1,
};

/* Flags for pyl_census() */
#define PYL_CENSUS_FORCE 1ull /* walk even while a collection is running */

struct pyl_result {
  uint64_t magic;             /* PYL_RESULT_MAGIC */
  int64_t status;             /* PYL_OK or a negative enum pyl_status */
  uint64_t kind;              /* enum pyl_result_kind */
  uint64_t total_objects;     /* objects in the table (whole heap) */
  uint64_t total_bytes;       /* sum of shallow sizes of all of them */
  uint64_t n_gc_tracked;      /* of which found on the GC lists */
  uint64_t n_edges;           /* references in the graph */
  uint64_t n_types;           /* distinct type objects seen */
  uint64_t n_warnings;        /* bad pointers skipped during the walk */
  uint64_t walk_ns;           /* time the walk that built the graph took */
  uint64_t call_ns;           /* time this entry point took */
  uint64_t graph_reused;      /* 1 when this call reused an existing graph */
  uint64_t mapped_bytes;      /* helper memory mapped now */
  uint64_t peak_mapped_bytes; /* most helper memory mapped (touched) so far */
  uint64_t n_rows;            /* rows returned (after --top / --limit) */
  uint64_t n_rows_total;      /* rows before truncation */
  uint64_t rows_addr;         /* address of the first row */
  uint64_t row_size;          /* sizeof one row */
  uint64_t
      strings_addr; /* NUL-terminated UTF-8 strings, rows refer by offset */
  uint64_t strings_size;
  char message[256]; /* one-line cause when status < 0; else the first
                        warning or "" */
  /* Appended after the census fields, so that a census reader of the
   * shorter struct stays valid (0 for the kinds that do not use them). */
  uint64_t info_addr;     /* kind-specific summary (struct pyl_target_info) */
  uint64_t info_size;     /* its size */
  uint64_t aux_rows_addr; /* a second row array (struct pyl_chain_row) */
  uint64_t aux_row_size;
  uint64_t n_aux_rows;
};

/* One line of the census: all objects whose type has this name. */
struct pyl_census_row {
  uint64_t count;
  uint64_t bytes;
  uint64_t name_off;       /* offset of the type name in strings */
  uint64_t type_addr;      /* one type object with that name */
  uint64_t n_type_objects; /* distinct type objects merged under the name */
};

/* One object of the type asked for. */
struct pyl_object_row {
  uint64_t address;
  uint64_t type_addr;
  uint64_t size;     /* shallow size, as in the census */
  uint64_t name_off; /* qualified type name in strings */
};

/* ---- Roots, chains, referents, referrers ---- */

/* Flags of pyl_roots_list, pyl_chain, pyl_refs, pyl_backrefs.  FORCE is
 * PYL_CENSUS_FORCE (walk even while a collection runs). */
#define PYL_CHAIN_FORCE PYL_CENSUS_FORCE
#define PYL_CHAIN_ALL_ROOTS 2ull /* pyl_chain: a chain from each root */
#define PYL_CHAIN_BY_TYPE                                                      \
  4ull /* pyl_chain: ignore addr, pick one object                              \
          of the type named at pyl_arg_addr() */

/* One root (roots.h): where a chain can start. */
struct pyl_root_row {
  uint64_t address; /* the object the root holds */
  uint64_t type_addr;
  uint64_t size;        /* its shallow size */
  uint64_t name_off;    /* its qualified type name in strings */
  uint64_t kind;        /* 1 module, 2 frame, 3 interpreter, 4 C code */
  uint64_t desc_off;    /* "module app", "thread 1 ... local 'x'", ... */
  uint64_t unexplained; /* kind 4: references no object explains */
};

/* One object in a chain, or a referent, or a referrer.
 *   chain hops:  depth = hop number (0 = the root object), via = the
 *                previous hop (0 for hop 0), label = how via refers to it;
 *                chain = which struct pyl_chain_row it belongs to.  A part
 *                via owns and a programmer reaches through by name (its
 *                __dict__, __defaults__, __closure__, __mro__, args, a
 *                3.8-3.10 generator's frame) is not a hop of its own: the
 *                label names it (`.name`, `__defaults__[0]`, `__closure__
 *                'x'`, `gi_frame local 'x'`), so one hop may be two
 *                references of the graph.
 *   referents:   depth 1, via = the object asked about, label = how via
 *                refers to this one.
 *   referrers:   depth 1..N (breadth first), via = the object this one
 *                refers to, label = how this one refers to via.  A root
 *                that holds via directly is a row with root_kind != 0,
 *                root_desc_off set and address 0 (a root is a place, not
 *                an object: a module of sys.modules, a frame local, an
 *                interpreter slot, C code). */
struct pyl_edge_row {
  uint64_t address;
  uint64_t type_addr;
  uint64_t size;
  uint64_t name_off;  /* qualified type name */
  uint64_t label_off; /* "" for hop 0 */
  uint64_t depth;
  uint64_t via;
  uint64_t root_kind; /* 0, or enum pyl_root_kind of roots.h */
  uint64_t root_desc_off;
  uint64_t chain;
};

/* One chain of a PYL_RESULT_CHAIN: hops rows [first_hop, first_hop+n_hops). */
struct pyl_chain_row {
  uint64_t root_kind;
  uint64_t root_desc_off;
  uint64_t first_hop;
  uint64_t n_hops;
};

/* The object a chain/refs/backrefs query is about. */
struct pyl_target_info {
  uint64_t address;
  uint64_t type_addr;
  uint64_t size;
  uint64_t name_off;
  int64_t refcnt;           /* ob_refcnt (a large value for immortals) */
  uint64_t in_degree;       /* references to it found in the graph */
  uint64_t reachable;       /* CHAIN: 1 when some root reaches it */
  uint64_t cycle_group;     /* CHAIN, unreachable: objects in its SCC */
  uint64_t garbage;         /* CHAIN, unreachable: what gc.collect() frees
                               with it (reachable from it, from no root) */
  uint64_t gc_enabled;      /* 1 enabled, 0 disabled, 2 unknown */
  int64_t unexplained;      /* refcnt - in_degree */
  uint64_t explanation_off; /* CHAIN, unreachable: one line */
  uint64_t picked;          /* CHAIN with PYL_CHAIN_BY_TYPE: 1 */
  uint64_t picked_why_off;
  uint64_t n_instances; /* PYL_CHAIN_BY_TYPE: objects of that type */
  uint64_t rev_reused;  /* 1 when the reverse index existed already */
  uint64_t rev_ns;      /* time building the reverse index (0 if reused) */
  uint64_t roots_ns;    /* time collecting roots (0 if reused) */
  uint64_t search_ns;   /* time of the search itself */
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

/* The call-control block (pyleaks_ctl.h) at ctl_addr, written by gdb
 * before: heartbeats, stop requests, progress, fault guards.  0 detaches
 * the helper from it.  Returns 1 when the block was accepted. */
PYL_EXPORT uint64_t pyl_control_attach(uint64_t ctl_addr);

/* ---- Entry points past the census.  Each builds the graph first if needed;
 * an address that is not an object of the graph gives PYL_ENOTOBJECT. ---- */

/* Every root of the graph (roots.h order: modules, frames, interpreter,
 * C code), at most limit rows (0 = all); n_rows_total counts them all.
 * kind PYL_RESULT_ROOTS. */
PYL_EXPORT uint64_t pyl_roots_list(uint64_t limit, uint64_t flags);

/* The shortest chain from a root to the object at addr (backward BFS over
 * reverse edges; ties go to the earlier root).  With PYL_CHAIN_ALL_ROOTS
 * the shortest chain from each distinct root that reaches it, at most
 * max_chains (0 = 1 without the flag, all with it).  With
 * PYL_CHAIN_BY_TYPE, addr is ignored and one object of the type named at
 * pyl_arg_addr() is picked (info.picked_why_off says which and why); a
 * type with no object gives PYL_ENOTYPE, an ambiguous short name
 * PYL_EAMBIGUOUS.  No root reaches it: no chain, info.reachable 0 and the
 * cycle group / garbage / unexplained analysis.  kind PYL_RESULT_CHAIN. */
PYL_EXPORT uint64_t pyl_chain(uint64_t addr, uint64_t max_chains,
                              uint64_t flags);

/* The referents of the object at addr, one row per reference, labelled,
 * in reading order (a list's items by index, a dict's entries in order,
 * attributes, then the class; unexplained references last), the first
 * max_rows of them (0 = all); n_rows_total counts them all.
 * kind PYL_RESULT_REFS. */
PYL_EXPORT uint64_t pyl_refs(uint64_t addr, uint64_t max_rows, uint64_t flags);

/* The referrers of the object at addr, breadth first to depth (>= 1),
 * each object once, at most max_rows rows (0 = all), labelled; roots
 * holding a found object directly are rows too.  kind
 * PYL_RESULT_BACKREFS. */
PYL_EXPORT uint64_t pyl_backrefs(uint64_t addr, uint64_t depth,
                                 uint64_t max_rows, uint64_t flags);

/* ---- Leak analysis: who holds the heap, and the causes named ---- */

enum pyl_analysis_section {
  PYL_SECTION_SUSPECT = 1,   /* a biggest holder: the object where a
                                large retained share accumulates */
  PYL_SECTION_FINDING = 2,   /* a named cause (enum pyl_finding_kind) */
  PYL_SECTION_CONTAINER = 3, /* a big container, for growth between looks */
  PYL_SECTION_TYPE = 4,      /* retained bytes of a census row's objects */
};

enum pyl_finding_kind {
  PYL_FIND_MUTABLE_DEFAULT = 1,
  PYL_FIND_LRU_INSTANCES = 2,
  PYL_FIND_RETAINED_TRACEBACK = 3,
  PYL_FIND_OBSERVER = 4,
  PYL_FIND_CYCLIC_GARBAGE = 5,
  PYL_FIND_UNCOLLECTABLE = 6,
  PYL_FIND_UNEXPLAINED = 7,
};

/* One row of an analysis.  Per section:
 *   SUSPECT:   address = the accumulation point, bytes = what it retains,
 *              count = objects it retains, subject = the type most of its
 *              retained bytes are, length = its items if a container.
 *   FINDING:   kind; address = the object the finding is about (the
 *              container, the default, the lru_cache wrapper, the
 *              exception; 0 when it is a set of objects: garbage, C-held);
 *              count and bytes as docs/json.md says per kind; subject =
 *              the type of the objects involved; members = some of them.
 *   CONTAINER: address, length, bytes (retained).
 *   TYPE:      name_off = the census row's name, count = its objects,
 *              bytes = what they retain together. */
struct pyl_analysis_row {
  uint64_t section;
  uint64_t kind;
  uint64_t address;
  uint64_t type_addr;
  uint64_t size;
  uint64_t name_off;    /* the object's qualified type name */
  uint64_t count;
  uint64_t bytes;
  uint64_t subject_off; /* a qualified type name, or "" */
  uint64_t length;      /* container items, or 0 */
  uint64_t first_member; /* aux rows [first_member, +n_members) */
  uint64_t n_members;
};

struct pyl_analysis_info {
  uint64_t reachable_objects; /* reached from some root */
  uint64_t reachable_bytes;
  uint64_t garbage_objects; /* reached from no root: cyclic garbage */
  uint64_t garbage_bytes;
  uint64_t garbage_gc_objects; /* of which on the GC lists */
  uint64_t gc_enabled;         /* 1, 0, or 2 when unknown */
  uint64_t dom_ns;             /* dominator tree and retained sizes */
  uint64_t find_ns;            /* suspects and findings */
  uint64_t rev_ns;
  uint64_t roots_ns;
  uint64_t dom_reused; /* 1 when the dominator tree existed already */
};

/* Build (once per graph) the reverse edges, the roots and the dominator
 * tree from a virtual root above all roots; then return the biggest
 * holders (at most max_suspects), the named causes, the big containers
 * (at most max_containers, longest first) and the retained bytes per
 * census row.  kind PYL_RESULT_ANALYSIS. */
PYL_EXPORT uint64_t pyl_analyze(uint64_t max_suspects, uint64_t max_containers,
                                uint64_t flags);

/* ---- Holders by path pattern ---- */

/* The objects of one type held the same way: their chains from a root
 * (the first shortest, as a forward search from all roots finds them)
 * read alike once indices and keys are generalised:
 * `module app ._sessions [*]`.  pattern_off is "" for the objects no
 * root reaches. */
struct pyl_pattern_row {
  uint64_t count;
  uint64_t bytes;       /* retained when the dominator tree exists (see
                           pyl_analyze), else shallow */
  uint64_t example;     /* the one with the shortest chain */
  uint64_t pattern_off; /* root description and generalised labels */
  uint64_t retained;    /* 1 when bytes are retained sizes */
};

/* The objects of the type named at pyl_arg_addr() grouped by path
 * pattern, the biggest groups first, at most max_rows (0 = all);
 * n_rows_total counts the groups.  PYL_ENOTYPE / PYL_EAMBIGUOUS as
 * pyl_objects.  kind PYL_RESULT_PATTERNS. */
PYL_EXPORT uint64_t pyl_patterns(uint64_t max_rows, uint64_t flags);

/* ---- Object identities: py-leaks --save and --new ---- */

#define PYL_RESULT_IDS 8 /* rows struct pyl_id_row, sorted by address */

/* One object by its identity: its address and its type object's. */
struct pyl_id_row {
  uint64_t address;
  uint64_t type_addr;
};

/* What pyl_ids_new found (its result's info). */
struct pyl_ids_info {
  uint64_t new_objects; /* alive now, not in the old list */
  uint64_t new_bytes;   /* their shallow sizes */
  uint64_t old_objects; /* in the old list */
  uint64_t gone_objects; /* in the old list, not alive now */
  uint64_t merge_ns;    /* sort and merge */
};

/* Build the graph if needed; return the identity of every object of it,
 * sorted by address (kind PYL_RESULT_IDS, n_rows rows of row_size bytes). */
PYL_EXPORT uint64_t pyl_ids(uint64_t flags);

/* A buffer of n_rows struct pyl_id_row for gdb to write an old list of
 * identities into (sorted by address, as pyl_ids gave it); 0 when it
 * cannot be mapped.  It stays mapped until the next pyl_ids_new() or
 * pyl_ids_buffer() call (pyl_ids_buffer(0) only unmaps it). */
PYL_EXPORT uint64_t pyl_ids_buffer(uint64_t n_rows);

/* The objects of the graph (built if needed) whose identity is not among
 * the first n_old rows of the buffer: census rows by type name, most
 * objects first, all of them (kind PYL_RESULT_CENSUS), and a struct
 * pyl_ids_info as the result's info.  Unmaps the buffer. */
PYL_EXPORT uint64_t pyl_ids_new(uint64_t n_old, uint64_t flags);

#endif /* PYLEAKS_ABI_H */
