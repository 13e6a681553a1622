"""Target for the memory tests (tests/test_memory.py): pymalloc arenas with
free pools and free blocks in them, and a few MB outside Python objects;
its oracle is the interpreter's own sys._debugmallocstats() and its own
VmRSS.

Run by the interpreter under test (3.8+ syntax only):

    memory_target.py STATS_FILE

Protocol (harness.Target): prints {"ready": true, "pid",
"python_version", "executable", "pymalloc"} and blocks reading stdin;
woken by one line, it first has sys._debugmallocstats() write to
STATS_FILE (its fd 2 pointed there: the statistics are printed by C
code to stderr), allocating nothing of its own before that, then answers
what those statistics say and its VmRSS, and exits.

The heap: 300,000 small objects of three sizes, then every third one and
a run of 100,000 in a row dropped, so that pools in use have free blocks
and whole pools (and arenas) are free; and a 16 MB bytearray, memory
outside pymalloc that RSS counts."""

import os
import platform
import re
import sys

import protocol

STATS_FILE = sys.argv[1]
# Everything the oracle needs is ready before the look: the wake-up
# itself must not use pymalloc before the statistics are taken.
STATS_FD = os.open(STATS_FILE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
STDERR_FD = os.dup(2)


class Small:
    __slots__ = ("a",)

    def __init__(self, a):
        self.a = a


KEEP = []
for i in range(100000):
    KEEP.append(Small(i))
    KEEP.append((i, i, i))
    KEEP.append("s%07d" % i)
del KEEP[::3]
del KEEP[50000:150000]
OUTSIDE = bytearray(16 << 20)
for i in range(0, len(OUTSIDE), 4096):
    OUTSIDE[i] = 1  # resident, not only mapped


def parse(text):
    def number(pattern):
        m = re.search(pattern, text, re.M)
        return int(m.group(1).replace(",", "")) if m else None

    arena = re.search(r"^(\d+) arenas \* (\d+) bytes/arena", text, re.M)
    pools = re.search(r"^(\d+) unused pools \* (\d+) bytes", text, re.M)
    return {
        "arenas": number(r"^# arenas allocated current\s*=\s*([\d,]+)"),
        "arena_size": int(arena.group(2)) if arena else None,
        "allocated_blocks": number(r"^# bytes in allocated blocks\s*=\s*([\d,]+)"),
        "available_blocks": number(r"^# bytes in available blocks\s*=\s*([\d,]+)"),
        "unused_pools": int(pools.group(1)) if pools else None,
        "pool_size": int(pools.group(2)) if pools else None,
    }


def rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return None


def block_and_report():
    protocol.request()  # blocks here, GIL released
    os.dup2(STATS_FD, 2)
    sys._debugmallocstats()
    os.dup2(STDERR_FD, 2)
    with open(STATS_FILE) as f:
        text = f.read()
    report = parse(text)
    report["rss"] = rss()
    report["stats"] = text
    protocol.send(report)


protocol.send({"ready": True, "pid": os.getpid(),
               "python_version": platform.python_version(),
               "executable": sys.executable,
               "pythonmalloc": os.environ.get("PYTHONMALLOC")})
block_and_report()
