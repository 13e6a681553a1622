"""A target for py-leaks-watch (tests/test_watch.py): a process that
keeps running between the samples, in one of three modes.

    python watch_target.py MODE --log FILE

  leak      a thread appends BATCH new Leaked objects to a module-level
            list every PERIOD seconds and never removes any;
  sawtooth  a thread makes BURST Burst objects at once, keeps them
            PERIOD seconds, drops them all at once, waits PERIOD
            seconds, and again: their count is always 0 or BURST;
  flat      nothing runs but the main thread, blocked reading stdin.

The oracle is the target's own bookkeeping, not gc: the thread writes
the number of live objects of its type (the list's length, the burst's
size) to FILE at every change, one number a line, starting with 0.
A batch or a burst is made and dropped while the thread holds the GIL,
so pyleaks, which looks only at a safe point (nobody holding the GIL),
sees one of the logged numbers.  The ready line (protocol.py) names the
type; the target runs until its stdin closes."""

import argparse
import os
import sys
import threading
import time

from protocol import send

BATCH = 200
BURST = 3000
PERIOD = 0.03


class Leaked:
    __slots__ = ("n",)

    def __init__(self, n):
        self.n = n


class Burst:
    __slots__ = ()


LEAK = []
TYPES = {"leak": "__main__.Leaked", "sawtooth": "__main__.Burst",
         "flat": None}


def log(fd, count):
    os.write(fd, b"%d\n" % count)


# Each number is logged before it comes true: pyleaks may look while the
# write is under way (it releases the GIL), and the log must then already
# hold the number it sees, whatever happens to the process afterwards.

def leak(fd):
    while True:
        log(fd, len(LEAK) + BATCH)
        LEAK.extend([Leaked(i) for i in range(BATCH)])
        time.sleep(PERIOD)


def sawtooth(fd):
    while True:
        log(fd, BURST)
        burst = [Burst() for _ in range(BURST)]
        time.sleep(PERIOD)
        log(fd, 0)
        burst = None
        time.sleep(PERIOD)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=sorted(TYPES))
    parser.add_argument("--log", required=True)
    args = parser.parse_args()
    fd = os.open(args.log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND,
                 0o644)
    log(fd, 0)
    work = {"leak": leak, "sawtooth": sawtooth}.get(args.mode)
    if work is not None:
        threading.Thread(target=work, args=(fd,), daemon=True).start()
    send({"ready": True, "pid": os.getpid(), "mode": args.mode,
          "type": TYPES[args.mode], "batch": BATCH, "burst": BURST})
    # Until the test closes stdin.
    while os.read(0, 1 << 16):
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
