"""py-leaks: census of the live objects by type name, the change since an
earlier look, and the memory around the objects.

The command first gathers a Report (the census, the look it is compared
with, the memory, the new objects), then prints it section by section:
each section is a function giving text lines (TEXT_SECTIONS) or a dict
merged into the JSON object (JSON_SECTIONS).  Another section is one more
function in each list, and one more step in gather() if it needs data."""

import argparse
import time
from dataclasses import dataclass, field
from typing import List, Optional

from .. import api, findings, fmt, growth, memory, native
from ..errors import PyleaksError
from . import (ArgumentParser, add_common_options, command, leaks_analysis,
               positive_int)

DEFAULT_TOP = 25


def snapshot_name(text):
    if not growth.valid_name(text):
        raise argparse.ArgumentTypeError(
            "%r is not a snapshot name (letters, digits, '.', '_' and '-', "
            "not starting with '.')" % text)
    return text


parser = ArgumentParser(
    prog="py-leaks",
    description="Count the live objects of the target by type: how many and "
                "how many bytes, how that changed since the previous look "
                "at the process (or a snapshot saved with --save), and the "
                "memory around them (RSS, pymalloc's arenas, the rest).",
    epilog="Example: py-leaks --top 10 --sort growth; py-leaks --save "
           "before ... py-leaks --new --since before")
parser.add_argument("--top", type=positive_int, metavar="N",
                    help="show the N first types (default %d; with --json "
                         "all types unless given)" % DEFAULT_TOP)
parser.add_argument("--sort", choices=("count", "bytes", "growth"),
                    default="count",
                    help="order by object count (default), by bytes, or by "
                         "growth of the count since the look compared with")
parser.add_argument("--save", type=snapshot_name, metavar="NAME",
                    help="also save this look as snapshot NAME, object "
                         "identities included")
parser.add_argument("--since", type=snapshot_name, metavar="NAME",
                    help="compare with snapshot NAME instead of the previous "
                         "look at this process")
parser.add_argument("--new", action="store_true",
                    help="the objects alive now that were not at the "
                         "snapshot (--since) or the previous look that kept "
                         "identities, by type")
parser.add_argument("--no-analysis", action="store_true",
                    help="the census alone: no biggest holders, findings or "
                         "path patterns (no dominator tree: a shorter pause)")
add_common_options(parser)


# --- gathering ---------------------------------------------------------------

@dataclass
class NewObjects:
    """py-leaks --new: the objects alive now that the base did not have."""

    since: Optional[growth.Look]        # None: nothing to compare with
    base_time: Optional[float]
    rows: list = field(default_factory=list)   # census rows (dicts)
    info: dict = field(default_factory=dict)   # struct pyl_ids_info


@dataclass
class Report:
    args: argparse.Namespace
    ctx: api.Context
    res: object                         # result.Result of the census
    now: float
    look: growth.Look                   # this look, as it is recorded
    base: Optional[growth.Look]         # the look compared with
    rows: List[growth.Row]              # all types, sorted as asked
    memory: memory.Memory
    notes: List[str]
    new: Optional[NewObjects] = None
    saved: Optional[str] = None         # path of the snapshot saved
    analysis: Optional[findings.Analysis] = None
    native: list = field(default_factory=list)  # C extension types grown

    @property
    def top(self):
        if self.args.top is not None:
            return self.args.top
        return 0 if self.args.json else DEFAULT_TOP


