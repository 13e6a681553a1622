"""Target with a second thread running Python code, so that gdb may stop
it while it holds the GIL.  argv[1]:

  sleepy  the thread works and sleeps (releasing the GIL) every 0.5 ms:
          pyleaks lets it run to a safe point, or finds it asleep;
  spin    the thread loops without allocating and never releases the
          GIL (nobody asks for it: the main thread is blocked in read):
          it never reaches a safe point.

Prints a ready line with the expected count of its Marker objects, blocks
reading stdin; once woken checks that the thread is still making
progress, prints {"progress": bool} and exits 0.
"""

import os
import platform
import sys
import threading
import time

import protocol


class Marker:
    pass


MARKERS = [Marker() for _ in range(4242)]
STATE = [0]
STOP = []


def sleepy():
    while not STOP:
        STATE[0] = sum([i * 2 for i in range(50)]) + STATE[0] % 1000
        time.sleep(0.0005)


def spin():
    # Small ints only: no allocation at all, so the thread is never
    # stopped inside an allocator.
    n = 0
    while not STOP:
        n = (n + 1) & 255
        STATE[0] = n


worker = threading.Thread(target={"sleepy": sleepy, "spin": spin}[sys.argv[1]],
                          name="worker", daemon=True)
worker.start()
time.sleep(0.05)

protocol.send({
    "ready": True,
    "pid": os.getpid(),
    "python_version": platform.python_version(),
    "expect": {"__main__.Marker": len(MARKERS)},
})
protocol.request()  # blocks here, GIL released
samples = set()
for _ in range(20):
    samples.add(STATE[0])
    time.sleep(0.005)
STOP.append(True)
worker.join(10)
protocol.send({"progress": len(samples) > 1 and not worker.is_alive()})
