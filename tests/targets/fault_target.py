"""Target for the fault tests (tests/test_faults.py): a small service that
keeps working while pyleaks is attached, killed or interrupted, and that
can say afterwards whether it was harmed.

Run by the interpreter under test (3.8+ syntax only):

    fault_target.py [--objects N] [--allocators N]

Threads:
  heartbeat   ticks every 1 ms; records the tick count and the longest gap
              between two ticks (how long the process was paused);
  worker      computes checksums over freshly allocated dicts, lists and
              tuples, round after round, and compares each with the value
              computed at start-up (a target whose registers or memory were
              disturbed computes a wrong one, or stops);
  loader      dlopen()s and dlclose()s a private copy of libm every 50 ms,
              so that every cycle goes through the dynamic loader's debugger
              hook (_dl_debug_state): a breakpoint a dead gdb left there
              would kill the process at the next cycle;
  allocator   (--allocators N of them) churn short-lived objects of their
              own class, for the stress test.

Python handlers count SIGUSR1, SIGUSR2, SIGTERM, SIGHUP, SIGALRM, SIGCHLD
and SIGINT (none of them exits): "signals" in the state; "delivered" counts
each delivery of those to the process (see DELIVERED).  Every other disposition is left as CPython
sets it: SIGPIPE and SIGXFSZ ignored, SIGWINCH and SIGURG ignored by default
(pyleaks' call stub may use one of those for itself).

Protocol (compatible with harness.Target's ready line): prints
{"ready": true, "pid", "python_version", "expect": {type: count}} once the
heap is built and every thread runs; then answers each line read on stdin
with one JSON line on stdout:
    {"op": "state"}       the state below
    {"op": "reset_gap"}   restart the longest-gap measurement, then the state
    {"op": "quit"}        the state, then exit 0
The main thread does nothing but this (blocked in read(), GIL released), so
the state can be read at any time pyleaks is not attached.
"""

import ctypes
import ctypes.util
import json
import os
import platform
import shutil
import signal
import sys
import tempfile
import threading
import time

import _ctypes

import protocol

OPTS = {"--objects": 300000, "--allocators": 0}
_args = sys.argv[1:]
while _args:
    OPTS[_args[0]] = int(_args[1])
    del _args[:2]


class Anchor:
    """A fixed number of instances for the whole life of the process."""

    __slots__ = ("n",)

    def __init__(self, n):
        self.n = n


class Item:
    def __init__(self, i):
        self.i = i
        self.tag = "item-%d" % i


class Churn:
    """Created and dropped all the time by the allocator threads."""

    def __init__(self, i):
        self.payload = [i, str(i), (i, i + 1)]


