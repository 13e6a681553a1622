"""py-leaks-watch (pyleaks --watch SECONDS --samples N): sampling a
running process, with the target running freely between the samples,
on every interpreter, against the target's own bookkeeping
(tests/targets/watch_target.py).

Three targets per interpreter, watched at the same time: `leak` (a
module-level list that gains 200 Leaked objects every 30 ms), `sawtooth`
(3,000 Burst objects made and dropped at once, again and again) and
`flat` (idle).  Each logs every number of objects of its type it will
have; every count a sample shows must be one of them.  No assertion is
about time beyond what the command guarantees by construction (the
target runs at least SECONDS between two samples).

The rest (primary interpreter): the text output, Ctrl-C, SIGTERM and
SIGHUP between samples, and the usage errors."""

import json
import os
import re
import select
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import harness

TARGET = harness.TARGETS_DIR / "watch_target.py"
SECONDS = 0.3
SAMPLES = {"leak": 5, "sawtooth": 5, "flat": 3}
LEAKED, BURST = "__main__.Leaked", "__main__.Burst"


def state_env(state_dir):
    return harness.clean_env(PYLEAKS_STATE_DIR=str(state_dir))


def read_log(path):
    with open(path) as f:
        return [int(line) for line in f if line.strip()]


class Watched:
    """One target watched once: what pyleaks said and the target's own
    log, and its state after the watch."""

    def __init__(self, mode, ready, run, log, maps_problems, tracer, state, alive):
        self.mode, self.ready, self.run = mode, ready, run
        self.log, self.maps_problems = log, maps_problems
        self.tracer, self.state, self.alive = tracer, state, alive

    def json(self):
        return harness.one_json(self.run.stdout, "py-leaks-watch --json (%s)" % self.mode)

    def growing(self):
        return {g["type"]: g for g in self.json()["growing_types"]}


def watch_one(python, mode, base):
    log = base / ("%s.log" % mode)
    t = harness.Target(python, TARGET, args=[mode, "--log", log])
    try:
        before = t.maps()
        n = SAMPLES[mode]
        r = harness.pyleaks(t.pid, "py-leaks-watch %s --samples %d --json" % (SECONDS, n),
                            env=state_env(base / "state"))
        state = t.settled_state()
        tracer = harness.tracer_pid(t.pid)
        problems = harness.maps_problems(before, t.maps())
        alive = t.alive()
        return Watched(mode, t.ready, r, read_log(log), problems, tracer, state, alive)
    finally:
        t.close()


_watched = {}


@pytest.fixture(scope="module")
def watched(interp, tmp_path_factory):
    """mode -> Watched, the three targets watched at the same time."""
    if interp.id not in _watched:
        base = tmp_path_factory.mktemp("watch-" + interp.id)
        with ThreadPoolExecutor(len(SAMPLES)) as pool:
            futures = {m: pool.submit(watch_one, interp.path, m, base) for m in SAMPLES}
            _watched[interp.id] = {m: f.result() for m, f in futures.items()}
    return _watched[interp.id]


# --- every interpreter -----------------------------------------------------------

@pytest.mark.parametrize("mode", sorted(SAMPLES))
def test_watch_succeeded_and_left_the_target_running(watched, mode):
    w = watched[mode]
    harness.assert_no_traceback(w.run)
    assert w.run.returncode == 0, w.run.describe()
    assert w.alive, "the target died"
    assert w.tracer == 0, "the target is still traced by %s" % w.tracer
    assert w.state in ("S", "R"), "the target is in state %s" % w.state
    problems = w.maps_problems
    if mode == "leak":
        # It grows by design; nothing of pyleaks must be left all the same.
        problems = [p for p in problems if not p.startswith("anonymous memory grew")]
    assert not problems, problems


@pytest.mark.parametrize("mode", sorted(SAMPLES))
def test_samples(watched, mode):
    j = watched[mode].json()
    n = SAMPLES[mode]
    assert j["samples_asked"] == n and j["complete"] is True and j["stopped"] is None
    assert len(j["samples"]) == n
    assert j["interval_s"] == SECONDS
    assert j["pid"] == watched[mode].ready["pid"]
    for s in j["samples"]:
        assert s["rss"] > 0 and s["total_objects"] > 0 and s["total_bytes"] > 0
        assert s["pause_s"] > 0 and s["census_s"] >= 0
    times = [s["time"] for s in j["samples"]]
    # The target ran SECONDS between two samples, and more (the pauses).
    assert all(b - a >= SECONDS for a, b in zip(times, times[1:])), times
    assert all(abs(s["elapsed_s"] - (t - times[0])) < 0.002 for s, t in zip(j["samples"], times))


