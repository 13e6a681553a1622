"""The oracle of the chain tests, run inside the target after pyleaks
looked: the graph pyleaks walks, rebuilt with the gc module (the objects
of gc.get_objects() and the closure of gc.get_referents over them,
docs/architecture.md), and the answers pyleaks must agree with: whether
each hop of a chain is a reference, the BFS distance from its root, the
labels an edge may have, referents, referrers, cycle groups, unexplained
references and what gc.collect() would free.

Answers name objects by address (hex(id(obj))); the oracle's own objects
are excluded by id.
"""

import builtins
import gc
import json
import os
import re
import sys
import threading
import types

from typenames import type_name

MISSING = object()
CELL_TYPE = type((lambda x: lambda: x)(0).__closure__[0])
GEN_TYPES = (types.GeneratorType, types.CoroutineType, types.AsyncGeneratorType)
FUNC_ATTRS = ("__code__", "__globals__", "__defaults__", "__kwdefaults__",
              "__closure__", "__dict__", "__name__", "__qualname__", "__module__",
              "__doc__", "__annotations__", "__builtins__", "__type_params__")
INSTANCE_DICTS_MATERIALIZE = sys.version_info >= (3, 11)


# ---------------------------------------------------------------------------
# The graph as pyleaks sees it: the gc module's objects plus the closure
# of gc.get_referents over them (docs/architecture.md), with the reverse
# edges.

class Graph:
    def __init__(self, mine):
        self.mine = mine
        self.seen = {}
        self.rev = {}
        mine.update((id(self), id(self.seen), id(self.rev), id(self.__dict__),
                     id(sys._getframe())))
        objs = gc.get_objects()
        mine.add(id(objs))
        for o in objs:
            if id(o) not in mine:
                self.seen[id(o)] = o
        del objs
        stack = list(self.seen.values())
        mine.add(id(stack))
        while stack:
            o = stack.pop()
            oid = id(o)
            for r in gc.get_referents(o):
                rid = id(r)
                if rid in mine:
                    continue
                if rid not in self.seen:
                    self.seen[rid] = r
                    stack.append(r)
                lst = self.rev.get(rid)
                if lst is None:
                    lst = self.rev[rid] = []
                lst.append(oid)

    def get(self, addr):
        return self.seen.get(int(addr, 16), MISSING)

    def referents(self, o):
        return [r for r in gc.get_referents(o) if id(r) in self.seen]

    def forward(self, src, targets=None):
        """BFS distances from src over references (all, or until every id
        in targets is reached)."""
        dist = {id(src): 0}
        frontier = [src]
        d = 0
        while frontier:
            if targets is not None and all(t in dist for t in targets):
                break
            d += 1
            nxt = []
            for o in frontier:
                for r in gc.get_referents(o):
                    rid = id(r)
                    if rid not in dist and rid in self.seen:
                        dist[rid] = d
                        nxt.append(r)
            frontier = nxt
        return dist

    def backward(self, oid, depth=None):
        """BFS over referrers: {id: depth}, the object itself at 0."""
        dist = {oid: 0}
        frontier = [oid]
        d = 0
        while frontier and (depth is None or d < depth):
            d += 1
            nxt = []
            for x in frontier:
                for r in self.rev.get(x, ()):
                    if r not in dist:
                        dist[r] = d
                        nxt.append(r)
            frontier = nxt
        return dist

    def ns_owner(self, d):
        """The object whose namespace d is (a module's, a class's or an
        instance's __dict__): py-backrefs lists that object instead of d,
        its entries read as its attributes."""
        if type(d) is not dict:
            return None
        for rid in self.rev.get(id(d), ()):
            o = self.seen[rid]
            if isinstance(o, types.ModuleType):
                if o.__dict__ is d:
                    return o
            elif isinstance(o, type):
                if tp_dict(o) is d:
                    return o
            else:
                try:
                    own = object.__getattribute__(o, "__dict__")
                except (AttributeError, TypeError):
                    continue
                if own is d:
                    return o
        return None

    def backward_folded(self, oid, depth):
        """backward(), a namespace dict replaced by its owner as py-backrefs
        does: ({id: depth}, {owner id: the dict})."""
        dist = {oid: 0}
        parts = {}
        seen = {oid}
        frontier = [oid]
        d = 0
        while frontier and d < depth:
            d += 1
            nxt = []
            for x in frontier:
                for r in self.rev.get(x, ()):
                    if r in seen:
                        continue
                    seen.add(r)
                    owner = self.ns_owner(self.seen[r])
                    if owner is not None:
                        if id(owner) in seen:
                            continue
                        parts[id(owner)] = self.seen[r]
                        r = id(owner)
                        seen.add(r)
                    dist[r] = d
                    nxt.append(r)
            frontier = nxt
        return dist, parts

    def in_degree(self, oid):
        return len(self.rev.get(oid, ()))

    def dict_owner(self, d):
        """The module, class or (3.8-3.10) instance whose __dict__ d is."""
        for rid in self.rev.get(id(d), ()):
            o = self.seen[rid]
            if isinstance(o, types.ModuleType) and o.__dict__ is d:
                return o
            if isinstance(o, type) and tp_dict(o) is d:
                return o
            if (not INSTANCE_DICTS_MATERIALIZE and hasattr(type(o), "_fields")
                    and o.__dict__ is d):
                return o
        return None


