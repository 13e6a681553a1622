"""The leak analysis as people read it: the biggest holders (where the
retained bytes accumulate, as Eclipse MAT's leak suspects) and the named
causes, each with its labelled chain and a one-line fix hint.

The helper finds them (pyl_analyze); this module adds what only gdb's side
knows (the previous look's containers, for a container that grew) and the
words.  A few dozen rows: no per-object work here."""

from dataclasses import dataclass, field
from typing import Dict, List, Optional

from . import abi, api, fmt, interrupts
from .errors import PyleaksError

MAX_SUSPECTS = 5
MAX_CONTAINERS = 2000       # remembered per look, longest first
MIN_GROWTH = 10             # items a container must gain to be a finding
MAX_GROWING = 5
MAX_HOLDER_TYPES = 3        # types whose holders are grouped by pattern
MAX_PATTERNS = 3            # patterns shown per type

HINTS = {
    "growing_container":
        "bound it: evict old entries (an LRU/TTL cache, "
        "collections.deque(maxlen=N)), or hold values through "
        "weakref.WeakValueDictionary",
    "mutable_default":
        "default to None and make the container in the function body "
        "(def f(x, items=None): items = [] if items is None else items)",
    "lru_cache_instances":
        "do not lru_cache methods: every self stays alive in the cache; use "
        "functools.cached_property, a per-instance cache, or key on the "
        "instance's fields, with a bounded maxsize",
    "retained_traceback":
        "keep traceback.format_exception(...) text or "
        "exc.with_traceback(None), not the exception with its __traceback__ "
        "(which keeps every frame and its locals)",
    "retained_last_exception":
        "sys.last_value/last_traceback (sys.last_exc) keep the last uncaught "
        "exception and its frames: delete them once reported",
    "observer_leak":
        "register weakref.WeakMethod(obj.method) or use a weakref.WeakSet, "
        "or unsubscribe when the object is done",
    "cyclic_garbage":
        "the collector is disabled: gc.enable() or call gc.collect() "
        "periodically; or break the cycles (weakref for back references)",
    "uncollectable":
        "gc.garbage keeps what the collector could not free (or "
        "DEBUG_SAVEALL kept): fix the finalizers and clear it "
        "(gc.garbage.clear())",
    "unexplained_refs":
        "references no Python object explains: a C extension that takes "
        "references and never releases them (a missing Py_DECREF); check "
        "the extensions these objects pass through",
}


@dataclass
class Analysis:
    info: dict
    suspects: List[dict]
    findings: List[dict]
    containers: List[list]          # [address, type, length] for next look
    retained: Dict[str, int]        # type name -> bytes its objects retain
    holders: List[dict] = field(default_factory=list)
    elapsed_s: float = 0.0
    peak_bytes: int = 0             # helper memory touched, analysis included
    notes: List[str] = field(default_factory=list)


def _optional(exc):
    """A query whose answer is only a detail failed: go on without it,
    unless a signal stopped it (Ctrl-C as well as SIGTERM: that error is
    the one line saying what happened, and the run must end there)."""
    if interrupts.pending() is not None:
        raise exc


def _chain(address, force):
    """The shortest chain to an object, or None when no root reaches it."""
    try:
        _, res = api.chain(address, False, 1, force)
    except PyleaksError as exc:
        _optional(exc)
        return None
    return res.chains[0] if res.chains else None


def _where(chain):
    return fmt.chain_path(chain) if chain is not None else "no root"


def _repr(ctx, row):
    return fmt.object_repr(ctx, row["address"], row["name"], row["type_addr"])


def _suspect(ctx, row, reachable, force):
    chain = _chain(row["address"], force)
    share = 100.0 * row["bytes"] / reachable if reachable else 0.0
    holds = " of %s %s" % (fmt.count(row["count"]), row["subject"]) \
        if row["subject"] else ""
    return {
        "address": fmt.address(row["address"]),
        "type": row["name"],
        "repr": _repr(ctx, row),
        "retained_bytes": row["bytes"],
        "share": round(share, 1),
        "count": row["count"],
        "subject": row["subject"] or None,
        "length": row["length"],
        "summary": "%s at %s retains %s (%.0f%% of the reachable heap)%s"
                   % (_repr(ctx, row), _where(chain), fmt.size(row["bytes"]),
                      share, (", mostly" + holds) if holds else ""),
        "chain": fmt.chain_json(ctx, chain) if chain is not None else None,
    }


def _finding(ctx, kind, summary, objects, count, nbytes, type_name, chain,
             hint_kind=None):
    return {
        "kind": kind,
        "summary": summary,
        "objects": [fmt.address(a) for a in objects],
        "count": count,
        "bytes": nbytes,
        "type": type_name or None,
        "chain": fmt.chain_json(ctx, chain) if chain is not None else None,
        "hint": HINTS[hint_kind or kind],
    }


