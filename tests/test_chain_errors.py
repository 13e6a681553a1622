"""py-chain / py-refs / py-backrefs refusals: an address that is not an
object, not a Python object, freed memory, arguments that are not
addresses.  Each a one-line 'pyleaks:' message naming the cause, a
non-zero exit status, no traceback; and the target, checked afterwards
by its own oracle, untouched and still running."""

import pytest

import chain_harness as ch
import harness

NOT_AN_OBJECT = ("not a live python object", "not an object", "not a python object")

# name, command ({addresses} from the target's ready line), needles,
# alternatives (one of which the message must say).
CASES = [
    ("inside_object", "py-chain {inside_object}", ("{inside_object}",), NOT_AN_OBJECT),
    ("libc_code", "py-chain {libc}", ("{libc}",), NOT_AN_OBJECT),
    ("freed_chain", "py-chain {freed}", ("{freed}",), NOT_AN_OBJECT),
    ("freed_refs", "py-refs {freed}", ("{freed}",), NOT_AN_OBJECT),
    ("freed_backrefs", "py-backrefs {freed} --depth 2", ("{freed}",), NOT_AN_OBJECT),
    ("not_hex", "py-chain 0xZZ12", ("0xZZ12",), ()),
    ("word", "py-refs no_such_symbol_4f2a", ("no_such_symbol_4f2a",), ()),
    ("no_address", "py-chain", ("ADDR",), ()),
    ("address_and_type", "py-chain {popular} --type dict", ("--type",), ()),
    ("depth_zero", "py-backrefs {popular} --depth 0", ("--depth",), ()),
    ("unknown_type", "py-chain --type NoSuchType_c3e1", ("NoSuchType_c3e1",), ()),
]


def _libc_code_address(pid):
    """The address of libc's getpid() in the target (its load base plus the
    symbol's value), else an address in libc's code."""
    maps = [m for m in harness.read_maps(pid) if "/libc.so" in m.path or "/libc-" in m.path]
    code = [m for m in maps if "x" in m.perms]
    if not code:
        pytest.skip("no executable libc mapping in /proc/%d/maps" % pid)
    base = min(m.start for m in maps if m.offset == 0) if any(m.offset == 0 for m in maps) else None
    r = harness.run(["readelf", "-Ws", "--dyn-syms", code[0].path], timeout=60)
    for line in r.stdout.splitlines():
        f = line.split()
        if base is not None and len(f) >= 8 and f[3] == "FUNC" and f[7].split("@")[0] == "getpid":
            addr = base + int(f[1], 16)
            if any(m.start <= addr < m.end for m in code):
                return hex(addr)
    return hex((code[0].start + code[0].size // 2) & ~0xF)


@pytest.fixture(scope="module")
def error_runs(primary):
    """Each bad command in its own pyleaks session (one exit status each),
    then a good one; then the target's oracle."""
    t = ch.start_target(primary.path)
    try:
        addrs = dict(t.ready["addrs"], libc=_libc_code_address(t.pid))
        runs, states = {}, {}
        for name, cmd, _, _ in CASES:
            runs[name] = harness.pyleaks(t.pid, cmd.format(**addrs))
            states[name] = (t.settled_state(), harness.tracer_pid(t.pid))
        good = harness.pyleaks(t.pid, "py-chain %s --json" % addrs["popular"])
        report = t.wake(request={"objects": [harness.normalize_address(addrs[k]) for k in
                                             ("freed", "inside_object", "libc", "popular")]})
        return addrs, runs, states, good, report
    finally:
        t.close()


@pytest.mark.parametrize("name,cmd,needles,alternatives", CASES, ids=[c[0] for c in CASES])
def test_refused(error_runs, name, cmd, needles, alternatives):
    addrs, runs, states, good, report = error_runs
    lines = harness.assert_refused(runs[name], *[n.format(**addrs) for n in needles],
                                   alternatives=alternatives)
    assert len(lines) == 1, "more than one message line:\n" + runs[name].describe()
    assert states[name] == ("S", 0), "target after the session: state %r, tracer %r" % states[name]


def test_refused_addresses_are_not_objects(error_runs):
    """The refusals were right: the target has no live object there."""
    addrs, runs, states, good, report = error_runs
    for k in ("freed", "inside_object", "libc"):
        assert report["objects"][harness.normalize_address(addrs[k])] is None, (
            k, report["objects"])
    assert report["objects"][harness.normalize_address(addrs["popular"])]["type"] == "chain_app.Popular"


def test_target_untouched_after_errors(error_runs):
    addrs, runs, states, good, report = error_runs
    harness.assert_no_traceback(good)
    assert good.returncode == 0, good.describe()
    j = harness.one_json(good.stdout, "py-chain after the refusals")
    assert harness.normalize_address(j["target"]) == harness.normalize_address(addrs["popular"])
    assert j["hops"], j
    assert report["refcounts_after"] == report["refcounts_before"]
    assert report["checksum_after"] == report["checksum_before"]
    assert report["gc_enabled"] is False
