"""The leaks of the py-chain tests: one per incident of issue 3, built by
chain_target.py into this module, so that chains start at
`module chain_app`.

Every builder keeps only what the incident keeps: the objects a test asks
about are named by their addresses (ADDRS, strings only), never by a
variable that would give pyleaks a shorter chain than the leak itself.
Classes list in `_fields` the attributes they set, so that the oracle can
name an attribute without touching `__dict__` (on 3.11+ that would
materialise the dict and change the object's referents).
"""

import functools
import sys
import threading
import time
import types

# Addresses (hex strings) of the objects the tests query.
ADDRS = {}


def _addr(obj):
    return hex(id(obj))


# ---------------------------------------------------------------------------
# 1. A module-level registry reached through 60 nested containers and
#    instances (objgraph's default max_depth=20 gives up long before).

DEPTH = 60


class Node:
    _fields = ("child",)

    def __init__(self, child):
        self.child = child


class DeepLeak:
    _fields = ()


REGISTRY = {}


def build_deep():
    leaf = DeepLeak()
    ADDRS["deep"] = _addr(leaf)
    obj = leaf
    for level in range(DEPTH):
        kind = level % 3
        if kind == 0:
            obj = {"next": obj}
        elif kind == 1:
            obj = [obj]
        else:
            obj = Node(obj)
    REGISTRY["upload"] = obj


# ---------------------------------------------------------------------------
# 2. functools.lru_cache on a method: the cache's keys hold `self`, so
#    every handler ever used, and its request body, stays alive.

class RequestBody:
    _fields = ("data",)

    def __init__(self, data):
        self.data = data


class Handler:
    _fields = ("route", "body")

    def __init__(self, route, body):
        self.route = route
        self.body = body

    @functools.lru_cache(maxsize=256)
    def render(self, fmt):
        return self.route + "." + fmt


HANDLERS_SERVED = 40
LRU_PICK = 13


def build_lru():
    for i in range(HANDLERS_SERVED):
        h = Handler("/upload/%d" % i, RequestBody(bytearray(100 + i)))
        h.render("json")
        if i == LRU_PICK:
            ADDRS["lru_handler"] = _addr(h)
            ADDRS["lru_body"] = _addr(h.body)


# ---------------------------------------------------------------------------
# 3. A mutable default argument accumulating events.

class Event:
    _fields = ("kind", "n")

    def __init__(self, kind, n):
        self.kind = kind
        self.n = n


def record_event(event, _seen=[]):
    _seen.append(event)


EVENTS_RECORDED = 30
EVENT_PICK = 17


def build_default():
    for i in range(EVENTS_RECORDED):
        ev = Event("click", i)
        if i == EVENT_PICK:
            ADDRS["event"] = _addr(ev)
        record_event(ev)
    ADDRS["record_event"] = _addr(record_event)


# ---------------------------------------------------------------------------
# 4. Exceptions kept in a module-level list: each traceback keeps the
#    frame of the failed call alive, and with it its locals.

ERRORS = []


class Upload:
    _fields = ("n", "payload")

    def __init__(self, n):
        self.n = n
        self.payload = bytearray(1000)


ERROR_PICK = 3


def process_upload(n):
    upload = Upload(n)
    if n == ERROR_PICK:
        ADDRS["exc_upload"] = _addr(upload)
    raise ValueError("upload %d failed" % n)


def handle_upload(n):
    try:
        process_upload(n)
    except ValueError as exc:
        ERRORS.append(exc)


def build_exceptions():
    for n in range(5):
        handle_upload(n)


# ---------------------------------------------------------------------------
# 5. An object held only by a local variable of a function running in
#    another thread, which sleeps.

class UserSession:
    _fields = ("user",)

    def __init__(self, user):
        self.user = user


THREAD_INFO = {}


def session_worker(started):
    held = UserSession("alice")
    ADDRS["thread_local"] = _addr(held)
    THREAD_INFO.update(ident=threading.get_ident(),
                       native_id=threading.get_native_id(),
                       name=threading.current_thread().name)
    started.set()
    time.sleep(3600)  # the worker sleeps here


def _sleep_line():
    mark = "# the worker sleeps" + " here"
    with open(__file__) as f:
        return next(n for n, line in enumerate(f, 1) if mark in line)


