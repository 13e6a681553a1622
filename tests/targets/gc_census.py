"""The census pyleaks must reproduce, counted by the gc module as
docs/architecture.md defines it: every object gc.get_objects() lists
(the permanent generation included) and the closure of
gc.get_referents() over them, by type name.  The targets' oracles call it
once woken, with the collector off, so the heap is the one pyleaks
walked."""

import gc
import sys

from typenames import type_name


def count(exclude, sizes=False):
    """(census, seen, gc_tracked, refs_total): census maps a type name to
    [count, bytes, objects without a size] (bytes only with sizes), seen
    an id to each object counted.  exclude: ids of what did not exist when
    pyleaks looked (the caller's frame, the request); this frame, the
    tuple `exclude` and every container made here are left out too."""
    # 3.12 keeps objects of the static types in the permanent generation.
    gc.unfreeze()
    mine = set(exclude)
    seen = {}
    stack = []
    census = {}
    names = {}
    mine.update((id(mine), id(seen), id(stack), id(census), id(names),
                 id(exclude), id(sys._getframe())))
    objs = gc.get_objects()
    for o in objs:
        if id(o) not in mine:
            seen[id(o)] = o
    del objs
    gc_tracked = len(seen)
    stack.extend(seen.values())
    refs_total = 0
    while stack:
        for r in gc.get_referents(stack.pop()):
            refs_total += 1
            if id(r) not in seen and id(r) not in mine:
                seen[id(r)] = r
                stack.append(r)
    for o in seen.values():
        t = type(o)
        name = names.get(id(t))
        if name is None:
            name = names[id(t)] = type_name(t)
        row = census.get(name)
        if row is None:
            row = census[name] = [0, 0, 0]
        row[0] += 1
        if sizes:
            try:
                row[1] += sys.getsizeof(o)
            except Exception:
                row[2] += 1  # objects without a size: bytes are not compared
    return census, seen, gc_tracked, refs_total
