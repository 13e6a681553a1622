"""Every refusal and error: a one-line 'pyleaks:' message saying the
cause, a non-zero exit status, no Python traceback, and the target left as
it was."""

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

import harness


def _wait_for(cond, what, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out waiting for " + what
        time.sleep(0.02)


def _assert_left_running(target_or_pid):
    pid = getattr(target_or_pid, "pid", target_or_pid)
    state = harness.settled_state(pid)
    assert state == "S", "state %r" % state
    assert harness.tracer_pid(pid) == 0


@pytest.fixture
def sleeper():
    p = subprocess.Popen(["sleep", "300"], start_new_session=True)
    yield p
    p.kill()
    p.wait(timeout=10)


def test_not_a_python_process(built, sleeper):
    _wait_for(lambda: harness.proc_state(sleeper.pid) == "S", "sleep to start")
    r = harness.pyleaks(sleeper.pid)
    harness.assert_refused(r, "python")
    _assert_left_running(sleeper.pid)


# Runs on 2.7 too: prints the ready line Target expects, then sleeps.
IDLE_SCRIPT = ("import json, os, sys, time; "
               "sys.stdout.write(json.dumps({'ready': True, 'pid': os.getpid()}) + '\\n'); "
               "sys.stdout.flush(); time.sleep(300)")


@pytest.mark.parametrize("minor", ["3.7", "3.6", "2.7"])
def test_old_interpreter_refused(make_target, built, minor):
    """Named as unsupported, with its version (3.6 and 2.7 have no
    _PyRuntime at all, yet are Python processes)."""
    it = harness.find_pyenv(minor)
    if not it.available:
        pytest.skip(it.skip_reason())
    t = make_target(it.path, "-c", args=[IDLE_SCRIPT])
    r = harness.pyleaks(t.pid)
    harness.assert_refused(r, minor + ".", alternatives=("not supported", "unsupported"))
    _assert_left_running(t)


@pytest.fixture(scope="session")
def stripped_libdir(tmp_path_factory, built):
    """A copy of pyenv 3.11's libpython without DWARF (symbols kept)."""
    it = harness.find_pyenv("3.11")
    if not it.available:
        pytest.skip(it.skip_reason())
    lib = Path(it.path).resolve().parent.parent / "lib" / "libpython3.11.so.1.0"
    if not lib.exists():
        pytest.skip("%s has no shared libpython (looked for %s)" % (it.path, lib))
    d = tmp_path_factory.mktemp("stripped-lib")
    shutil.copy2(lib, d / lib.name)
    harness.run(["objcopy", "--strip-debug", d / lib.name], timeout=120)
    return it, d / lib.name


def test_no_debug_symbols(make_target, stripped_libdir):
    it, lib = stripped_libdir
    t = make_target(it.path, env=harness.clean_env(LD_LIBRARY_PATH=str(lib.parent)))
    assert any(m.path == str(lib) for m in t.maps()), "target did not load the stripped copy"
    r = harness.pyleaks(t.pid)
    harness.assert_refused(r, "debug", lib.name.split(".so")[0])
    _assert_left_running(t)
    harness.assert_untouched(t.wake())


def test_already_traced(make_target, primary):
    t = make_target(primary.path)
    strace = subprocess.Popen(["strace", "-p", str(t.pid), "-o", os.devnull],
                              stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait_for(lambda: harness.tracer_pid(t.pid) == strace.pid, "strace to attach")
        r = harness.pyleaks(t.pid)
        harness.assert_refused(r, "trace", str(strace.pid))
        # Plain gdb: its attach fails (ptrace refused); the plugin's
        # commands then say there is no process, without a traceback.
        g = harness.plain_gdb(t.pid, "py-leaks")
        harness.assert_no_traceback(g)
        assert any("process" in ln.lower() for ln in g.error_lines()), g.describe()
        assert harness.tracer_pid(t.pid) == strace.pid, "the other tracer lost the process"
    finally:
        strace.terminate()
        strace.wait(timeout=10)
    _wait_for(lambda: harness.tracer_pid(t.pid) == 0, "strace to detach")
    harness.assert_untouched(t.wake())


def test_stopped_target(make_target, primary):
    """Attaching would resume a SIGSTOPped process: refuse, leave it stopped."""
    t = make_target(primary.path)
    os.kill(t.pid, signal.SIGSTOP)
    _wait_for(lambda: t.state() == "T", "SIGSTOP")
    r = harness.pyleaks(t.pid)
    harness.assert_refused(r, "stopped")
    time.sleep(0.2)
    assert t.state() == "T", "the stopped target was resumed (state %r)" % t.state()
    assert harness.tracer_pid(t.pid) == 0
    os.kill(t.pid, signal.SIGCONT)
    _wait_for(lambda: t.state() == "S", "SIGCONT")
    harness.assert_untouched(t.wake())


def test_unknown_type(make_target, primary):
    t = make_target(primary.path)
    before = t.maps()
    r = harness.pyleaks(t.pid, "py-objects NoSuchType_7d1f")
    harness.assert_refused(r, "NoSuchType_7d1f")
    _assert_left_running(t)
    assert not harness.maps_problems(before, t.maps())
    harness.assert_untouched(t.wake())


def test_ambiguous_short_name(make_target, primary):
    t = make_target(primary.path)
    r = harness.pyleaks(t.pid, "py-objects Ambig")
    harness.assert_refused(r, "app.a.Ambig", "app.b.Ambig")
    r = harness.pyleaks(t.pid, "py-chain --type Ambig")
    harness.assert_refused(r, "app.a.Ambig", "app.b.Ambig")
    harness.assert_untouched(t.wake())


BAD_ARGUMENTS = [
    ("no_type", "py-objects", ("type",)),
    ("top_not_int", "py-leaks --top x", ("--top",)),
    ("unknown_sort", "py-leaks --sort size", ("--sort",)),
    ("limit_not_int", "py-objects dict --limit x", ("--limit",)),
    ("unknown_option", "py-leaks --bogus", ("--bogus",)),
]


@pytest.fixture(scope="module")
def bad_arguments_session(primary):
    """Each bad command in its own session (gdb's stderr and stdout do not
    interleave reliably), then a good one; the target must be untouched."""
    t = harness.Target(primary.path)
    try:
        runs = {name: harness.pyleaks(t.pid, cmd) for name, cmd, _ in BAD_ARGUMENTS}
        good = harness.pyleaks(t.pid, "py-objects", "py-leaks --json")
        report = t.wake()
        return t, runs, good, report
    finally:
        t.close()


@pytest.mark.parametrize("name,cmd,needles", BAD_ARGUMENTS, ids=[b[0] for b in BAD_ARGUMENTS])
def test_bad_arguments(bad_arguments_session, name, cmd, needles):
    t, runs, good, report = bad_arguments_session
    harness.assert_refused(runs[name], *needles)


def test_session_recovers_after_bad_arguments(bad_arguments_session):
    """A bad command, then a good one in the same session: the good one
    works, the session still exits non-zero, the target is untouched."""
    t, runs, good, report = bad_arguments_session
    harness.assert_refused(good, "TYPE")
    rows = harness.census_rows(harness.one_json(good.stdout, "py-leaks --json after an error"))
    assert rows["__main__.Plain"]["count"] == t.ready["expect"]["__main__.Plain"]
    harness.assert_untouched(report)


def test_thread_inside_malloc(make_target, primary):
    t = make_target(primary.path, harness.MALLOC_TARGET)
    before = t.maps()
    r = harness.pyleaks(t.pid, "break malloc", "continue", "py-leaks")
    harness.assert_refused(r, "malloc")
    _assert_left_running(t)
    assert not harness.maps_problems(before, t.maps())
    report = t.wake()
    assert report["progress"], "the allocating thread stopped making progress: %s" % report


def test_thread_inside_loader(make_target, primary):
    t = make_target(primary.path, harness.MALLOC_TARGET, args=("dlopen",))
    before = t.maps()
    r = harness.pyleaks(t.pid, "break dlopen", "continue", "py-leaks")
    harness.assert_refused(r, alternatives=("loader", "dlopen"))
    _assert_left_running(t)
    assert not harness.maps_problems(before, t.maps())
    report = t.wake()
    assert report["progress"], "the loading thread stopped making progress: %s" % report


def test_target_killed_mid_session(make_target, primary):
    t = make_target(primary.path)
    r = harness.pyleaks(t.pid, "shell kill -9 %d" % t.pid, "py-leaks")
    harness.assert_refused(r, alternatives=("exit", "vanish", "gone", "killed", "no longer"))
    assert t.proc.wait(timeout=10) == -signal.SIGKILL


# Addresses of no object and empty type names: the message says the true
# cause (docs/usage.md "Errors").  Each in its own session on a small
# bounded_target (it prints an address inside an object).
UNMAPPED = 0xdeadbeef
MESSAGES = [
    ("null", "py-refs 0x0", ("0x0", "not a live python object", "null pointer")),
    ("null_decimal", "py-chain 0", ("0x0", "not a live python object", "null pointer")),
    ("unmapped", "py-refs %#x" % UNMAPPED,
     ("%#x" % UNMAPPED, "not a live python object", "no readable memory")),
    ("inside_object", "py-backrefs {inside_object}",
     ("{inside_object}", "not a live python object", "no object of the heap starts there")),
    ("empty_type", "py-objects ''", ("py-objects", "give a type name")),
    ("empty_chain_type", "py-chain --type ''", ("py-chain", "give a type name")),
]


@pytest.fixture(scope="module")
def message_runs(primary):
    t = harness.Target(primary.path, harness.TARGETS_DIR / "bounded_target.py", args=(1000,))
    try:
        maps = t.maps()
        addrs = t.ready["addrs"]
        runs = {name: harness.pyleaks(t.pid, cmd.format(**addrs)) for name, cmd, _ in MESSAGES}
        state = (t.settled_state(), harness.tracer_pid(t.pid))
        report = t.wake(request={"objects": [addrs["inside_object"]]})
        return addrs, maps, runs, state, report
    finally:
        t.close()


@pytest.mark.parametrize("name,cmd,needles", MESSAGES, ids=[m[0] for m in MESSAGES])
def test_message_says_the_cause(message_runs, name, cmd, needles):
    addrs, maps, runs, state, report = message_runs
    lines = harness.assert_refused(runs[name], *[n.format(**addrs) for n in needles])
    assert len(lines) == 1, runs[name].describe()
    assert "PYL_" not in lines[0], "a status code instead of the cause: " + lines[0]
    assert state == ("S", 0), "target after the sessions: state %r, tracer %r" % state


def test_message_causes_are_true(message_runs):
    """What the messages say holds: nothing is mapped at the unmapped
    address, and the target has no object at the address inside one."""
    addrs, maps, runs, state, report = message_runs
    assert not any(m.start <= UNMAPPED < m.end for m in maps)
    inside = int(addrs["inside_object"], 16)
    assert any(m.start <= inside < m.end and "r" in m.perms for m in maps)
    assert report["objects"] == {}, report["objects"]
