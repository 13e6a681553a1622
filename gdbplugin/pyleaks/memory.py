"""The target's memory next to its Python objects: RSS, pymalloc's arenas
and the free space in them, and the rest (C extensions, malloc's own
fragmentation, the interpreter's code).

Everything is read from outside: /proc/PID/status for the RSS, and
pymalloc's own bookkeeping with gdb -- a handful of globals, the
arena_object array in one read, and the header of every pool carved out
of an arena (48 bytes each, read with process_vm_readv in batches of
scattered pieces, and added up per size class without a Python loop per
pool).  What it counts is what sys._debugmallocstats() prints:

  pymalloc_arenas  arenas allocated now x the arena size
  free pools       the pools of those arenas that hold no block
                   ("N unused pools * POOL_SIZE bytes")
  free blocks      the free blocks of the pools in use
                   ("# bytes in available blocks")

Versions: 3.8-3.11 keep the state in static variables of obmalloc.c;
3.12 in the main interpreter's struct _obmalloc_state, 3.13 behind its
pointer.  Arena and pool sizes are 256 KiB / 4 KiB until 3.9, 1 MiB /
16 KiB from 3.10 (checked against a pool header: its maxnextoffset plus
its block size is the pool size)."""

import collections
import ctypes
import struct
from array import array
from dataclasses import dataclass
from typing import Optional

import gdb

from . import layout

# Which sizes each version was built with (Objects/obmalloc.c).
OLD_SIZES = (256 << 10, 4 << 10)        # 3.8, 3.9: ARENA_SIZE, POOL_SIZE
NEW_SIZES = (1 << 20, 16 << 10)         # 3.10+: USE_LARGE_ARENAS/POOLS
ALIGNMENT = 16                          # 64-bit builds, 3.8+
MAX_ARENAS = 1 << 24                    # 16 TiB of 1 MiB arenas
MAX_POOLS = 1 << 22                     # headers read at most (192 MiB)
IOV_MAX = 1024


class Unavailable(Exception):
    """Why pymalloc's figures are not given, in a few words."""


@dataclass
class Pymalloc:
    """pymalloc's arenas as sys._debugmallocstats() counts them."""

    arenas: int                     # arenas allocated now
    arena_size: int
    pool_size: int
    free_pools: int                 # pools of those arenas holding no block
    free_blocks_bytes: Optional[int]    # free blocks of the pools in use
    used_blocks_bytes: Optional[int]    # allocated blocks

    @property
    def arenas_bytes(self):
        return self.arenas * self.arena_size

    @property
    def free_bytes(self):
        return self.free_pools * self.pool_size + (self.free_blocks_bytes
                                                   or 0)


@dataclass
class Memory:
    """The memory line of py-leaks.  `other` is what is neither a Python
    object nor pyleaks' own helper: RSS - python_objects - helper, never
    below 0 (docs/json.md)."""

    rss: Optional[int]
    python_objects: int
    helper: int                     # pyleaks' helper memory in the target
    pymalloc: Optional[Pymalloc]
    pymalloc_why: Optional[str]     # why pymalloc is None

    @property
    def other(self):
        if self.rss is None:
            return None
        return max(0, self.rss - self.python_objects - self.helper)


def measure(target, python_objects, helper_bytes):
    """The Memory of a target.Target whose census counted python_objects
    bytes, with helper_bytes of pyleaks' helper mapped in it."""
    try:
        pym, why = pymalloc(target), None
    except Unavailable as exc:
        pym, why = None, str(exc)
    return Memory(rss(target.pid), python_objects, helper_bytes, pym, why)


