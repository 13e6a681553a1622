"""After a pyleaks session the target runs on exactly as before, on every
interpreter: same refcounts and data, same collector state, running (not
stopped, not traced), no helper left in its address space, exits 0."""

import harness


def test_refcounts_and_data_unchanged(session):
    harness.assert_untouched(session.report)


def test_target_finished_its_work(session):
    """It woke up, reported, collected its garbage and exited 0 (wake()
    checks the exit status)."""
    expected = session.ready["expect"]["__main__.Garbage"]
    assert session.report["collected"] >= expected


def test_running_after_detach(session):
    assert session.state_after == "S", (
        "target state after pyleaks exited: %r (expected S, blocked in read)" % session.state_after)
    assert session.tracer_after == 0, "target still traced by pid %s" % session.tracer_after


def test_no_helper_left_in_target(session):
    assert not session.maps_problems, "\n".join(session.maps_problems)


def test_libpython_extension_loaded(session):
    """py-bt (CPython's own gdb extension, loaded by the plugin) works in
    the same session and shows where the target is blocked."""
    bt = session.out["py_bt"]
    fn = session.ready["block_function"]
    assert fn in bt and "heap_target.py" in bt, "py-bt does not show %s:\n%s" % (fn, bt)
    # A libpython.py of another CPython version gets line numbers wrong.
    line = 'heap_target.py", line %d, in %s' % (session.ready["block_line"], fn)
    assert line in bt, "py-bt does not show %r:\n%s" % (line, bt)
