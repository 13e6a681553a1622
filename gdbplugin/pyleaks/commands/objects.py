"""py-objects: the live objects of one type, with short safe reprs."""

from .. import api, fmt, reprs
from . import ArgumentParser, add_common_options, command, positive_int

DEFAULT_LIMIT = 20

parser = ArgumentParser(
    prog="py-objects",
    description="List live objects of a type with their addresses and a "
                "short repr read from memory (no code runs in the target).",
    epilog="Example: py-objects app.handlers.Handler --limit 5")
parser.add_argument("type", metavar="TYPE",
                    help="type name as py-leaks shows it (app.Foo, dict), "
                         "or its short name (Foo)")
parser.add_argument("--limit", type=positive_int, metavar="N",
                    default=DEFAULT_LIMIT,
                    help="show at most N objects (default %d)"
                         % DEFAULT_LIMIT)
add_common_options(parser)


@command(parser)
def py_objects(args):
    ctx, res = api.objects(args.type, args.limit, args.force)
    fmt.write_notes(ctx.notes, args.json)
    name = res.rows[0]["name"] if res.rows else args.type
    objs = [{"address": "%#x" % row["address"],
             "repr": reprs.short_repr(ctx.target, ctx.layout, row["address"],
                                      row["type_addr"], row["name"])}
            for row in res.rows]
    if args.json:
        fmt.write_json({"type": name, "count": res.n_rows_total,
                        "objects": objs})
        return
    fmt.gdb_write_line("%s objects of type %s (showing %d):"
                       % (fmt.count(res.n_rows_total), name, len(objs)))
    for obj in objs:
        fmt.gdb_write_line("%s %s" % (obj["address"], obj["repr"]))
