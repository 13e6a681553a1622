"""Target process of the py-chain / py-refs / py-backrefs tests.

Run by the interpreter under test (3.8+ syntax only), with the path of
the compiled leaky_ext extension as argv[1] when the test could build it.
chain_app.py builds the leaks (one per incident of issue 3).  Protocol,
one JSON line each way (as heap_target.py):

1. builds the leaks, prints {"ready": true, "pid", "python_version",
   "addrs": {name: "0x..."}, "thread": {...}, "ext": bool, ...} and
   blocks reading stdin with the GIL released;
2. the test runs pyleaks, then writes one request line naming what
   pyleaks answered (see chain_oracle.answer());
3. the target checks those answers against its own heap with the gc
   module, checks that nothing it owns was changed, prints the report
   and exits 0.

Nothing runs between "ready" and the oracle but the blocking read, and
the collector is disabled, so the heap the oracle walks is the one
pyleaks walked.  The oracle's own objects are excluded by id.
"""

import gc
import hashlib
import os
import platform
import sys

# The cycle of scenario 7 must survive until pyleaks looks.
gc.disable()

import chain_app  # noqa: E402  (built with the collector off)
import chain_oracle  # noqa: E402
import protocol  # noqa: E402


def load_ext(path):
    import importlib.machinery
    import importlib.util
    loader = importlib.machinery.ExtensionFileLoader("leaky_ext", path)
    spec = importlib.util.spec_from_file_location("leaky_ext", path, loader=loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


class Control:
    """Held by exactly one list: its refcount is explained by one edge,
    which calibrates the oracle's count of unexplained references."""


CONTROL = [Control()]


class Freed:
    """Larger than pymalloc's 512 bytes: malloc'd, and freed into a bin
    nothing allocates from while the target blocks."""

    __slots__ = tuple("s%d" % i for i in range(88))


def samples():
    return [chain_app.REGISTRY, chain_app.ERRORS, chain_app.SHARED, chain_app.POP_LIST[1],
            chain_app.POP_LIST, chain_app.POP_DICT, chain_app.ROUTES, chain_app.Handler,
            chain_app.record_event, chain_app.record_event.__defaults__[0], CONTROL]


def refcounts():
    return [sys.getrefcount(o) for o in samples()]


def checksum():
    h = hashlib.sha256()
    h.update(repr([str(e) for e in chain_app.ERRORS]).encode())
    h.update(repr([(e.kind, e.n) for e in chain_app.record_event.__defaults__[0]]).encode())
    h.update(repr([sorted(map(repr, chain_app.ROUTES)), chain_app.POP_LIST,
                   sorted(chain_app.POP_DICT.items(), key=repr), len(chain_app.REGISTRY),
                   chain_app.ADDRS, chain_app.THREAD_INFO]).encode())
    return h.hexdigest()


def block_and_report(gc_enabled_before):
    request = protocol.request()  # blocks here, GIL released
    gc_enabled = gc.isenabled()
    reach = {}
    report = chain_oracle.answer(request, id(CONTROL[0]), reach)
    for a, v in chain_oracle.garbage(reach).items():
        if report["cycles"].get(a) is not None:
            report["cycles"][a].update(v)
    del reach
    report["refcounts_before"] = REFCOUNTS_BEFORE
    report["refcounts_after"] = refcounts()
    report["checksum_before"] = CHECKSUM_BEFORE
    report["checksum_after"] = checksum()
    report["gc_enabled"] = gc_enabled
    report["gc_enabled_before"] = gc_enabled_before
    protocol.send(report)


def main():
    global CHECKSUM_BEFORE, REFCOUNTS_BEFORE
    ext = load_ext(sys.argv[1]) if len(sys.argv) > 1 else None
    chain_app.build_all(ext)
    del ext
    CHECKSUM_BEFORE = checksum()
    REFCOUNTS_BEFORE = refcounts()
    freed = [Freed()]
    ready = {
        "ready": True,
        "pid": os.getpid(),
        "python_version": platform.python_version(),
        "executable": sys.executable,
        "module": chain_app.__name__,
        "addrs": dict(chain_app.ADDRS, freed=hex(id(freed[0])), control=hex(id(CONTROL[0]))),
        "thread": chain_app.THREAD_INFO,
        "ext": len(sys.argv) > 1,
        "depth": chain_app.DEPTH,
        "cycle_size": chain_app.CYCLE_SIZE,
        "block_function": block_and_report.__name__,
        "block_line": protocol.block_line(__file__),
    }
    line = protocol.line(ready)
    del ready
    # Freed after the ready line is encoded and before it is written: no
    # allocation of that size can reuse the address before pyleaks looks.
    del freed[0]
    protocol.write(line)
    del line
    block_and_report(gc.isenabled())


REFCOUNTS_BEFORE = None
CHECKSUM_BEFORE = None

if __name__ == "__main__":
    main()
