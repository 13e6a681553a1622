"""A heap whose holders are known exactly, for the leak analysis (the
biggest holders, retained sizes, path patterns).

A module-level list holds N Session objects (slotted: no __dict__), each
the only holder of one Payload (a bytes subclass).  Nothing else refers
to a Session or a Payload, so the list dominates all of them: what it
retains is its own size plus every Session and every Payload, and pyleaks'
own census gives their bytes.  A second, smaller holder (a dict of
Records) is there so the suspects have something to rank.

The ready line carries the oracle: ids, N, the list's sys.getsizeof()
(pyleaks sizes a list as sys.getsizeof does, docs/sizes.md).  Then the
target blocks until the request and answers with nothing new."""

import os
import sys

from protocol import request, send

N = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
PAYLOAD = 512


class Payload(bytes):
    pass


class Session:
    __slots__ = ("payload",)

    def __init__(self, payload):
        self.payload = payload


class Record:
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


_active_sessions = [Session(Payload(b"%08d" % i + b"x" * PAYLOAD))
                    for i in range(N)]
_records = {i: Record(Payload(b"r" * 64)) for i in range(N // 10)}

send({"ready": True, "pid": os.getpid(), "n": N,
      "list": hex(id(_active_sessions)),
      "list_size": sys.getsizeof(_active_sessions),
      "records": hex(id(_records)),
      "records_size": sys.getsizeof(_records)})
request()  # blocks here
send({"done": True})
