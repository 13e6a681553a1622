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
    "list_ob_item_off": (_o("PyListObject", "ob_item"), None, None),
    "list_allocated_off": (_o("PyListObject", "allocated"), None, None),
    "tuple_ob_item_off": (_o("PyTupleObject", "ob_item"), None, None),
    "set_mask_off": (_o("PySetObject", "mask"), None, None),
    "set_table_off": (_o("PySetObject", "table"), None, None),
    "set_smalltable_off": (_o("PySetObject", "smalltable"), None, None),
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
