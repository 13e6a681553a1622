"""py-refs: what an object refers to, each referent with the label by
which the object reaches it."""

from .. import api, dot, fmt
from . import (ArgumentParser, add_address_argument, add_common_options,
               add_max_option, command)

LABEL_CAP = 40
TYPE_CAP = 32

parser = ArgumentParser(
    prog="py-refs",
    usage="py-refs ADDR [--max N] [--json] [--dot FILE] [--force]",
    description="List the objects an object refers to (its referents), "
                "each with how it refers to it (.attr, ['key'], [3], ...), "
                "type, address, size and a short repr; at most --max of "
                "them, and how many there are in all.",
    epilog="Example: py-refs 0x7f3a1c2b5d90 --dot refs.svg")
add_address_argument(parser)
add_max_option(parser, "references", "in reading order (a list's items by "
               "index, a dict's entries in order, then attributes)")
add_common_options(parser, "the references")


def _repr(ctx, item):
    return fmt.object_repr(ctx, item.address, item.type, item.type_addr)


def _graph(ctx, res, reprs):
    graph = dot.Graph("py-refs %s (%s)" % (fmt.address(res.address),
                                          res.type))
    focus = graph.object_node(res.address, res.type,
                              fmt.object_repr(ctx, res.address, res.type,
                                              res.type_addr),
                              "target")
    for item, repr_text in zip(res.items, reprs):
        graph.edge(focus, graph.object_node(item.address, item.type,
                                            repr_text), item.label)
    return graph


@command(parser)
def py_refs(args):
    ctx, res = api.refs(args.address, args.force, args.max)
    fmt.write_notes(ctx.notes, args.json)
    reprs = [_repr(ctx, item) for item in res.items]
    if args.json:
        fmt.write_json({
            "address": fmt.address(res.address), "type": res.type,
            "total": res.n_total,
            "referents": [{"address": fmt.address(item.address),
                           "type": item.type, "label": item.label,
                           "size": item.size, "repr": repr_text}
                          for item, repr_text in zip(res.items, reprs)],
            "elapsed_s": round(res.elapsed_s, 6)})
    else:
        n = res.n_total
        fmt.gdb_write_line("pyleaks: %s (%s) refers to %s object%s%s"
                           % (fmt.address(res.address), res.type,
                              fmt.count(n), "" if n == 1 else "s",
                              ":" if n else ""))
        rows = [[item.label, item.type, fmt.address(item.address),
                 fmt.size(item.size), repr_text]
                for item, repr_text in zip(res.items, reprs)]
        for line in fmt.columns(rows, (LABEL_CAP, TYPE_CAP, 18, 10),
                                right=(3,)):
            fmt.gdb_write_line(line)
        more = fmt.showing(len(res.items), n, "references",
                           "in reading order")
        if more:
            fmt.gdb_write_line(more)
    if args.dot:
        fmt.write_message(dot.write(_graph(ctx, res, reprs), args.dot),
                          args.json)
