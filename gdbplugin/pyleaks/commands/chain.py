"""py-chain: who holds an object.  The shortest chain of references from a
root (a module, a thread's local variable, interpreter state, C code) to
it, one hop per line, or why no root reaches it."""

from .. import api, dot, fmt, result
from . import (ArgumentParser, add_address_argument, add_common_options,
               command, positive_int)

DEFAULT_MAX = 10
LABEL_CAP = 40              # wider labels and types overflow their column
TYPE_CAP = 32

parser = ArgumentParser(
    prog="py-chain",
    usage="py-chain ADDR | --type TYPE [--all-roots [--max N]] [--json] "
          "[--dot FILE] [--force]",
    description="Show the shortest chain of references from a root (module, "
                "thread frame, interpreter state, C code) to an object, "
                "one hop per line: how each object refers to the next.",
    epilog="Examples: py-chain 0x7f3a1c2b5d90;  py-chain --type "
           "app.Request --all-roots;  py-chain 0x7f3a1c2b5d90 --dot "
           "chain.svg")
add_address_argument(parser, optional=True)
parser.add_argument("--type", metavar="TYPE", dest="type_name",
                    help="instead of ADDR: explain one object of this type "
                         "(the command says which one and why)")
parser.add_argument("--all-roots", action="store_true",
                    help="the shortest chain from each root that reaches "
                         "the object, not only the shortest of all")
parser.add_argument("--max", type=positive_int, metavar="N",
                    help="with --all-roots: at most N chains (default %d)"
                         % DEFAULT_MAX)
add_common_options(parser, "the chain")


def _unreachable_json(info):
    return {"cycle_group": info.cycle_group, "garbage": info.garbage,
            "gc_enabled": info.gc_enabled,
            "unexplained": info.unexplained,
            "explanation": info.explanation}


def _as_json(ctx, res, all_roots):
    out = {"target": fmt.address(res.target), "type": res.target_type}
    if res.picked is not None:
        out["picked"] = {"address": fmt.address(res.picked[0]),
                         "why": res.picked[1]}
    if all_roots:
        out["chains"] = [fmt.chain_json(ctx, c) for c in res.chains]
    elif res.chains:
        out.update(fmt.chain_json(ctx, res.chains[0]))
    else:
        out["root"] = None
        out["hops"] = []
    if res.unreachable is not None:
        out["unreachable"] = _unreachable_json(res.unreachable)
    out["elapsed_s"] = round(res.elapsed_s, 6)
    return out


def _chain_lines(ctx, chain):
    """The root, then one line per hop: the label by which the previous
    object refers to it, its type, address and repr."""
    rows = []
    for i, hop in enumerate(chain.hops):
        repr_text = fmt.object_repr(ctx, hop.address, hop.type,
                                    hop.type_addr)
        label = chain.root_desc if i == 0 else hop.label
        rows.append([label, hop.type, fmt.address(hop.address), repr_text])
    # A root description too long for the label column (frame roots) gets
    # a line of its own, so the hop's type and address still line up.
    head = []
    if rows and len(chain.root_desc) > LABEL_CAP:
        head, rows[0][0] = ["  " + chain.root_desc], ""
    return head + fmt.columns(rows, (LABEL_CAP, TYPE_CAP, 18))


def _gc_state(info):
    if info.gc_enabled is None:
        return "not known (gc.isenabled() in the target says)"
    if info.gc_enabled:
        return ("enabled: a collection of the oldest generation would "
                "free this garbage")
    return ("disabled (gc.disable()): this garbage stays until something "
            "calls gc.collect()")


def _unreachable_lines(res):
    """The helper's one-line explanation, then its facts one a line."""
    info = res.unreachable
    lines = ["  " + info.explanation] if info.explanation else []
    facts = []
    if info.cycle_group > 1:
        facts.append(("cycle group", "%s objects refer to one another, this "
                      "one included" % fmt.count(info.cycle_group)))
    else:
        facts.append(("cycle group", "none: it is in no reference cycle"))
    if info.garbage:
        facts.append(("gc.collect()", "would free %s objects, this one "
                      "included (no root reaches any of them)"
                      % fmt.count(info.garbage)))
        facts.append(("collector", _gc_state(info)))
    if info.unexplained > 0:
        facts.append(("unexplained", "%s references to it come from "
                      "nothing pyleaks found: C code, or a reference an "
                      "extension leaked" % fmt.count(info.unexplained)))
    elif info.unexplained < 0:
        facts.append(("unexplained", "%d: more references found than its "
                      "refcount (the heap changed under the walk)"
                      % info.unexplained))
    width = max(len(name) for name, _ in facts) + 1
    lines.extend("    %s %s" % ((name + ":").ljust(width), text)
                 for name, text in facts)
    return lines


