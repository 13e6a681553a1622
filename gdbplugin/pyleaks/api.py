"""What the commands call: plain data in, plain data out.

Each query goes through the same steps: which CPython, a safe point, the
layout, the helper (loaded on first use), a fresh graph if the target ran,
then one entry point call."""

import gdb

from . import abi, inject, interrupts, layout, libpython, result, safety
from . import infcall, session, stale
from . import target as target_mod
from .errors import PyleaksError, process_alive, translate


class Context:
    """Everything a query needs, ready to call the helper."""

    def __init__(self, target, pstate, lay, notes):
        self.target = target
        self.pstate = pstate
        self.layout = lay
        self.notes = notes

    @property
    def helper(self):
        return self.pstate.helper


def safe_point_timeout():
    try:
        return gdb.parameter("pyleaks-safe-point-timeout") / 1000.0
    except (gdb.error, RuntimeError, TypeError):
        return 2.0


def prepare(force):
    """Identify the target, reach a safe point, load the helper and hand
    it the layout.  Returns a Context."""
    interrupts.clear()
    tgt = target_mod.identify()
    pstate = session.state(tgt.pid)
    notes = []
    note = libpython.ensure_loaded(tgt)
    if note:
        notes.append(note)
    # Threads inside malloc or the loader are checked before anything runs:
    # a thread the user stopped there stays where it is.
    if pstate.helper is None:
        notes.extend(safety.check_injection(
            may_move=not pstate.user_resumed, timeout=safe_point_timeout()))
    if not pstate.at_safe_point:
        try:
            notes.extend(safety.ensure_safe_point(
                tgt, safe_point_timeout(), force, pstate.helper is None))
        except PyleaksError as exc:
            if interrupts.wants_out() is None:
                raise
            raise PyleaksError(str(exc).rstrip(".") + "; " +
                               give_back(tgt.pid)) from None
        pstate.at_safe_point = True
    lay = layout.discover(tgt, session.config["layout_def"])
    notes.extend(lay.notes)
    try:
        if pstate.helper is None:
            notes.extend(stale.clean(tgt.pid))
            pstate.helper = inject.load(tgt.pid)
            pstate.graph_stale = False
        elif pstate.graph_stale:
            pstate.helper.call("pyl_invalidate")
            pstate.graph_stale = False
        pstate.helper.write(pstate.helper.layout_addr, lay.pack())
    except gdb.error as exc:
        raise translate(exc, tgt.pid) from None
    return Context(tgt, pstate, lay, notes)


_STATUS_TEXT = {
    abi.EGCBUSY: ("a garbage collection is in progress in the target, so "
                  "its object lists are being rearranged",
                  "Let it run a moment and retry, or use --force"),
    abi.ECORRUPT: ("a GC list of the target is inconsistent ({msg})",
                   "The heap may be corrupted, or a thread is in the middle "
                   "of tracking an object; retry after letting it run"),
    abi.ELAYOUT: ("the helper rejected the layout ({msg})",
                  "The debug symbols may not match the interpreter"),
    abi.EVERSION: ("the helper does not support this CPython ({msg})",
                   "pyleaks supports CPython 3.8 to 3.13"),
    abi.ENOMEM: ("the helper could not map memory in the target ({msg})",
                 "The process may be out of memory or address space"),
}


def check(res, what):
    """Raise PyleaksError for a result whose status is an error."""
    if res.ok:
        return res
    if res.status in _STATUS_TEXT:
        cause, hint = _STATUS_TEXT[res.status]
        raise PyleaksError(cause.format(msg=res.message or "no detail"), hint)
    raise PyleaksError("%s failed in the helper: %s (%s)"
                       % (what, res.message or "no detail",
                          abi.STATUS_NAMES.get(res.status, res.status)))


def _call(ctx, name, *args):
    return _guarded(ctx, lambda: ctx.helper.call(name, *args))


def _guarded(ctx, call):
    """call(): a helper call whose failure, when gdb was asked to go away,
    also unloads the helper and detaches (and says so)."""
    try:
        return call()
    except PyleaksError as exc:
        if interrupts.wants_out() is None:
            raise
        raise PyleaksError(str(exc).rstrip(".") + "; " +
                           give_back(ctx.target.pid)) from None
    except gdb.error as exc:
        raise translate(exc, ctx.target.pid) from None


def give_back(pid):
    """gdb was asked to go away: unload the helper and detach now, so that
    what happens to gdb next cannot touch the target.  Says what was
    done."""
    try:
        release(pid, quiet=True)
        gdb.execute("detach", to_string=True)
    except gdb.error as exc:
        return "detaching failed (%s)" % exc
    return "pyleaks unloaded its helper and detached from process %d" % pid


def census(sort, top, force):
    """(Context, Result with census rows)."""
    ctx = prepare(force)
    flags = abi.CENSUS_FORCE if force else 0
    address = _call(ctx, "pyl_census", abi.SORT_KEYS[sort], top, flags)
    return ctx, check(result.read(address, abi.RESULT_CENSUS), "the census")