def rss(pid):
    """VmRSS of the process in bytes, or None."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


# --- pymalloc's state ----------------------------------------------------------

def _value(expression):
    try:
        return gdb.parse_and_eval(expression)
    except gdb.error:
        return None


def _obmalloc_state(target):
    """The main interpreter's struct _obmalloc_state (3.12+) as a
    gdb.Value."""
    state = _value("_PyRuntime.interpreters.main->obmalloc")
    if state is None:
        raise Unavailable("the main interpreter's obmalloc state is not in "
                          "the debug symbols")
    if state.type.strip_typedefs().code == gdb.TYPE_CODE_PTR:
        state = state.dereference()
    return state


def _mgmt(target):
    """(arenas pointer, maxarenas) of pymalloc."""
    try:
        if target.version >= (3, 12):
            mgmt = _obmalloc_state(target)["mgmt"]
            return int(mgmt["arenas"]), int(mgmt["maxarenas"])
        arenas = layout._static_var("arenas")
        maxarenas = layout._static_var("maxarenas")
        if arenas is None or maxarenas is None:
            raise Unavailable("pymalloc's arenas are not in the debug "
                              "symbols")
        return int(arenas), int(maxarenas)
    except (gdb.error, gdb.MemoryError) as exc:
        raise Unavailable("pymalloc's state cannot be read (%s)"
                          % str(exc).strip()) from None


def _allocator(target):
    """The object domain's allocator (PyMemAllocatorEx) as a gdb.Value,
    or None."""
    if target.version >= (3, 12):
        return _value("_PyRuntime.allocators.standard.obj")
    return layout._static_var("_PyObject")


def _function_name(address):
    """The function at address ('_PyObject_Malloc'), or None; an LTO
    build's '.lto_priv.0' suffix is dropped."""
    try:
        text = gdb.execute("info symbol %#x" % address, to_string=True)
    except gdb.error:
        return None
    if text.startswith("No symbol"):
        return None
    return text.split()[0].split(".lto_priv")[0]


def _debug_hooked(ctx):
    """The allocator the debug hooks (PYTHONMALLOC=debug, -X dev) wrap:
    ctx is their debug_alloc_api_t."""
    api = gdb.lookup_type("debug_alloc_api_t").pointer()
    return gdb.Value(ctx).cast(api).dereference()["alloc"]


def _environ(pid, name):
    try:
        with open("/proc/%d/environ" % pid, "rb") as f:
            for item in f.read().split(b"\0"):
                if item.startswith(name.encode() + b"="):
                    return item.split(b"=", 1)[1].decode("utf-8", "replace")
    except OSError:
        pass
    return None


def _check_pymalloc_in_use(target):
    """Unavailable when objects do not come from pymalloc (PYTHONMALLOC=
    malloc or mimalloc); nothing when they do or it cannot be told."""
    try:
        alloc = _allocator(target)
        if alloc is None:
            return
        name = _function_name(int(alloc["malloc"]))
        if name == "_PyMem_DebugMalloc":
            name = _function_name(int(_debug_hooked(int(alloc["ctx"]))
                                      ["malloc"]))
    except (gdb.error, gdb.MemoryError):
        return
    if name is None or name == "_PyObject_Malloc":
        return
    setting = _environ(target.pid, "PYTHONMALLOC")
    if setting:
        raise Unavailable("PYTHONMALLOC=%s: objects do not come from "
                          "pymalloc" % setting)
    raise Unavailable("objects come from %s, not pymalloc" % name)


def _struct_offsets(type_name, *members):
    t = layout.lookup_type(type_name)
    if t is None:
        raise Unavailable("%s is not in the debug symbols" % type_name)
    offsets = [layout.offset_of(type_name, m) for m in members]
    if None in offsets:
        raise Unavailable("%s has no %s" % (type_name, members[offsets.index(
            None)]))
    return t.sizeof, offsets


def _read(address, size):
    try:
        return bytes(gdb.selected_inferior().read_memory(address, size))
    except gdb.MemoryError:
        raise Unavailable("pymalloc's arenas are unreadable at %#x"
                          % address) from None


@dataclass
class _Arena:
    address: int
    pool_address: int
    nfreepools: int


def _arenas(target):
    """The arenas allocated now."""
    array_addr, maxarenas = _mgmt(target)
    if not 0 <= maxarenas <= MAX_ARENAS:
        raise Unavailable("implausible pymalloc state (%d arena objects)"
                          % maxarenas)
    size, (o_addr, o_pool, o_free) = _struct_offsets(
        "struct arena_object", "address", "pool_address", "nfreepools")
    if not maxarenas:
        return []
    raw = _read(array_addr, maxarenas * size)
    found = []
    for i in range(maxarenas):      # arena objects: a few thousand at most
        base = i * size
        address, = struct.unpack_from("<Q", raw, base + o_addr)
        if address:
            found.append(_Arena(address,
                                struct.unpack_from("<Q", raw, base + o_pool)[0],
                                struct.unpack_from("<I", raw, base + o_free)[0]))
    return found


