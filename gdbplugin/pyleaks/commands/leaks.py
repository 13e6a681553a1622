"""py-leaks: census of the live objects by type name."""

from .. import api, fmt
from . import ArgumentParser, add_common_options, command, positive_int

DEFAULT_TOP = 25

parser = ArgumentParser(
    prog="py-leaks",
    description="Count the live objects of the target by type: how many and "
                "how many bytes.",
    epilog="Example: py-leaks --top 10 --sort bytes")
parser.add_argument("--top", type=positive_int, metavar="N",
                    help="show the N biggest types (default %d; with --json "
                         "all types unless given)" % DEFAULT_TOP)
parser.add_argument("--sort", choices=("count", "bytes"), default="count",
                    help="order by object count (default) or by bytes")
add_common_options(parser)


@command(parser)
def py_leaks(args):
    top = args.top if args.top is not None else (0 if args.json
                                                 else DEFAULT_TOP)
    ctx, res = api.census(args.sort, top, args.force)
    fmt.write_notes(ctx.notes, args.json)
    if args.json:
        fmt.write_json({
            "python_version": ctx.target.version_str,
            "mode": "live",
            "pid": ctx.target.pid,
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
            "types": [{"type": row["name"], "count": row["count"],
                       "bytes": row["bytes"]} for row in res.rows],
        })
        return
    reused = ", graph reused" if res.graph_reused else ""
    fmt.gdb_write_line(
        "pyleaks: CPython %s, live process %d: %s objects, %s "
        "(census %.2f s%s)"
        % (ctx.target.version_str, ctx.target.pid,
           fmt.count(res.total_objects), fmt.size(res.total_bytes),
           res.call_ns / 1e9, reused))
    rows = [[fmt.count(r["count"]), fmt.size(r["bytes"]), r["name"]]
            for r in res.rows]
    fmt.gdb_write(fmt.table(["count", "bytes", "type"], rows, right=(0, 1)))
    if res.n_rows < res.n_rows_total:
        fmt.gdb_write_line("(%s of %s types shown; --top N for more)"
                           % (fmt.count(res.n_rows),
                              fmt.count(res.n_rows_total)))
    if res.n_warnings:
        fmt.gdb_write_line("pyleaks: %s warning%s during the walk (a damaged "
                           "object or pointer, skipped)%s"
                           % (fmt.count(res.n_warnings),
                              "s" if res.n_warnings != 1 else "",
                              "; the first: " + res.message if res.message
                              else ""))
