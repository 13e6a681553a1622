"""Short, safe reprs of objects, read from the target's memory by gdb.

No code runs in the target: str, bytes, int, float are decoded from their
bytes, containers show their length, anything else its type and address.
Every read is bounded and any failure gives a placeholder, never an
exception.  Offsets and type addresses come from the layout (fields of
layout_fields.def), the same numbers the helper reads."""

import math
import struct

import gdb

MAX_CHARS = 60
MAX_INT_DIGITS = 40          # 1200 bits; bigger ints show their size

# tp_flags bits that mark subclasses of the builtins (Include/object.h):
# macros, which DWARF does not have.
_F_LONG, _F_LIST, _F_TUPLE, _F_BYTES, _F_UNICODE, _F_DICT, _F_EXC, \
    _F_TYPE = (1 << 24, 1 << 25, 1 << 26, 1 << 27, 1 << 28, 1 << 29,
               1 << 30, 1 << 31)


class _Reader:
    def __init__(self):
        self.inferior = gdb.selected_inferior()

    def bytes(self, address, size):
        return bytes(self.inferior.read_memory(address, size))

    def u64(self, address):
        return struct.unpack("<Q", self.bytes(address, 8))[0]

    def i64(self, address):
        return struct.unpack("<q", self.bytes(address, 8))[0]

    def u32(self, address):
        return struct.unpack("<I", self.bytes(address, 4))[0]

    def c_string(self, address, limit=200):
        data = self.bytes(address, 1)
        while not data.endswith(b"\0") and len(data) < limit:
            data += self.bytes(address + len(data), 1)
        return data.rstrip(b"\0").decode("utf-8", "replace")


def _truncate(text, total):
    return text + "..." if total > MAX_CHARS else text


def str_value(r, lay, address):
    """(first MAX_CHARS characters, length) of a str, or None."""
    length = r.i64(address + lay["unicode_length_off"])
    state = r.u32(address + lay["unicode_state_off"])
    kind = state >> lay["unicode_kind_shift"] & 7
    compact = state >> lay["unicode_compact_bit"] & 1
    ascii_ = state >> lay["unicode_ascii_bit"] & 1
    if kind not in (1, 2, 4) or length < 0:
        return None                 # 3.8-3.11 legacy string not yet ready
    if compact:
        data = address + (lay["sizeof_ascii_object"] if ascii_
                          else lay["sizeof_compact_unicode"])
    else:
        data = r.u64(address + lay["unicode_data_off"])
    count = min(length, MAX_CHARS)
    raw = r.bytes(data, count * kind) if count else b""
    codec = {1: "latin-1", 2: "utf-16-le", 4: "utf-32-le"}[kind]
    return raw.decode(codec, "replace"), length


def int_value(r, lay, address):
    """The value of an int (30- or 15-bit digits), or None if huge."""
    if lay["long_lv_tag_off"]:
        tag = r.u64(address + lay["long_lv_tag_off"])
        ndigits, sign = tag >> 3, 1 - (tag & 3)
    else:
        size = r.i64(address + lay["ob_size_off"])
        ndigits, sign = abs(size), (size > 0) - (size < 0)
    if ndigits > MAX_INT_DIGITS:
        return None, ndigits
    dsize = lay["long_digit_size"]
    shift = 30 if dsize == 4 else 15
    raw = r.bytes(address + lay["long_digit_off"], ndigits * dsize)
    fmt = "<%d%s" % (ndigits, "I" if dsize == 4 else "H")
    value = 0
    for digit in reversed(struct.unpack(fmt, raw)):
        value = value << shift | digit
    return sign * value, ndigits


def _float_repr(value):
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return repr(value)


def _str_at(r, lay, address):
    """The text of the str at address (cut), or None."""
    if not address:
        return None
    if r.u64(address + lay["ob_type_off"]) != lay["str_type"]:
        return None
    got = str_value(r, lay, address)
    return _truncate(got[0], got[1]) if got else None


def _type_name_of(r, lay, address):
    """The short tp_name of an object's type."""
    name = r.c_string(r.u64(r.u64(address + lay["ob_type_off"])
                            + lay["tp_name_off"]))
    return name.rsplit(".", 1)[-1]


def _code_text(r, lay, code):
    """`put() in app.py` for a code object, or None."""
    if not code or r.u64(code + lay["ob_type_off"]) != lay["code_type"]:
        return None
    off = lay["code_qualname_off"] or lay["code_name_off"]
    name = _str_at(r, lay, r.u64(code + off)) or "?"
    filename = _str_at(r, lay, r.u64(code + lay["code_filename_off"])) or "?"
    return "%s() in %s" % (name, filename.rsplit("/", 1)[-1])


def _frame_code(r, lay, frame):
    if lay["pyframe_frame_off"]:        # 3.11+: the interpreter frame's
        iframe = r.u64(frame + lay["pyframe_frame_off"])
        return r.u64(iframe + lay["iframe_code_off"]) if iframe else 0
    return r.u64(frame + lay["pyframe_code_off"])