def tp_dict(t):
    return gc.get_referents(t.__dict__)[0]


def is_lru_wrapper(o):
    return type(o).__name__ == "_lru_cache_wrapper"


def instance_dict(a):
    """The instance dict of one of chain_app's objects, if it has one,
    without creating it (3.11+: inline values until someone asks)."""
    for r in gc.get_referents(a):
        if type(r) is dict and not any(getattr(a, n, MISSING) is r for n in type(a)._fields):
            return r
    return None


# ---------------------------------------------------------------------------
# Edges and their labels (the contract of issue 3).  A hop of a chain is
# an edge a -> b, or, where the label names a part owned by a (an
# instance's or module's __dict__, a function's __defaults__, a closure
# cell, an exception's args ...), a -> part -> b.

def owned_parts(a):
    parts = []
    if isinstance(a, types.ModuleType):
        parts.append((a.__dict__, "dict"))
    elif isinstance(a, type):
        parts += [(tp_dict(a), "dict"), (a.__mro__, "mro"), (a.__bases__, "bases")]
    elif isinstance(a, types.FunctionType):
        parts += [(a.__defaults__, "defaults"), (a.__kwdefaults__, "kwdefaults"),
                  (a.__closure__, "closure")]
    elif isinstance(a, BaseException):
        parts.append((a.args, "args"))
    elif isinstance(a, GEN_TYPES):
        frame = getattr(a, "gi_frame", None) or getattr(a, "cr_frame", None)
        parts.append((frame, "frame"))
    elif hasattr(type(a), "_fields"):
        d = instance_dict(a)
        if d is not None:
            parts.append((d, "dict"))
    return [(m, kind) for m, kind in parts if m is not None]


def route(g, a, b):
    """How many references lead from a to b as one hop (1 direct, 2 via a
    part of a), and the part; None if b is not a referent of a."""
    refs = gc.get_referents(a)
    if any(r is b for r in refs):
        return 1, None
    for m, kind in owned_parts(a):
        if any(r is m for r in refs) and any(r is b for r in gc.get_referents(m)):
            return 2, (m, kind)
    return None


SIMPLE_KEYS = (str, int, float, bytes, bool, type(None))


def key_repr(k):
    """A dict key as a label shows it: its repr when it is made of str,
    int ... (whose repr pyleaks reads from memory), else a wildcard
    (None; the label is then a prefix ending in '*', matching any label
    that starts with it), since an object's repr is not pyleaks' to run."""
    if type(k) in SIMPLE_KEYS:
        return repr(k)
    if type(k) is tuple and all(type(x) in SIMPLE_KEYS for x in k):
        return repr(k)
    return None


def key_label(prefix, k):
    r = key_repr(k)
    return "%s[%s]" % (prefix, r) if r is not None else prefix + "[*"


