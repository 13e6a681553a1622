"""Target for the container tests: a known heap and a worker thread that
computes, holding the GIL nearly all the time, so that gdb usually stops
the process while that thread holds it.  Started by the tests inside
PID and mount namespaces or as another user.  argv[1]:

  busy   the worker computes for 20 ms at a time and sleeps 0.5 ms in
         between (releasing the GIL): pyleaks lets it run to a safe point;
  spin   the worker never releases the GIL: pyleaks must name it as the
         holder (it can only when it maps the thread's id) and refuse.

Protocol, one JSON line each way:

1. prints {"ready": true, "pid" and "tids": {"main", "worker"} (in its
   own PID namespace), "uid",
   "python_version", "expect", "mounts": {dir: {"exists", "ro",
   "noexec"}}} and blocks reading stdin;
2. the test runs pyleaks, then writes one line;
3. the target checks that the worker kept computing, parks it where it
   stopped for the census (the same frame, the same kinds of objects
   alive), counts its heap with the gc module the way pyleaks does
   (heap_target.py's oracle), checks that nothing it owns changed and
   prints {"progress", "census", "checksum_before", "checksum_after"};
   exits 0.

The collector is disabled, so the heap pyleaks saw is the heap the oracle
counts.
"""

import gc
import hashlib
import os
import platform
import sys
import threading
import time

import gc_census
import protocol

gc.disable()


class Record:
    def __init__(self, i):
        self.key = "rec-%05d" % i
        self.values = [i, i * 3]


class Marker:
    __slots__ = ("n",)

    def __init__(self, n):
        self.n = n


RECORDS = [Record(i) for i in range(3131)]
MARKERS = [Marker(i) for i in range(4242)]
INDEX = {r.key: r for r in RECORDS[:1000]}
EXPECT = {"__main__.Record": len(RECORDS), "__main__.Marker": len(MARKERS)}

# STATE[0] is always an int outside the small-int cache (>= 1000), so
# the census sees one int there whatever the worker last computed.
STATE = [1000]
SPIN = [0]
PARK = []
PARKED = []
PARK_R, PARK_W = os.pipe()


def busy():
    while not PARK:
        deadline = time.monotonic() + 0.02
        while time.monotonic() < deadline:
            STATE[0] = (sum([i * i for i in range(200)]) + STATE[0]) % 100003 + 1000
        time.sleep(0.0005)
    # Parked in this frame, not a callee's: on 3.8-3.10 a new frame would
    # be one more object than the census saw.
    PARKED.append(True)
    os.read(PARK_R, 1)  # never written: blocks with the GIL released


def spin():
    # Small ints only: never stopped inside an allocator.
    while not PARK:
        SPIN[0] = (SPIN[0] + 1) & 255
    PARKED.append(True)
    os.read(PARK_R, 1)


def checksum():
    h = hashlib.sha256()
    h.update(repr([(r.key, r.values) for r in RECORDS]).encode())
    h.update(repr([m.n for m in MARKERS]).encode())
    h.update(repr(sorted(INDEX)).encode())
    return h.hexdigest()


def mounts():
    out = {}
    for d in ("/tmp", "/dev/shm", "/var/tmp"):
        try:
            flags = os.statvfs(d).f_flag
        except OSError:
            out[d] = {"exists": False, "ro": False, "noexec": False}
            continue
        out[d] = {"exists": True, "ro": bool(flags & os.ST_RDONLY),
                  "noexec": bool(flags & getattr(os, "ST_NOEXEC", 8))}
    return out


def oracle(request):
    """Every object the gc module reaches, by type name (what pyleaks
    counts); this frame and the request are excluded."""
    return gc_census.count((id(request), id(sys._getframe())))[0]


CHECKSUM_BEFORE = checksum()
worker = threading.Thread(target={"busy": busy, "spin": spin}[sys.argv[1]],
                          name="worker", daemon=True)
worker.start()
time.sleep(0.05)

protocol.send({
    "ready": True,
    "pid": os.getpid(),
    "uid": os.getuid(),
    "tids": {"main": threading.get_native_id(), "worker": worker.native_id},
    "python_version": platform.python_version(),
    "expect": EXPECT,
    "mounts": mounts(),
})


def block_and_report():
    request = protocol.request()  # blocks here, GIL released
    progress = False
    first = (STATE[0], SPIN[0])
    for _ in range(100):
        time.sleep(0.005)
        if (STATE[0], SPIN[0]) != first:
            progress = True
            break
    # An int the census did not see, on 3.8-3.10 where frames show locals.
    del first
    PARK.append(True)
    while not PARKED:
        time.sleep(0.001)
    report = {"progress": progress, "census": oracle(request)}
    report["checksum_before"] = CHECKSUM_BEFORE
    report["checksum_after"] = checksum()
    protocol.send(report)


block_and_report()
