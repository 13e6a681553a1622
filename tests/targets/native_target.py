"""A target whose C extension objects grow between two looks: N
array.array objects (a type of the array extension module, whose items
live in a buffer outside the Python objects) and as many instances of a
plain class, which must not be named as an extension type.

Run by the interpreter under test (3.8+ syntax only).  Prints its ready
line ({"ready", "pid", "array_module"}: the file array comes from, or null
when it is built into the interpreter), then answers one JSON line per
request line {"op": ...}: "grow" adds N of each and answers {"grown": N};
"quit" ends it."""

import array
import json
import os
import sys

N = 500


class Plain:
    pass


KEEP = []


def main():
    print(json.dumps({"ready": True, "pid": os.getpid(),
                      "array_module": getattr(array, "__file__", None)}),
          flush=True)
    for line in sys.stdin:
        op = json.loads(line).get("op")
        if op == "grow":
            KEEP.extend(array.array("d", range(100)) for _ in range(N))
            KEEP.extend(Plain() for _ in range(N))
            print(json.dumps({"grown": N}), flush=True)
        elif op == "quit":
            return


main()