def gather(args):
    base = growth.snapshot(args.since) if args.since else None
    sort = "bytes" if args.sort == "bytes" else "count"
    ctx, res = api.census(sort, 0, args.force)
    now = time.time()
    notes = list(ctx.notes)
    look = growth.look_of(ctx.target, res.rows, now)
    if base is None:
        base = growth.previous(ctx.target, notes)
    if base is not None:
        notes.extend(growth.differences(look, base))
    # Without a look to compare with there is no growth to sort by.
    order = "count" if args.sort == "growth" and base is None else args.sort
    report = Report(args, ctx, res, now, look, base,
                    growth.sort_rows(growth.compare(look, base), order),
                    memory.measure(ctx.target, res.total_bytes,
                                   res.mapped_bytes), notes)
    if base is not None:
        report.native = native.extension_types(
            ctx.target, report.rows,
            {r["name"]: r["type_addr"] for r in res.rows})
    if args.new:
        report.new = new_objects(report)
    if not args.no_analysis:
        report.analysis = findings.analyse(
            args.force, leaks_analysis.previous_containers(look, report.base))
        notes.extend(report.analysis.notes)
        leaks_analysis.remember_containers(look, report.analysis)
    remember(report)
    return report


def _base_ids(report):
    """(Identities, Look or None) the --new objects are counted against;
    (None, None) when there are none yet."""
    args, target = report.args, report.ctx.target
    if not args.since:
        ids = growth.previous_ids(target, report.notes)
        return (ids, None) if ids else (None, None)
    ids = growth.snapshot_ids(args.since)
    if ids is None:
        raise PyleaksError("snapshot '%s' has no object identities"
                           % args.since,
                           "Save it again with py-leaks --save %s"
                           % args.since)
    if ids.process != growth.process_identity(target.pid):
        raise PyleaksError(
            "snapshot '%s' is of another process (%s), and --new compares "
            "object addresses, which mean something only in the process "
            "that had them" % (args.since, _process_text(ids.process)),
            "Use --since %s without --new to compare the counts by type"
            % args.since)
    return ids, report.base


def _process_text(identity):
    if not isinstance(identity, dict):
        return "unknown"
    return "pid %s, started at tick %s" % (identity.get("pid"),
                                           identity.get("start_time"))


def new_objects(report):
    ids, since = _base_ids(report)
    if ids is None:
        return NewObjects(None, None)
    res, info = api.new_objects(report.ctx, ids.rows, report.args.force)
    return NewObjects(since, ids.time, res.rows, info)


def remember(report):
    """Record this look (and its identities with --save or --new), and
    save it as a snapshot with --save."""
    args, ctx = report.args, report.ctx
    ids = api.object_ids(ctx, args.force) if args.save or args.new \
        else None
    growth.record(ctx.target, report.look, ids, report.notes)
    if args.save:
        report.saved = str(growth.save_snapshot(args.save, report.look, ids))
        report.notes.append("saved this look as snapshot '%s' (%s)"
                            % (args.save, report.saved))


# --- formatting helpers --------------------------------------------------------

def count_change(row):
    if row.count_delta is None:
        return ""
    if row.new:
        return "new"
    return "{:+,}".format(row.count_delta) if row.count_delta else "="


def size_change(delta):
    if delta is None:
        return ""
    if delta == 0:
        return "="
    return ("+" if delta > 0 else "-") + fmt.size(abs(delta))


def shown_rows(report):
    """The census rows the text shows: the top N, and with --sort growth
    only types that changed."""
    rows = report.rows
    if report.args.sort == "growth" and report.base is not None:
        rows = [r for r in rows if r.changed]
    return rows[:report.top] if report.top else rows


# --- text sections -------------------------------------------------------------

def header_text(report):
    res, target = report.res, report.ctx.target
    reused = ", graph reused" if res.graph_reused else ""
    return ["pyleaks: CPython %s, live process %d: %s objects, %s "
            "(census %.2f s%s)"
            % (target.version_str, target.pid,
               fmt.count(res.total_objects), fmt.size(res.total_bytes),
               res.call_ns / 1e9, reused)]


def memory_text(report):
    m = report.memory
    parts = ["%s RSS" % fmt.size(m.rss) if m.rss is not None
             else "RSS unknown",
             "Python objects %s" % fmt.size(m.python_objects)]
    if m.pymalloc is not None:
        free = m.pymalloc.free_bytes
        parts.append("pymalloc arenas %s (%s free%s)"
                     % (fmt.size(m.pymalloc.arenas_bytes), fmt.size(free),
                        "" if m.pymalloc.free_blocks_bytes is not None
                        else " pools"))
    else:
        parts.append("pymalloc arenas unknown (%s)" % m.pymalloc_why)
    if m.helper:
        parts.append("pyleaks' helper %s" % fmt.size(m.helper))
    if m.other is not None:
        parts.append("other %s (C extensions, allocator fragmentation)"
                     % fmt.size(m.other))
    return ["memory: " + "; ".join(parts)]


