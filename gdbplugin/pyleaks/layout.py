"""libpython's DWARF -> the bytes of struct pyl_layout.

The field list and its order come from helper/layout_fields.def, parsed at
run time, so the C struct and what gdb packs cannot drift.  Each field has
one rule below saying where its value comes from; a field the running
version does not have is 0.  Version dispatch happens here, once per
session: the helper only ever sees numbers."""

import re
import struct

import gdb

from . import abi
from .errors import PyleaksError, translate

_FIELD_RE = re.compile(r"^\s*PYL_LAYOUT_FIELD\(\s*(\w+)\s*\)")

MAX_INTERPRETERS = 8
LISTS_PER_INTERPRETER = 4       # generations 0..2 and the permanent one


def parse_def(path):
    """Field names of layout_fields.def, in ABI order."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.readlines()
    except OSError as exc:
        raise PyleaksError("cannot read the layout field list %s (%s)"
                           % (path, exc.strerror),
                           "Reinstall pyleaks or rebuild it with make")
    names = [m.group(1) for m in map(_FIELD_RE.match, lines) if m]
    if not names or names[:2] != ["magic", "nfields"]:
        raise PyleaksError("%s does not look like layout_fields.def" % path,
                           "Reinstall pyleaks or rebuild it with make")
    return names


# --- DWARF access -----------------------------------------------------------

def _find_field(struct_type, name):
    """(byte offset, gdb.Field) of a member, looking through anonymous
    structs and unions (3.12's ob_refcnt lives in one)."""
    for field in struct_type.strip_typedefs().fields():
        if field.name == name:
            return field.bitpos // 8, field
        if field.name is None and field.type.strip_typedefs().code in (
                gdb.TYPE_CODE_STRUCT, gdb.TYPE_CODE_UNION):
            found = _find_field(field.type, name)
            if found:
                return field.bitpos // 8 + found[0], found[1]
    return None


def lookup_type(name):
    try:
        return gdb.lookup_type(name)
    except gdb.error:
        return None


def offset_of(type_name, path):
    """offsetof(type_name, path) with path like "long_value.lv_tag", or
    None when the version has no such type or member."""
    current = lookup_type(type_name)
    if current is None:
        return None
    total = 0
    for part in path.split("."):
        found = _find_field(current, part)
        if found is None:
            return None
        total += found[0]
        current = found[1].type
    return total


def size_of(type_name):
    t = lookup_type(type_name)
    return t.sizeof if t is not None else None


def bit_position(type_name, field, member):
    """Bit position of `member` inside the bitfield struct `field`."""
    found = _find_field(lookup_type(type_name), field)
    if found is None:
        return None
    inner = _find_field(found[1].type, member)
    return inner[1].bitpos if inner else None


def address_of(symbol):
    try:
        return int(gdb.parse_and_eval("(unsigned long)&%s" % symbol))
    except gdb.error:
        return None


# --- the rules --------------------------------------------------------------

V311, V312 = (3, 11), (3, 12)

# name -> (rule, first version that has it or None, last version or None).
# A rule returns the value or None when DWARF does not have it.
def _o(t, f):
    return lambda target: offset_of(t, f)


def _s(t):
    return lambda target: size_of(t)


def _a(sym):
    return lambda target: address_of(sym)


def _preheader_flags(target):
    # Py_TPFLAGS_MANAGED_DICT (1<<4); 3.12+ also MANAGED_WEAKREF (1<<3).
    # Flag semantics are not in DWARF.
    if target.version >= V312:
        return 1 << 4 | 1 << 3
    if target.version >= V311:
        return 1 << 4
    return 0


RULES = {
    "magic": (lambda target: abi.LAYOUT_MAGIC, None, None),
    "py_version_hex": (lambda target: target.version_hex, None, None),
    "sizeof_gc_head": (_s("PyGC_Head"), None, None),
    "ob_refcnt_off": (_o("PyObject", "ob_refcnt"), None, None),
    "ob_type_off": (_o("PyObject", "ob_type"), None, None),
    "ob_size_off": (_o("PyVarObject", "ob_size"), None, None),
    "tp_name_off": (_o("PyTypeObject", "tp_name"), None, None),
    "tp_basicsize_off": (_o("PyTypeObject", "tp_basicsize"), None, None),
    "tp_itemsize_off": (_o("PyTypeObject", "tp_itemsize"), None, None),
    "tp_flags_off": (_o("PyTypeObject", "tp_flags"), None, None),
    "tp_traverse_off": (_o("PyTypeObject", "tp_traverse"), None, None),
    "tp_is_gc_off": (_o("PyTypeObject", "tp_is_gc"), None, None),
    "tp_base_off": (_o("PyTypeObject", "tp_base"), None, None),
    "tp_dict_off": (_o("PyTypeObject", "tp_dict"), None, None),
    "ht_qualname_off": (_o("PyHeapTypeObject", "ht_qualname"), None, None),
    "preheader_flags": (_preheader_flags, None, None),
    "preheader_size": (lambda target: 16 if _preheader_flags(target) else 0,
                       None, None),
    "unicode_length_off": (_o("PyASCIIObject", "length"), None, None),
    "unicode_state_off": (_o("PyASCIIObject", "state"), None, None),
    "unicode_kind_shift": (
        lambda target: bit_position("PyASCIIObject", "state", "kind"),
        None, None),
    "unicode_compact_bit": (
        lambda target: bit_position("PyASCIIObject", "state", "compact"),
        None, None),
    "unicode_ascii_bit": (
        lambda target: bit_position("PyASCIIObject", "state", "ascii"),
        None, None),
    "sizeof_ascii_object": (_s("PyASCIIObject"), None, None),
    "sizeof_compact_unicode": (_s("PyCompactUnicodeObject"), None, None),
    "unicode_utf8_off": (_o("PyCompactUnicodeObject", "utf8"), None, None),
    "unicode_utf8_length_off": (
        _o("PyCompactUnicodeObject", "utf8_length"), None, None),
    "unicode_wstr_off": (_o("PyASCIIObject", "wstr"), None, V311),
    "unicode_wstr_length_off": (
        _o("PyCompactUnicodeObject", "wstr_length"), None, V311),
    "unicode_data_off": (_o("PyUnicodeObject", "data"), None, None),
    "long_lv_tag_off": (_o("PyLongObject", "long_value.lv_tag"), V312, None),
    "long_digit_size": (_s("digit"), None, None),
    "long_digit_off": (
        lambda target: offset_of("PyLongObject", "long_value.ob_digit"
                                 if target.version >= V312 else "ob_digit"),
        None, None),
    "float_fval_off": (_o("PyFloatObject", "ob_fval"), None, None),
    "dict_ma_used_off": (_o("PyDictObject", "ma_used"), None, None),
    "dict_ma_keys_off": (_o("PyDictObject", "ma_keys"), None, None),
    "dict_ma_values_off": (_o("PyDictObject", "ma_values"), None, None),
    "dk_refcnt_off": (_o("PyDictKeysObject", "dk_refcnt"), None, None),
    "dk_size_off": (_o("PyDictKeysObject", "dk_size"), None, (3, 10)),
    "dk_log2_size_off": (_o("PyDictKeysObject", "dk_log2_size"), V311, None),
    "dk_log2_index_bytes_off": (
        _o("PyDictKeysObject", "dk_log2_index_bytes"), V311, None),
    "dk_kind_off": (_o("PyDictKeysObject", "dk_kind"), V311, None),
    "dk_usable_off": (_o("PyDictKeysObject", "dk_usable"), None, None),
    "dk_nentries_off": (_o("PyDictKeysObject", "dk_nentries"), None, None),
    "dk_indices_off": (_o("PyDictKeysObject", "dk_indices"), None, None),
    "sizeof_dict_keys": (_s("PyDictKeysObject"), None, None),
    "dict_values_values_off": (_o("PyDictValues", "values"), (3, 13), None),
    "dict_values_capacity_off": (
        _o("PyDictValues", "capacity"), (3, 13), None),
    "dict_values_valid_off": (_o("PyDictValues", "valid"), (3, 13), None),
    "list_ob_item_off": (_o("PyListObject", "ob_item"), None, None),
    "list_allocated_off": (_o("PyListObject", "allocated"), None, None),
    "tuple_ob_item_off": (_o("PyTupleObject", "ob_item"), None, None),
    "set_mask_off": (_o("PySetObject", "mask"), None, None),
    "set_table_off": (_o("PySetObject", "table"), None, None),
    "set_smalltable_off": (_o("PySetObject", "smalltable"), None, None),
    "set_used_off": (_o("PySetObject", "used"), None, None),
    "sizeof_setentry": (_s("setentry"), None, None),
    "bytearray_alloc_off": (_o("PyByteArrayObject", "ob_alloc"), None, None),
    "type_type": (_a("PyType_Type"), None, None),
    "object_type": (_a("PyBaseObject_Type"), None, None),
    "str_type": (_a("PyUnicode_Type"), None, None),
    "int_type": (_a("PyLong_Type"), None, None),
    "bool_type": (_a("PyBool_Type"), None, None),
    "float_type": (_a("PyFloat_Type"), None, None),
    "bytes_type": (_a("PyBytes_Type"), None, None),
    "bytearray_type": (_a("PyByteArray_Type"), None, None),
    "tuple_type": (_a("PyTuple_Type"), None, None),
    "list_type": (_a("PyList_Type"), None, None),
    "dict_type": (_a("PyDict_Type"), None, None),
    "set_type": (_a("PySet_Type"), None, None),
    "frozenset_type": (_a("PyFrozenSet_Type"), None, None),
    "module_type": (_a("PyModule_Type"), None, None),
    "none_object": (_a("_Py_NoneStruct"), None, None),
    # Optional (0 = unknown): the helper then traverses struct sequences
    # with their own tp_traverse.
    "structseq_traverse": (
        lambda target: address_of("structseq_traverse") or 0, None, None),
    "tp_members_off": (_o("PyTypeObject", "tp_members"), None, None),
}


# --- Roots (helper/roots/roots.c, frames.c) ------------------------------

V38, V39, V310, V313 = (3, 8), (3, 9), (3, 10), (3, 13)
_IS, _TS = "PyInterpreterState", "PyThreadState"
_IF, _CO = "_PyInterpreterFrame", "PyCodeObject"


def _rt(member):
    """Absolute address of a member of _PyRuntime."""
    return lambda target: address_of("_PyRuntime." + member)


def _moved(type_name, old, new, since):
    """offsetof a member that moved (or was renamed) in version `since`."""
    return lambda target: offset_of(
        type_name, new if target.version >= since else old)


def _member_type(type_name, path):
    """The gdb.Type of the member at `path` ("a.b"), or None."""
    current = lookup_type(type_name)
    for part in path.split(".") if current is not None else ():
        found = _find_field(current, part)
        if found is None:
            return None
        current = found[1].type
    return current


def _array_len(type_name, path):
    array = _member_type(type_name, path)
    array = array.strip_typedefs() if array is not None else None
    if array is None or array.code != gdb.TYPE_CODE_ARRAY or \
            not array.target().sizeof:
        return None
    return array.sizeof // array.target().sizeof


def _object_run(type_name, path, first):
    """How many consecutive members of the struct at `path`, from `first`
    on, are PyObject or PyTypeObject pointers."""
    struct_type = _member_type(type_name, path)
    if struct_type is None:
        return None
    count, started = 0, False
    for field in struct_type.strip_typedefs().fields():
        started = started or field.name == first
        if not started:
            continue
        t = field.type.strip_typedefs()
        if t.code != gdb.TYPE_CODE_PTR or \
                t.target().strip_typedefs().name not in (
                    "_object", "_typeobject"):
            break
        count += 1
    return count if started else None


def _static_var(name):
    """A static variable of libpython (a gdb.Value in memory), or None.
    Through lookup_static_symbols: with LTO (Debian) the plain name first
    finds an optimized-out <artificial> copy."""
    for sym in gdb.lookup_static_symbols(name):
        try:
            value = sym.value()
        except gdb.error:
            continue
        if value.address is not None:
            return value
    return None


def _handlers(what):
    """Python signal handlers: a static array of signalmodule.c until
    3.11, in _PyRuntime from 3.12.  Optional (0 when not found)."""
    def rule(target):
        try:
            h = (gdb.parse_and_eval("_PyRuntime.signals.handlers")
                 if target.version >= V312 else _static_var("Handlers"))
        except gdb.error:
            h = None
        if h is None or h.type.strip_typedefs().code != gdb.TYPE_CODE_ARRAY:
            return 0
        entry = h.type.strip_typedefs().target()
        found = _find_field(entry, "func")
        values = {"addr": int(h.address), "n": h.type.sizeof // entry.sizeof,
                  "size": entry.sizeof, "func": found[0] if found else 0}
        return values[what] if found else 0
    return rule


def _static_addr(name):
    def rule(target):
        value = _static_var(name)
        return int(value.address) if value is not None else 0
    return rule


def _tstate_frame(target):
    # 3.11/3.12 reach the frame through tstate->cframe (other rules).
    if V311 <= target.version <= V312:
        return 0
    return offset_of(_TS, "current_frame" if target.version >= V313
                     else "frame")


def _static_types(target):
    return offset_of(_IS, "types.builtins" if target.version == V312
                     else "types.builtins.initialized")


def _static_types_n(target):
    return _array_len(_IS, "types.builtins" if target.version == V312
                      else "types.builtins.initialized")


def _static_state(member):
    def rule(target):
        name = ("static_builtin_state" if target.version == V312
                else "managed_static_type_state")
        return size_of(name) if member is None else offset_of(name, member)
    return rule


def _atexit_cb(member):
    def rule(target):
        name = ("atexit_py_callback" if target.version >= V312
                else "atexit_callback")
        return offset_of(name, member)
    return rule


RULES.update({
    "rt_interp_head_addr": (_rt("interpreters.head"), None, None),
    "rt_interp_main_addr": (_rt("interpreters.main"), None, None),
    "rt_main_thread_addr": (_rt("main_thread"), None, None),
    "rt_gc_garbage_addr": (_rt("gc.garbage"), None, V38),
    "rt_gc_callbacks_addr": (_rt("gc.callbacks"), None, V38),
    "interp_next_offset": (_o(_IS, "next"), None, None),
    "interp_threads_offset": (
        _moved(_IS, "tstate_head", "threads.head", V311), None, None),
    "interp_modules_offset": (
        _moved(_IS, "modules", "imports.modules", V312), None, None),
    "interp_sysdict_offset": (_o(_IS, "sysdict"), None, None),
    "interp_builtins_offset": (_o(_IS, "builtins"), None, None),
    "interp_importlib_offset": (
        _moved(_IS, "importlib", "imports.importlib", V312), None, None),
    "interp_import_func_offset": (
        _moved(_IS, "import_func", "imports.import_func", V312), None, None),
    "interp_dict_offset": (_o(_IS, "dict"), None, None),
    "interp_sysdict_copy_offset": (_o(_IS, "sysdict_copy"), V312, None),
    "interp_builtins_copy_offset": (_o(_IS, "builtins_copy"), None, None),
    "interp_codec_path_offset": (
        _moved(_IS, "codec_search_path", "codecs.search_path", V313),
        None, None),
    "interp_codec_cache_offset": (
        _moved(_IS, "codec_search_cache", "codecs.search_cache", V313),
        None, None),
    "interp_codec_errors_offset": (
        _moved(_IS, "codec_error_registry", "codecs.error_registry", V313),
        None, None),
    "interp_forkers_before_offset": (_o(_IS, "before_forkers"), None, None),
    "interp_forkers_parent_offset": (
        _o(_IS, "after_forkers_parent"), None, None),
    "interp_forkers_child_offset": (
        _o(_IS, "after_forkers_child"), None, None),
    "interp_audit_hooks_offset": (_o(_IS, "audit_hooks"), None, None),
    "interp_warn_filters_offset": (_o(_IS, "warnings.filters"), None, None),
    "interp_warn_once_offset": (
        _o(_IS, "warnings.once_registry"), None, None),
    "interp_warn_action_offset": (
        _o(_IS, "warnings.default_action"), None, None),
    "interp_gc_garbage_offset": (_o(_IS, "gc.garbage"), V39, None),
    "interp_gc_callbacks_offset": (_o(_IS, "gc.callbacks"), V39, None),
    "interp_modules_by_index_offset": (
        _moved(_IS, "modules_by_index", "imports.modules_by_index", V312),
        None, None),
    "interp_errnomap_offset": (_o(_IS, "exc_state.errnomap"), V310, None),
    "interp_exc_group_offset": (
        _o(_IS, "exc_state.PyExc_ExceptionGroup"), V311, None),
    "interp_not_shareable_offset": (
        _o(_IS, "xi.PyExc_NotShareableError"), V313, None),
    "interp_interned_offset": (
        _o(_IS, "cached_objects.interned_strings"), V312, None),
    "interp_str_replace_inf_offset": (
        _o(_IS, "cached_objects.str_replace_inf"), V312, None),
    "interp_objreduce_offset": (
        _o(_IS, "cached_objects.objreduce"), V312, None),
    "interp_slots_pname_offset": (
        _o(_IS, "cached_objects.type_slots_pname"), V312, None),
    "interp_ast_offset": (_o(_IS, "ast.AST_type"), V310, None),
    "interp_ast_n": (lambda target: _object_run(_IS, "ast", "AST_type"),
                     V310, None),
    "interp_typing_offset": (
        _o(_IS, "cached_objects.generic_type"), V312, None),
    "interp_typing_n": (
        lambda target: _object_run(_IS, "cached_objects", "generic_type"),
        V312, None),
    "interp_atexit_offset": (_o(_IS, "atexit.callbacks"), V310, None),
    "interp_atexit_n_offset": (_o(_IS, "atexit.ncallbacks"), V310, None),
    "atexit_cb_func_off": (_atexit_cb("func"), V310, None),
    "atexit_cb_args_off": (_atexit_cb("args"), V310, None),
    "atexit_cb_kwargs_off": (_atexit_cb("kwargs"), V310, None),
    "interp_static_types_offset": (_static_types, V312, None),
    "interp_static_types_n": (_static_types_n, V312, None),
    "interp_ext_types_offset": (
        _o(_IS, "types.for_extensions.initialized"), V313, None),
    "interp_ext_types_n": (
        lambda target: _array_len(_IS, "types.for_extensions.initialized"),
        V313, None),
    "static_state_size": (_static_state(None), V312, None),
    "static_state_type_off": (_static_state("type"), V312, None),
    "static_state_dict_off": (_static_state("tp_dict"), V312, None),
    "static_state_subclasses_off": (
        _static_state("tp_subclasses"), V312, None),
    "tstate_next_off": (_o(_TS, "next"), None, None),
    "tstate_thread_id_off": (_o(_TS, "thread_id"), None, None),
    "tstate_native_tid_off": (_o(_TS, "native_thread_id"), V311, None),
    "tstate_frame_off": (_tstate_frame, None, None),
    "tstate_cframe_off": (_o(_TS, "cframe"), V311, V312),
    "cframe_current_frame_off": (
        _o("_PyCFrame", "current_frame"), V311, V312),
    "tstate_dict_off": (_o(_TS, "dict"), None, None),
    "tstate_curexc_type_off": (_o(_TS, "curexc_type"), None, V311),
    "tstate_curexc_value_off": (_o(_TS, "curexc_value"), None, V311),
    "tstate_curexc_tb_off": (_o(_TS, "curexc_traceback"), None, V311),
    "tstate_cur_exc_off": (_o(_TS, "current_exception"), V312, None),
    "tstate_exc_type_off": (_o(_TS, "exc_state.exc_type"), None, V310),
    "tstate_exc_value_off": (_o(_TS, "exc_state.exc_value"), None, None),
    "tstate_exc_tb_off": (_o(_TS, "exc_state.exc_traceback"), None, V310),
    "tstate_async_exc_off": (_o(_TS, "async_exc"), None, None),
    "tstate_profileobj_off": (_o(_TS, "c_profileobj"), None, None),
    "tstate_traceobj_off": (_o(_TS, "c_traceobj"), None, None),
    "tstate_context_off": (_o(_TS, "context"), None, None),
    "tstate_agen_firstiter_off": (
        _o(_TS, "async_gen_firstiter"), None, None),
    "tstate_agen_finalizer_off": (
        _o(_TS, "async_gen_finalizer"), None, None),
    "tstate_on_delete_data_off": (_o(_TS, "on_delete_data"), None, V312),
    "tstate_tlocal_key_off": (_o(_TS, "threading_local_key"), V313, None),
    "tstate_tlocal_sentinel_off": (
        _o(_TS, "threading_local_sentinel"), V313, None),
    "pyframe_back_off": (_o("PyFrameObject", "f_back"), None, None),
    "pyframe_code_off": (_o("PyFrameObject", "f_code"), None, V310),
    "pyframe_builtins_off": (_o("PyFrameObject", "f_builtins"), None, V310),
    "pyframe_globals_off": (_o("PyFrameObject", "f_globals"), None, V310),
    "pyframe_locals_off": (_o("PyFrameObject", "f_locals"), None, V310),
    "pyframe_valuestack_off": (
        _o("PyFrameObject", "f_valuestack"), None, V310),
    "pyframe_stacktop_off": (_o("PyFrameObject", "f_stacktop"), None, V39),
    "pyframe_stackdepth_off": (
        _o("PyFrameObject", "f_stackdepth"), V310, V310),
    "pyframe_trace_off": (_o("PyFrameObject", "f_trace"), None, None),
    "pyframe_gen_off": (_o("PyFrameObject", "f_gen"), None, V310),
    "pyframe_lasti_off": (_o("PyFrameObject", "f_lasti"), None, V310),
    "pyframe_localsplus_off": (
        _o("PyFrameObject", "f_localsplus"), None, V310),
    "iframe_code_off": (_moved(_IF, "f_code", "f_executable", V313),
                        V311, None),
    "iframe_func_off": (_moved(_IF, "f_func", "f_funcobj", V312), V311, None),
    "iframe_locals_off": (_o(_IF, "f_locals"), V311, None),
    "iframe_globals_off": (_o(_IF, "f_globals"), V311, None),
    "iframe_frame_obj_off": (_o(_IF, "frame_obj"), V311, None),
    "iframe_previous_off": (_o(_IF, "previous"), V311, None),
    "iframe_instr_off": (_moved(_IF, "prev_instr", "instr_ptr", V313),
                         V311, None),
    "iframe_stacktop_off": (_o(_IF, "stacktop"), V311, None),
    "iframe_owner_off": (_o(_IF, "owner"), V311, None),
    "iframe_localsplus_off": (_o(_IF, "localsplus"), V311, None),
    "code_nlocals_off": (_o(_CO, "co_nlocals"), None, V310),
    "code_nlocalsplus_off": (_o(_CO, "co_nlocalsplus"), V311, None),
    "code_stacksize_off": (_o(_CO, "co_stacksize"), None, None),
    "code_firstlineno_off": (_o(_CO, "co_firstlineno"), None, None),
    "code_consts_off": (_o(_CO, "co_consts"), None, None),
    "code_varnames_off": (_o(_CO, "co_varnames"), None, V310),
    "code_cellvars_off": (_o(_CO, "co_cellvars"), None, V310),
    "code_freevars_off": (_o(_CO, "co_freevars"), None, V310),
    "code_localsplusnames_off": (_o(_CO, "co_localsplusnames"), V311, None),
    "code_localspluskinds_off": (_o(_CO, "co_localspluskinds"), V311, None),
    "code_filename_off": (_o(_CO, "co_filename"), None, None),
    "code_name_off": (_o(_CO, "co_name"), None, None),
    "code_qualname_off": (_o(_CO, "co_qualname"), V311, None),
    "code_lnotab_off": (_o(_CO, "co_lnotab"), None, V39),
    "code_linetable_off": (_o(_CO, "co_linetable"), V310, None),
    "code_adaptive_off": (_o(_CO, "co_code_adaptive"), V311, None),
    "code_names_off": (_o(_CO, "co_names"), None, None),
    "code_type": (_a("PyCode_Type"), None, None),
    "cell_type": (_a("PyCell_Type"), None, None),
    "cell_ref_off": (_o("PyCellObject", "ob_ref"), None, None),
    "bytes_sval_off": (_o("PyBytesObject", "ob_sval"), None, None),
    "type_bases_off": (_o("PyTypeObject", "tp_bases"), None, None),
    "type_mro_off": (_o("PyTypeObject", "tp_mro"), None, None),
    "type_cache_off": (_o("PyTypeObject", "tp_cache"), None, None),
    "type_subclasses_off": (_o("PyTypeObject", "tp_subclasses"), None, None),
    "weakref_object_off": (_o("PyWeakReference", "wr_object"), None, None),
    "ht_slots_off": (_o("PyHeapTypeObject", "ht_slots"), None, None),
    "import_extensions_addr": (_static_addr("extensions"), None, V311),
    "signal_handlers_addr": (_handlers("addr"), None, None),
    "signal_handlers_n": (_handlers("n"), None, None),
    "signal_handler_size": (_handlers("size"), None, None),
    "signal_handler_func_off": (_handlers("func"), None, None),
    "abc_data_type_addr": (_static_addr("_abc_data_type"), None, V38),
    "abc_registry_off": (_o("_abc_data", "_abc_registry"), None, V38),
    "abc_cache_off": (_o("_abc_data", "_abc_cache"), None, V38),
    "abc_negative_cache_off": (
        _o("_abc_data", "_abc_negative_cache"), None, V38),
    "module_def_off": (_o("PyModuleObject", "md_def"), None, None),
    "module_name_off": (_o("PyModuleObject", "md_name"), None, None),
    "moduledef_copy_off": (_o("PyModuleDef", "m_base.m_copy"), None, None),
})

# --- Labels (helper/pyobj/labels.c) -------------------------------------

def _gc_enabled_addr(target):
    # 3.8 keeps one GC state in _PyRuntime; 3.9+ one per interpreter, and
    # gc.disable() in the main thread flips the main interpreter's.
    if target.version == (3, 8):
        return address_of("_PyRuntime.gc.enabled") or 0
    return address_of("_PyRuntime.interpreters.main->gc.enabled") or 0


def _deque_block(member):
    """Offset in the deque's `block` struct (a name too generic to look
    up by itself), or its item count."""
    def rule(target):
        dq = lookup_type("dequeobject")
        if dq is None:
            return None
        found = _find_field(dq, "leftblock")
        if found is None:
            return None
        block = found[1].type.strip_typedefs().target()
        inner = _find_field(block, member)
        if inner is None:
            return None
        return inner[0]
    return rule


def _deque_blocklen(target):
    rule = _deque_block("data")
    if rule(target) is None:
        return None
    dq = lookup_type("dequeobject")
    block = _find_field(dq, "leftblock")[1].type.strip_typedefs().target()
    return _find_field(block, "data")[1].type.sizeof // 8


_FN, _GEN, _EXC = "PyFunctionObject", "PyGenObject", "PyBaseExceptionObject"

RULES.update({
    "gc_enabled_addr": (_gc_enabled_addr, None, None),
    "tp_dictoffset_off": (_o("PyTypeObject", "tp_dictoffset"), None, None),
    "ht_cached_keys_off": (
        _o("PyHeapTypeObject", "ht_cached_keys"), None, None),
    "ht_module_off": (_o("PyHeapTypeObject", "ht_module"), (3, 9), None),
    "sizeof_member_def": (_s("PyMemberDef"), None, None),
    "member_name_off": (_o("PyMemberDef", "name"), None, None),
    "member_type_off": (_o("PyMemberDef", "type"), None, None),
    "member_offset_off": (_o("PyMemberDef", "offset"), None, None),
    "module_dict_off": (_o("PyModuleObject", "md_dict"), None, None),
    "function_type": (_a("PyFunction_Type"), None, None),
    "func_code_off": (_o(_FN, "func_code"), None, None),
    "func_globals_off": (_o(_FN, "func_globals"), None, None),
    "func_builtins_off": (_o(_FN, "func_builtins"), (3, 10), None),
    "func_name_off": (_o(_FN, "func_name"), None, None),
    "func_qualname_off": (_o(_FN, "func_qualname"), None, None),
    "func_module_off": (_o(_FN, "func_module"), None, None),
    "func_defaults_off": (_o(_FN, "func_defaults"), None, None),
    "func_kwdefaults_off": (_o(_FN, "func_kwdefaults"), None, None),
    "func_doc_off": (_o(_FN, "func_doc"), None, None),
    "func_dict_off": (_o(_FN, "func_dict"), None, None),
    "func_closure_off": (_o(_FN, "func_closure"), None, None),
    "func_annotations_off": (_o(_FN, "func_annotations"), None, None),
    "func_typeparams_off": (_o(_FN, "func_typeparams"), V312, None),
    "method_type": (_a("PyMethod_Type"), None, None),
    "method_func_off": (_o("PyMethodObject", "im_func"), None, None),
    "method_self_off": (_o("PyMethodObject", "im_self"), None, None),
    "cfunction_type": (_a("PyCFunction_Type"), None, None),
    "cfunc_self_off": (_o("PyCFunctionObject", "m_self"), None, None),
    "cfunc_module_off": (_o("PyCFunctionObject", "m_module"), None, None),
    "classmethod_type": (_a("PyClassMethod_Type"), None, None),
    "staticmethod_type": (_a("PyStaticMethod_Type"), None, None),
    "classmethod_callable_off": (_o("classmethod", "cm_callable"), None, None),
    "classmethod_dict_off": (_o("classmethod", "cm_dict"), None, None),
    "staticmethod_callable_off": (
        _o("staticmethod", "sm_callable"), None, None),
    "staticmethod_dict_off": (_o("staticmethod", "sm_dict"), None, None),
    "property_type": (_a("PyProperty_Type"), None, None),
    "property_get_off": (_o("propertyobject", "prop_get"), None, None),
    "property_set_off": (_o("propertyobject", "prop_set"), None, None),
    "property_del_off": (_o("propertyobject", "prop_del"), None, None),
    "property_doc_off": (_o("propertyobject", "prop_doc"), None, None),
    "property_name_off": (_o("propertyobject", "prop_name"), (3, 10), None),
    "code_nfreevars_off": (_o("PyCodeObject", "co_nfreevars"), V311, None),
    "frame_type": (_a("PyFrame_Type"), None, None),
    "pyframe_frame_off": (_o("PyFrameObject", "f_frame"), V311, None),
    "gen_type": (_a("PyGen_Type"), None, None),
    "coro_type": (_a("PyCoro_Type"), None, None),
    "asyncgen_type": (_a("PyAsyncGen_Type"), None, None),
    "gen_frame_off": (_o(_GEN, "gi_frame"), None, (3, 10)),
    "gen_code_off": (_o(_GEN, "gi_code"), None, V311),
    "gen_name_off": (_o(_GEN, "gi_name"), None, None),
    "gen_qualname_off": (_o(_GEN, "gi_qualname"), None, None),
    "gen_iframe_off": (_o(_GEN, "gi_iframe"), V311, None),
    "gen_exc_value_off": (_o(_GEN, "gi_exc_state.exc_value"), None, None),
    "traceback_type": (_a("PyTraceBack_Type"), None, None),
    "traceback_next_off": (_o("PyTracebackObject", "tb_next"), None, None),
    "traceback_frame_off": (_o("PyTracebackObject", "tb_frame"), None, None),
    "exc_dict_off": (_o(_EXC, "dict"), None, None),
    "exc_args_off": (_o(_EXC, "args"), None, None),
    "exc_notes_off": (_o(_EXC, "notes"), V311, None),
    "exc_traceback_off": (_o(_EXC, "traceback"), None, None),
    "exc_context_off": (_o(_EXC, "context"), None, None),
    "exc_cause_off": (_o(_EXC, "cause"), None, None),
    "lru_cache_off": (_o("lru_cache_object", "cache"), None, None),
    "lru_func_off": (_o("lru_cache_object", "func"), None, None),
    "lru_dict_off": (_o("lru_cache_object", "dict"), None, None),
    "lru_elem_next_off": (_o("lru_list_elem", "next"), None, None),
    "lru_elem_key_off": (_o("lru_list_elem", "key"), None, None),
    "lru_elem_result_off": (_o("lru_list_elem", "result"), None, None),
    "deque_leftblock_off": (_o("dequeobject", "leftblock"), None, None),
    "deque_leftindex_off": (_o("dequeobject", "leftindex"), None, None),
    "deque_block_data_off": (_deque_block("data"), None, None),
    "deque_block_rightlink_off": (_deque_block("rightlink"), None, None),
    "deque_blocklen": (_deque_blocklen, None, None),
})

# Filled from the interpreter list, not from a rule (see gc_lists()).
_GC_SLOT_RE = re.compile(r"gc_list_\d+$")


def _is_dynamic(name):
    return name in ("nfields", "gc_list_count", "gc_collecting_addr") or \
        bool(_GC_SLOT_RE.match(name))


def gc_lists(target, max_lists):
    """(list head addresses, address of `collecting`, notes).

    3.8 keeps one GC state in _PyRuntime.gc; 3.9+ one per interpreter,
    reached from _PyRuntime.interpreters.head through ->next."""
    runtime = gdb.parse_and_eval("&_PyRuntime").dereference()
    notes = []
    if target.version == (3, 8):
        states = [runtime["gc"]]
        collecting = runtime["gc"]["collecting"]
    else:
        states = []
        interp = runtime["interpreters"]["head"]
        while int(interp) != 0 and len(states) < MAX_INTERPRETERS:
            states.append(interp.dereference()["gc"])
            interp = interp.dereference()["next"]
        if int(interp) != 0:
            notes.append("more than %d interpreters; the others are not "
                         "counted" % MAX_INTERPRETERS)
        main = runtime["interpreters"]["main"]
        if int(main) == 0 or not states:
            raise PyleaksError("the interpreter is not initialised (or is "
                               "shutting down): no interpreter state",
                               "Retry once the program has started")
        collecting = main.dereference()["gc"]["collecting"]
    heads = []
    for state in states:
        per = [state["generations"][i]["head"].address for i in range(3)]
        per.append(state["permanent_generation"]["head"].address)
        heads.extend(int(p) for p in per)
    if len(heads) > max_lists:
        notes.append("only the first %d of %d interpreters are counted"
                     % (max_lists // LISTS_PER_INTERPRETER, len(states)))
        heads = heads[:max_lists - max_lists % LISTS_PER_INTERPRETER]
    return heads, int(collecting.address), notes


class Layout:
    """The filled struct pyl_layout of one target: values by field name,
    and the bytes gdb writes into the helper."""

    def __init__(self, names, values, notes):
        self.names = names
        self.values = values
        self.notes = notes

    def __getitem__(self, name):
        return self.values[name]

    def pack(self):
        return struct.pack("<%dQ" % len(self.names),
                           *(self.values[n] for n in self.names))


def _static_values(target, names):
    values = {}
    missing = []
    for name in names:
        if _is_dynamic(name):
            continue
        if name not in RULES:
            raise PyleaksError(
                "layout field %r (layout_fields.def) is unknown to this gdb "
                "plugin" % name,
                "The plugin and the helper come from different pyleaks "
                "versions; reinstall them together")
        rule, first, last = RULES[name]
        if (first and target.version < first) or \
                (last and target.version > last):
            values[name] = 0
            continue
        value = rule(target)
        if value is None:
            missing.append(name)
        else:
            values[name] = value
    if missing:
        raise PyleaksError(
            "the debug symbols of %s lack what pyleaks needs for CPython %s "
            "(%s)" % (target.objfile, target.version_str,
                      ", ".join(missing[:6])),
            "Check that they match the interpreter (same build)")
    return values


def _validate(target, values):
    bad = []
    for name, value in values.items():
        if name.endswith("_off") and not 0 <= value < 4096:
            bad.append("%s=%d" % (name, value))
        elif name.startswith("sizeof_") and not 0 < value <= 4096:
            bad.append("%s=%d" % (name, value))
        elif name.startswith("unicode_") and \
                name.endswith(("_bit", "_shift")) and not 0 <= value < 32:
            bad.append("%s=%d" % (name, value))
        elif (name.endswith("_type") or name == "none_object") \
                and value < 4096:
            bad.append("%s=%#x" % (name, value))
    if values.get("long_digit_size") not in (2, 4):
        bad.append("long_digit_size=%s" % values.get("long_digit_size"))
    if values.get("sizeof_gc_head") != 16:
        bad.append("sizeof_gc_head=%s" % values.get("sizeof_gc_head"))
    # Every builtin type object is an instance of `type`: reading their
    # ob_type proves the addresses and ob_type_off at once.
    inferior = gdb.selected_inferior()
    type_type = values.get("type_type", 0)
    for name in [n for n in values if n.endswith("_type")]:
        try:
            raw = inferior.read_memory(values[name] + values["ob_type_off"], 8)
        except gdb.MemoryError:
            bad.append("%s unreadable at %#x" % (name, values[name]))
            continue
        if struct.unpack("<Q", bytes(raw))[0] != type_type:
            bad.append("%s is not a type object" % name)
    if bad:
        raise PyleaksError(
            "the layout read from the debug symbols of %s is not sane (%s)"
            % (target.objfile, "; ".join(bad[:5])),
            "The debug symbols may not match the running interpreter")


_static_cache = {}


def discover(target, def_path):
    """The Layout of `target`: the static part is computed once per
    (pid, objfile); the GC list heads are re-read every time, since
    interpreters come and go while the target runs."""
    try:
        names = parse_def(def_path)
        key = (target.key, def_path)
        if key not in _static_cache:
            values = _static_values(target, names)
            _validate(target, values)
            _static_cache[key] = values
        values = dict(_static_cache[key])
        slots = [n for n in names if _GC_SLOT_RE.match(n)]
        heads, collecting, notes = gc_lists(target, len(slots))
    except PyleaksError:
        raise
    except gdb.error as exc:
        raise translate(exc, target.pid) from None
    values["nfields"] = len(names)
    values["gc_list_count"] = len(heads)
    for i, slot in enumerate(slots):
        values[slot] = heads[i] if i < len(heads) else 0
    values["gc_collecting_addr"] = collecting
    return Layout(names, values, notes)


def forget(pid=None):
    for key in list(_static_cache):
        if pid is None or key[0][0] == pid:
            del _static_cache[key]
