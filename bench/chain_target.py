"""Chain benchmark target: two leaked objects in a heap of about N objects,
then commands on stdin.

Run by any supported interpreter (3.8+ syntax only):

    python3.X bench/chain_target.py --objects N [--links L] [--instances K]

Two modules of sys.modules hold the leaks, and nothing else does:

- bench_narrow: a narrow chain.  `bench_narrow.root` starts a chain of L
  distinct containers (a dict, a list, an instance, in turn) that nothing
  else shares, whose last one holds the leaked NarrowLeak object.
- bench_fanin: a chain through a class with K live instances.  The leaked
  Request sits in the class attribute `Handler.pending`; the K Handler
  instances all live in the same list (`bench_fanin.handlers`) and all
  point at the same shared config dict.  Walking references backwards, as
  objgraph.find_backref_chain does, the class leads to every instance
  before it leads to the module: a breadth-first search expands all K.

The rest of the heap is bench/heap_target.py's (records, points, small
dicts, lists, tuples), sized so that the census is about N objects.  It
prints

    ready pid=P python=X.Y.Z expected=E build_s=S narrow=0x.. fanin=0x..
          links=L instances=K

and answers one command per stdin line with one line on stdout:

    objgraph narrow|fanin DEPTH CAP
        -> objgraph_s=S found=0|1 length=N dequeued=D chain=ADDR:TYPE,...
           (or capped=1 waited_s=S dequeued=D when it ran out of time);
           D: objects the search took off its queue, each one (but a
           module it stops at) a gc.get_referrers() scan of the heap
    quit -> bye, then exit 0

objgraph is timed in a worker thread: objgraph.find_backref_chain(obj,
is_proper_module, max_depth=DEPTH), with is_proper_module wrapped in a
check of a cancel flag (one extra Python call per object the search
dequeues, next to one gc.get_referrers() scan of the whole heap per
object), so that after CAP seconds the main thread can stop the search at
its next step and the target stays usable.  The worker finds the leaked
object itself, by following the chain from its module, so that no other
reference to it exists (a local variable of the main thread, an argument
tuple of the thread) that objgraph could walk back from.

While it waits for a command the main thread is blocked in read() with the
GIL released and nothing else runs, so consecutive attaches see the same
heap.  Errors go to stderr as "chain_target: ..." with exit 2.
"""

import os
import platform
import sys
import threading
import time
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import heap_target  # noqa: E402  (the filler heap; imports objgraph)
from heap_target import protocol  # noqa: E402

objgraph = heap_target.objgraph


def die(message):
    sys.stderr.write("chain_target: %s\n" % message)
    sys.exit(2)


def new_module(name):
    """A module of sys.modules (what objgraph.is_proper_module accepts and
    what pyleaks calls a module root)."""
    module = types.ModuleType(name)
    sys.modules[name] = module
    return module


# The narrow chain.  Its classes live in their module, not in __main__, so
# that the only way from a module to the leak is the chain.
def build_narrow(links):
    module = new_module("bench_narrow")
    link_class = type("Link", (), {"__module__": "bench_narrow"})
    leak_class = type("NarrowLeak", (), {"__module__": "bench_narrow"})
    module.Link = link_class
    module.NarrowLeak = leak_class
    holder = leak_class()
    for i in reversed(range(links)):
        kind = i % 3
        if kind == 0:
            holder = {"step%d" % i: holder}
        elif kind == 1:
            holder = [holder]
        else:
            link = link_class()
            link.next = holder
            holder = link
    module.root = holder
    return module


def narrow_leak():
    """Follows bench_narrow.root to its end."""
    obj = sys.modules["bench_narrow"].root
    while True:
        if isinstance(obj, dict):
            (obj,) = obj.values()
        elif isinstance(obj, list):
            (obj,) = obj
        elif hasattr(obj, "next"):
            obj = obj.next
        else:
            return obj


def handler_init(self, i, config):
    self.name = "handler-%d" % i
    self.config = config
    self.hits = heap_target.INT_BASE + i


FANIN_PENDING = 32      # requests in Handler.pending
FANIN_LEAK_INDEX = 17   # the one the benchmark asks about


