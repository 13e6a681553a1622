"""Formatting helpers shared by the commands: numbers, sizes, tables,
one-line JSON."""

import json

import gdb


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


def gdb_write(text):
    gdb.write(text)


def gdb_write_line(text):
    gdb.write(text + "\n")
