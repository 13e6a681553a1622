"""Benchmark target: a heap of about N objects, then commands on stdin.

Run by any supported interpreter (3.8+ syntax only):

    python3.X bench/heap_target.py --objects N

It builds a heap whose census (every object on the GC lists plus everything
reachable from them, as pyleaks counts) is about N objects, prints

    ready pid=P python=X.Y.Z baseline=B per_unit=U units=K expected=E build_s=S

and then answers one command per stdin line with one line on stdout:

    objgraph    -> objgraph_s=S   objgraph.show_most_common_types() in-process
    gc_objects  -> gc_tracked=N gc_objects_s=S   len(gc.get_objects())
    quit        -> bye, then exit 0

While it waits for a command the main thread is blocked in read() with the
GIL released and nothing else runs, so consecutive attaches see the same
heap and /proc/PID/status and /proc/PID/maps only change by what the
attaches did.  Errors go to stderr as "heap_target: ..." with exit 2.
"""

import contextlib
import gc
import os
import platform
import sys
import time


# The targets' protocol lives with the tests' targets; appended, so that
# this folder's heap_target stays the one imported.
sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                             os.pardir, "tests", "targets"))
import protocol  # noqa: E402


def die(message):
    sys.stderr.write("heap_target: %s\n" % message)
    sys.exit(2)


try:
    import objgraph
except ImportError:
    # pyenv interpreters can use Debian's pure-Python package; appended, so
    # that it never shadows their own standard library.
    sys.path.append("/usr/lib/python3/dist-packages")
    try:
        import objgraph
    except ImportError:
        die("cannot import objgraph (install python3-objgraph)")

# Ints from 1000 up are never the interpreter's cached small ints: every one
# is its own object.
INT_BASE = 1000


class Record:
    """An application object with a __dict__ (inline values on 3.11+)."""

    def __init__(self, i, meta, history):
        self.id = INT_BASE + 4 * i
        self.name = "record-%d" % i
        self.score = i * 0.5 + 0.25
        self.meta = meta
        self.history = history


class Point:
    __slots__ = ("x", "y")

    def __init__(self, i):
        self.x = i * 0.25 + 0.125
        self.y = INT_BASE + 4 * i + 1


def make_unit(i):
    """One record and what hangs off it: a __dict__ instance, a __slots__
    instance, a small dict (all atomic values: the collector untracks it),
    a small list, a tuple (untracked by the first full collection), and
    their str, int and float values."""
    meta = {"owner": "user-%d" % i, "size": INT_BASE + 4 * i + 2}
    event = (INT_BASE + 4 * i + 3, "event-%d" % i)
    return Record(i, meta, [event, Point(i)])


def census_closure(roots, known):
    """The objects reachable from roots (roots included) whose ids are not
    in known, as a list (which keeps them alive, so no id is reused while
    the caller still compares ids).  Follows gc.get_referents(), the same
    edges the census follows."""
    found = []
    seen = set()
    stack = list(roots)
    while stack:
        obj = stack.pop()
        key = id(obj)
        if key in seen or key in known:
            continue
        seen.add(key)
        found.append(obj)
        stack.extend(gc.get_referents(obj))
    return found


def calibrate(sample_units):
    """(baseline objects, census objects per unit), measured: the count per
    unit depends on the CPython version (a materialised __dict__ before
    3.11, none after)."""
    base_objects = census_closure(gc.get_objects(), ())
    base_ids = set(map(id, base_objects))
    sample = [make_unit(i) for i in range(sample_units)]
    added = census_closure(sample, base_ids)
    # The sample list itself is the bench's, not part of the units.
    per_unit = (len(added) - 1) / float(sample_units)
    return len(base_objects), per_unit


def build(objects):
    gc.disable()
    baseline, per_unit = calibrate(2000)
    units = max(0, int(round((objects - baseline - 1) / per_unit)))
    start = time.perf_counter()
    heap = [make_unit(i) for i in range(units)]
    # A long-running service has been through full collections: atomic
    # tuples are untracked, as they would be there.
    gc.collect()
    gc.enable()
    build_s = time.perf_counter() - start
    expected = int(round(baseline + 1 + units * per_unit))
    return heap, baseline, per_unit, units, expected, build_s


def answer(command, devnull):
    if command == "objgraph":
        with contextlib.redirect_stdout(devnull):
            start = time.perf_counter()
            objgraph.show_most_common_types()
            elapsed = time.perf_counter() - start
        return "objgraph_s=%.6f" % elapsed
    if command == "gc_objects":
        start = time.perf_counter()
        tracked = len(gc.get_objects())
        elapsed = time.perf_counter() - start
        return "gc_tracked=%d gc_objects_s=%.6f" % (tracked, elapsed)
    return None


def main(argv):
    if len(argv) != 3 or argv[1] != "--objects" or not argv[2].isdigit():
        die("usage: heap_target.py --objects N")
    heap, baseline, per_unit, units, expected, build_s = build(int(argv[2]))
    devnull = open(os.devnull, "w")
    protocol.reply("ready pid=%d python=%s baseline=%d per_unit=%.3f units=%d "
          "expected=%d build_s=%.3f"
          % (os.getpid(), platform.python_version(), baseline, per_unit,
             units, expected, build_s))
    protocol.serve(lambda command: answer(command, devnull))
    devnull.close()
    # A normal exit (heap freed, interpreter finalised) also shows that the
    # process is healthy after the attaches.
    del heap


if __name__ == "__main__":
    main(sys.argv)
