"""Target process for the pyleaks tests: a heap with known contents.

Run by the interpreter under test (3.8+ syntax only).  Protocol, one JSON
line each way:

1. builds the heap, prints {"ready": true, "pid", "python_version",
   "expect": {type name: count}, "block_function", "specials": [...]}
   on stdout and blocks reading stdin with the GIL released;
2. the test runs pyleaks, then writes one request line
   {"addresses": ["0x...", ...]} (or just a newline);
3. the target computes the oracle -- the census pyleaks must reproduce,
   counted by the gc module exactly as docs/architecture.md defines it --
   checks that nothing it owns was changed, answers the request and prints
   {"census": {name: [count, bytes]}, ...}, then finishes its work (a full
   collection of its cyclic garbage) and exits 0.

Nothing runs between "ready" and the oracle except the blocking read, and
the collector is disabled, so the heap pyleaks examines is the heap the
oracle counts, minus the few objects that waking up creates (see
harness.WAKEUP_TOLERANCE).
"""

import gc
import hashlib
import json
import os
import platform
import sys

import gc_census
import protocol
from typenames import type_name

# A full collection could free the deliberate garbage between the census
# and the oracle; the test disables the collector from here on.
gc.disable()


class Plain:
    """Instances with a __dict__ (or inline values on 3.11+)."""

    def __init__(self, i):
        self.i = i * 7919
        self.name = "plain-%06d" % i


class Slotted:
    __slots__ = ("a", "b")

    def __init__(self, i):
        self.a = i
        self.b = float(i) / 3.0


class MyDict(dict):
    pass


class MyList(list):
    pass


class Handler:
    """A class whose module differs from the script's: app.handlers.Handler."""

    __module__ = "app.handlers"

    def __init__(self, route):
        self.route = route


class Outer:
    class Inner:
        def __init__(self, n):
            self.n = n


def _make_named(module, name):
    return type(name, (), {"__module__": module, "__qualname__": name})


# Two classes with the same short name in different modules: the short
# name is ambiguous for py-objects.
AmbigA = _make_named("app.a", "Ambig")
AmbigB = _make_named("app.b", "Ambig")
# Two distinct class objects with the same qualified name: one census row.
Dup1 = _make_named("__main__", "Dup")
Dup2 = _make_named("__main__", "Dup")


class Frozen:
    """Instances created before gc.freeze(): only in the permanent generation."""

    def __init__(self, i):
        self.i = i


class Garbage:
    """Unreachable reference cycles, still on the GC lists (collector off)."""

    def __init__(self):
        self.me = self


EXPECT = {
    "__main__.Plain": 12345,
    "__main__.Slotted": 777,
    "__main__.MyDict": 321,
    "__main__.MyList": 222,
    "app.handlers.Handler": 99,
    "__main__.Outer.Inner": 55,
    "app.a.Ambig": 11,
    "app.b.Ambig": 13,
    "__main__.Dup": 15,
    "__main__.Frozen": 64,
    "__main__.Garbage": 100,
}

# Built before gc.freeze(): lives in the permanent generation.
FROZEN = [Frozen(i) for i in range(EXPECT["__main__.Frozen"])]
gc.collect()
FREEZE_BEFORE = gc.get_freeze_count()
gc.freeze()

PLAINS = [Plain(i) for i in range(EXPECT["__main__.Plain"])]
SLOTTED = [Slotted(i) for i in range(EXPECT["__main__.Slotted"])]
MYDICTS = [MyDict(k=i, v="d%d" % i) for i in range(EXPECT["__main__.MyDict"])]
MYLISTS = [MyList([i, i + 1, "x%d" % i]) for i in range(EXPECT["__main__.MyList"])]
HANDLERS = [Handler("/route/%d" % i) for i in range(EXPECT["app.handlers.Handler"])]
INNERS = [Outer.Inner(i) for i in range(EXPECT["__main__.Outer.Inner"])]
AMBIGS = [AmbigA() for _ in range(11)] + [AmbigB() for _ in range(13)]
DUPS = [Dup1() for _ in range(7)] + [Dup2() for _ in range(8)]
# Tuples of ints: the collector untracks them at the next collection, so
# they are found only through the list that holds them.
UNTRACKED_TUPLES = [(i, i * 3, -i) for i in range(4321)]
# str of every storage kind (1-, 2- and 4-byte) and ints of many sizes.
STRINGS = (["leak-%05d" % i for i in range(2000)]
           + ["caf\xe9-%d" % i for i in range(500)]
           + ["\u65e5\u672c-%d" % i for i in range(500)]
           + ["\U0001f40d-%d" % i for i in range(500)])
# Non-ASCII str with a cached UTF-8 copy (compile() makes one): the copy
# is part of sys.getsizeof.
UTF8_CACHED = ["x = 'caf\xe9 %d \u65e5 \U0001f40d'" % i for i in range(100)]
for _src in UTF8_CACHED:
    compile(_src, "<utf8>", "exec")
del _src
# 3.8: str with a cached wchar_t copy (array('u') makes one), also part of
# sys.getsizeof; later versions do not cache it this way.
WSTR_CACHED = ["w\xe9-%d" % i for i in range(100)]
if sys.version_info < (3, 9):
    import array
    for _s in WSTR_CACHED:
        array.array("u", _s)
    del _s
