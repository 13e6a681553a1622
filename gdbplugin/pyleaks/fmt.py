"""Formatting helpers shared by the commands: numbers, sizes, tables,
one-line JSON, and object addresses as the user types and reads them."""

import json
import re

import gdb

from . import reprs
from .errors import PyleaksError


def count(n):
    return "{:,}".format(n)


def size(n):
    """1536 -> '1.5 KiB'; exact bytes below 1 KiB."""
    if n < 1024:
        return "%d B" % n
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        n /= 1024.0
        if n < 1024 or unit == "TiB":
            return "%.1f %s" % (n, unit)
    return "%d B" % n


def showing(shown, total, what, order=""):
    """The line under a list cut at --max: '(showing 100 of 1,000,000
    references, in reading order; --max N for more)'; None when nothing
    was left out."""
    if shown >= total:
        return None
    return "(showing %s of %s %s%s; --max N for more)" % (
        count(shown), count(total), what, ", " + order if order else "")


def table(headers, rows, right=()):
    """Plain-text table; columns whose index is in `right` are
    right-aligned."""
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    lines = []
    for row in [headers] + rows:
        cells = []
        for i, cell in enumerate(row):
            last = i == len(row) - 1
            if i in right:
                cells.append(cell.rjust(widths[i]))
            else:
                cells.append(cell if last else cell.ljust(widths[i]))
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines) + "\n"


def write_json(obj):
    gdb.write(json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
              + "\n")


def write_notes(notes, as_json):
    """Notes go to stdout with text output, and to stderr with --json so
    stdout stays one line of JSON."""
    for note in notes:
        gdb.write("pyleaks: note: %s\n" % note,
                  gdb.STDERR if as_json else gdb.STDOUT)


def write_message(text, as_json):
    """A line that is not the command's result (a file written): stdout
    with text output, stderr with --json."""
    gdb.write("pyleaks: %s\n" % text, gdb.STDERR if as_json else gdb.STDOUT)


def gdb_write(text):
    gdb.write(text)


def gdb_write_line(text):
    gdb.write(text + "\n")


# --- Objects as the user names them and reads them --------------------------

# Only a bare convenience variable or value-history reference ($, $1, $obj):
# any other gdb expression could call functions in the target.
_GDB_VALUE_RE = re.compile(r"^\$[A-Za-z0-9_]*$")


def parse_address(text):
    """An object address typed by the user: hex with 0x (as py-objects
    prints it), decimal (as id() returns it) or a gdb value ($1)."""
    value = None
    try:
        value = int(text, 16) if text.lower().startswith("0x") \
            else int(text, 10)
    except ValueError:
        if _GDB_VALUE_RE.match(text):
            try:
                value = int(gdb.parse_and_eval(text))
            except (gdb.error, ValueError, OverflowError):
                value = None
    if value == 0:
        # Said like the helper says the other addresses of no object.
        raise PyleaksError(
            "0x0 is not a live Python object: it is the null pointer",
            "Give the address of a live object, e.g. from py-objects")
    if value is None or not 0 < value < 1 << 64:
        raise PyleaksError(
            "'%s' is not an address" % text,
            "Give the object's address in hex as py-objects prints it "
            "(0x7f...), in decimal as id() returns it, or as a gdb value "
            "($1)")
    return value


def address(value):
    return "%#x" % value


def object_repr(ctx, obj_address, type_name, type_addr):
    """Short safe repr of an object (reprs.py), remembered for the life of
    ctx, which is one command: text, JSON and graph ask for the same
    objects."""
    cache = ctx.__dict__.setdefault("_object_reprs", {})
    if obj_address not in cache:
        cache[obj_address] = reprs.short_repr(ctx.layout, obj_address,
                                              type_addr, type_name)
    return cache[obj_address]


def columns(rows, caps, right=(), indent="  "):
    """Lines of aligned columns without a header.  caps[i] bounds the
    width column i is padded to, so one long cell (a frame root's
    description, a long type name) does not push every other line to the
    right; the last column is never padded."""
    widths = [0] * max((len(r) for r in rows), default=0)
    for row in rows:
        for i, cell in enumerate(row[:-1]):
            if len(cell) <= caps[i]:
                widths[i] = max(widths[i], len(cell))
    lines = []
    for row in rows:
        cells = [(cell.rjust(widths[i]) if i in right
                  else cell.ljust(widths[i])) for i, cell in
                 enumerate(row[:-1])] + list(row[-1:])
        lines.append((indent + "  ".join(cells)).rstrip())
    return lines


def chain_json(ctx, chain):
    """A result.Chain as JSON: its root and its hops (py-chain's format)."""
    return {
        "root": {"kind": chain.root_kind, "description": chain.root_desc},
        "hops": [{"address": address(h.address), "type": h.type,
                  "label": h.label,
                  "repr": object_repr(ctx, h.address, h.type, h.type_addr)}
                 for h in chain.hops],
    }


def chain_path(chain):
    """A chain on one line, as code reads: `module app ._cache [3]`."""
    return " ".join([chain.root_desc] + [h.label for h in chain.hops[1:]])
