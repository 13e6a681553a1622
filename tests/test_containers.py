"""Targets in containers (docs/safety.md "Containers"): their own PID
namespace (attached from the host and from inside), a mount namespace
where /tmp is private, read-only or noexec, and a target running as
another user.  The target (targets/container_target.py) has a worker
thread computing with the GIL held, counts its own heap with the gc
module after the session, and checks that its data did not change."""

import json
import os
import shutil
import time

import pytest

import harness

CONTAINER_TARGET = harness.TARGETS_DIR / "container_target.py"

# Short, so that the refusal of a GIL holder does not take the default 2 s.
TIMEOUT_SETTING = "set pyleaks-safe-point-timeout 300"


def _need_namespaces():
    if os.geteuid() != 0:
        pytest.skip("creating namespaces needs root (running as uid %d)" % os.geteuid())
    missing = [t for t in ("unshare", "nsenter", "setpriv") if shutil.which(t) is None]
    if missing:
        pytest.skip("util-linux tools missing: %s" % ", ".join(missing))


class Contained(harness.Target):
    """container_target.py started behind a command prefix (unshare,
    setpriv...).  pid is the target's pid as seen here; ns_pid its pid in
    its own PID namespace."""

    def __init__(self, prefix, python, mode="busy", forks=False, env=None):
        self.forks = forks  # _read_ready needs it
        super().__init__(python, CONTAINER_TARGET, env=env, args=(mode,), prefix=prefix)

    def _read_ready(self):
        wrapper = self.pid
        if self.forks:
            # unshare --fork --pid: Python is the namespace's first process.
            self.pid = 1
        try:
            ready = super()._read_ready()
        finally:
            self.pid = wrapper
        self.ns_pid = ready["pid"]
        if self.forks:
            with open("/proc/%d/task/%d/children" % (wrapper, wrapper)) as f:
                children = f.read().split()
            assert len(children) == 1, "unshare has children %s" % children
            self.pid = int(children[0])
            assert nspids(self.pid)[-1] == self.ns_pid, nspids(self.pid)
        return ready

    def close(self):
        if self.pid != self.proc.pid:
            try:
                os.kill(self.pid, 9)
            except ProcessLookupError:
                pass
        super().close()