def direct_labels(g, a, b):
    out = set()
    ta = type(a)
    if isinstance(a, dict):
        owned = g.dict_owner(a) is not None
        for k, v in list(a.items()):
            if v is b:
                out.add(key_label("", k))
                if owned and isinstance(k, str):
                    out.add("." + k)
            if k is b:
                out.add(key_label("key of ", k))
    elif isinstance(a, (list, tuple)):
        out.update("[%d]" % i for i, v in enumerate(a) if v is b)
    elif isinstance(a, (set, frozenset)):
        if any(v is b for v in a):
            out.add("member of set")
    elif ta is CELL_TYPE:
        out.add("cell_contents")
    elif isinstance(a, types.ModuleType):
        if b is a.__dict__:
            out.add(".__dict__")
    elif isinstance(a, type):
        for label, v in ((".__dict__", tp_dict(a)), ("__mro__", a.__mro__),
                         ("__bases__", a.__bases__), ("__base__", a.__base__),
                         ("__class__", type(a))):
            if v is b:
                out.add(label)
    elif isinstance(a, types.FunctionType):
        out.update(n for n in FUNC_ATTRS if getattr(a, n, MISSING) is b)
    elif isinstance(a, types.MethodType):
        out.update(n for n in ("__self__", "__func__") if getattr(a, n) is b)
    elif isinstance(a, types.TracebackType):
        out.update(n for n in ("tb_frame", "tb_next") if getattr(a, n) is b)
    elif isinstance(a, types.FrameType):
        out.update(n for n in ("f_back", "f_code", "f_globals", "f_builtins")
                   if getattr(a, n) is b)
        out.update("local %r" % (n,) for n, v in a.f_locals.items() if v is b)
    elif isinstance(a, BaseException):
        out.update(n for n in ("__traceback__", "__context__", "__cause__", "args")
                   if getattr(a, n) is b)
        if b is ta:
            out.add("__class__")
    elif is_lru_wrapper(a):
        if getattr(a, "__wrapped__", None) is b:
            out.add("__wrapped__")
        if b is ta:
            out.add("__class__")
        cache = [r for r in gc.get_referents(a) if type(r) is dict and r is not a.__dict__]
        if cache and b is cache[0]:
            out.add("cache")
        elif cache and any(k is b for k in cache[0]):
            out.add("cache*")  # the wrapper visits its entries' keys itself
        if b is a.__dict__:
            out.add(".__dict__")
    elif hasattr(ta, "_fields"):
        if b is ta:
            out.add("__class__")
        out.update("." + n for n in ta._fields if getattr(a, n, MISSING) is b)
        if type(b) is dict and b is instance_dict(a):
            out.add(".__dict__")
    return sorted(out)


def via_labels(a, part, kind, b):
    out = set()
    if kind == "dict":
        out.update("." + k for k, v in part.items() if v is b and isinstance(k, str))
    elif kind in ("defaults", "mro", "bases", "args"):
        name = {"defaults": "__defaults__", "mro": "__mro__", "bases": "__bases__",
                "args": "args"}[kind]
        out.update("%s[%d]" % (name, i) for i, v in enumerate(part) if v is b)
    elif kind == "kwdefaults":
        out.update("__kwdefaults__[%r]" % (k,) for k, v in part.items() if v is b)
    elif kind == "closure":
        names = a.__code__.co_freevars
        out.update("__closure__ %r" % (names[i],) for i, c in enumerate(part) if c is b)
    elif kind == "frame":
        out.update("gi_frame local %r" % (n,) for n, v in part.f_locals.items() if v is b)
    return sorted(out)


def describe(o):
    if o is MISSING:
        return None
    try:
        r = repr(o) if type(o) in (str, int, float, bytes) else None
    except ValueError:  # an int too long for str() (3.11+)
        r = None
    try:
        size = sys.getsizeof(o)
    except Exception:
        size = None
    return {"type": type_name(type(o)), "repr": r, "size": size}


# ---------------------------------------------------------------------------
# The answers.

