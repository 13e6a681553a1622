"""Target of tests/test_bounded.py and of the message tests of
tests/test_errors.py: containers of N entries (argv[1], default
1,000,000), and names with a NUL in them.

Run by the interpreter under test (3.8+ syntax only).  Protocol, one JSON
line each way (as heap_target.py):

1. builds the containers, prints {"ready": true, "pid", "n", "addrs":
   {name: "0x..."}, "nul": {...}} and blocks reading stdin with the GIL
   released (the collector is off: the heap the oracle sees afterwards is
   the one pyleaks walked);
2. the test runs pyleaks, then writes one request line: {"first":
   {name: K}, "objects": ["0x...", ...]};
3. the target answers from its own heap: the totals by len() and the gc
   module, the first K references of each container in reading order
   (what py-refs must list first), the referrers of the sentinel that
   gc.get_referrers() finds, which of the addresses asked about are live
   objects of which type; prints that report and exits 0.

The containers:
- big_dict: N int keys; odd keys map to the one `shared` object, even
  keys to themselves (a key and a value that are the same object);
- big_list: N distinct Node instances, each holding `sentinel` (its only
  referrers, N of them);
- dup_list: `shared` N times (N references to one referent).
"""

import gc
import json
import os
import platform
import sys
import types

gc.disable()

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import protocol  # noqa: E402
from typenames import type_name  # noqa: E402


class Node:
    __slots__ = ("ref",)

    def __init__(self, ref):
        self.ref = ref


class Shared:
    pass


class Sentinel:
    pass


# A class whose qualified name has a NUL in it, with live instances, and
# a dict key and an attribute name with one.
NulName = type("NulName", (), {})
NulName.__qualname__ = "Nul\0Name"
NUL_INSTANCES = [NulName() for _ in range(3)]


class Marker:
    """Held by one reference only: its chain's last label names it."""


NUL_KEYS = {"a\0b": Marker(), "plain": 2}


class NulAttrs:
    pass


NUL_ATTRS = NulAttrs()
setattr(NUL_ATTRS, "x\0y", Marker())

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000


def build(n):
    global big_dict, big_list, dup_list
    shared = Shared()
    sentinel = Sentinel()
    big_dict = {i: (shared if i % 2 else i) for i in range(n)}
    big_list = [Node(sentinel) for _ in range(n)]
    dup_list = [shared] * n


build(N)


def reading_order(name, k):
    """The first k references of a container as py-refs lists them:
    [address, label]."""
    out = []
    if name == "big_dict":
        for key, value in big_dict.items():
            if len(out) >= k:
                break
            out.append([hex(id(key)), "key of [%d]" % key])
            out.append([hex(id(value)), "[%d]" % key])
        return out[:k]
    seq = big_list if name == "big_list" else dup_list
    return [[hex(id(seq[i])), "[%d]" % i] for i in range(min(k, len(seq)))]


def oracle(request):
    report = {}
    report["len"] = {"big_dict": len(big_dict), "big_list": len(big_list),
                     "dup_list": len(dup_list)}
    report["referents"] = {
        name: len(gc.get_referents(obj))
        for name, obj in (("big_dict", big_dict), ("big_list", big_list),
                          ("dup_list", dup_list))}
    report["first"] = {name: reading_order(name, k)
                       for name, k in request.get("first", {}).items()}
    sentinel = big_list[0].ref
    # The frame running this (3.8-3.10 track it) is not the heap's.
    referrers = [r for r in gc.get_referrers(sentinel)
                 if not isinstance(r, types.FrameType)]
    report["sentinel_referrers"] = len(referrers)
    report["sentinel_referrer_types"] = sorted({type_name(type(r))
                                                for r in referrers})
    shared = big_dict[1]
    report["shared_referrers"] = sorted(
        hex(id(r)) for r in gc.get_referrers(shared)
        if not isinstance(r, types.FrameType))
    del sentinel, shared, referrers
    wanted = {int(a, 16) for a in request.get("objects", [])}
    found = {}
    for obj in gc.get_objects():
        if id(obj) in wanted:
            found[hex(id(obj))] = type_name(type(obj))
    report["objects"] = found
    report["nodes"] = sum(1 for obj in big_list if type(obj) is Node)
    return report


def block_and_report():
    request = protocol.request()  # blocks here, GIL released
    protocol.send(oracle(json.loads(request or b"{}")))


protocol.send({
    "ready": True,
    "pid": os.getpid(),
    "python_version": platform.python_version(),
    "n": N,
    "addrs": {
        "big_dict": hex(id(big_dict)),
        "big_list": hex(id(big_list)),
        "dup_list": hex(id(dup_list)),
        "sentinel": hex(id(big_list[0].ref)),
        "shared": hex(id(big_dict[1])),
        "last_node": hex(id(big_list[-1])),
        "nul_keys": hex(id(NUL_KEYS)),
        "key_marker": hex(id(NUL_KEYS["a\0b"])),
        "attr_marker": hex(id(getattr(NUL_ATTRS, "x\0y"))),
        # Readable memory where no object starts: inside a list object.
        "inside_object": hex(id(big_list) + 8),
    },
    "nul": {"type": type_name(NulName), "count": len(NUL_INSTANCES),
            "key": "a\0b", "attr": "x\0y"},
})
block_and_report()