INTS = [i * 1000003 for i in range(3000)] + [-(2 ** (i % 200)) for i in range(300)]
FLOATS = [i / 7.0 for i in range(1000)]
BLOBS = [b"blob-%d" % i * (i % 5 + 1) for i in range(400)]
BYTEARRAYS = [bytearray(b"ba" * (i % 17)) for i in range(150)]
SETS = [set(range(i % 40)) for i in range(200)]
FROZENSETS = [frozenset(("f%d" % i, i)) for i in range(120)]

gc.collect()
assert not any(gc.is_tracked(t) for t in UNTRACKED_TUPLES)

# Created after the last collection, so first on the youngest GC list and
# (docs/architecture.md, table order) the first str/int/float objects
# py-objects lists: the reprs the test checks come from here.
SPECIALS = [
    "", "a", "it's", 'say "hi"', "tab\tnew\nline\\", "caf\xe9 cr\xe8me",
    "\u65e5\u672c\u8a9e\u306e\u6587\u5b57\u5217", "snake \U0001f40d emoji",
    "\x00\x01\x7f\x80\xff", "long-" + "x" * 200, "\u0100" * 100,
    "\U0001f600" * 80,
    0, 1, -1, 255, 256, 257, -5, -6, 2 ** 30 - 1, 2 ** 30, 2 ** 31, 2 ** 62,
    2 ** 63, -(2 ** 63), 2 ** 64 + 1, 10 ** 40, -(10 ** 100), 2 ** 1000 + 12345,
    True, False,
    0.0, -0.0, 0.1, -2.5e300, 1e-310, 3.141592653589793, 1e16, 123456.789,
    float("inf"), float("-inf"), float("nan"),
]

for _ in range(EXPECT["__main__.Garbage"]):
    Garbage()

KEEP = [FROZEN, PLAINS, SLOTTED, MYDICTS, MYLISTS, HANDLERS, INNERS, AMBIGS,
        DUPS, UNTRACKED_TUPLES, STRINGS, UTF8_CACHED, WSTR_CACHED, INTS, FLOATS, BLOBS, BYTEARRAYS,
        SETS, FROZENSETS, SPECIALS]
SAMPLES = [PLAINS, PLAINS[0], PLAINS[-1], SLOTTED[5], MYDICTS[3], MYLISTS[7],
           HANDLERS[0], INNERS[1], STRINGS[0], STRINGS[-1], INTS[-1],
           UNTRACKED_TUPLES[10], Plain, Slotted, KEEP, SPECIALS]


def checksum():
    """A digest of every value the target owns (changes if pyleaks wrote any)."""
    h = hashlib.sha256()
    h.update(repr([(p.i, p.name) for p in PLAINS]).encode())
    h.update(repr([(s.a, s.b) for s in SLOTTED]).encode())
    h.update(repr([sorted(d.items()) for d in MYDICTS]).encode())
    h.update(repr([list(x) for x in MYLISTS]).encode())
    h.update(repr([x.route for x in HANDLERS] + [x.n for x in INNERS]).encode())
    h.update(repr([UNTRACKED_TUPLES, STRINGS, UTF8_CACHED, WSTR_CACHED, INTS, FLOATS, BLOBS]).encode())
    h.update(repr([BYTEARRAYS, [sorted(s) for s in SETS], SPECIALS]).encode())
    h.update(repr([sorted(map(repr, f)) for f in FROZENSETS]).encode())
    return h.hexdigest()


def refcounts():
    return [sys.getrefcount(o) for o in SAMPLES]


CHECKSUM_BEFORE = checksum()
REFCOUNTS_BEFORE = refcounts()
FREEZE_COUNT = gc.get_freeze_count()
REPR_TYPES = (str, int, float, bytes)


def oracle(request):
    """Count the heap as pyleaks saw it: the census set of
    docs/architecture.md, by type name, with sys.getsizeof totals.

    This frame and the request that woke us are excluded by id: they did
    not exist when pyleaks looked.
    """
    freeze_count = gc.get_freeze_count()
    census, seen, gc_tracked, refs_total = gc_census.count(
        (id(request), id(sys._getframe())), sizes=True)
    answers = {}
    wanted = json.loads(request.decode() or "{}").get("addresses", [])
    for a in wanted:
        o = seen.get(int(a, 16))
        if o is None:
            answers[a] = None
        elif type(o) in REPR_TYPES:
            answers[a] = [type_name(type(o)), repr(o)]
        else:
            answers[a] = [type_name(type(o)), None]
    return {
        "census": census,
        "total_objects": len(seen),
        "total_bytes": sum(row[1] for row in census.values()),
        "gc_tracked": gc_tracked,
        "refs_total": refs_total,
        "addresses": answers,
        "specials": [hex(id(o)) for o in SPECIALS],
        "freeze_count_before": FREEZE_COUNT,
        "freeze_count_after": freeze_count,
        "gc_enabled": gc.isenabled(),
    }


BLOCK_LINE = protocol.block_line(__file__)


def block_and_report():
    """Block until the test wakes us, then report and finish."""
    request = protocol.request()  # blocks here, GIL released
    report = oracle(request)
    # Checked once the oracle's references are gone again.
    report["refcounts_before"] = REFCOUNTS_BEFORE
    report["refcounts_after"] = refcounts()
    report["checksum_before"] = CHECKSUM_BEFORE
    report["checksum_after"] = checksum()
    # The target's own work goes on: its garbage is still collectable.
    gc.enable()
    report["collected"] = gc.collect()
    protocol.send(report)


protocol.send({
    "ready": True,
    "pid": os.getpid(),
    "python_version": platform.python_version(),
    "executable": sys.executable,
    "expect": EXPECT,
    "block_function": block_and_report.__name__,
    "block_line": BLOCK_LINE,
})
block_and_report()
