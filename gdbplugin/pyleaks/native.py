"""Which growing types are C extension types: their instances may own
memory outside Python objects (a buffer, a C library's structures), which
the census does not count but RSS does.

A type is told by where its tp_dealloc lives: a class made by a `class`
statement deallocates with libpython's subtype_dealloc, a type of the
interpreter's own with libpython's or the executable's code, an extension
type with code in the extension's shared object (static or heap type
alike).  One read of /proc/PID/maps and one pointer per growing type."""

import os
import struct

import gdb

MAX_TYPES = 200     # growing types looked at, most grown first


def _code_files(pid):
    """[(start, end, path)] of the file-backed executable mappings."""
    out = []
    with open("/proc/%d/maps" % pid) as f:
        for line in f:
            parts = line.split(None, 5)
            if len(parts) == 6 and "x" in parts[1] and \
                    parts[5].startswith("/"):
                start, end = (int(x, 16) for x in parts[0].split("-"))
                out.append((start, end, parts[5].strip()))
    return out


def _file_of(files, address):
    for start, end, path in files:
        if start <= address < end:
            return path
    return None


def _interpreter_file(path, exe):
    name = os.path.basename(path)
    return path == exe or name.startswith("libpython") or \
        name.startswith(("libc.", "libc-", "ld-linux"))


def _dealloc_offset():
    ty = gdb.lookup_type("PyTypeObject")
    for field in ty.fields():
        if field.name == "tp_dealloc":
            return field.bitpos // 8
    return None


def extension_types(target, rows, type_addrs):
    """The growth rows (growth.Row) of C extension types that grew, as
    {"type", "count_delta", "bytes_delta", "module_file"}, most grown
    first.  type_addrs: type name -> a type object's address."""
    grown = sorted((r for r in rows if (r.count_delta or 0) > 0
                    and type_addrs.get(r.name)),
                   key=lambda r: -r.count_delta)[:MAX_TYPES]
    if not grown:
        return []
    try:
        files = _code_files(target.pid)
        offset = _dealloc_offset()
    except (OSError, gdb.error):
        return []
    if offset is None:
        return []
    inferior = gdb.selected_inferior()
    out = []
    for r in grown:
        try:
            dealloc = struct.unpack("<Q", bytes(inferior.read_memory(
                type_addrs[r.name] + offset, 8)))[0]
        except gdb.error:
            continue
        path = _file_of(files, dealloc)
        if path is None or _interpreter_file(path, target.exe):
            continue
        out.append({"type": r.name, "count_delta": r.count_delta,
                    "bytes_delta": r.bytes_delta, "module_file": path})
    return out