def _hops(chain):
    return "%d hop%s" % (len(chain.hops), "" if len(chain.hops) == 1
                         else "s")


def _timing(res):
    return "%.2f s%s" % (res.elapsed_s, ", reverse index reused"
                         if res.reused else "")


def _write_text(ctx, res, all_roots, max_chains):
    target = "%s (%s)" % (fmt.address(res.target), res.target_type)
    if res.picked is not None:
        fmt.gdb_write_line("pyleaks: picked %s (%s): %s"
                           % (fmt.address(res.picked[0]), res.target_type,
                              res.picked[1]))
    if not res.chains:
        fmt.gdb_write_line("pyleaks: no root reaches %s (searched in %s)"
                           % (target, _timing(res)))
        for line in _unreachable_lines(res):
            fmt.gdb_write_line(line)
        return
    if not all_roots:
        chain = res.chains[0]
        fmt.gdb_write_line("pyleaks: chain to %s, %s, found in %s"
                           % (target, _hops(chain), _timing(res)))
        for line in _chain_lines(ctx, chain):
            fmt.gdb_write_line(line)
        return
    more = " (stopped at --max %d)" % max_chains \
        if len(res.chains) >= max_chains else ""
    fmt.gdb_write_line("pyleaks: %d chain%s to %s from different roots%s, "
                       "found in %s"
                       % (len(res.chains), "" if len(res.chains) == 1
                          else "s", target, more, _timing(res)))
    shared = _shared_tail(res.chains)
    for i, chain in enumerate(res.chains, 1):
        fmt.gdb_write_line("chain %d of %d, %s%s:"
                           % (i, len(res.chains), _hops(chain),
                              ", then the shared part below" if shared
                              else ""))
        own = result.Chain(chain.root_kind, chain.root_desc,
                           chain.hops[:len(chain.hops) - shared])
        for line in _chain_lines(ctx, own):
            fmt.gdb_write_line(line)
    if shared:
        tail = res.chains[0].hops[-shared:]
        fmt.gdb_write_line("shared by the %d chains (their last %d hops; the "
                           "first label is chain 1's):"
                           % (len(res.chains), shared))
        rows = [[h.label, h.type, fmt.address(h.address),
                 fmt.object_repr(ctx, h.address, h.type, h.type_addr)]
                for h in tail]
        for line in fmt.columns(rows, (LABEL_CAP, TYPE_CAP, 18)):
            fmt.gdb_write_line(line)


def _shared_tail(chains):
    """How many last hops all chains share (the same objects, the same
    labels but for the first of them, where the chains meet), leaving
    each chain at least its root's hop; 0 for one chain, or when they
    share only the target."""
    if len(chains) < 2:
        return 0
    most = min(len(c.hops) for c in chains) - 1
    n = 0
    while n < most:
        hops = [c.hops[-1 - n] for c in chains]
        if any(h.address != hops[0].address for h in hops):
            break
        n += 1
        if any(h.label != hops[0].label for h in hops):
            break       # where they meet: the same object, reached apart
    return n if n > 1 else 0


def _graph(ctx, res):
    graph = dot.Graph("py-chain %s (%s)" % (fmt.address(res.target),
                                           res.target_type))
    graph.object_node(res.target, res.target_type,
                      fmt.object_repr(ctx, res.target, res.target_type,
                                      res.target_type_addr),
                      "target")
    for chain in res.chains:
        prev = graph.root_node(chain.root_desc)
        for hop in chain.hops:
            key = graph.object_node(
                hop.address, hop.type,
                fmt.object_repr(ctx, hop.address, hop.type,
                                hop.type_addr))
            graph.edge(prev, key, hop.label)
            prev = key
    if res.unreachable is not None:
        graph.title += ": no root reaches it"
    return graph


@command(parser)
def py_chain(args):
    if (args.address is None) == (args.type_name is None):
        parser.error("give exactly one of ADDR and --type TYPE")
    if args.type_name is not None and not args.type_name.strip():
        parser.error("--type: give a type name, as py-leaks shows it")
    if args.max is not None and not args.all_roots:
        parser.error("--max N goes with --all-roots")
    max_chains = (args.max or DEFAULT_MAX) if args.all_roots else 1
    if args.type_name is not None:
        ctx, res = api.chain_for_type(args.type_name, args.all_roots,
                                      max_chains, args.force)
    else:
        ctx, res = api.chain(args.address, args.all_roots, max_chains,
                             args.force)
    fmt.write_notes(ctx.notes, args.json)
    if args.json:
        fmt.write_json(_as_json(ctx, res, args.all_roots))
    else:
        _write_text(ctx, res, args.all_roots, max_chains)
    if args.dot:
        fmt.write_message(dot.write(_graph(ctx, res), args.dot), args.json)