# --- object identities: py-leaks --save and --new ---------------------------

def _call_long(ctx, name, *args):
    """_call for an entry point whose work grows with the heap: it gets
    the stopped-target budget, heartbeats and progress lines."""
    return _guarded(ctx, lambda: infcall.call(ctx.helper.entries[name], args,
                                              name=name, long=True))


def object_ids(ctx, force):
    """The identity of every object of the graph (built if needed), sorted
    by address: bytes of struct pyl_id_row (abi.ID_ROW_STRUCT), read in
    bulk, for a snapshot to store as they are."""
    flags = abi.CENSUS_FORCE if force else 0
    res = check(result.read_header(_call_long(ctx, "pyl_ids", flags),
                                   abi.RESULT_IDS), "listing the objects")
    if res.n_rows and res.row_size != abi.ID_ROW_STRUCT.size:
        raise PyleaksError("the helper returned identities of %d bytes"
                           % res.row_size)
    return result.read_bytes(res.rows_addr,
                             res.n_rows * abi.ID_ROW_STRUCT.size)


def _write_old_ids(ctx, old_ids):
    """Hand the helper an old list of identities; its row count."""
    n_old = len(old_ids) // abi.ID_ROW_STRUCT.size
    address = _call(ctx, "pyl_ids_buffer", n_old) if n_old else 0
    if n_old and not address:
        raise PyleaksError("the helper could not map %d bytes in the target "
                           "for the old identities" % len(old_ids),
                           "The process may be out of memory")
    # Through /proc/PID/mem: gdb's own writes take several times longer
    # for megabytes.
    memory = infcall.stub(ctx.target.pid).memory
    view = memoryview(old_ids)
    for offset in range(0, len(old_ids), result.BULK_CHUNK):
        try:
            memory.write(address + offset,
                         view[offset:offset + result.BULK_CHUNK])
        except OSError as exc:
            raise PyleaksError("cannot write the old identities into the "
                               "target at %#x (%s)"
                               % (address + offset, exc.strerror or exc))
    return n_old


def new_objects(ctx, old_ids, force):
    """(Result, info): census rows (most objects first, all of them) of
    the objects alive now whose identity is not in old_ids (bytes of
    struct pyl_id_row sorted by address, as object_ids gave them), and
    the totals of struct pyl_ids_info as a dict."""
    flags = abi.CENSUS_FORCE if force else 0
    try:
        n_old = _write_old_ids(ctx, old_ids)
        raw = _call_long(ctx, "pyl_ids_new", n_old, flags)
    except BaseException:
        # Nothing of the old list may stay mapped in the target.
        _release_old_ids(ctx)
        raise
    res = check(result.read(raw, abi.RESULT_CENSUS), "finding the new objects")
    info_struct = abi.IDS_INFO_STRUCT
    if not res.info_addr or res.info_size < info_struct.size:
        raise PyleaksError("the helper returned no totals of the new objects")
    info = dict(zip(abi.IDS_INFO_FIELDS, info_struct.unpack(
        result.read_bytes(res.info_addr, info_struct.size))))
    return res, info


def _release_old_ids(ctx):
    try:
        ctx.helper.call("pyl_ids_buffer", 0)
    except (PyleaksError, gdb.error):
        pass


def _write_type_name(ctx, type_name):
    encoded = type_name.encode("utf-8")
    if len(encoded) + 1 > ctx.helper.arg_size:
        raise PyleaksError("type name too long (%d bytes)" % len(encoded))
    ctx.helper.write(ctx.helper.arg_addr, encoded + b"\0")


def _type_query(res, type_name, what):
    """Check a result about a type name: one no live object has, or a
    short name several types have, is the user's mistake."""
    if res.status == abi.ENOTYPE:
        raise PyleaksError("no live object of type '%s'" % type_name,
                           "Run py-leaks to see the type names")
    if res.status == abi.EAMBIGUOUS:
        # The helper's message names the candidates.
        raise PyleaksError(res.message
                           or "'%s' matches several types" % type_name,
                           "Give the qualified name, as py-leaks shows it")
    return check(res, what)


def _check_type_name(type_name):
    if not type_name.strip():
        raise PyleaksError("give a type name, as py-leaks shows it")


def objects(type_name, limit, force):
    """(Context, Result with object rows) for live objects of a type."""
    _check_type_name(type_name)
    ctx = prepare(force)
    _write_type_name(ctx, type_name)
    flags = abi.CENSUS_FORCE if force else 0
    address = _call(ctx, "pyl_objects", limit, flags)
    return ctx, _type_query(result.read(address, abi.RESULT_OBJECTS),
                            type_name, "py-objects")


# --- roots, and one object: its chains, referents, referrers ---------------

def _object_query(ctx, res, what):
    """Check a result about one object: an address the graph does not
    have is the user's mistake, said in the helper's words."""
    if res.status == abi.ENOTOBJECT:
        raise PyleaksError(res.message or "not a live Python object",
                           "Give the address of a live object, e.g. from "
                           "py-objects")
    return check(res, what)


