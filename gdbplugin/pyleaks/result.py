"""Reading a struct pyl_result, its rows and its strings out of the target.

Three reads at most: the header, the whole rows array, the whole strings
block.  Everything is checked for sanity before use, since it comes from
another process's memory."""

import struct
from dataclasses import dataclass
from typing import List, Optional, Tuple

import gdb

from . import abi
from .errors import PyleaksError

MAX_ROWS = 50_000_000
MAX_STRINGS = 1 << 30


class Result:
    def __init__(self, fields):
        self.__dict__.update(fields)
        self.rows = []
        self.info = None        # struct pyl_target_info, when the kind has one
        self.aux = []           # struct pyl_chain_row, when the kind has them

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


def _header(address):
    """The struct pyl_result at a non-null address, checked."""
    fields = dict(zip(abi.RESULT_FIELDS, abi.RESULT_STRUCT.unpack(
        _read(address, abi.RESULT_STRUCT.size))))
    if fields["magic"] != abi.RESULT_MAGIC:
        raise PyleaksError("the helper returned a malformed result (magic "
                           "%#x)" % fields["magic"],
                           "The plugin and the helper come from different "
                           "pyleaks versions; rebuild both")
    fields["message"] = fields["message"].split(b"\0")[0].decode(
        "utf-8", "replace")
    return Result(fields)


def read(address, expect_kind=None):
    """The Result at `address`, with its rows decoded into dicts."""
    if not address:
        raise PyleaksError("the helper returned no result",
                           "It could not map its memory; the target may be "
                           "out of memory")
    result = _header(address)
    if not result.ok or result.kind == abi.RESULT_STATUS:
        return result
    if expect_kind is not None and result.kind != expect_kind:
        raise PyleaksError("the helper returned a result of kind %d where "
                           "%d was expected" % (result.kind, expect_kind))
    row_struct, names = _ROW_FORMATS.get(
        result.kind, (abi.OBJECT_ROW_STRUCT, abi.OBJECT_ROW_FIELDS))
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
        if "name_off" in row:
            row["name"] = _string_at(strings, row["name_off"])
        _add_strings(row, strings)
        result.rows.append(row)
    _read_extras(result, strings)
    return result


# --- rows of each kind, the summary, the chains ------------------------------

_ROW_FORMATS = {
    abi.RESULT_CENSUS: (abi.CENSUS_ROW_STRUCT, abi.CENSUS_ROW_FIELDS),
    abi.RESULT_OBJECTS: (abi.OBJECT_ROW_STRUCT, abi.OBJECT_ROW_FIELDS),
    abi.RESULT_ROOTS: (abi.ROOT_ROW_STRUCT, abi.ROOT_ROW_FIELDS),
    abi.RESULT_CHAIN: (abi.EDGE_ROW_STRUCT, abi.EDGE_ROW_FIELDS),
    abi.RESULT_REFS: (abi.EDGE_ROW_STRUCT, abi.EDGE_ROW_FIELDS),
    abi.RESULT_BACKREFS: (abi.EDGE_ROW_STRUCT, abi.EDGE_ROW_FIELDS),
    abi.RESULT_ANALYSIS: (abi.ANALYSIS_ROW_STRUCT, abi.ANALYSIS_ROW_FIELDS),
    abi.RESULT_PATTERNS: (abi.PATTERN_ROW_STRUCT, abi.PATTERN_ROW_FIELDS),
}

MAX_AUX_ROWS = 1_000_000


def _add_strings(row, strings):
    """label_off -> label, desc_off -> desc, ... (name_off is done)."""
    for key in [k for k in row if k.endswith("_off") and k != "name_off"]:
        row[key[:-4]] = _string_at(strings, row[key])


def _read_extras(result, strings):
    """The summary (struct pyl_target_info) and the second row array
    (struct pyl_chain_row) of the kinds that have them, as result.info
    (dict or None) and result.aux (list of dicts)."""
    result.info = None
    result.aux = []
    if result.kind == abi.RESULT_ANALYSIS:
        _read_analysis_extras(result)
        return
    info_struct = abi.TARGET_INFO_STRUCT
    if result.info_addr and result.info_size >= info_struct.size:
        raw = _read(result.info_addr, info_struct.size)
        info = dict(zip(abi.TARGET_INFO_FIELDS, info_struct.unpack(raw)))
        info["name"] = _string_at(strings, info["name_off"])
        info["explanation"] = _string_at(strings, info["explanation_off"])
        info["picked_why"] = _string_at(strings, info["picked_why_off"])
        result.info = info
    chain_struct = abi.CHAIN_ROW_STRUCT
    if not result.n_aux_rows:
        return
    if result.n_aux_rows > MAX_AUX_ROWS or \
            result.aux_row_size < chain_struct.size:
        raise PyleaksError("the helper returned an implausible result "
                           "(%d chains of %d bytes)"
                           % (result.n_aux_rows, result.aux_row_size))
    raw = _read(result.aux_rows_addr, result.n_aux_rows * result.aux_row_size)
    for i in range(result.n_aux_rows):
        row = dict(zip(abi.CHAIN_ROW_FIELDS, chain_struct.unpack_from(
            raw, i * result.aux_row_size)))
        _add_strings(row, strings)
        result.aux.append(row)