ANCHORS = [Anchor(i) for i in range(3333)]
# About `--objects` objects that a census must count: Item instances, their
# dicts (3.8-3.10) and tag strings, and small lists of ints.
ITEMS = [Item(i) for i in range(OPTS["--objects"] // 3)]
LISTS = [[i, i + 1] for i in range(OPTS["--objects"] // 6)]

STOP = []
LOCK = threading.Lock()
HEART = {"ticks": 0, "max_gap": 0.0, "last": time.monotonic()}


def heartbeat():
    while not STOP:
        time.sleep(0.001)
        now = time.monotonic()
        with LOCK:
            gap = now - HEART["last"]
            HEART["last"] = now
            HEART["ticks"] += 1
            if gap > HEART["max_gap"]:
                HEART["max_gap"] = gap


def compute(r):
    """A checksum over objects allocated for it.  Small containers only:
    they come from pymalloc, not from libc's malloc (a thread stopped
    inside malloc makes pyleaks refuse to load its helper)."""
    acc = r
    for k in range(40):
        d = {j: (j * r, k) for j in range(8)}
        lst = [d[j][0] ^ k for j in range(8)]
        t = tuple(lst) + (len(d), r, k)
        acc = (acc * 1000003 ^ hash(t)) & 0xFFFFFFFFFFFF
    return acc


ROUNDS = 64
EXPECTED = [compute(r) for r in range(ROUNDS)]
WORK = {"rounds": 0, "mismatches": 0, "last_round": -1,
        "last_expected": None, "last_computed": None}


def worker():
    n = 0
    while not STOP:
        r = n % ROUNDS
        got = compute(r)
        with LOCK:
            WORK["rounds"] += 1
            WORK["last_round"] = r
            WORK["last_expected"] = EXPECTED[r]
            WORK["last_computed"] = got
            if got != EXPECTED[r]:
                WORK["mismatches"] += 1
        n += 1
        # Releases the GIL (a safe point for pyleaks to reach), and leaves
        # the CPU to the tests.
        time.sleep(0.002)


LIBDIR = tempfile.mkdtemp(prefix="fault-target-lib-")
LIB = os.path.join(LIBDIR, "libfaultprobe.so")
# A copy, so that dlopen() really maps and dlclose() really unmaps it
# (libm itself is already loaded, and reopening a loaded library does not
# pass through the loader's debugger hook).
DLOPEN = {"cycles": 0, "errors": 0, "last_error": ""}


def _libm_path():
    """The libm this process has mapped (libpython links it)."""
    ctypes.CDLL(ctypes.util.find_library("m"))
    with open("/proc/self/maps") as f:
        for line in f:
            fields = line.split(None, 5)
            path = fields[5].strip() if len(fields) > 5 else ""
            if os.path.basename(path).startswith(("libm.so", "libm-")):
                return path
    raise SystemExit("libm is not mapped")


shutil.copy(_libm_path(), LIB)

COUNTED = ("SIGUSR1", "SIGUSR2", "SIGTERM", "SIGHUP", "SIGALRM", "SIGCHLD", "SIGINT")
COUNTS = {name: 0 for name in COUNTED}


def _counter(signum, frame):
    COUNTS[signal.Signals(signum).name] += 1


# CPython runs a Python handler once for any number of deliveries of its
# signal that arrive before the main thread gets to run it (the target is
# paused while pyleaks works), but its C handler writes one byte per
# delivery to the wakeup fd: DELIVERED counts those, exactly.
DELIVERED = {name: 0 for name in COUNTED}
_WAKE_R, _WAKE_W = os.pipe()
os.set_blocking(_WAKE_W, False)
signal.set_wakeup_fd(_WAKE_W)


def wakeups():
    while True:
        data = os.read(_WAKE_R, 4096)
        with LOCK:
            for signum in data:
                try:
                    name = signal.Signals(signum).name
                except ValueError:
                    name = str(signum)
                DELIVERED[name] = DELIVERED.get(name, 0) + 1


# Installed only now: finding libm ran a child process (ldconfig).
for _name in COUNTED:
    signal.signal(getattr(signal, _name), _counter)



def loader():
    while not STOP:
        try:
            lib = ctypes.CDLL(LIB)
            lib.cos.restype = ctypes.c_double
            lib.cos.argtypes = [ctypes.c_double]
            ok = lib.cos(0.0) == 1.0
            _ctypes.dlclose(lib._handle)
            with LOCK:
                DLOPEN["cycles"] += 1
                if not ok:
                    DLOPEN["errors"] += 1
                    DLOPEN["last_error"] = "cos(0) != 1"
        except OSError as e:
            with LOCK:
                DLOPEN["errors"] += 1
                DLOPEN["last_error"] = str(e)
        time.sleep(0.05)


CHURN = {"made": 0}


def allocator(seed):
    live = []
    i = seed
    while not STOP:
        live.append(Churn(i))
        if len(live) > 200:
            del live[: 100]
        i += 1
        if i % 50 == 0:
            with LOCK:
                CHURN["made"] += 50
            time.sleep(0.0002)


THREADS = [threading.Thread(target=heartbeat, name="heartbeat", daemon=True),
           threading.Thread(target=worker, name="worker", daemon=True),
           threading.Thread(target=loader, name="loader", daemon=True),
           threading.Thread(target=wakeups, name="wakeups", daemon=True)]
THREADS += [threading.Thread(target=allocator, args=(k * 1000000,), name="allocator-%d" % k,
                             daemon=True) for k in range(OPTS["--allocators"])]
for _t in THREADS:
    _t.start()


def state():
    with LOCK:
        return {
            "pid": os.getpid(),
            "heartbeat": dict(HEART, since_last=time.monotonic() - HEART["last"]),
            "work": dict(WORK),
            "dlopen": dict(DLOPEN),
            "churn": dict(CHURN),
            "signals": dict(COUNTS),
            "delivered": dict(DELIVERED),
            "threads_alive": {t.name: t.is_alive() for t in THREADS},
            "anchors": len(ANCHORS),
        }


def _wait_started():
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with LOCK:
            if HEART["ticks"] and WORK["rounds"] and DLOPEN["cycles"]:
                return
        time.sleep(0.005)
    raise SystemExit("the target's threads did not start: %s" % state())


_wait_started()
def answer(command):
    """The state after the request {"op": "state"|"reset_gap"|"quit"};
    quit ends the target once answered."""
    op = json.loads(command or "{}").get("op", "state")
    if op == "reset_gap":
        with LOCK:
            HEART["max_gap"] = 0.0
    if op != "quit":
        return state()
    protocol.send(state())
    raise SystemExit(0)


protocol.send({
    "ready": True,
    "pid": os.getpid(),
    "python_version": platform.python_version(),
    "expect": {"__main__.Anchor": len(ANCHORS), "__main__.Item": len(ITEMS)},
})
try:
    protocol.serve(answer)  # blocks here, GIL released
finally:
    STOP.append(True)
    shutil.rmtree(LIBDIR, ignore_errors=True)