def growth_text(report):
    if report.base is None:
        return ["growth: first look at this process, nothing to compare "
                "with yet (the next py-leaks shows the change)"]
    objects = sum(r.count_delta for r in report.rows)
    nbytes = sum(r.bytes_delta for r in report.rows)
    change = "no change" if not objects and not nbytes else \
        "%s objects, %s" % ("{:+,}".format(objects),
                            size_change(nbytes) if nbytes else "+0 B")
    return ["growth %s: %s" % (growth.since_text(report.base, report.now),
                               change)]


def table_text(report):
    """The census table, with the change per type when there is a look
    to compare with."""
    if report.new is not None:
        return []
    rows = shown_rows(report)
    with_change = report.base is not None
    headers = ["count", "bytes"] + (["+count", "+bytes"] if with_change
                                    else []) + ["type"]
    cells = [[fmt.count(r.count), fmt.size(r.bytes)]
             + ([count_change(r), size_change(r.bytes_delta)] if with_change
                else []) + [r.name] for r in rows]
    right = (0, 1, 2, 3) if with_change else (0, 1)
    lines = fmt.table(headers, cells, right=right).splitlines() if cells \
        else []
    return lines + _cut_line(report, len(rows))


def _cut_line(report, n_shown):
    if report.args.sort == "growth" and report.base is not None:
        changed = sum(1 for r in report.rows if r.changed)
        unchanged = len(report.rows) - changed
        if n_shown < changed:
            return ["(%s of %s changed types shown, %s unchanged; --top N "
                    "for more)" % (fmt.count(n_shown), fmt.count(changed),
                                   fmt.count(unchanged))]
        return ["(%s types unchanged)" % fmt.count(unchanged)] \
            if unchanged else []
    if n_shown < len(report.rows):
        return ["(%s of %s types shown; --top N for more)"
                % (fmt.count(n_shown), fmt.count(len(report.rows)))]
    return []


def native_text(report):
    if not report.native:
        return []
    return ["C extension types that grew (their objects may hold memory "
            "outside Python objects, in RSS but not in the census): "
            + ", ".join("%s +%s (%s)" % (n["type"], fmt.count(n["count_delta"]),
                                       n["module_file"].rsplit("/", 1)[-1])
                        for n in report.native[:5])]


def new_text(report):
    new = report.new
    if new is None:
        return []
    if new.base_time is None:
        return ["new objects: nothing to compare with yet: no earlier look "
                "at this process kept object identities (py-leaks --new and "
                "--save keep them; this one did)"]
    what = ("snapshot '%s'" % new.since.name if new.since is not None
            else "the previous look that kept identities")
    lines = ["new objects since %s %s ago (%s): %s objects, %s; %s objects "
             "of then are gone"
             % (what, growth.age_text(report.now - new.base_time),
                growth.clock_text(new.base_time, report.now),
                fmt.count(new.info["new_objects"]),
                fmt.size(new.info["new_bytes"]),
                fmt.count(new.info["gone_objects"]))]
    top = report.top
    rows = new.rows[:top] if top else new.rows
    cells = [[fmt.count(r["count"]), fmt.size(r["bytes"]), r["name"]]
             for r in rows]
    if cells:
        lines += fmt.table(["count", "bytes", "type"], cells,
                           right=(0, 1)).splitlines()
    if len(rows) < len(new.rows):
        lines.append("(%s of %s types shown; --top N for more)"
                     % (fmt.count(len(rows)), fmt.count(len(new.rows))))
    return lines