def nspids(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("NSpid:"):
                return [int(x) for x in line.split()[1:]]
    return [pid]


@pytest.fixture
def contained():
    started = []

    def start(*args, **kwargs):
        t = Contained(*args, **kwargs)
        started.append(t)
        return t

    yield start
    for t in started:
        t.close()


def pid_namespace(python, mode="busy"):
    return dict(prefix=["unshare", "--fork", "--pid", "--mount-proc", "--kill-child"],
                python=python, mode=mode, forks=True)


# Refusals docs/safety.md documents, with "retry" as their advice: a busy
# worker that is inside malloc or holds the GIL past the timeout when
# pyleaks looks.  They say nothing about containers: retried, a few times.
_RETRY = ("is inside malloc", "is inside the dynamic loader",
          "did not reach a safe point")


def _census(t, attempts=4):
    for _ in range(attempts):
        r = harness.pyleaks(t.pid, "py-leaks --json")
        if r.returncode == 0 or not any(m in r.stderr for m in _RETRY):
            return r
        time.sleep(0.2)
    return r


def _census_matches(r, t, report):
    """Census equal to the target's gc oracle, type by type."""
    j = harness.one_json(r.stdout, "py-leaks --json")
    rows = harness.census_rows(j)
    for name, want in t.ready["expect"].items():
        got = rows.get(name, {"count": 0})["count"]
        assert got == want, "%s: pyleaks %d, the target has %d" % (name, got, want)
    bad = harness.census_mismatches(j, report)
    assert not bad, "census differs from the target's gc count:\n" + "\n".join(bad)


def _unharmed(t, before, r, private_dirs=()):
    """No pyleaks mapping left, nor a helper copy in the directories only
    the target sees (the host's are shared with concurrent runs); not
    traced; its work went on and its data did not change.  Returns the
    target's report."""
    problems = harness.maps_problems(before, t.maps())
    assert not problems, "\n".join(problems) + "\n" + r.describe()
    assert harness.tracer_pid(t.pid) == 0, "still traced after pyleaks exited"
    left = []
    for d in private_dirs:
        left += ["%s/%s" % (d, n) for n in os.listdir("/proc/%d/root%s" % (t.pid, d))
                 if n.startswith("pyleaks-helper-")]
    assert not left, "helper copies left in the target's file system: %s" % left
    report = t.wake()
    assert report["progress"], "the worker thread stopped after the session"
    assert report["checksum_after"] == report["checksum_before"], "the target's data changed"
    return report


# ---------------------------------------------------------------------------
# PID namespaces


def test_pid_namespace_census(contained, interp):
    """From the host, a busy thread holding the GIL: pyleaks finds it by
    its namespace thread id, lets it reach a safe point, counts."""
    _need_namespaces()
    t = contained(**pid_namespace(interp.path))
    assert t.ns_pid != t.pid
    before = t.maps()
    r = _census(t)
    harness.assert_no_traceback(r)
    assert r.returncode == 0, r.describe()
    assert "cannot identify" not in r.output, r.describe()
    report = _unharmed(t, before, r)
    _census_matches(r, t, report)


def test_pid_namespace_gil_holder_identified(contained, interp):
    """A thread that never releases the GIL is named as its holder (not
    "a thread gdb cannot identify"): its id was mapped to the host's."""
    _need_namespaces()
    t = contained(**pid_namespace(interp.path, mode="spin"))
    before = t.maps()
    r = harness.pyleaks(t.pid, TIMEOUT_SETTING, "py-leaks --json")
    harness.assert_refused(r, "thread 2 holds the GIL", "safe point")
    _unharmed(t, before, r)


def test_pid_namespace_thread_ids(contained, primary):
    """nspid's mapping against the ids the target's threads got from
    gettid() themselves and the ids /proc lists here."""
    _need_namespaces()
    t = contained(**pid_namespace(primary.path))
    tasks = sorted(int(x) for x in os.listdir("/proc/%d/task" % t.pid))
    code = ("import json; from pyleaks import nspid; print('@@@', json.dumps(["
            "nspid.tid_map(%d), [nspid.own_ids(%d, x) for x in %r], nspid.host_tid(%d, 1 << 22)]))"
            % (t.pid, t.pid, tasks, t.pid))
    r = harness.plain_gdb(None, "python " + code)
    harness.assert_no_traceback(r)
    lines = [ln[4:] for ln in r.stdout.splitlines() if ln.startswith("@@@ ")]
    assert lines, r.describe()
    tid_map, own, unknown = json.loads(lines[0])
    ns_tids = sorted(t.ready["tids"].values())
    assert sorted(int(k) for k in tid_map) == ns_tids
    assert sorted(tid_map.values()) == tasks
    assert sorted(own) == sorted([t.ns_pid, ns] for ns in ns_tids)
    for host, (_, ns) in zip(tasks, own):
        assert tid_map[str(ns)] == host
    assert unknown is None, "a thread id no thread has was mapped to %s" % unknown


def test_attach_from_inside_container(contained, primary):
    """gdb inside the target's PID and mount namespaces, with the pid the
    container knows (1)."""
    _need_namespaces()
    t = contained(**pid_namespace(primary.path))
    before = t.maps()
    argv = ["nsenter", "--target", str(t.pid), "--pid", "--mount", "--",
            harness.pyleaks_exe(), "--pid", str(t.ns_pid), "-c", "py-leaks --json"]
    r = harness.run(argv)
    harness.assert_no_traceback(r)
    assert r.returncode == 0, r.describe()
    assert "process %d" % t.ns_pid in r.output, r.describe()
    report = _unharmed(t, before, r)
    _census_matches(r, t, report)


# ---------------------------------------------------------------------------
# Mount namespaces: where the helper copy goes

def mount_namespace(python, mounts, user_prefix=()):
    """The target in a mount namespace of its own, with tmpfs mounted
    (each (DIR, OPTIONS); mode 1777 unless OPTIONS say) before it starts."""
    # The target's files are named through its working directory (the
    # targets' folder, which stays reachable across the mounts as
    # /proc/self/cwd): a checkout under /tmp is hidden by a tmpfs mounted
    # there.
    targets = str(harness.TARGETS_DIR).rstrip("/") + "/"
    relative = ('for a; do shift; case $a in "%s"*) a=/proc/self/cwd/${a#"%s"};; '
                'esac; set -- "$@" "$a"; done' % (targets, targets))
    script = " && ".join(["mount -t tmpfs -o mode=1777,%s pyleaks-test %s" % (opts, d)
                          for d, opts in mounts] + [relative, 'exec "$@"'])
    return dict(prefix=["unshare", "--mount", "--propagation", "private", "--",
                        "sh", "-c", script, "sh"] + list(user_prefix),
                python=python)


def _check_setup(t, expect):
    """The target sees its mounts as the test meant (else the test proves
    nothing)."""
    for d, want in expect.items():
        got = t.ready["mounts"][d]
        assert {k: got[k] for k in want} == want, "%s in the target: %s" % (d, got)


def _placed_in(t):
    """Where placement puts the helper for this target, and the copy's
    owner (run in gdb, without attaching; the copy is removed at once)."""
    helper = harness.build_dir() / "helper" / ".libs" / "pyleaks_helper.so"
    code = ("import os; from pyleaks import placement; "
            "h, p = placement.place(%d, %r); u = os.stat(h).st_uid; os.unlink(h); "
            "print('@@@', u, p)" % (t.pid, str(helper)))
    r = harness.plain_gdb(None, "python " + code)
    harness.assert_no_traceback(r)
    lines = [ln.split(None, 2) for ln in r.stdout.splitlines() if ln.startswith("@@@ ")]
    assert lines, r.describe()
    return lines[0][2], int(lines[0][1])


@pytest.mark.parametrize("mounts, setup, where", [
    pytest.param([("/tmp", "rw")], {"/tmp": {"ro": False, "noexec": False}}, "/tmp/",
                 id="private_tmp"),
    pytest.param([("/tmp", "ro")], {"/tmp": {"ro": True}}, "/dev/shm/",
                 id="readonly_tmp"),
    pytest.param([("/tmp", "noexec")], {"/tmp": {"noexec": True, "ro": False}}, "/dev/shm/",
                 id="noexec_tmp"),
    pytest.param([("/tmp", "noexec"), ("/dev/shm", "noexec")],
                 {"/tmp": {"noexec": True}, "/dev/shm": {"noexec": True}}, "/var/tmp/",
                 id="noexec_tmp_and_shm"),
])
def test_mount_namespace_placement(contained, primary, mounts, setup, where):
    """The copy goes into the target's own view of the file system, in
    the first directory it may map executable."""
    _need_namespaces()
    t = contained(**mount_namespace(primary.path, mounts))
    _check_setup(t, setup)
    path, _ = _placed_in(t)
    assert path.startswith(where), path
    before = t.maps()
    r = _census(t)
    harness.assert_no_traceback(r)
    assert r.returncode == 0, r.describe()
    report = _unharmed(t, before, r, [d for d, _ in mounts])
    _census_matches(r, t, report)


def test_mount_namespace_nowhere(contained, primary):
    """Every candidate unusable: one line naming each directory and why,
    and nothing of the helper loaded or left behind."""
    _need_namespaces()
    mounts = [("/tmp", "noexec"), ("/dev/shm", "ro"), ("/var/tmp", "noexec")]
    t = contained(**mount_namespace(primary.path, mounts))
    _check_setup(t, {"/tmp": {"noexec": True}, "/dev/shm": {"ro": True},
                     "/var/tmp": {"noexec": True}})
    before = t.maps()
    r = _census(t)
    lines = harness.assert_refused(r, "/tmp: mounted noexec", "/dev/shm: read-only",
                                   "/var/tmp: mounted noexec")
    assert len(lines) == 1, "expected one error line:\n" + r.describe()
    _unharmed(t, before, r, [d for d, _ in mounts])


# ---------------------------------------------------------------------------
# Another user

AS_NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"]


def _debian():
    """pyenv's interpreters live under /root, which nobody cannot read:
    Debian's python3.11 runs the targets of other users."""
    it = harness.find_debian()
    if not it.available:
        pytest.skip(it.skip_reason())
    return it


def test_target_as_another_user(contained):
    """A target running as nobody, attached by root: the copy is its own."""
    _need_namespaces()
    t = contained(prefix=AS_NOBODY, python=_debian().path)
    assert t.ready["uid"] != 0
    path, owner = _placed_in(t)
    assert owner == t.ready["uid"], "the copy %s is owned by uid %d" % (path, owner)
    before = t.maps()
    r = _census(t)
    harness.assert_no_traceback(r)
    assert r.returncode == 0, r.describe()
    report = _unharmed(t, before, r)
    _census_matches(r, t, report)


def test_another_user_closed_tmp(contained):
    """nobody may not enter the target's /tmp (mode 0700, root's): the
    copy goes to /dev/shm."""
    _need_namespaces()
    mounts = [("/tmp", "mode=0700")]
    t = contained(**mount_namespace(_debian().path, mounts, AS_NOBODY))
    assert t.ready["uid"] != 0
    st = os.stat("/proc/%d/root/tmp" % t.pid)
    assert st.st_mode & 0o777 == 0o700 and st.st_uid == 0, oct(st.st_mode)
    path, _ = _placed_in(t)
    assert path.startswith("/dev/shm/"), path
    before = t.maps()
    r = _census(t)
    harness.assert_no_traceback(r)
    assert r.returncode == 0, r.describe()
    report = _unharmed(t, before, r, ["/tmp"])
    _census_matches(r, t, report)