def build_fanin(instances):
    module = new_module("bench_fanin")
    handler_class = type("Handler", (), {
        "__module__": "bench_fanin",
        "__init__": handler_init,
        "pending": [],
    })
    request_class = type("Request", (), {"__module__": "bench_fanin"})
    module.Handler = handler_class
    module.Request = request_class
    config = {"timeout": heap_target.INT_BASE + 7, "retries": [1, 2, 3]}
    module.handlers = [handler_class(i, config) for i in range(instances)]
    for i in range(FANIN_PENDING):
        request = request_class()
        request.body = "request-body-%d" % i
        handler_class.pending.append(request)
    return module


def fanin_leak():
    return sys.modules["bench_fanin"].Handler.pending[FANIN_LEAK_INDEX]


LEAKS = {"narrow": narrow_leak, "fanin": fanin_leak}


class Cancelled(Exception):
    pass


def run_objgraph(which, depth, cap):
    """find_backref_chain in a worker thread, waited for at most cap
    seconds.  Returns the reply line."""
    cancel = threading.Event()
    out = {"dequeued": 0}

    def predicate(obj):
        if cancel.is_set():
            raise Cancelled()
        out["dequeued"] += 1
        return objgraph.is_proper_module(obj)

    def worker():
        obj = LEAKS[which]()
        start = time.perf_counter()
        try:
            chain = objgraph.find_backref_chain(obj, predicate,
                                                max_depth=depth)
        except Cancelled:
            return
        out["elapsed"] = time.perf_counter() - start
        # [obj] alone means not found (objgraph's convention).
        out["found"] = len(chain) > 1 or objgraph.is_proper_module(obj)
        out["chain"] = ",".join("0x%x:%s" % (id(o), qualname(o))
                                for o in chain)
        out["length"] = len(chain)

    thread = threading.Thread(target=worker, name="objgraph")
    thread.daemon = True
    start = time.perf_counter()
    thread.start()
    thread.join(cap)
    if thread.is_alive():
        waited = time.perf_counter() - start
        cancel.set()
        thread.join()
        return "capped=1 waited_s=%.3f dequeued=%d" % (waited,
                                                       out["dequeued"])
    if "elapsed" not in out:
        return "error objgraph stopped without a result"
    return "objgraph_s=%.6f found=%d length=%d dequeued=%d chain=%s" % (
        out["elapsed"], out["found"], out["length"], out["dequeued"],
        out["chain"])


def qualname(obj):
    cls = type(obj)
    module = getattr(cls, "__module__", "builtins")
    name = getattr(cls, "__qualname__", cls.__name__)
    return name if module == "builtins" else "%s.%s" % (module, name)


def answer(command):
    words = command.split()
    if len(words) != 4 or words[0] != "objgraph" or \
            words[1] not in LEAKS or not words[2].isdigit():
        return None
    try:
        cap = float(words[3])
    except ValueError:
        return "error bad cap %r" % words[3]
    return run_objgraph(words[1], int(words[2]), cap)


def parse_args(argv):
    opts = {"--objects": None, "--links": 30, "--instances": 500}
    args = argv[1:]
    if len(args) % 2:
        die("usage: chain_target.py --objects N [--links L] "
            "[--instances K]")
    for name, value in zip(args[::2], args[1::2]):
        if name not in opts or not value.isdigit():
            die("usage: chain_target.py --objects N [--links L] "
                "[--instances K]")
        opts[name] = int(value)
    if opts["--objects"] is None:
        die("--objects N is required")
    if opts["--links"] < 1 or opts["--instances"] < 1:
        die("--links and --instances must be at least 1")
    return opts["--objects"], opts["--links"], opts["--instances"]


def main(argv):
    objects, links, instances = parse_args(argv)
    # Built first, so that heap_target's calibration counts them in its
    # baseline and the census still comes out at about N.
    build_narrow(links)
    build_fanin(instances)
    heap, _, _, _, expected, build_s = heap_target.build(objects)
    protocol.reply(
        "ready pid=%d python=%s expected=%d build_s=%.3f narrow=0x%x "
        "fanin=0x%x links=%d instances=%d"
        % (os.getpid(), platform.python_version(), expected, build_s,
           id(narrow_leak()), id(fanin_leak()), links, instances))
    protocol.serve(answer)
    del heap


if __name__ == "__main__":
    main(sys.argv)