def _exception_text(r, lay, address, type_name):
    """ValueError('bad input') from the exception's args."""
    args = r.u64(address + lay["exc_args_off"])
    if not args or r.u64(args + lay["ob_type_off"]) != lay["tuple_type"]:
        return None
    n = r.i64(args + lay["ob_size_off"])
    shown = []
    for i in range(min(max(n, 0), 3)):
        item = r.u64(args + lay["tuple_ob_item_off"] + 8 * i)
        item_type = r.u64(item + lay["ob_type_off"])
        if item_type in (lay["str_type"], lay["int_type"]):
            shown.append(_repr(r, lay, item, item_type, ""))
        else:
            shown.append("<%s>" % _type_name_of(r, lay, item))
    more = ", ..." if n > 3 else ""
    return _truncate("%s(%s%s)" % (type_name.rsplit(".", 1)[-1],
                                   ", ".join(shown), more), 0)


def _code_like_repr(r, lay, address, type_addr, type_name, flags):
    """Methods, code, frames and exceptions say what a person looks for:
    whose method, which function, which error."""
    if type_addr == lay["method_type"]:
        func = r.u64(address + lay["method_func_off"])
        qual = r.u64(func + lay["func_qualname_off"]) if func and \
            r.u64(func + lay["ob_type_off"]) == lay["function_type"] else 0
        self_ = r.u64(address + lay["method_self_off"])
        return "<bound method %s of <%s object at %#x>>" % (
            _str_at(r, lay, qual) or "?", _type_name_of(r, lay, self_),
            self_)
    if type_addr == lay["code_type"]:
        return "<code %s, line %d>" % (
            _code_text(r, lay, address),
            r.u32(address + lay["code_firstlineno_off"]))
    if type_addr == lay["frame_type"]:
        text = _code_text(r, lay, _frame_code(r, lay, address))
        return "<frame of %s at %#x>" % (text, address) if text else None
    if flags & _F_EXC:
        return _exception_text(r, lay, address, type_name)
    return None


def _repr(r, lay, address, type_addr, type_name):
    flags = r.u64(type_addr + lay["tp_flags_off"])
    exact = {lay[k]: k for k in ("str_type", "int_type", "bool_type",
                                 "float_type", "bytes_type",
                                 "bytearray_type", "tuple_type", "list_type",
                                 "dict_type", "set_type", "frozenset_type",
                                 "module_type", "type_type")}.get(type_addr)
    if address == lay["none_object"]:
        return "None"
    if exact == "bool_type":
        value, _ = int_value(r, lay, address)
        return "True" if value else "False"
    if exact == "str_type" or (flags & _F_UNICODE and not exact):
        got = str_value(r, lay, address)
        if got is None:
            return "<str (not ready) at %#x>" % address
        text, length = got
        out = _truncate(repr(text), length)
        return out if exact else "%s(%s)" % (type_name, out)
    if exact == "int_type" or (flags & _F_LONG and not exact):
        value, ndigits = int_value(r, lay, address)
        if value is None:
            return "<int of about %d bits>" % (ndigits * 30)
        text = str(value)
        text = text[:MAX_CHARS] + "..." if len(text) > MAX_CHARS else text
        return text if exact else "%s(%s)" % (type_name, text)
    if exact == "float_type":
        value = struct.unpack("<d", r.bytes(address + lay["float_fval_off"],
                                            8))[0]
        return _float_repr(value)
    if exact == "bytes_type" or (flags & _F_BYTES and not exact):
        size = r.i64(address + lay["ob_size_off"])
        raw = r.bytes(address + lay["bytes_sval_off"],
                      min(max(size, 0), MAX_CHARS))
        out = _truncate(repr(raw), size)
        return out if exact else "%s(%s)" % (type_name, out)
    if exact in ("list_type", "tuple_type", "bytearray_type") or \
            flags & (_F_LIST | _F_TUPLE):
        return "<%s len=%d>" % (type_name,
                                r.i64(address + lay["ob_size_off"]))
    if exact == "dict_type" or flags & _F_DICT:
        return "<%s len=%d>" % (type_name,
                                r.i64(address + lay["dict_ma_used_off"]))
    if exact in ("set_type", "frozenset_type"):
        return "<%s len=%d>" % (type_name,
                                r.i64(address + lay["set_used_off"]))
    if exact == "type_type" or flags & _F_TYPE:
        name = r.c_string(r.u64(address + lay["tp_name_off"]))
        return "<class '%s'>" % name
    if exact == "module_type":
        name_obj = r.u64(address + lay["module_name_off"])
        got = str_value(r, lay, name_obj) if name_obj else None
        if got:
            return "<module %s>" % _truncate(repr(got[0]), got[1])
    if type_addr == lay["function_type"]:
        qual = r.u64(address + lay["func_qualname_off"])
        got = str_value(r, lay, qual) if qual else None
        if got:
            return "<function %s at %#x>" % (got[0], address)
    text = _code_like_repr(r, lay, address, type_addr, type_name, flags)
    return text or "<%s object at %#x>" % (type_name, address)


def short_repr(lay, address, type_addr, type_name):
    """A repr of at most ~70 characters; never raises."""
    try:
        return _repr(_Reader(), lay, address, type_addr, type_name)
    # Not KeyError: a layout field missing here is a plugin bug to report,
    # not an unreadable object.
    except (gdb.error, struct.error, ValueError, OverflowError):
        return "<%s object at %#x (unreadable)>" % (type_name, address)