def warnings_text(report):
    res = report.res
    if not res.n_warnings:
        return []
    return ["pyleaks: %s warning%s during the walk (a damaged object or "
            "pointer, skipped)%s"
            % (fmt.count(res.n_warnings), "s" if res.n_warnings != 1 else "",
               "; the first: " + res.message if res.message else "")]


def suspects_text(report):
    return leaks_analysis.suspects_text(report.analysis)


def findings_text(report):
    return leaks_analysis.findings_text(report.analysis)


def holders_text(report):
    return leaks_analysis.holders_text(report.analysis)


TEXT_SECTIONS = [header_text, memory_text, growth_text, table_text,
                 native_text, new_text,
                 suspects_text, findings_text, holders_text, warnings_text]


# --- JSON sections -------------------------------------------------------------

def header_json(report):
    res, target = report.res, report.ctx.target
    return {
        "python_version": target.version_str,
        "mode": "live",
        "pid": target.pid,
        "total_objects": res.total_objects,
        "total_bytes": res.total_bytes,
        "elapsed_s": round(res.call_ns / 1e9, 6),
        "walk_s": round(res.walk_ns / 1e9, 6),
        "graph_reused": bool(res.graph_reused),
        "gc_tracked": res.n_gc_tracked,
        "edges": res.n_edges,
        "warnings": res.n_warnings,
        "first_warning": res.message if res.n_warnings else None,
        "helper_mapped_bytes": res.mapped_bytes,
        "helper_peak_bytes": res.peak_mapped_bytes,
    }


def memory_json(report):
    m = report.memory
    p = m.pymalloc
    return {"memory": {
        "rss": m.rss,
        "python_objects": m.python_objects,
        "pymalloc_arenas": p.arenas_bytes if p else None,
        "pymalloc_free": p.free_bytes if p else None,
        "other": m.other,
        "helper": m.helper,
        "pymalloc_arena_count": p.arenas if p else None,
        "pymalloc_free_pools": p.free_pools * p.pool_size if p else None,
        "pymalloc_free_blocks": p.free_blocks_bytes if p else None,
        "pymalloc_used_blocks": p.used_blocks_bytes if p else None,
        "pymalloc_unavailable": m.pymalloc_why,
    }}


def growth_json(report):
    return {"since": growth.since_json(report.base, report.now),
            "native_growth": report.native}


def types_json(report):
    rows = report.rows[:report.top] if report.top else report.rows
    retained = report.analysis.retained if report.analysis else {}
    return {"types": [{"type": r.name, "count": r.count, "bytes": r.bytes,
                       "count_delta": r.count_delta,
                       "bytes_delta": r.bytes_delta,
                       "retained": retained.get(r.name)} for r in rows]}


def new_json(report):
    new = report.new
    if report.new is None:
        return {}
    if new.base_time is None:
        return {"new": None}
    rows = new.rows[:report.top] if report.top else new.rows
    return {"new": {
        "since": {"kind": "snapshot" if new.since else "previous",
                  "name": new.since.name if new.since else None,
                  "time": round(new.base_time, 3),
                  "age_s": round(report.now - new.base_time, 3)},
        "objects": new.info["new_objects"],
        "bytes": new.info["new_bytes"],
        "gone": new.info["gone_objects"],
        "types": [{"type": r["name"], "count": r["count"],
                   "bytes": r["bytes"]} for r in rows],
    }}


def saved_json(report):
    if not report.args.save:
        return {}
    return {"saved": {"name": report.args.save, "path": report.saved}}


def analysis_json(report):
    return leaks_analysis.analysis_json(report.analysis)


JSON_SECTIONS = [header_json, memory_json, growth_json, types_json, new_json,
                 saved_json, analysis_json]


@command(parser)
def py_leaks(args):
    report = gather(args)
    fmt.write_notes(report.notes, args.json)
    if args.json:
        out = {}
        for section in JSON_SECTIONS:
            out.update(section(report))
        fmt.write_json(out)
        return
    for section in TEXT_SECTIONS:
        for line in section(report):
            fmt.gdb_write_line(line)