def _summary(kind, row, where, ctx):
    n, b, subject = fmt.count(row["count"]), fmt.size(row["bytes"]), \
        row["subject"]
    if kind == "mutable_default":
        return ("a mutable default argument, %s at %s, holds %s items "
                "(retains %s)" % (_repr(ctx, row), where, n, b))
    if kind == "lru_cache_instances":
        return ("lru_cache at %s keeps %s %s instances alive in its keys "
                "(retains %s)" % (where, n, subject, b))
    if kind == "retained_traceback":
        return ("%s at %s keeps %s %s exceptions with their tracebacks, "
                "frames and locals (retains %s)"
                % (_repr(ctx, row), where, n, subject, b))
    if kind == "observer_leak":
        return ("%s at %s holds %s bound methods of %s instances, keeping "
                "them alive (retains %s)"
                % (_repr(ctx, row), where, n, subject, b))
    if kind == "cyclic_garbage":
        return ("cyclic garbage: %s objects in reference cycles no root "
                "reaches, %s, waiting for a collection that does not run "
                "(the collector is disabled); mostly %s"
                % (n, b, subject))
    if kind == "uncollectable":
        return "gc.garbage holds %s uncollectable objects (%s)" % (n, b)
    return ("%s %s objects are held by references no Python object "
            "explains (C code), %s" % (n, subject, b))


def _named_finding(ctx, row, members, force):
    kind = abi.FINDING_KINDS.get(row["kind"], "unknown")
    address = row["address"]
    chain = _chain(address, force) if address else None
    hint = None
    if kind == "retained_traceback" and row["count"] == 1 and chain is not \
            None and (chain.root_desc == "module sys"
                      or chain.root_desc.endswith("sys.__dict__")):
        hint = "retained_last_exception"
    objects = ([address] if address else []) + members
    return _finding(ctx, kind, _summary(kind, row, _where(chain), ctx),
                    objects, row["count"], row["bytes"], row["subject"],
                    chain, hint)


def _growing(ctx, containers, previous, force):
    """Containers of the previous look (same address, same type) that
    gained items, reached from a module: the most common leak there is."""
    grown = []
    for row in containers:
        before = previous.get(row["address"])
        if before is None or before[0] != row["name"]:
            continue
        gained = row["length"] - before[1]
        if gained >= MIN_GROWTH:
            grown.append((gained, row))
    grown.sort(key=lambda g: -g[0])
    out = []
    for gained, row in grown:
        if len(out) >= MAX_GROWING:
            break
        chain = _chain(row["address"], force)
        if chain is None or chain.root_kind != "module":
            continue
        summary = ("%s at %s grew by %s items since the last look, to %s "
                   "(retains %s)" % (_repr(ctx, row), _where(chain),
                                     fmt.count(gained),
                                     fmt.count(row["length"]),
                                     fmt.size(row["bytes"])))
        finding = _finding(ctx, "growing_container", summary,
                           [row["address"]], row["length"], row["bytes"],
                           row["name"], chain)
        finding["growth"] = gained
        out.append(finding)
    return out


def holders(type_name, force, max_patterns=MAX_PATTERNS):
    """How the objects of a type are held: {"type", "total", "patterns":
    [{"pattern", "count", "bytes", "share", "example"}]}, biggest first."""
    _, res = api.patterns(type_name, max_patterns, force)
    total = sum(r["count"] for r in res.rows)
    rows = res.rows
    out = []
    for r in rows:
        out.append({
            "pattern": r["pattern"] or None,
            "count": r["count"],
            "bytes": r["bytes"],
            "example": fmt.address(r["example"]),
        })
    return {"type": type_name, "groups": res.n_rows_total,
            "retained": bool(rows and rows[0]["retained"]),
            "patterns": out, "shown_count": total}


def _holder_types(suspects, found):
    """The types the suspects and findings are about, most important
    first, each once."""
    names = []
    # A container's own type (a growing dict, a default list) says nothing
    # of what it holds: the holders' subjects and the instances do.
    for item in list(suspects) + list(found):
        name = item.get("subject") if "subject" in item else item.get("type")
        if name and name not in names and item.get("kind") not in (
                "cyclic_garbage", "uncollectable", "mutable_default",
                "growing_container"):
            names.append(name)
    return names[:MAX_HOLDER_TYPES]


def analyse(force, previous_containers=None):
    """The Analysis of the stopped target.  previous_containers: {address:
    (type name, length)} of the last look, or None."""
    ctx, res = api.analyze(MAX_SUSPECTS, MAX_CONTAINERS, force)
    info = res.info or {}
    rows = {s: [r for r in res.rows if r["section"] == s]
            for s in (abi.SECTION_SUSPECT, abi.SECTION_FINDING,
                      abi.SECTION_CONTAINER, abi.SECTION_TYPE)}
    reachable = info.get("reachable_bytes", 0)
    suspects = [_suspect(ctx, r, reachable, force)
                for r in rows[abi.SECTION_SUSPECT]]
    containers = rows[abi.SECTION_CONTAINER]
    findings = _growing(ctx, containers, previous_containers or {}, force)
    for row in rows[abi.SECTION_FINDING]:
        first = row["first_member"]
        members = res.aux[first:first + row["n_members"]]
        findings.append(_named_finding(ctx, row, members, force))
    kept = []
    for name in _holder_types(suspects, findings):
        try:
            kept.append(holders(name, force))
        except PyleaksError as exc:
            _optional(exc)
    return Analysis(
        info=info, suspects=suspects, findings=findings, holders=kept,
        containers=[[r["address"], r["name"], r["length"]]
                    for r in containers],
        retained={r["name"]: r["bytes"] for r in rows[abi.SECTION_TYPE]},
        elapsed_s=res.call_ns / 1e9, peak_bytes=res.peak_mapped_bytes,
        notes=ctx.notes)
