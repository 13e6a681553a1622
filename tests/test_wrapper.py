"""The pyleaks command-line wrapper's own argument checks (before gdb)."""

import os

import harness


def _free_pid():
    with open("/proc/sys/kernel/pid_max") as f:
        pid = int(f.read()) - 1
    while os.path.exists("/proc/%d" % pid):
        pid -= 1
    return pid


def test_help(built):
    r = harness.run([harness.pyleaks_exe(), "--help"])
    harness.assert_no_traceback(r)
    assert r.returncode == 0, r.describe()
    for opt in ("--pid", "-c"):
        assert opt in r.output, r.describe()


def test_no_arguments(built):
    r = harness.run([harness.pyleaks_exe()])
    assert r.returncode != 0, r.describe()
    harness.assert_no_traceback(r)


def test_no_such_process(built):
    pid = _free_pid()
    r = harness.pyleaks(pid)
    harness.assert_refused(r, str(pid))


def test_pid_not_a_number(built):
    r = harness.run([harness.pyleaks_exe(), "--pid", "12ab"])
    harness.assert_refused(r, "12ab")