def check_paths(g, paths):
    """Phase 1 (before any label is computed: reading a frame's f_locals
    adds a dict to it): each hop a real reference, and the BFS distance
    from hops[0] to the last hop."""
    out = []
    by_root = {}
    for hops in paths:
        objs = [g.get(a) for a in hops]
        res = {"live": [o is not MISSING for o in objs], "types": [None] * len(objs),
               "steps": [None] * len(objs), "bfs": None}
        for i, o in enumerate(objs):
            if o is not MISSING:
                res["types"][i] = type_name(type(o))
        for i in range(1, len(objs)):
            if objs[i - 1] is not MISSING and objs[i] is not MISSING:
                r = route(g, objs[i - 1], objs[i])
                if r is not None:
                    res["steps"][i] = r[0]
        if objs and all(o is not MISSING for o in objs):
            by_root.setdefault(id(objs[0]), (objs[0], []))[1].append((res, id(objs[-1])))
        out.append((res, objs))
    for root, waiting in by_root.values():
        dist = g.forward(root, {t for _, t in waiting})
        for res, t in waiting:
            res["bfs"] = dist.get(t)
    return out


def label_paths(g, checked):
    """Phase 2: the labels each hop may have."""
    result = []
    for res, objs in checked:
        labels = [[] for _ in objs]
        for i in range(1, len(objs)):
            if res["steps"][i] is None:
                continue
            a, b = objs[i - 1], objs[i]
            r = route(g, a, b)
            if r is None:
                continue
            labels[i] = direct_labels(g, a, b) if r[1] is None else via_labels(a, r[1][0], r[1][1], b)
        res["labels"] = labels
        result.append(res)
    return result


def refs_of(g, addr):
    """What py-refs lists: the referents, an instance's __dict__ folded
    into its entries, each labelled as the instance's attribute (`.x`),
    as a chain reads them."""
    o = g.get(addr)
    if o is MISSING:
        return None
    rows = {}
    ns = instance_dict(o) if hasattr(type(o), "_fields") else None
    for r in g.referents(o):
        if ns is not None and r is ns:
            continue
        row = rows.setdefault(hex(id(r)), describe(r))
        row["labels"] = direct_labels(g, o, r)
    if ns is not None:
        for r in g.referents(ns):
            row = rows.setdefault(hex(id(r)), describe(r))
            row["labels"] = row.get("labels", []) + [
                "." + k for k, v in ns.items() if v is r and type(k) is str]
    return {"type": type_name(type(o)), "referents": rows}


def backrefs_of(g, addr, depth):
    o = g.get(addr)
    if o is MISSING:
        return None
    dist, parts = g.backward_folded(id(o), depth)
    rows = {}
    for rid, d in dist.items():
        if d == 0:
            continue
        r = g.seen[rid]
        row = describe(r)
        row["depth"] = d
        # Which objects one level closer it refers to, and with what labels
        # (through its __dict__, as attributes, when that was folded).
        row["via"] = {hex(id(x)): direct_labels(g, r, x) for x in g.referents(r)
                      if dist.get(id(x)) == d - 1}
        ns = parts.get(rid)
        if ns is not None:
            for x in g.referents(ns):
                if dist.get(id(x)) == d - 1:
                    row["via"].setdefault(hex(id(x)), []).extend(
                        "." + k for k, v in ns.items() if v is x and type(k) is str)
        rows[hex(rid)] = row
    # The gc module's own answer for depth 1 (tracked referrers only).
    # (A namespace dict counts as its owner, as py-backrefs shows it.)
    tracked = set()
    for r in gc.get_referrers(o):
        if id(r) in g.seen and id(r) not in g.mine:
            owner = g.ns_owner(r)
            tracked.add(hex(id(r if owner is None else owner)))
    tracked = sorted(tracked)
    return {"rows": rows, "gc_referrers": tracked}


def _excess(g, oid):
    return sys.getrefcount(g.seen[oid]) - g.in_degree(oid)


def unexplained(g, addrs, control_id):
    """ob_refcnt minus the references the graph explains, for each address,
    calibrated on the object control_id (exactly one reference, from a
    list; passed by id, so that the oracle holds no reference to it)."""
    base = _excess(g, control_id)
    return {a: _excess(g, int(a, 16)) - base if int(a, 16) in g.seen else None
            for a in addrs}


def cycle_groups(g, addrs):
    """Strongly connected component of each object (within the graph), and
    the ids it reaches (for the garbage count, after the graph is gone)."""
    out, reach = {}, {}
    for a in addrs:
        o = g.get(a)
        if o is MISSING:
            out[a] = None
            continue
        fwd = g.forward(o)
        bwd = g.backward(id(o))
        out[a] = {"cycle_group": len(set(fwd) & set(bwd))}
        reach[a] = set(fwd)
    return out, reach