def _read_analysis_extras(result):
    """An analysis' summary (struct pyl_analysis_info) as result.info and
    the objects its findings list (uint64_t addresses) as result.aux."""
    info_struct = abi.ANALYSIS_INFO_STRUCT
    if result.info_addr and result.info_size >= info_struct.size:
        result.info = dict(zip(abi.ANALYSIS_INFO_FIELDS, info_struct.unpack(
            _read(result.info_addr, info_struct.size))))
    if not result.n_aux_rows:
        return
    if result.n_aux_rows > MAX_AUX_ROWS or result.aux_row_size != 8:
        raise PyleaksError("the helper returned an implausible result "
                           "(%d members of %d bytes)"
                           % (result.n_aux_rows, result.aux_row_size))
    raw = _read(result.aux_rows_addr, result.n_aux_rows * 8)
    result.aux = list(struct.unpack("<%dQ" % result.n_aux_rows, raw))


@dataclass
class Referenced:
    """An object as a row of the helper gives it, with `label` saying how
    another object refers to it.  type_addr is the object's type pointer,
    which the reprs need: carried so that nothing reads it again."""

    address: int
    type: str
    type_addr: int
    label: str
    size: int


@dataclass
class Hop(Referenced):
    """One object of a chain; `label` says how the previous hop refers to
    it ("" for the root object, hop 0)."""


@dataclass
class Chain:
    """hops[0] is the object the root holds, the last hop the target."""

    root_kind: str                  # "module"|"frame"|"interpreter"|"c"
    root_desc: str
    hops: List[Hop]


@dataclass
class Unreachable:
    """Why no root reaches the target."""

    cycle_group: int
    garbage: int
    gc_enabled: Optional[bool]      # None when unknown
    unexplained: int
    explanation: str


@dataclass
class ChainResult:
    target: int
    target_type: str
    target_type_addr: int
    chains: List[Chain]
    unreachable: Optional[Unreachable]
    picked: Optional[Tuple[int, str]]   # (address, why)
    elapsed_s: float
    reused: bool


@dataclass
class Ref(Referenced):
    """A referent: `label` says how the object asked about refers to
    it."""


@dataclass
class BackRef(Referenced):
    """A referrer at `depth` (1..N) that refers to `via` as `label`.  A
    root that holds `via` directly has root_kind/root_desc set (and
    address 0: a frame local or interpreter slot is not an object)."""

    depth: int
    via: int
    root_kind: Optional[str]
    root_desc: Optional[str]


@dataclass
class RefsResult:
    address: int
    type: str
    type_addr: int
    items: List[Referenced]
    elapsed_s: float
    n_total: int                    # items before --max truncation


def root_kind_name(kind):
    return abi.ROOT_KINDS.get(kind, "c")


def _hop(row):
    return Hop(row["address"], row["name"], row["type_addr"], row["label"],
               row["size"])


def chain_result(res):
    """A ChainResult from a Result of kind RESULT_CHAIN."""
    info = res.info or {}
    chains = []
    for aux in res.aux:
        first, n = aux["first_hop"], aux["n_hops"]
        chains.append(Chain(root_kind_name(aux["root_kind"]),
                            aux["root_desc"],
                            [_hop(row) for row in res.rows[first:first + n]]))
    unreachable = None
    if not info.get("reachable"):
        enabled = info.get("gc_enabled", 2)
        unreachable = Unreachable(
            info.get("cycle_group", 0), info.get("garbage", 0),
            None if enabled not in (0, 1) else bool(enabled),
            info.get("unexplained", 0), info.get("explanation", ""))
    picked = None
    if info.get("picked"):
        picked = (info["address"], info["picked_why"])
    return ChainResult(info.get("address", 0), info.get("name", "?"),
                       info.get("type_addr", 0), chains, unreachable, picked,
                       res.call_ns / 1e9, bool(info.get("rev_reused")))


def _ref(row):
    return Ref(row["address"], row["name"], row["type_addr"], row["label"],
               row["size"])


def _backref(row):
    kind = row["root_kind"]
    is_object = bool(row["address"])
    return BackRef(row["address"], row["name"] if is_object else "",
                   row["type_addr"] if is_object else 0, row["label"],
                   row["size"], row["depth"], row["via"],
                   root_kind_name(kind) if kind else None,
                   row["root_desc"] if kind else None)


def refs_result(res, backward):
    """A RefsResult from a Result of kind RESULT_REFS or RESULT_BACKREFS."""
    info = res.info or {}
    item = _backref if backward else _ref
    return RefsResult(info.get("address", 0), info.get("name", "?"),
                      info.get("type_addr", 0),
                      [item(row) for row in res.rows], res.call_ns / 1e9,
                      res.n_rows_total)


# --- bulk results: rows gdb stores as they are (object identities) ----------

BULK_CHUNK = 4 << 20


def read_header(address, expect_kind):
    """The Result at `address` without its rows: for a kind whose rows
    are taken as bytes (read_bytes), never one Python object per row."""
    if not address:
        raise PyleaksError("the helper returned no result",
                           "It could not map its memory; the target may be "
                           "out of memory")
    res = _header(address)
    if res.ok and res.kind != expect_kind:
        raise PyleaksError("the helper returned a result of kind %d where "
                           "%d was expected" % (res.kind, expect_kind))
    return res


def read_bytes(address, size):
    """`size` bytes of the target at `address`, read a few MB at a time."""
    chunks = []
    for offset in range(0, size, BULK_CHUNK):
        chunks.append(_read(address + offset, min(BULK_CHUNK, size - offset)))
    return b"".join(chunks)
