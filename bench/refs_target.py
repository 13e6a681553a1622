"""Target of bench/refs.sh: containers of N entries in a module of their
own, then commands on stdin.

    python3.X bench/refs_target.py N

Module bench_refs (in sys.modules) holds:

- big_dict: N int keys; odd keys map to one shared object, even keys to
  themselves, but the last key maps to `dict_leaf`, an object nothing
  else holds (py-chain's target in the dict);
- big_list: N distinct Node instances, each holding `sentinel` (whose
  referrers are the N nodes: py-backrefs' target);
- dup_list: the shared object N times.

It prints

    ready pid=P python=X.Y.Z n=N build_s=S dict=0x.. list=0x.. dup=0x..
          sentinel=0x.. last_node=0x.. dict_leaf=0x..

and answers `quit` with `bye`, then exits 0.  While it waits the main
thread is blocked in read() and the collector is off, so consecutive
attaches see the same heap.
"""

import gc
import os
import platform
import sys
import time
import types

gc.disable()

# The targets' protocol lives with the tests' targets.
sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                             os.pardir, "tests", "targets"))
import protocol  # noqa: E402


class Node:
    __slots__ = ("ref",)

    def __init__(self, ref):
        self.ref = ref


class Shared:
    pass


class Sentinel:
    pass


class Leaf:
    pass


def build(n):
    module = types.ModuleType("bench_refs")
    sys.modules["bench_refs"] = module
    module.Node = Node
    shared = Shared()
    sentinel = Sentinel()
    module.big_dict = {i: (shared if i % 2 else i) for i in range(n)}
    module.big_dict[n - 1] = Leaf()
    module.big_list = [Node(sentinel) for _ in range(n)]
    module.dup_list = [shared] * n
    return module


def main():
    if len(sys.argv) != 2 or not sys.argv[1].isdigit() or int(sys.argv[1]) < 2:
        sys.stderr.write("refs_target: usage: refs_target.py N (N >= 2)\n")
        sys.exit(2)
    n = int(sys.argv[1])
    start = time.perf_counter()
    m = build(n)
    build_s = time.perf_counter() - start
    line = ("ready pid=%d python=%s n=%d build_s=%.3f dict=0x%x list=0x%x "
            "dup=0x%x sentinel=0x%x last_node=0x%x dict_leaf=0x%x\n"
            % (os.getpid(), platform.python_version(), n, build_s,
               id(m.big_dict), id(m.big_list), id(m.dup_list),
               id(m.big_list[0].ref),
               id(m.big_list[-1]), id(m.big_dict[n - 1])))
    del m
    protocol.write(line.encode())
    protocol.serve(lambda command: None)


if __name__ == "__main__":
    main()