FRAME_DESC_RE = re.compile(r"frame (\S+?)\(\) (\S+?):(\d+)(?: (local|cell) '([^']+)')?")


def frame_roots(g, items):
    """For each [description, address] of a frame root: is a thread
    running a frame of that function and file, at which line is it now,
    is it the oracle's own thread (whose innermost frames moved on), and,
    for a local or cell variable, does the variable refer to the object
    (local_ok; None for other slots: function, value stack ...)."""
    out = []
    # The oracle's own frames are skipped: their f_locals would hold the
    # graph in a reference cycle (frame -> f_locals -> stacks -> frame).
    here = os.path.abspath(__file__)
    me = threading.get_ident()
    stacks = sys._current_frames()
    f = None
    for desc, addr in items:
        m = FRAME_DESC_RE.search(desc)
        o = g.get(addr)
        if not m or o is MISSING:
            out.append({"found": False, "why": "unparsed" if not m else "not live"})
            continue
        func, fname, local = m.group(1), m.group(2), m.group(5)
        res = {"found": False, "why": "no thread runs %s() of %s" % (func, fname)}
        for tid, f in stacks.items():
            while f is not None and res.get("local_ok") is not True:
                code = f.f_code
                names = (code.co_name, getattr(code, "co_qualname", code.co_name))
                if (os.path.abspath(code.co_filename) != here and func in names
                        and os.path.basename(code.co_filename) == fname
                        and (not res["found"] or local is not None)):
                    ok = None if local is None else f.f_locals.get(local, MISSING) is o
                    res = {"found": True, "line": f.f_lineno, "oracle_thread": tid == me,
                           "local_ok": ok}
                    if ok is None:
                        break
                f = f.f_back
        out.append(res)
    del stacks, f
    return out


def answer(request, control_id, reach_out):
    """The report on a request (see chain_target.py).  reach_out receives,
    for each cycle queried, the ids of the objects it reaches: garbage()
    counts them once the graph is gone."""
    mine = {id(request), id(sys._getframe()), id(reach_out)}
    mine.add(id(mine))
    g = Graph(mine)
    req = json.loads(request.decode() or "{}")
    mine.add(id(req))
    # Refcounts first, while the oracle holds no object of the heap.
    report = {"unexplained": unexplained(g, req.get("unexplained", []), control_id)}
    report["cycles"], reach = cycle_groups(g, req.get("cycles", []))
    reach_out.update(reach)
    report["objects"] = {a: describe(g.get(a)) for a in req.get("objects", [])}
    report["backrefs"] = {"%s/%d" % (a, d): backrefs_of(g, a, d)
                          for a, d in req.get("backrefs", [])}
    checked = check_paths(g, req.get("paths", []))
    # Phase 2: labels, frame locals (may add f_locals dicts to frames).
    report["paths"] = label_paths(g, checked)
    del checked
    report["refs"] = {a: refs_of(g, a) for a in req.get("refs", [])}
    report["frame_roots"] = frame_roots(g, req.get("frame_roots", []))
    report["modules"] = {name: hex(id(m)) for name, m in list(sys.modules.items())}
    report["interpreter"] = {"sys.modules": hex(id(sys.modules)),
                             "sys.__dict__": hex(id(sys.__dict__)),
                             "builtins": hex(id(builtins.__dict__))}
    report["census_objects"] = len(g.seen)
    # Whatever cycle may still hold the graph (the collector is off), it
    # holds no object of the heap any more.
    g.seen.clear()
    g.rev.clear()
    return report


def garbage(reach):
    """What gc.collect() finds unreachable among the objects each queried
    object reaches (the collector's own verdict, nothing freed: the
    garbage is saved in gc.garbage and counted by id)."""
    gc.set_debug(gc.DEBUG_SAVEALL)
    gc.collect()
    ids = {id(o) for o in gc.garbage}
    del gc.garbage[:]
    gc.set_debug(0)
    return {a: {"garbage": len(fwd & ids), "collectable": int(a, 16) in ids}
            for a, fwd in reach.items()}
