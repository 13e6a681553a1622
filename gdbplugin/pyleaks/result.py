"""Reading a struct pyl_result, its rows and its strings out of the target.

Three reads at most: the header, the whole rows array, the whole strings
block.  Everything is checked for sanity before use, since it comes from
another process's memory."""

import gdb

from . import abi
from .errors import PyleaksError

MAX_ROWS = 50_000_000
MAX_STRINGS = 1 << 30


class Result:
    def __init__(self, fields):
        self.__dict__.update(fields)
        self.rows = []

    @property
    def ok(self):
        return self.status >= 0


def _read(address, size):
    if size == 0:
        return b""
    try:
        return bytes(gdb.selected_inferior().read_memory(address, size))
    except gdb.MemoryError:
        raise PyleaksError("cannot read the helper's result at %#x "
                           "(%d bytes)" % (address, size),
                           "The target's memory changed under us; retry")


def _string_at(strings, offset):
    if offset >= len(strings):
        return "?"
    end = strings.find(b"\0", offset)
    if end < 0:
        end = len(strings)
    return strings[offset:end].decode("utf-8", "replace")


def read(address, expect_kind=None):
    """The Result at `address`, with its rows decoded into dicts."""
    if not address:
        raise PyleaksError("the helper returned no result",
                           "It could not map its memory; the target may be "
                           "out of memory")
    raw = _read(address, abi.RESULT_STRUCT.size)
    values = abi.RESULT_STRUCT.unpack(raw)
    fields = dict(zip(abi.RESULT_FIELDS, values))
    if fields["magic"] != abi.RESULT_MAGIC:
        raise PyleaksError("the helper returned a malformed result (magic "
                           "%#x)" % fields["magic"],
                           "The plugin and the helper come from different "
                           "pyleaks versions; rebuild both")
    fields["message"] = fields["message"].split(b"\0")[0].decode(
        "utf-8", "replace")
    result = Result(fields)
    if not result.ok or result.kind == abi.RESULT_STATUS:
        return result
    if expect_kind is not None and result.kind != expect_kind:
        raise PyleaksError("the helper returned a result of kind %d where "
                           "%d was expected" % (result.kind, expect_kind))
    if result.kind == abi.RESULT_CENSUS:
        row_struct, names = abi.CENSUS_ROW_STRUCT, abi.CENSUS_ROW_FIELDS
    else:
        row_struct, names = abi.OBJECT_ROW_STRUCT, abi.OBJECT_ROW_FIELDS
    if result.n_rows > MAX_ROWS or result.strings_size > MAX_STRINGS or \
            (result.n_rows and result.row_size < row_struct.size):
        raise PyleaksError("the helper returned an implausible result "
                           "(%d rows of %d bytes, %d bytes of strings)"
                           % (result.n_rows, result.row_size,
                              result.strings_size))
    rows_raw = _read(result.rows_addr, result.n_rows * result.row_size)
    strings = _read(result.strings_addr, result.strings_size)
    for i in range(result.n_rows):
        start = i * result.row_size
        row = dict(zip(names, row_struct.unpack_from(rows_raw, start)))
        row["name"] = _string_at(strings, row["name_off"])
        result.rows.append(row)
    return result