def _flags(force):
    return abi.CHAIN_FORCE if force else 0


def roots_list(limit, force):
    """(Context, Result) whose rows are the roots: dicts with address,
    name (type), size, kind (1..4, see abi.ROOT_KINDS), desc,
    unexplained."""
    ctx = prepare(force)
    address = _call(ctx, "pyl_roots_list", limit, _flags(force))
    return ctx, check(result.read(address, abi.RESULT_ROOTS), "the roots")


def chain(address, all_roots, max_chains, force):
    """(Context, result.ChainResult): the shortest chain from a root to
    the object at `address` (with all_roots, one per root that reaches it,
    at most max_chains; 0 = all).  Every hop is a real reference:
    hops[i].label says how hops[i-1] refers to hops[i]."""
    ctx = prepare(force)
    flags = _flags(force) | (abi.CHAIN_ALL_ROOTS if all_roots else 0)
    raw = _call(ctx, "pyl_chain", address, max_chains or 0, flags)
    res = _object_query(ctx, result.read(raw, abi.RESULT_CHAIN), "py-chain")
    return ctx, result.chain_result(res)


def chain_for_type(type_name, all_roots, max_chains, force):
    """Like chain() for one object of the type (its qualified name or a
    short one only one type has), picked by the helper; .picked =
    (address, why)."""
    _check_type_name(type_name)
    ctx = prepare(force)
    _write_type_name(ctx, type_name)
    flags = _flags(force) | abi.CHAIN_BY_TYPE | \
        (abi.CHAIN_ALL_ROOTS if all_roots else 0)
    raw = _call(ctx, "pyl_chain", 0, max_chains or 0, flags)
    res = _type_query(result.read(raw, abi.RESULT_CHAIN), type_name,
                      "py-chain --type")
    return ctx, result.chain_result(res)


def refs(address, force, max_rows=0):
    """(Context, result.RefsResult): what the object refers to, each
    referent once per reference, in reading order, labelled; the first
    max_rows of them (0 = all), n_total counting them all."""
    ctx = prepare(force)
    raw = _call(ctx, "pyl_refs", address, max_rows, _flags(force))
    res = _object_query(ctx, result.read(raw, abi.RESULT_REFS), "py-refs")
    return ctx, result.refs_result(res, backward=False)


def backrefs(address, depth, force, max_rows=0):
    """(Context, result.RefsResult) of BackRef items: the referrers of
    the object, breadth first to `depth`, each object once, and the roots
    that hold a found object directly."""
    ctx = prepare(force)
    raw = _call(ctx, "pyl_backrefs", address, max(1, depth), max_rows,
                _flags(force))
    res = _object_query(ctx, result.read(raw, abi.RESULT_BACKREFS),
                        "py-backrefs")
    return ctx, result.refs_result(res, backward=True)


def release(pid=None, quiet=True):
    """Unload the helper from a process (default: the selected one).  With
    quiet, problems are printed as warnings instead of raised: this runs
    from gdb's detach and quit hooks, where an error would abort them."""
    if pid is None:
        pid = gdb.selected_inferior().pid
    pstate = session.state(pid) if pid else None
    if pstate is None:
        return
    if pstate.helper is None:
        if pstate.stub is not None and process_alive(pid):
            infcall.remove_stub(pid)
        return
    helper, pstate.helper = pstate.helper, None
    pstate.at_safe_point = False
    if not process_alive(pid):
        return                      # its memory went with it
    try:
        if gdb.selected_inferior().pid != pid:
            raise PyleaksError("process %d is not the selected inferior"
                               % pid)
        inject.unload(helper)
    except (PyleaksError, gdb.error) as exc:
        if not quiet:
            raise translate(exc, pid) from None
        gdb.write("warning: pyleaks: could not unload the helper from "
                  "process %d: %s\n" % (pid, str(exc).replace(
                      "pyleaks: ", "", 1)), gdb.STDERR)


def analyze(max_suspects, max_containers, force):
    """(Context, Result) of the leak analysis: rows of the sections of
    abi.SECTION_* (biggest holders, findings, big containers, retained
    bytes per type), .info the totals, .aux the objects findings list."""
    ctx = prepare(force)
    raw = _call(ctx, "pyl_analyze", max_suspects, max_containers,
                _flags(force))
    return ctx, check(result.read(raw, abi.RESULT_ANALYSIS),
                      "the leak analysis")


def patterns(type_name, max_rows, force):
    """(Context, Result) whose rows group the objects of a type by path
    pattern: count, bytes, example (address), pattern (text; "" for those
    no root reaches), biggest first."""
    _check_type_name(type_name)
    ctx = prepare(force)
    _write_type_name(ctx, type_name)
    raw = _call(ctx, "pyl_patterns", max_rows, _flags(force))
    return ctx, _type_query(result.read(raw, abi.RESULT_PATTERNS), type_name,
                            "the path patterns")
