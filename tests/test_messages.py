"""The pyleaks wrapper says the true cause when it cannot do its job:
a "gdb" that runs nothing, a process another debugger (or another
pyleaks) holds, a process of another user, a process that is not
dumpable.  Each is one 'pyleaks:' line and a non-zero exit."""

import os
import shutil
import subprocess
import time

import pytest

import harness

AS_NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"]


def _one_error(r):
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("pyleaks:")]
    assert r.returncode != 0, r.describe()
    assert len(lines) == 1, "expected one 'pyleaks:' line:\n%s" % r.describe()
    return lines[0]


def test_not_a_gdb(make_target, primary):
    """A --gdb that exits 0 without running anything is a failure."""
    t = make_target(primary.path)
    r = harness.run([harness.pyleaks_exe(), "--pid", str(t.pid), "--gdb", "/bin/true"])
    line = _one_error(r)
    assert "/bin/true" in line and "without running" in line, line
    harness.assert_untouched(t.wake())


def test_second_pyleaks_while_one_holds_the_target(make_target, primary):
    """The second of two pyleaks at once names the first one's gdb, not
    a permission problem."""
    t = make_target(primary.path)
    first = subprocess.Popen([str(harness.pyleaks_exe()), "--pid", str(t.pid), "-c",
                              "python import time; time.sleep(4)"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while harness.tracer_pid(t.pid) == 0:
            assert time.monotonic() < deadline, "the first pyleaks never attached"
            time.sleep(0.05)
        r = harness.pyleaks(t.pid, "py-leaks")
        line = _one_error(r)
        assert "already traced" in line and "gdb" in line, line
        assert "user" not in line, line
    finally:
        first.wait(timeout=60)
    harness.assert_untouched(t.wake())


def _nobody_process(script):
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to run a process as nobody")
    proc = subprocess.Popen(AS_NOBODY + ["/bin/sh", "-c", script],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout.readline().strip() == b"ready"
    return proc


def test_process_of_another_user(built):
    """Run as nobody against root's process: says whose it is."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to run pyleaks as nobody")
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        r = harness.run(AS_NOBODY + [str(harness.pyleaks_exe()), "--pid", str(sleeper.pid)])
        line = _one_error(r)
        assert "belongs to user 0" in line and "root" in line, line
    finally:
        sleeper.kill()
        sleeper.wait()


def test_process_not_dumpable(built):
    """nobody's own process, made non-dumpable: only root may attach, and
    pyleaks says so instead of blaming the user."""
    # Debian's python3: nobody cannot read pyenv's interpreters under /root.
    proc = _nobody_process(
        "exec /usr/bin/python3 -c 'import ctypes, time; "
        "ctypes.CDLL(None).prctl(4, 0, 0, 0, 0); "  # PR_SET_DUMPABLE, 0
        "print(\"ready\", flush=True); time.sleep(60)'")
    try:
        r = harness.run(AS_NOBODY + [str(harness.pyleaks_exe()), "--pid", str(proc.pid)])
        line = _one_error(r)
        assert "not dumpable" in line and "root" in line, line
        assert harness.tracer_pid(proc.pid) == 0
    finally:
        proc.kill()
        proc.wait()