def pymalloc(target):
    """The Pymalloc of a target.Target; Unavailable says why not."""
    _check_pymalloc_in_use(target)
    arenas = _arenas(target)
    arena_size, pool_size = NEW_SIZES if target.version >= (3, 10) \
        else OLD_SIZES
    free_pools = sum(a.nfreepools for a in arenas)
    pools = _PoolHeaders(target.pid, pool_size)
    used, free = pools.blocks(arenas)
    return Pymalloc(len(arenas), arena_size, pool_size, free_pools, free,
                    used)


# --- the pools in use ----------------------------------------------------------

class _Iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


_libc = ctypes.CDLL(None, use_errno=True)
_process_vm_readv = getattr(_libc, "process_vm_readv", None)
if _process_vm_readv is not None:
    _process_vm_readv.restype = ctypes.c_ssize_t
    _process_vm_readv.argtypes = (ctypes.c_int, ctypes.c_void_p,
                                  ctypes.c_ulong, ctypes.c_void_p,
                                  ctypes.c_ulong, ctypes.c_ulong)


class _PoolHeaders:
    """The headers of the pools carved out of the arenas, as
    sys._debugmallocstats() walks them, added up per size class."""

    def __init__(self, pid, pool_size):
        self.pid = pid
        self.pool_size = pool_size
        self.header, (self.o_count, self.o_szidx, self.o_max) = \
            _struct_offsets("struct pool_header", "ref", "szidx",
                            "maxnextoffset")
        self.overhead = -(-self.header // ALIGNMENT) * ALIGNMENT

    def _pool_addresses(self, arenas):
        """Addresses of the carved pools, as one array('Q')."""
        addresses = array("Q")
        for a in arenas:
            first = -(-a.address // self.pool_size) * self.pool_size
            addresses.extend(range(first, a.pool_address, self.pool_size))
        return addresses

    def _read_headers(self, addresses):
        """The headers at those addresses, one after the other; None when
        process_vm_readv cannot read them."""
        if _process_vm_readv is None:
            return None
        n = len(addresses)
        out = ctypes.create_string_buffer(n * self.header)
        remote = array("Q", bytes(16 * n))
        view = memoryview(remote)
        view[0::2] = addresses
        view[1::2] = array("Q", [self.header]) * n
        remote_addr = remote.buffer_info()[0]
        for start in range(0, n, IOV_MAX):
            count = min(IOV_MAX, n - start)
            local = _Iovec(ctypes.addressof(out) + start * self.header,
                           count * self.header)
            got = _process_vm_readv(self.pid, ctypes.byref(local), 1,
                                    remote_addr + start * 16, count, 0)
            if got != count * self.header:
                return None
        return out.raw

    def blocks(self, arenas):
        """(bytes in allocated blocks, bytes in free blocks) of the pools
        in use; (None, None) when their headers cannot be read."""
        addresses = self._pool_addresses(arenas)
        if not addresses or len(addresses) > MAX_POOLS:
            return (0, 0) if not addresses else (None, None)
        raw = self._read_headers(addresses)
        if raw is None or self.header % 4 or self.o_szidx % 4:
            return None, None
        words = memoryview(raw).cast("I")
        step = self.header // 4
        # One 64-bit key per pool, szidx above count, then counted: C
        # loops all, whatever the number of pools.
        keys = array("I", bytes(8 * len(addresses)))
        kview = memoryview(keys)
        kview[0::2] = words[self.o_count // 4::step]
        kview[1::2] = words[self.o_szidx // 4::step]
        by_shape = collections.Counter(kview.cast("B").cast("Q"))
        used = free = 0
        for key, pools in by_shape.items():   # size classes x counts
            count, szidx = key & 0xFFFFFFFF, key >> 32
            if count == 0:
                continue                # an empty pool: a free pool
            size = (szidx + 1) * ALIGNMENT
            capacity = (self.pool_size - self.overhead) // size
            if count > capacity:
                return None, None       # not a pool header after all
            used += pools * count * size
            free += pools * (capacity - count) * size
        if used and not self._pool_size_agrees(words, step):
            raise Unavailable("pymalloc's pools are not %d bytes"
                              % self.pool_size)
        return used, free

    def _pool_size_agrees(self, words, step):
        """The first pool in use says the pool size: its maxnextoffset
        plus its block size."""
        counts = words[self.o_count // 4::step]
        first = next(i for i, count in enumerate(counts) if count)
        szidx = words[first * step + self.o_szidx // 4]
        maxnext = words[first * step + self.o_max // 4]
        return maxnext + (szidx + 1) * ALIGNMENT == self.pool_size
