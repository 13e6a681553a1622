"""py-objects: the live objects of one type, with short safe reprs."""

from .. import api, fmt
from . import ArgumentParser, add_common_options, add_max_option, command

parser = ArgumentParser(
    prog="py-objects",
    usage="py-objects TYPE [--max N] [--json] [--force]",
    description="List live objects of a type with their addresses and a "
                "short repr read from memory (no code runs in the target).",
    epilog="Example: py-objects app.handlers.Handler --max 5")
parser.add_argument("type", metavar="TYPE",
                    help="type name as py-leaks shows it (app.Foo, dict), "
                         "or its short name (Foo)")
# --limit N: the name before --max was the same for py-refs/py-backrefs.
add_max_option(parser, "objects", "in the walk's order", "--limit")
add_common_options(parser)


@command(parser)
def py_objects(args):
    if not args.type.strip():
        parser.error("give a type name, as py-leaks shows it (dict, "
                     "app.Handler) or its short name (Handler)")
    ctx, res = api.objects(args.type, args.max, args.force)
    fmt.write_notes(ctx.notes, args.json)
    name = res.rows[0]["name"] if res.rows else args.type
    objs = [{"address": "%#x" % row["address"],
             "repr": fmt.object_repr(ctx, row["address"], row["name"],
                                     row["type_addr"])}
            for row in res.rows]
    if args.json:
        fmt.write_json({"type": name, "count": res.n_rows_total,
                        "total": res.n_rows_total, "objects": objs})
        return
    more = fmt.showing(len(objs), res.n_rows_total, "objects")
    fmt.gdb_write_line("%s objects of type %s (showing %s%s):"
                       % (fmt.count(res.n_rows_total), name,
                          fmt.count(len(objs)),
                          "; --max N for more" if more else ""))
    for obj in objs:
        fmt.gdb_write_line("%s %s" % (obj["address"], obj["repr"]))
    if more:
        fmt.gdb_write_line(more)