def test_leak_is_growing(watched):
    w = watched["leak"]
    j = w.json()
    grown = w.growing()
    assert LEAKED in grown, "%s not among the growing types: %s" % (LEAKED, sorted(grown))
    counts = grown[LEAKED]["counts"]
    assert len(counts) == SAMPLES["leak"]
    assert all(b > a for a, b in zip(counts, counts[1:])), counts
    logged = set(w.log)
    assert set(counts) <= logged, "sampled %s, the target logged %s" % (
        counts, sorted(logged)[:20])
    # All Leaked objects have one size.
    nbytes = grown[LEAKED]["bytes"]
    assert all(b * counts[0] == nbytes[0] * c for b, c in zip(nbytes, counts)), (counts, nbytes)
    # The biggest growth first.
    growths = [g["counts"][-1] - g["counts"][0] for g in j["growing_types"]]
    assert growths == sorted(growths, reverse=True)
    assert j["verdict"]["python"] == "growing", j["verdict"]
    assert j["verdict"]["overall"] == "growing", j["verdict"]
    assert LEAKED not in {s["type"] for s in j["sawtooth_types"]}


def test_leak_growing_container_covers_the_whole_watch(watched):
    """The analysis after the last sample compares the containers with
    the first sample's: the module's list grew by what the samples say."""
    w = watched["leak"]
    j = w.json()
    counts = w.growing()[LEAKED]["counts"]
    found = [f for f in j["findings"] if f["kind"] == "growing_container"]
    assert found, "no growing_container finding: %s" % json.dumps(j["findings"])[:2000]
    f = found[0]
    assert f["count"] == counts[-1] and f["growth"] == counts[-1] - counts[0], (f, counts)
    assert f["chain"]["root"]["description"] == "module __main__"
    assert f["chain"]["hops"][-1]["label"] == ".LEAK"
    assert "since the first sample" in f["summary"], f["summary"]


def test_sawtooth_is_not_growing(watched):
    w = watched["sawtooth"]
    j = w.json()
    assert BURST not in w.growing(), j["growing_types"]
    assert j["verdict"]["python"] != "growing", j["verdict"]
    assert j["verdict"]["overall"] != "growing", j["verdict"]
    assert set(w.log) == {0, w.ready["burst"]}
    for s in j["sawtooth_types"]:
        if s["type"] == BURST:
            assert set(s["counts"]) <= set(w.log), s


def test_flat_is_flat(watched):
    j = watched["flat"].json()
    assert j["growing_types"] == [], j["growing_types"]
    assert j["verdict"] == {"rss": "flat", "python": "flat", "overall": "flat"}, j["samples"]
    assert len({s["total_objects"] for s in j["samples"]}) == 1, j["samples"]


# --- the rest: primary interpreter ------------------------------------------------

def test_text_output(primary, make_target, tmp_path):
    t = make_target(primary.path, TARGET, args=["leak", "--log", tmp_path / "leak.log"])
    r = harness.run([harness.pyleaks_exe(), "--pid", t.pid, "--watch", SECONDS,
                     "--samples", 3], env=state_env(tmp_path / "state"))
    harness.assert_no_traceback(r)
    assert r.returncode == 0, r.describe()
    assert re.search(r"^Watching process %d \(.*\): 3 samples, 0\.3 s apart" % t.pid,
                     r.stderr, re.M), r.describe()
    lines = r.stdout.splitlines()
    assert re.match(r"pyleaks: CPython 3\.\d+\.\d+, live process %d: 3 of 3 samples 0\.3 s "
                    r"apart over [0-9.]+ s; paused [0-9.]+ s per sample" % t.pid, lines[0]), r.stdout
    assert re.match(r"sample\s+at\s+pause\s+RSS\s+objects\s+Python bytes\s+RSS from ", lines[1]), r.stdout
    rows = [ln for ln in lines[2:5]]
    for i, row in enumerate(rows, 1):
        assert re.match(r"\s*%d\s+[0-9.]+ s\s+[0-9.]+ s\s+[0-9.]+ [KMG]iB\s+[0-9,]+\s+[0-9.]+ [KMG]iB\s+#+$"
                        % i, row), r.stdout
    assert rows[-1].endswith("#" * 30), r.stdout
    assert "types that grew in every interval (the leak candidates), most growth first:" in lines
    leaked = [ln for ln in lines if ln.endswith(" " + LEAKED)]
    assert leaked and re.search(r"\+[0-9,]+ \+[0-9,]+\s+%s$" % re.escape(LEAKED), leaked[0]), r.stdout
    assert any(re.match(r"verdict: growing \(.*\): Python objects growing, \+", ln) for ln in lines), r.stdout
    assert any(ln.startswith("findings (") for ln in lines), r.stdout


