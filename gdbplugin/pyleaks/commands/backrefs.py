"""py-backrefs: who refers to an object, breadth first to a depth, as a
tree read from the object outwards: each line says what the line above it
is to this referrer (`[0] of list ...`, `.cache of app.Handler ...`)."""

from .. import api, dot, fmt
from . import (ArgumentParser, add_address_argument, add_common_options,
               add_max_option, command, positive_int)

LABEL_CAP = 48
TYPE_CAP = 32

parser = ArgumentParser(
    prog="py-backrefs",
    usage="py-backrefs ADDR [--depth N] [--max N] [--json] [--dot FILE] "
          "[--force]",
    description="List the objects that refer to an object (its referrers), "
                "breadth first up to --depth levels, each with how it refers "
                "(.attr, ['key'], [3], ...), type, address, size and a short "
                "repr; roots that hold one of them directly are listed too.",
    epilog="Example: py-backrefs 0x7f3a1c2b5d90 --depth 3")
add_address_argument(parser)
parser.add_argument("--depth", type=positive_int, metavar="N", default=1,
                    help="follow referrers of referrers up to N levels "
                         "(default 1)")
add_max_option(parser, "referrers and roots", "breadth first")
add_common_options(parser, "the referrers")


def _root(item):
    return None if not item.root_kind else {"kind": item.root_kind,
                                            "description": item.root_desc}


def _repr(ctx, item):
    if not item.address:
        return None                 # a root that is not an object
    return fmt.object_repr(ctx, item.address, item.type, item.type_addr)


def _item_json(item, repr_text):
    is_object = bool(item.address)
    return {"address": fmt.address(item.address) if is_object else None,
            "type": item.type if is_object else None,
            "label": item.label,
            "size": item.size if is_object else 0,
            "repr": repr_text,
            "depth": item.depth,
            "via": fmt.address(item.via),
            "root": _root(item)}


def _row(item, repr_text, indent):
    """[what the object above is to this one, type, address, size, repr];
    a root that is not an object is one cell, "root: <description>"."""
    root = _root(item)
    if not item.address:
        return [indent + "root: " + root["description"]]
    label = indent + (item.label + " of" if item.label else "referred by")
    tail = repr_text + ("  (root: %s)" % root["description"] if root
                        else "")
    return [label, item.type, fmt.address(item.address),
            fmt.size(item.size), tail]


def _tree_rows(res, reprs):
    """Rows in tree order: each referrer under the object it refers to.
    Breadth-first order with each object once makes `via` a tree; any row
    whose `via` was not listed still gets printed, at its depth."""
    children = {}
    for index, item in enumerate(res.items):
        children.setdefault(item.via, []).append(index)
    rows, seen = [], set()
    # Depth first, without recursion: --depth may exceed Python's limit.
    stack = [(index, 0) for index in reversed(children.get(res.address, ()))]
    while stack:
        index, level = stack.pop()
        if index in seen:
            continue
        seen.add(index)
        item = res.items[index]
        rows.append(_row(item, reprs[index], "  " * level))
        if item.address and not _root(item):
            stack.extend((child, level + 1) for child in
                         reversed(children.get(item.address, ())))
    for index, item in enumerate(res.items):
        if index not in seen:
            row = _row(item, reprs[index], "  " * (item.depth - 1))
            row[-1] += "  (refers to %s)" % fmt.address(item.via)
            rows.append(row)
    return rows


def _graph(ctx, res, reprs):
    graph = dot.Graph("py-backrefs %s (%s)" % (fmt.address(res.address),
                                              res.type))
    graph.object_node(res.address, res.type,
                      fmt.object_repr(ctx, res.address, res.type,
                                      res.type_addr), "target")
    for item, repr_text in zip(res.items, reprs):
        via = "o%x" % item.via
        root = _root(item)
        if item.address:
            key = graph.object_node(item.address, item.type, repr_text)
            graph.edge(key, via, item.label)
            if root:
                graph.edge(graph.root_node(root["description"]), key)
        else:
            graph.edge(graph.root_node(root["description"]), via,
                       item.label)
    return graph


def _plural(n, word):
    return "%s %s%s" % (fmt.count(n), word, "" if n == 1 else "s")


def _write_text(res, reprs, depth):
    n_roots = sum(1 for item in res.items if _root(item))
    deepest = max((item.depth for item in res.items if item.address),
                  default=0)
    truncated = res.n_total > len(res.items)
    if truncated:
        # Only the rows listed say which are roots: the total is of both.
        found = "%s referrers and roots, the first %s listed" % (
            fmt.count(res.n_total), fmt.count(len(res.items)))
    else:
        found = "%s, %s" % (_plural(len(res.items) - n_roots, "object"),
                            _plural(n_roots, "root"))
    fmt.gdb_write_line(
        "pyleaks: referrers of %s (%s), depth %d: %s%s"
        % (fmt.address(res.address), res.type, depth, found,
           # The last level's objects may have referrers of their own.
           " (--depth %d to go further)" % (depth + 1)
           if deepest >= depth and not truncated else ""))
    if not res.items:
        fmt.gdb_write_line("  nothing the walk found refers to it")
        return
    for line in fmt.columns(_tree_rows(res, reprs),
                            (LABEL_CAP, TYPE_CAP, 18, 10), right=(3,)):
        fmt.gdb_write_line(line)
    if truncated:
        fmt.gdb_write_line(fmt.showing(len(res.items), res.n_total,
                                       "referrers and roots",
                                       "breadth first"))


@command(parser)
def py_backrefs(args):
    ctx, res = api.backrefs(args.address, args.depth, args.force, args.max)
    fmt.write_notes(ctx.notes, args.json)
    reprs = [_repr(ctx, item) for item in res.items]
    if args.json:
        fmt.write_json({
            "address": fmt.address(res.address), "type": res.type,
            "total": res.n_total,
            "referrers": [_item_json(item, repr_text)
                          for item, repr_text in zip(res.items, reprs)],
            "elapsed_s": round(res.elapsed_s, 6)})
    else:
        _write_text(res, reprs, args.depth)
    if args.dot:
        fmt.write_message(dot.write(_graph(ctx, res, reprs), args.dot),
                          args.json)