# The system calls time.sleep blocks in: select, nanosleep,
# clock_nanosleep, pselect6 (x86-64).
SLEEP_SYSCALLS = {"23", "35", "230", "270"}


def _wait_until_asleep(native_id, timeout=10.0):
    """Until the worker is blocked in time.sleep, not a bytecode before it
    (its frame's line would differ).  Read from /proc, not from
    sys._current_frames(), which on 3.11+ would give the running frame a
    frame object referring to the local."""
    path = "/proc/self/task/%d/syscall" % native_id
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(path) as f:
                if f.read().split(" ", 1)[0] in SLEEP_SYSCALLS:
                    return
        except OSError:
            time.sleep(0.2)
            return
        time.sleep(0.001)
    raise RuntimeError("the worker thread did not reach time.sleep")


def build_thread():
    started = threading.Event()
    t = threading.Thread(target=session_worker, args=(started,),
                         name="session-worker", daemon=True)
    t.start()
    started.wait()
    _wait_until_asleep(THREAD_INFO["native_id"])
    THREAD_INFO.update(function=session_worker.__name__, file="chain_app.py",
                       line=_sleep_line(), local="held")


# ---------------------------------------------------------------------------
# 6. An object kept alive only by a C extension that forgot Py_DECREF
#    (leaky_ext.leak increments the refcount and stores the object nowhere).

class Connection:
    _fields = ("peer", "buffer")

    def __init__(self, peer):
        self.peer = peer
        self.buffer = bytearray(4096)


def build_c_leak(ext):
    conn = Connection("10.0.0.7:5432")
    ADDRS["c_conn"] = _addr(conn)
    ADDRS["c_buffer"] = _addr(conn.buffer)
    ext.leak(conn)


# ---------------------------------------------------------------------------
# 7. A reference cycle nobody holds, with the collector disabled.

CYCLE_SIZE = 5


class CycleNode:
    _fields = ("next",)

    def __init__(self):
        self.next = None


def build_cycle():
    nodes = [CycleNode() for _ in range(CYCLE_SIZE)]
    for i, node in enumerate(nodes):
        node.next = nodes[(i + 1) % CYCLE_SIZE]
    ADDRS["cycle"] = _addr(nodes[2])


# ---------------------------------------------------------------------------
# --all-roots: one object held by two modules.

class SharedConfig:
    _fields = ()


SHARED = SharedConfig()


def build_shared():
    peers = types.ModuleType("chain_peers")
    peers.CONFIG = SHARED
    sys.modules["chain_peers"] = peers
    ADDRS["shared"] = _addr(SHARED)


# ---------------------------------------------------------------------------
# py-refs / py-backrefs: one object referred to in every common way, and
# containers whose referents have every common label.

class Popular:
    _fields = ()


class Holder:
    _fields = ("ref", "other")

    def __init__(self, ref):
        self.ref = ref
        self.other = "holder"


def _closure_over(obj):
    def get_popular():
        return obj
    return get_popular


# Not a global itself: its referrers are these six containers, and theirs
# the module's dict and the closure's tuple.
POP_LIST = ["first", Popular(), "last"]
POP_DICT = {"p": POP_LIST[1], "q": 1}
POP_TUPLE = (POP_LIST[1], "t")
POP_SET = {POP_LIST[1], "s"}
POP_HOLDER = Holder(POP_LIST[1])
POP_GETTER = _closure_over(POP_LIST[1])

ROUTES = {"upload": POP_HOLDER, "download": POP_LIST, 3: POP_TUPLE, (1, 2): "pair"}


def build_refs():
    ADDRS["popular"] = _addr(POP_LIST[1])
    ADDRS["pop_list"] = _addr(POP_LIST)
    ADDRS["routes"] = _addr(ROUTES)
    ADDRS["holder"] = _addr(POP_HOLDER)


def build_all(ext):
    build_deep()
    build_lru()
    build_default()
    build_exceptions()
    build_thread()
    if ext is not None:
        build_c_leak(ext)
    build_cycle()
    build_shared()
    build_refs()
    # Addresses for the error paths: inside a live object (its ob_type
    # field), and a freed object of a size class nothing else allocates
    # (larger than pymalloc's 512 bytes: malloc'd, not reused while the
    # target blocks).
    ADDRS["inside_object"] = hex(id(ROUTES) + 8)
