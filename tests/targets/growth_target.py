"""Target for the growth tests (tests/test_growth.py): a heap that changes
by known objects between two looks of pyleaks, and that counts itself.

Run by the interpreter under test (3.8+ syntax only):

    growth_target.py --grow N --doomed K --ids-dir DIR

Protocol (harness.ControlledTarget): prints {"ready": true, "pid",
"python_version", "executable"} once its heap is built, then answers one
JSON line per request line:

    {"op": "census"}  the oracle of the look pyleaks just took: the census
                      of gc_census.py by type name ({name: [count, bytes,
                      unsized]}), its totals, and the file (in DIR) where
                      it wrote the identity of every object it counted,
                      {hex(id): type name}
    {"op": "grow"}    N more Grown objects (each holding a new str and a
                      new tuple), N // 10 of a class no object had so far
                      (Fresh), and the K Doomed objects dropped: their
                      type disappears from the census; answers the ids of
                      the new Grown objects
    {"op": "quit"}    answers "bye" and exits

Between two requests the main thread blocks in the same frame with the
same locals (nothing left over from the last request), the collector is
disabled, and a census request counts the heap before it creates
anything: so each look pyleaks takes equals its oracle, or differs from
it by the same objects at every look (the frames of the blocking read),
which leaves the change between two looks exact."""

import gc
import json
import os
import platform
import sys

import gc_census
import protocol
from typenames import type_name

gc.disable()

OPTS = {"--grow": 1000, "--doomed": 300, "--ids-dir": "."}
_args = sys.argv[1:]
while _args:
    OPTS[_args[0]] = _args[1]
    del _args[:2]
GROW = int(OPTS["--grow"])
IDS_DIR = OPTS["--ids-dir"]


class Grown:
    __slots__ = ("name", "pair")

    def __init__(self, i):
        self.name = "grown-%06d" % i
        self.pair = (i, self.name)


class Fresh:
    """No instance exists until the first grow request."""

    __slots__ = ("n",)

    def __init__(self, n):
        self.n = n


class Doomed:
    __slots__ = ("n",)

    def __init__(self, n):
        self.n = n


class Base:
    __slots__ = ("n",)

    def __init__(self, n):
        self.n = n


HOLD = [Grown(i) for i in range(500)]
FRESH = []
BASE = [Base(i) for i in range(2000)]
DOOMED = [Doomed(i) for i in range(int(OPTS["--doomed"]))]
LOOKS = [0]


def census_answer(request):
    """The census first, before this request creates anything: this frame,
    its caller's and the request are excluded (they did not exist when
    pyleaks looked)."""
    census, seen, _, _ = gc_census.count(
        (id(request), id(sys._getframe()), id(sys._getframe(1))), sizes=True)
    LOOKS[0] += 1
    path = os.path.join(IDS_DIR, "census-%d-%d.json" % (os.getpid(),
                                                       LOOKS[0]))
    names = {}
    ids = {}
    for key, obj in seen.items():
        t = type(obj)
        name = names.get(id(t))
        if name is None:
            name = names[id(t)] = type_name(t)
        ids["%#x" % key] = name
    del seen
    with open(path, "wb") as f:
        f.write(json.dumps(ids).encode())
    return {"census": census, "total_objects": sum(r[0] for r in census.values()),
            "total_bytes": sum(r[1] for r in census.values()), "ids_file": path}


def grow_answer():
    start = len(HOLD)
    new = [Grown(start + i) for i in range(GROW)]
    HOLD.extend(new)
    FRESH.extend(Fresh(i) for i in range(GROW // 10))
    del DOOMED[:]
    return {"grown": ["%#x" % id(g) for g in new]}


def handle(request):
    if request.startswith(b'{"op": "census"'):
        return protocol.line(census_answer(request))
    if request.startswith(b'{"op": "grow"'):
        return protocol.line(grow_answer())
    return protocol.line({"error": "unknown request"})


def serve():
    while True:
        request = protocol.request()  # blocks here, GIL released
        if not request or request.startswith(b'{"op": "quit"'):
            protocol.reply("bye")
            return
        answer = handle(request)
        protocol.write(answer)
        # Nothing of this request is left for the next look to count.
        del request, answer


protocol.send({"ready": True, "pid": os.getpid(),
               "python_version": platform.python_version(),
               "executable": sys.executable})
serve()