def default_signals():
    """In the wrapper's process: SIGINT and SIGQUIT as a terminal's Ctrl-C
    finds them.  A test suite run as a background job of a shell ignores
    them, and a shell (the wrapper) cannot trap a signal ignored when it
    started."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGQUIT, signal.SIG_DFL)


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM", "SIGHUP"])
def test_signal_between_samples(primary, make_target, tmp_path, sig):
    """A signal while the target runs between two samples ends the watch:
    what was sampled is shown, the target runs on, not traced, with
    nothing of pyleaks in it."""
    t = make_target(primary.path, TARGET, args=["flat", "--log", tmp_path / "flat.log"])
    before = t.maps()
    argv = [str(a) for a in (harness.pyleaks_exe(), "--pid", t.pid, "--watch", 2, "--samples", 10)]
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=state_env(tmp_path / "state"),
                            start_new_session=True, preexec_fn=default_signals)
    err = b""
    try:
        deadline = time.monotonic() + harness.GDB_TIMEOUT
        # The progress line comes once sample 1 is taken and pyleaks has
        # detached: from then on it waits 2 s with the target running.
        while b"(pyleaks: sample 1 of 10:" not in err:
            left = deadline - time.monotonic()
            assert left > 0 and proc.poll() is None, "no progress line:\n%s" % err.decode()
            if select.select([proc.stderr], [], [], min(left, 1.0))[0]:
                chunk = os.read(proc.stderr.fileno(), 65536)
                assert chunk, "the wrapper closed its stderr:\n%s" % err.decode()
                err += chunk
        os.kill(proc.pid, getattr(signal, sig))
        out, rest = proc.communicate(timeout=harness.GDB_TIMEOUT)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    r = harness.Run(argv, proc.returncode, out.decode(), (err + rest).decode())
    harness.assert_no_traceback(r)
    assert r.returncode == 1, r.describe()
    m = re.search(r"^pyleaks: CPython \S+, live process %d: (\d+) of 10 samples" % t.pid,
                  r.stdout, re.M)
    assert m and int(m.group(1)) >= 1, r.describe()
    assert "(the watch ended early: %s of 10 samples)" % m.group(1) in r.stdout, r.describe()
    errors = [ln for ln in r.error_lines() if not ln.startswith("pyleaks: CPython")]
    assert len(errors) == 1 and "interrupted by %s" % sig in errors[0], r.describe()
    assert "the watch ended with %s of 10 samples" % m.group(1) in errors[0], r.describe()
    assert harness.tracer_pid(t.pid) == 0
    assert t.settled_state() == "S"
    assert not harness.maps_problems(before, t.maps())
    # It still answers: it was not left stopped.
    assert t.alive()


@pytest.mark.parametrize("args, needle", [
    (["--watch", "0"], "invalid --watch '0'"),
    (["--watch", "0.05"], "invalid --watch '0.05'"),
    (["--watch", "-1"], "invalid --watch '-1'"),
    (["--watch", "soon"], "invalid --watch 'soon'"),
    (["--watch", "1", "--samples", "1"], "invalid --samples '1'"),
    (["--watch", "1", "--samples", "two"], "invalid --samples 'two'"),
    (["--samples", "3"], "--samples N goes with --watch SECONDS"),
    (["--watch"], "option --watch needs a value"),
])
def test_wrapper_usage_errors(built, args, needle):
    r = harness.run([harness.pyleaks_exe(), "--pid", os.getpid()] + args)
    assert r.returncode == 2, r.describe()
    lines = r.error_lines()
    assert len(lines) == 1 and needle in lines[0], r.describe()
    assert r.stdout == "", r.describe()


def test_command_usage_errors(primary, make_target, tmp_path):
    """The gdb command checks its arguments too, before anything is
    done to the target."""
    t = make_target(primary.path, TARGET, args=["flat", "--log", tmp_path / "flat.log"])
    before = t.maps()
    bad = ["py-leaks-watch 0.05", "py-leaks-watch 1 --samples 1", "py-leaks-watch inf",
           "py-leaks-watch", "py-leaks-watch 1 --samples 2.5"]
    r = harness.pyleaks(t.pid, *bad, "help py-leaks-watch")
    harness.assert_no_traceback(r)
    assert r.returncode == 1, r.describe()
    lines = r.error_lines()
    assert len(lines) == len(bad), r.describe()
    assert all(ln.startswith("pyleaks: py-leaks-watch: ") for ln in lines), r.describe()
    assert "must be at least 0.1" in lines[0] and "must be at least 2" in lines[1], r.describe()
    assert "usage: py-leaks-watch SECONDS" in r.stdout, r.describe()
    assert not harness.maps_problems(before, t.maps())
