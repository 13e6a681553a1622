"""Target for tests/test_corrupt.py: a heap with corrupt objects in it.

Run by the interpreter under test (3.8+ syntax only).  The collector is
disabled, so CPython itself never traverses the corrupt objects, and
nothing in the process touches them until they are repaired:

  list_items   a list whose item array pointer points to a page no one may
               read;
  list_size    a list whose ob_size is far beyond its allocation;
  tuple_size   a tuple whose ob_size runs far past its memory;
  dict_keys    a dict whose ma_keys points to that page;
  refcnt       an object whose refcount has 2**62 added;
  gc_link      a list whose _gc_next points to that page: the youngest GC
               list breaks there.  The objects after it on that list are
               all reachable from the module's globals.
  deque_block  (repaired at start, broken only by the test through gdb) a
               deque whose first block pointer points to that page: no
               validator knows deques, so only a fault inside its own
               tp_traverse reveals it.

Every item of a corrupt container is also held by SHARED, so what pyleaks
finds while skipping them is exactly what the gc module counts once they
are repaired.  A heartbeat thread ticks throughout (it allocates nothing the
collector tracks, so it never touches a GC list).

Protocol: prints {"ready": true, "pid", "python_version", "corruptions":
[{"kind", "object", "field", "good", "bad"}], "after_break": [...],
"hold": addr, "beats": n} and blocks reading stdin with the GIL released;
on a request line it repairs every object, computes the oracle (the census
set of docs/architecture.md by type name), checks that the heartbeat went
on, prints {"census": {...}, "beats_before", "beats_after", ...} and exits 0.
"""

import collections
import ctypes
import gc
import mmap
import os
import platform
import sys
import threading
import time

import gc_census
import protocol

gc.disable()

BEATS = [0]


def heartbeat():
    while True:
        BEATS[0] += 1
        time.sleep(0.002)


threading.Thread(target=heartbeat, name="heartbeat", daemon=True).start()


class Item:
    def __init__(self, i):
        self.i = i


libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int,
                      ctypes.c_int, ctypes.c_int, ctypes.c_long]
# A page no one may read (PROT_NONE), never unmapped: what the garbage
# pointers point to.
FORBIDDEN = libc.mmap(None, mmap.PAGESIZE, 0,
                      mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, -1, 0)
assert FORBIDDEN not in (None, ctypes.c_void_p(-1).value), ctypes.get_errno()

# Offsets identical in every supported version (3.8-3.13, GIL builds):
# PyVarObject.ob_size, PyListObject.ob_item, PyDictObject.ma_keys,
# dequeobject.leftblock, and the PyGC_Head right before a list.
OB_SIZE, LIST_ITEMS, DICT_KEYS, DEQUE_LEFTBLOCK, GC_HEAD = 16, 24, 32, 24, 16

SHARED = [Item(i) for i in range(40)] + ["shared-%d" % i for i in range(40)]
VICTIMS = {
    "list_items": list(SHARED[:10]),
    "list_size": list(SHARED[10:20]),
    "tuple_size": tuple(SHARED[20:30]),
    "dict_keys": dict(zip(SHARED[40:50], SHARED[30:40])),
    "refcnt": Item(-1),
    "deque_block": collections.deque(SHARED[50:60]),
}

# The GC list break, on the youngest list (the collector is off, so its
# order is creation order): BROKEN, then its successor NEXT (never freed:
# freeing it would rewrite BROKEN's link), then the objects HOLD keeps,
# then whatever the module creates later (all reachable from its globals).
gc.collect()
BROKEN = ["broken"]
NEXT = ["next"]
HOLD = [["held-%d" % i] for i in range(25)]


def word(addr):
    return ctypes.c_ssize_t.from_address(addr)


def corruption(kind, obj, field, bad):
    return {"kind": kind, "object": hex(id(obj)), "field": hex(field),
            "good": word(field).value, "bad": bad}


REFCNT_DELTA = 1 << 62
CORRUPTIONS = [
    corruption("list_items", VICTIMS["list_items"],
               id(VICTIMS["list_items"]) + LIST_ITEMS, FORBIDDEN),
    corruption("list_size", VICTIMS["list_size"],
               id(VICTIMS["list_size"]) + OB_SIZE, 1 << 30),
    corruption("tuple_size", VICTIMS["tuple_size"],
               id(VICTIMS["tuple_size"]) + OB_SIZE, 1 << 30),
    corruption("dict_keys", VICTIMS["dict_keys"],
               id(VICTIMS["dict_keys"]) + DICT_KEYS, FORBIDDEN),
    corruption("gc_link", BROKEN, id(BROKEN) - GC_HEAD, FORBIDDEN),
    corruption("deque_block", VICTIMS["deque_block"],
               id(VICTIMS["deque_block"]) + DEQUE_LEFTBLOCK, FORBIDDEN),
]
# A refcount goes up and down while the target runs: the test and the
# repair add and subtract the delta instead of writing a value.
CORRUPTIONS.append({"kind": "refcnt", "object": hex(id(VICTIMS["refcnt"])),
                    "field": hex(id(VICTIMS["refcnt"])), "delta": REFCNT_DELTA})

assert word(id(BROKEN) - GC_HEAD).value == id(NEXT) - GC_HEAD, (
    "the object after BROKEN on its GC list is not NEXT")


def corrupt():
    for c in CORRUPTIONS:
        if c["kind"] == "refcnt":
            word(int(c["field"], 16)).value += c["delta"]
        elif c["kind"] != "deque_block":
            word(int(c["field"], 16)).value = c["bad"]


def repair():
    """Idempotent: the test may have repaired some already."""
    for c in CORRUPTIONS:
        w = word(int(c["field"], 16))
        if c["kind"] == "refcnt":
            if w.value >= c["delta"]:
                w.value -= c["delta"]
        else:
            w.value = c["good"]


def oracle(request):
    """Count the heap as pyleaks saw it (gc_census): this frame and its
    caller's are excluded by id."""
    census, seen, _, _ = gc_census.count(
        (id(request), id(sys._getframe()), id(sys._getframe(1))))
    return {"census": census, "total_objects": len(seen)}


def report(request, beats_after):
    repair()
    rep = oracle(request)
    rep["beats_before"] = BEATS_READY
    rep["beats_after"] = beats_after
    rep["intact"] = (len(VICTIMS["list_size"]) == 10
                     and len(VICTIMS["tuple_size"]) == 10
                     and list(VICTIMS["deque_block"]) == SHARED[50:60]
                     and VICTIMS["dict_keys"][SHARED[40]] is SHARED[30])
    gc.enable()
    gc.collect()
    return rep


corrupt()
while BEATS[0] == 0:
    time.sleep(0.001)
BEATS_READY = BEATS[0]
protocol.send({
    "ready": True,
    "pid": os.getpid(),
    "python_version": platform.python_version(),
    "corruptions": CORRUPTIONS,
    "after_break": [hex(id(h)) for h in HOLD],
    "hold": hex(id(HOLD)),
    "forbidden": hex(FORBIDDEN),
})
# Blocks at module level: a function's frame (an object on a GC list
# before 3.11) created now would sit after the break, held by nothing
# pyleaks can see.
request = protocol.request()  # blocks here, GIL released
protocol.send(report(request, BEATS[0]))
