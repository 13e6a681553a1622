"""A thread holding the GIL while gdb stops the target (docs/safety.md):
pyleaks lets it run to a safe point, refuses when it never gets there,
and walks anyway with --force.  The GIL's place differs between versions,
so on every interpreter."""

import harness

# Short, so that the refusal does not take the default 2 s.
TIMEOUT_SETTING = "set pyleaks-safe-point-timeout 300"


def _markers(r, t):
    j = harness.one_json(r.stdout, "py-leaks --json")
    rows = harness.census_rows(j)
    want = t.ready["expect"]["__main__.Marker"]
    got = rows.get("__main__.Marker", {"count": 0})["count"]
    assert got == want, "Marker: pyleaks %d, the target has %d" % (got, want)


def test_gil_holder_reaches_safe_point(make_target, interp):
    t = make_target(interp.path, harness.BUSY_TARGET, args=["sleepy"])
    r = harness.pyleaks(t.pid, "py-leaks --json")
    harness.assert_no_traceback(r)
    assert r.returncode == 0, r.describe()
    _markers(r, t)
    assert t.wake()["progress"], "the worker thread stopped after the session"


def test_gil_holder_never_releases(make_target, interp):
    t = make_target(interp.path, harness.BUSY_TARGET, args=["spin"])
    r = harness.pyleaks(t.pid, TIMEOUT_SETTING, "py-leaks --json")
    harness.assert_refused(r, "safe point")
    assert t.wake()["progress"], "the spinning thread stopped after the session"


def test_force_walks_without_safe_point(make_target, primary):
    t = make_target(primary.path, harness.BUSY_TARGET, args=["spin"])
    before = t.maps()
    r = harness.pyleaks(t.pid, TIMEOUT_SETTING, "py-leaks --json --force")
    harness.assert_no_traceback(r)
    assert r.returncode == 0, r.describe()
    _markers(r, t)
    assert not harness.maps_problems(before, t.maps())
    assert t.wake()["progress"], "the spinning thread stopped after the session"
