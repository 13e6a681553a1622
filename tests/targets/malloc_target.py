"""Target with a thread that keeps calling malloc (for the "thread inside
malloc" refusal), or with the argument `dlopen`, the dynamic loader (for
the "thread inside the loader" refusal).  Prints a ready line, blocks reading stdin; once woken
it checks that the allocating thread is still making progress, prints
{"progress": bool, "allocations": int} and exits 0.
"""

import os
import platform
import sys
import threading
import time

import protocol

count = [0]


def allocate():
    # Above pymalloc's 512-byte limit: every allocation is a malloc().
    bytearray(1 << 16)


def load():
    # Already loaded, but every CDLL() still goes through dlopen().
    ctypes.CDLL("libm.so.6")


def churn(step):
    while True:
        step()
        count[0] += 1
        time.sleep(0.001)


if sys.argv[1:] == ["dlopen"]:
    import ctypes
    step = load
else:
    step = allocate
threading.Thread(target=churn, args=(step,), name="churn",
                 daemon=True).start()
while count[0] == 0:
    time.sleep(0.01)

protocol.send({
    "ready": True,
    "pid": os.getpid(),
    "python_version": platform.python_version(),
})
protocol.request()  # blocks here, GIL released
before = count[0]
time.sleep(0.3)
after = count[0]
protocol.send({"progress": after > before, "allocations": after})
