"""Constants and binary formats of helper/include/pyleaks_abi.h.

The header is the contract; this module mirrors it for gdb's Python, which
cannot include C.  Everything is little-endian uint64_t (x86-64), so the
struct module reads it without DWARF for the helper."""

import struct

LAYOUT_MAGIC = 0x3154554f59414c50  # "PLAYOUT1"
RESULT_MAGIC = 0x31544c5352594c50  # "PYLRSLT1"

OK = 0
EINVAL = -1
ELAYOUT = -2
ENOMEM = -3
EGCBUSY = -4
ECORRUPT = -5
ENOTYPE = -6
EAMBIGUOUS = -7
ENOGRAPH = -8
EVERSION = -9
ENOTOBJECT = -10
EABORTED = -11

STATUS_NAMES = {
    OK: "PYL_OK", EINVAL: "PYL_EINVAL", ELAYOUT: "PYL_ELAYOUT",
    ENOMEM: "PYL_ENOMEM", EGCBUSY: "PYL_EGCBUSY", ECORRUPT: "PYL_ECORRUPT",
    ENOTYPE: "PYL_ENOTYPE", EAMBIGUOUS: "PYL_EAMBIGUOUS",
    ENOGRAPH: "PYL_ENOGRAPH", EVERSION: "PYL_EVERSION",
    ENOTOBJECT: "PYL_ENOTOBJECT", EABORTED: "PYL_EABORTED",
}

RESULT_STATUS = 0
RESULT_CENSUS = 1
RESULT_OBJECTS = 2
RESULT_ROOTS = 3
RESULT_CHAIN = 4
RESULT_REFS = 5
RESULT_BACKREFS = 6
RESULT_ANALYSIS = 7
RESULT_PATTERNS = 9

SORT_KEYS = {"count": 0, "bytes": 1}

CENSUS_FORCE = 1

# struct pyl_result: magic, status (int64), then 18 uint64_t, then
# char message[256], then the 5 uint64_t of the second row array and the
# summary (tests/test_ctl_abi.py checks every format against the header).
RESULT_FIELDS = (
    "magic", "status", "kind", "total_objects", "total_bytes",
    "n_gc_tracked", "n_edges", "n_types", "n_warnings", "walk_ns",
    "call_ns", "graph_reused", "mapped_bytes", "peak_mapped_bytes",
    "n_rows", "n_rows_total", "rows_addr", "row_size", "strings_addr",
    "strings_size", "message",
    "info_addr", "info_size", "aux_rows_addr", "aux_row_size", "n_aux_rows",
)
RESULT_STRUCT = struct.Struct("<Qq18Q256s5Q")

# struct pyl_census_row and struct pyl_object_row
CENSUS_ROW_FIELDS = ("count", "bytes", "name_off", "type_addr",
                     "n_type_objects")
CENSUS_ROW_STRUCT = struct.Struct("<5Q")
OBJECT_ROW_FIELDS = ("address", "type_addr", "size", "name_off")
OBJECT_ROW_STRUCT = struct.Struct("<4Q")

# Roots, chains, referents, referrers.
CHAIN_FORCE = CENSUS_FORCE
CHAIN_ALL_ROOTS = 2
CHAIN_BY_TYPE = 4

# enum pyl_root_kind of helper/roots/roots.h, as the Python API names them.
ROOT_KINDS = {1: "module", 2: "frame", 3: "interpreter", 4: "c"}

ROOT_ROW_FIELDS = ("address", "type_addr", "size", "name_off", "kind",
                   "desc_off", "unexplained")
ROOT_ROW_STRUCT = struct.Struct("<7Q")
EDGE_ROW_FIELDS = ("address", "type_addr", "size", "name_off", "label_off",
                   "depth", "via", "root_kind", "root_desc_off", "chain")
EDGE_ROW_STRUCT = struct.Struct("<10Q")
CHAIN_ROW_FIELDS = ("root_kind", "root_desc_off", "first_hop", "n_hops")
CHAIN_ROW_STRUCT = struct.Struct("<4Q")
TARGET_INFO_FIELDS = (
    "address", "type_addr", "size", "name_off", "refcnt", "in_degree",
    "reachable", "cycle_group", "garbage", "gc_enabled", "unexplained",
    "explanation_off", "picked", "picked_why_off", "n_instances",
    "rev_reused", "rev_ns", "roots_ns", "search_ns",
)
TARGET_INFO_STRUCT = struct.Struct("<4Qq5Qq8Q")

# The leak analysis: struct pyl_analysis_row, struct pyl_analysis_info.
SECTION_SUSPECT = 1
SECTION_FINDING = 2
SECTION_CONTAINER = 3
SECTION_TYPE = 4
FINDING_KINDS = {
    1: "mutable_default", 2: "lru_cache_instances", 3: "retained_traceback",
    4: "observer_leak", 5: "cyclic_garbage", 6: "uncollectable",
    7: "unexplained_refs",
}
ANALYSIS_ROW_FIELDS = (
    "section", "kind", "address", "type_addr", "size", "name_off", "count",
    "bytes", "subject_off", "length", "first_member", "n_members",
)
ANALYSIS_ROW_STRUCT = struct.Struct("<12Q")
ANALYSIS_INFO_FIELDS = (
    "reachable_objects", "reachable_bytes", "garbage_objects",
    "garbage_bytes", "garbage_gc_objects", "gc_enabled", "dom_ns",
    "find_ns", "rev_ns", "roots_ns", "dom_reused",
)
ANALYSIS_INFO_STRUCT = struct.Struct("<11Q")

# struct pyl_pattern_row: objects of a type grouped by path pattern.
PATTERN_ROW_FIELDS = ("count", "bytes", "example", "pattern_off",
                      "retained")
PATTERN_ROW_STRUCT = struct.Struct("<5Q")

# The entry points gdb looks up with dlsym, and their C signatures.
ENTRY_POINTS = {
    "pyl_layout_addr": 0,
    "pyl_arg_addr": 0,
    "pyl_arg_size": 0,
    "pyl_census": 3,
    "pyl_objects": 2,
    "pyl_roots_list": 2,
    "pyl_chain": 3,
    "pyl_refs": 3,
    "pyl_backrefs": 4,
    "pyl_invalidate": 0,
    "pyl_release": 0,
    "pyl_control_attach": 1,
    "pyl_ids": 1,
    "pyl_ids_buffer": 1,
    "pyl_ids_new": 2,
    "pyl_analyze": 3,
    "pyl_patterns": 2,
}

# Object identities (py-leaks --save / --new): struct pyl_id_row, sorted by
# address, and struct pyl_ids_info.
RESULT_IDS = 8
ID_ROW_FIELDS = ("address", "type_addr")
ID_ROW_STRUCT = struct.Struct("<2Q")
IDS_INFO_FIELDS = ("new_objects", "new_bytes", "old_objects", "gone_objects",
                   "merge_ns")
IDS_INFO_STRUCT = struct.Struct("<5Q")
