"""The plugin loaded into an ordinary gdb session (gdb -x pyleaks.gdb),
without the wrapper: the helper must be released by gdb's own detach and
quit (the plugin's hook-detach / hook-quit)."""

import harness

PLAIN_COMMANDS = [
    ("census", "py-leaks --json"),
    ("dicts", "py-objects dict --limit 3 --json"),
    ("py_bt", "py-bt"),
]


def _plain_session(make_target, it, extra=()):
    target = make_target(it.path)
    before = target.maps()
    r = harness.plain_gdb(target.pid, *harness.commands_with_markers(PLAIN_COMMANDS + list(extra)))
    state, tracer = target.settled_state(), harness.tracer_pid(target.pid)
    problems = harness.maps_problems(before, target.maps())
    out = harness.sections(r.stdout)
    census = harness.one_json(out.get("census", ""), "py-leaks --json")
    dicts = harness.one_json(out.get("dicts", ""), "py-objects dict")
    report = target.wake(harness.objects_addresses(dicts))
    harness.assert_no_traceback(r)
    assert not r.error_lines(), "pyleaks errors:\n" + r.describe()
    assert state == "S" and tracer == 0, (state, tracer)
    assert not problems, "\n".join(problems)
    harness.assert_untouched(report)
    bad = harness.census_mismatches(census, report)
    assert not bad, "\n".join(bad)
    assert dicts["type"] == "dict" and len(dicts["objects"]) == 3
    for a in harness.objects_addresses(dicts):
        assert report["addresses"][a] and report["addresses"][a][0] == "dict", a
    assert target.ready["block_function"] in out["py_bt"], out["py_bt"]
    return r


def test_plain_gdb_quit_releases_helper(make_target, interp):
    """gdb --batch ends by quitting: hook-quit releases the helper."""
    _plain_session(make_target, interp)


def test_plain_gdb_detach_releases_helper(make_target, primary):
    _plain_session(make_target, primary, extra=[("detach", "detach")])


def test_no_process(built):
    """Every command without a process: a clean message, no traceback."""
    for cmd in ("py-leaks", "py-objects dict"):
        r = harness.plain_gdb(None, cmd)
        harness.assert_no_traceback(r)
        lines = r.error_lines()
        assert lines and "process" in " ".join(lines).lower(), r.describe()


def test_help(built):
    r = harness.plain_gdb(None, "help py-leaks", "help py-objects")
    harness.assert_no_traceback(r)
    for opt in ("--top", "--sort", "--json", "--limit"):
        assert opt in r.stdout, "help does not mention %s:\n%s" % (opt, r.describe())
