"""Faults around a live session (issue 6): whatever happens to pyleaks or
gdb, and whatever signals the target receives meanwhile, the target carries
on as if pyleaks had never attached.

Real processes: tests/targets/fault_target.py (a heartbeat, a worker
checking its own results, a thread going through the dynamic loader, a
heap of about a million objects) on several interpreters, and the real
pyleaks wrapper and gdb, signalled at random moments.

The moments come from a fixed seed, printed with every trial; rerun one
with the same seed to get the same moments (the processes' own timing
still varies).  Environment:
    PYLEAKS_FAULT_SEED=N     another seed
    PYLEAKS_FAULT_TRIALS=N   N trials per case instead of 1 (a soak run)

Timing only decides when a signal is sent; every assertion is about the
state afterwards (alive, not traced, not stopped, still ticking, still
computing right, nothing of pyleaks mapped, its signal counts)."""

import os
import random
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from typing import Dict, List, Optional

import pytest

import harness

SEED = int(os.environ.get("PYLEAKS_FAULT_SEED", "20261206"))
TRIALS = int(os.environ.get("PYLEAKS_FAULT_TRIALS", "1"))

FAULT_IDS = ("py3.8", "py3.11", "py3.13", "py3.11-debian")
FAULT_INTERPRETERS = [it for it in harness.all_interpreters() if it.id in FAULT_IDS]

# About a million objects in all: the census walk is a visible part of
# the session, so random moments land in helper calls too.
OBJECTS = 600000
ANCHORS = "__main__.Anchor"
COMMANDS = ("py-leaks --json", "py-objects Anchor --json --limit 3")

# Longer than any session on this machine: a pyleaks that has not exited
# this long after a signal hangs.
EXIT_TIMEOUT = 60
# A healthy target ticks every millisecond; this only bounds the wait for
# one that never ticks again.
RECOVERY_TIMEOUT = 10.0

# What a note about a stale helper says (besides "helper").
STALE_WORDS = ("stale", "left", "earlier", "previous", "leftover")


def _rng(request):
    """A generator per test, so that a test's moments do not depend on
    which tests ran before it."""
    return random.Random("%d:%s" % (SEED, request.node.nodeid))


def _say(msg):
    print("[seed %d] %s" % (SEED, msg), flush=True)


# ---------------------------------------------------------------------------
# Interpreters and the long-running target

@pytest.fixture(scope="module", params=[pytest.param(it, id=it.id) for it in FAULT_INTERPRETERS])
def interp(request, built):
    """Overrides conftest's: the fault suite runs on a few interpreters
    (oldest, newest, pyenv's and Debian's 3.11), not on all of them."""
    it = request.param
    if not it.available:
        pytest.skip(it.skip_reason())
    return it


@dataclass
class Service:
    interp: harness.Interpreter
    target: harness.ControlledTarget
    period: float          # seconds a normal session lasts
    helper_window: float   # seconds the helper stays mapped in it
    healthy: bool = False  # set by a test that found it unharmed


class Pool:
    """One fault target at a time, reused by the tests of its interpreter
    while they find it unharmed; a test that fails leaves it to be replaced
    (so one failure does not cascade).  One at a time, because each burns
    CPU in its threads and the machine has two cores."""

    def __init__(self):
        self.service: Optional[Service] = None

    def get(self, interp) -> Service:
        s = self.service
        if s is not None and (s.interp.id != interp.id or not s.healthy or not s.target.alive()):
            self.discard()
        if self.service is None:
            self.service = _start_service(interp)
        self.service.healthy = False
        return self.service

    def discard(self):
        if self.service is not None:
            self.service.target.close()
            self.service = None


@pytest.fixture(scope="module")
def pool(request):
    # Shown even without -s: the seed is what reproduces a failure.
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capman = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capman is not None:
        with capman.global_and_fixture_disabled():
            reporter.write_line("test_faults: PYLEAKS_FAULT_SEED=%d PYLEAKS_FAULT_TRIALS=%d"
                                % (SEED, TRIALS))
    p = Pool()
    yield p
    p.discard()


@pytest.fixture
def service(pool, interp):
    return pool.get(interp)


# interpreter id -> (period, helper window): measured once, on the first
# target of that interpreter.
_calibrated: Dict[str, tuple] = {}


def _start_service(interp) -> Service:
    t = harness.ControlledTarget(interp.path, args=["--objects", OBJECTS])
    try:
        if interp.id not in _calibrated:
            _calibrated[interp.id] = _calibrate(interp, t)
        period, window = _calibrated[interp.id]
        return Service(interp, t, period, window)
    except BaseException:
        t.close()
        raise


def _calibrate(interp, t):
    """A normal session first: how long it lasts sets the range of the
    random moments, and a tool that cannot inspect this target at all is
    a different failure from a fault."""
    before = t.ask()
    for attempt in range(3):
        proc = _start_pyleaks(t.pid, COMMANDS)
        start = time.monotonic()
        first = last = None
        while proc.popen.poll() is None:
            if _helper_mapped(t.pid):
                now = time.monotonic()
                first = first or now
                last = now
            time.sleep(0.002)
        period = time.monotonic() - start
        r = proc.finish()
        if not _refused(r):
            break
    assert r.returncode == 0, "a normal session fails on this target:\n" + r.describe()
    _check_census(r, t)
    _assert_healthy(t, before, "after a normal session")
    window = (last - first) if first else 0.0
    _say("%s: a normal session takes %.2f s, the helper is mapped for %.2f s of it"
         % (interp.id, period, window))
    return period, max(window, 0.05)


# Documented refusals (docs/safety.md): a thread caught inside malloc or
# the dynamic loader, a GIL holder not reaching a safe point, a collection
# under way.  They do the target no harm; the target's threads make them
# possible at any attach.
REFUSAL_WORDS = ("malloc", "dynamic loader", "safe point", "garbage collection")


def _refused(r: harness.Run) -> bool:
    errors = " ".join(r.error_lines()).lower()
    return r.returncode != 0 and any(w in errors for w in REFUSAL_WORDS)


# ---------------------------------------------------------------------------
# pyleaks runs that can be signalled

@dataclass
class Started:
    popen: subprocess.Popen
    argv: List[str]
    out: object
    err: object

    @property
    def pid(self):
        return self.popen.pid

    def gdb_pid(self) -> Optional[int]:
        for kid in harness.children(self.pid):
            if (harness.proc_comm(kid) or "").startswith("gdb"):
                return kid
        return None

    def finish(self, timeout=EXIT_TIMEOUT) -> harness.Run:
        """Wait for the wrapper and for everything it started (gdb may
        outlive a killed wrapper); kill what is left after timeout and fail."""
        deadline = time.monotonic() + timeout
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
        left = harness.session_members(self.pid)
        while left and time.monotonic() < deadline:
            time.sleep(0.05)
            left = harness.session_members(self.pid)
        hung = self.popen.poll() is None or left
        if hung:
            names = ["%d %s" % (p, harness.proc_comm(p)) for p in left]
            for p in left:
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.popen.wait(10)
        self.out.seek(0)
        self.err.seek(0)
        r = harness.Run(self.argv, self.popen.returncode,
                        self.out.read().decode("utf-8", "replace"),
                        self.err.read().decode("utf-8", "replace"))
        self.out.close()
        self.err.close()
        assert not hung, ("pyleaks or its gdb still ran %d s after the fault (%s):\n%s"
                          % (timeout, ", ".join(names) or "the wrapper", r.describe()))
        return r


def _start_pyleaks(pid, commands) -> Started:
    """The wrapper in a session and process group of its own (as from a
    terminal); its output goes to files, so that nothing it writes can
    block it while the test is busy elsewhere."""
    argv = [str(harness.pyleaks_exe()), "--pid", str(pid)]
    for c in commands:
        argv += ["-c", c]
    out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
    popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                             env=harness.clean_env(), start_new_session=True)
    return Started(popen, argv, out, err)


def _helper_mapped(pid) -> bool:
    try:
        return any("pyleaks" in m.path for m in harness.read_maps(pid))
    except OSError:
        return False


def _phase(started: Started, pid) -> str:
    """Where the session was when a signal went out (for the trial's log)."""
    if started.popen.poll() is not None:
        return "pyleaks had exited"
    if started.gdb_pid() is None:
        return "gdb not started"
    if not harness.tracer_pid(pid):
        return "gdb started, not attached"
    if not _helper_mapped(pid):
        return "attached, helper not loaded"
    states = harness.thread_states(pid)
    if any(s in "RD" for s in states.values()) and any(s == "t" for s in states.values()):
        return "helper call under way"
    return "attached, helper loaded"


def _wait_for(cond, timeout, step=0.002):
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            return False
        time.sleep(step)
    return True


# ---------------------------------------------------------------------------
# The target's health

def _census(r: harness.Run):
    text = r.stdout
    # py-leaks --json is the first JSON line; py-objects' follows it.
    for line in text.splitlines():
        if line.strip().startswith("{"):
            return harness.one_json(line, "py-leaks --json")
    raise AssertionError("no census in the output:\n" + r.describe())


def _check_census(r: harness.Run, t):
    rows = harness.census_rows(_census(r))
    for name, want in t.ready["expect"].items():
        got = rows.get(name, {"count": 0})["count"]
        assert got == want, "census: %s %d, the target has %d:\n%s" % (
            name, got, want, r.describe())


def _assert_healthy(t, before, when, helper_may_remain=False, signals_sent=None):
    """The promise of issue 6, checked on the target after `when`.  before
    is the target's state from before the session.  Returns its state now."""
    if not t.alive():
        t.proc.wait(10)
        code = t.proc.returncode
        how = ("killed by %s" % signal.Signals(-code).name) if code < 0 else "exit %d" % code
        raise AssertionError("the target died %s (%s); its stderr:\n%s"
                             % (when, how, t.proc.stderr.read().decode("utf-8", "replace")))
    problems = []
    tracer = harness.tracer_pid(t.pid)
    if tracer:
        problems.append("still traced by %d (%s)" % (tracer, harness.proc_comm(tracer)))
    stopped = {tid: s for tid, s in harness.thread_states(t.pid).items() if s in "Tt"}
    if stopped:
        problems.append("threads stopped: %s" % stopped)
    if problems:
        # It cannot answer in this state, and it is already a failure.
        raise AssertionError("target %d %s: %s" % (t.pid, when, "; ".join(problems)))

    now = _ask(t, when)
    ok = _wait_for(lambda: _progressed(before, now, t, when), RECOVERY_TIMEOUT, step=0.01)
    now = _last_state[t.pid]
    if not ok:
        problems.append("it does not carry on within %.0f s: heartbeat ticks %d -> %d, "
                        "worker rounds %d -> %d, dlopen cycles %d -> %d, threads %s"
                        % (RECOVERY_TIMEOUT, before["heartbeat"]["ticks"], now["heartbeat"]["ticks"],
                           before["work"]["rounds"], now["work"]["rounds"],
                           before["dlopen"]["cycles"], now["dlopen"]["cycles"],
                           now["threads_alive"]))
    if now["work"]["mismatches"] != before["work"]["mismatches"]:
        problems.append("the worker computed %d wrong checksums (last: expected %s, got %s)"
                        % (now["work"]["mismatches"] - before["work"]["mismatches"],
                           now["work"]["last_expected"], now["work"]["last_computed"]))
    if now["dlopen"]["errors"] != before["dlopen"]["errors"]:
        problems.append("dlopen()/dlclose() failed: %s" % now["dlopen"]["last_error"])
    sent = signals_sent or {}
    want = {k: v + sent.get(k, 0) for k, v in before["delivered"].items()}
    if sent:
        # The handlers run when the main thread next executes Python code.
        _wait_for(lambda: _signals_in(_ask(t, when), want, before, sent), RECOVERY_TIMEOUT,
                  step=0.02)
        now = _ask(t, when)
    if now["delivered"] != want:
        problems.append("signals delivered to it: %s, expected %s"
                        % (_diff(now["delivered"], before["delivered"]),
                           _diff(want, before["delivered"])))
    if not _handled_ok(now, before, sent):
        problems.append("its Python signal handlers ran for %s; expected once or more for "
                        "each of %s and never for anything else"
                        % (_diff(now["signals"], before["signals"]), sorted(sent) or "nothing"))
    if not helper_may_remain:
        problems += ["pyleaks mapping left: %s" % p for p in _pyleaks_mappings(t)]
    problems += harness.code_differences(t.pid, skip=("fault-target-lib",))
    assert not problems, "target %d %s:\n  %s" % (t.pid, when, "\n  ".join(problems))
    return now


def _signals_in(now, want, before, sent):
    return now["delivered"] == want and _handled_ok(now, before, sent)


def _handled_ok(now, before, sent):
    """A Python handler runs at least once for the deliveries of its
    signal that arrived while the main thread could not run it, and no
    more often than the signal was delivered."""
    for name, n in now["signals"].items():
        ran = n - before["signals"][name]
        got = now["delivered"][name] - before["delivered"][name]
        if (ran >= 1) != (name in sent) or ran > got:
            return False
    return True


def _pyleaks_mappings(t) -> List[str]:
    return sorted({m.path for m in t.maps() if "pyleaks" in m.path})


_last_state: Dict[int, dict] = {}


def _ask(t, when):
    try:
        return t.ask()
    except AssertionError as e:
        raise AssertionError("%s: %s" % (when, e)) from None


def _progressed(before, first, t, when):
    now = _ask(t, when)
    _last_state[t.pid] = now
    return (now["heartbeat"]["ticks"] > first["heartbeat"]["ticks"]
            and now["work"]["rounds"] > max(before["work"]["rounds"], first["work"]["rounds"])
            and now["dlopen"]["cycles"] > max(before["dlopen"]["cycles"], first["dlopen"]["cycles"])
            and all(now["threads_alive"].values()))


def _diff(now, before):
    return {k: now[k] - before[k] for k in now if now[k] != before.get(k)} or "nothing"


# Refusals whose advice is to let the target run and retry: the fault
# target dlopens and allocates all the time, so one session in many finds
# a thread inside the loader or malloc.  They say nothing of the fault
# under test.
_RETRY = ("is inside malloc", "is inside the dynamic loader",
          "did not reach a safe point")


def _retry_refusal(r: harness.Run):
    return r.returncode != 0 and any(m in r.stderr for m in _RETRY)


def _assert_one_line(r: harness.Run, what):
    """Exited non-zero with one pyleaks: line saying what happened, and
    no traceback."""
    harness.assert_no_traceback(r)
    assert "KeyboardInterrupt" not in r.output, "a KeyboardInterrupt leaked:\n" + r.describe()
    assert r.returncode != 0, "pyleaks exited 0 after %s:\n%s" % (what, r.describe())
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("pyleaks:")
             and not ln.startswith("pyleaks: note:")]
    assert len(lines) == 1, ("after %s pyleaks should print one 'pyleaks:' line saying what "
                             "happened, it printed %d:\n%s" % (what, len(lines), r.describe()))


def _follow_up(t, before, after_what):
    """A normal session after a kill: it works, cleans up what the killed
    one left, and says so.  Returns the target's state after it."""
    stale = _pyleaks_mappings(t)
    for _ in range(4):
        r = _start_pyleaks(t.pid, ("py-leaks --json",)).finish()
        if not _retry_refusal(r):
            break
        time.sleep(0.2)
    assert r.returncode == 0, "the session after %s failed:\n%s" % (after_what, r.describe())
    _check_census(r, t)
    if stale:
        notes = [ln for ln in r.stderr.splitlines() if ln.startswith("pyleaks: note:")
                 and "helper" in ln.lower() and any(w in ln.lower() for w in STALE_WORDS)]
        assert notes, ("%s left %s mapped; the next session should say it unloaded it "
                       "(a 'pyleaks: note:' line about the helper), it said:\n%s"
                       % (after_what, stale, r.describe()))
        _say("stale helper cleaned: %s" % notes[0])
    return _assert_healthy(t, before, "after the session following %s" % after_what)


# ---------------------------------------------------------------------------
# 1. Signals to pyleaks and to gdb at random moments

SIGNAL_CASES = ("SIGHUP", "SIGTERM", "SIGINT", "SIGINT-twice", "SIGKILL")
RECIPIENTS = ("group", "gdb")


def _moment_kinds(case, recipient, interp):
    """Which kind of moment each trial uses, alternating between cases so
    that every signal meets both kinds across the interpreters: any moment
    of a whole session, or a moment while the helper is loaded (a small
    part of the session, where the worst can happen)."""
    k = (SIGNAL_CASES.index(case) + RECIPIENTS.index(recipient)
         + [it.id for it in FAULT_INTERPRETERS].index(interp.id))
    return [("session", "helper")[(k + i) % 2] for i in range(TRIALS)]


def _send(started: Started, recipient, sig):
    """Returns the pid signalled, None when there was nobody left."""
    try:
        if recipient == "group":
            os.killpg(started.pid, sig)
            return started.pid
        pid = started.gdb_pid()
        if pid is None:
            return None
        os.kill(pid, sig)
        return pid
    except ProcessLookupError:
        return None


def _watch(pid, seconds, seen):
    """Sleep about `seconds`, noting whether the target was ever traced
    meanwhile (so that a moment after the detach can be told from one
    before the attach)."""
    deadline = time.monotonic() + seconds
    while True:
        if harness.tracer_pid(pid):
            seen["attached"] = True
        left = deadline - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(left, 0.002))


def _trial(svc: Service, case, recipient, kind, rng, n):
    t = svc.target
    before = t.ask("reset_gap")
    sig = signal.SIGINT if case == "SIGINT-twice" else getattr(signal, case)
    seen = {"attached": False}
    started = _start_pyleaks(t.pid, COMMANDS)
    t0 = time.monotonic()
    if kind == "session":
        delay = rng.uniform(0, svc.period)
        _watch(t.pid, delay, seen)
        moment = "%.3f s into the session" % delay
    else:
        delay = rng.uniform(0, svc.helper_window)
        _wait_for(lambda: _helper_mapped(t.pid) or started.popen.poll() is not None,
                  EXIT_TIMEOUT)
        seen["attached"] = True
        _watch(t.pid, delay, seen)
        moment = "%.3f s after the helper was loaded (%.3f s into the session)" % (
            delay, time.monotonic() - t0)
    if recipient == "gdb":
        # gdb starts a few milliseconds into the session at the earliest.
        _wait_for(lambda: started.gdb_pid() is not None or started.popen.poll() is not None,
                  EXIT_TIMEOUT)
    phase = _phase(started, t.pid)
    gdb_was_running = started.gdb_pid() is not None
    traced_before = bool(harness.tracer_pid(t.pid))
    seen["attached"] |= traced_before
    hit = _send(started, recipient, sig)
    # Detached between the look and the signal: too late to be sure the
    # signal found anything to interrupt.
    detached_meanwhile = traced_before and not harness.tracer_pid(t.pid)
    if case == "SIGINT-twice" and hit:
        time.sleep(rng.uniform(0.02, 0.3))
        _send(started, recipient, sig)
    what = "%s to %s %s (%s), trial %d" % (
        case, "pyleaks' process group" if recipient == "group" else "gdb", moment, phase, n)
    _say(what)
    r = started.finish()
    after = _assert_healthy(t, before, "after " + what, helper_may_remain=(case == "SIGKILL"))
    _say("  target paused at most %.3f s; pyleaks exit %s"
         % (after["heartbeat"]["max_gap"], r.returncode))
    if hit is None or phase == "pyleaks had exited":
        return  # the session ended before the signal: nothing more to check
    # After the detach the work is done: exit 0 is right then.
    after_detach = seen["attached"] and not traced_before or detached_meanwhile
    if case == "SIGKILL":
        if recipient == "gdb" and not after_detach:
            assert r.returncode != 0, "pyleaks exited 0 although its gdb was killed:\n" + r.describe()
        _follow_up(t, after, what)
    elif not gdb_was_running and recipient == "group":
        # Before gdb starts, the wrapper may not have set up its handlers
        # yet: a shell killed then has no chance to say anything.
        assert r.returncode != 0, "pyleaks exited 0 after %s:\n%s" % (what, r.describe())
    elif after_detach:
        if r.returncode != 0:
            _assert_one_line(r, what)
    else:
        _assert_one_line(r, what)


@pytest.mark.parametrize("recipient", RECIPIENTS)
@pytest.mark.parametrize("case", SIGNAL_CASES)
def test_signal_to_pyleaks(service, interp, request, case, recipient):
    """SIGHUP (the terminal hangs up), SIGTERM, Ctrl-C once or twice,
    SIGKILL, to the wrapper's whole process group or to gdb alone: the
    target is unharmed, and pyleaks says what happened."""
    rng = _rng(request)
    for n, kind in enumerate(_moment_kinds(case, recipient, interp), 1):
        _trial(service, case, recipient, kind, rng, n)
    service.healthy = True


# ---------------------------------------------------------------------------
# 2. Signals to the target during a call

TARGET_SIGNALS = ("SIGUSR1", "SIGTERM", "SIGUSR1", "SIGCHLD", "SIGUSR1", "SIGALRM",
                  "SIGUSR2", "SIGHUP", "SIGUSR1", "SIGINT", "SIGTERM", "SIGUSR1")
SPACING = 0.02


def _send_unmerged(pid, name, started: Started):
    """Send signal `name` once no signal of that number is pending in the
    target any more, so that the kernel cannot merge it with an earlier
    one (standard signals are not queued): every signal sent must then run
    the target's handler once.  A target stopped by the debugger does not
    take its pending signals, hence the wait.  False when it was still
    pending 2 s after pyleaks exited (then it is not sent)."""
    bit = 1 << (getattr(signal, name) - 1)
    exited = None
    while harness.pending_signals(pid) & bit:
        if exited is None and started.popen.poll() is not None:
            exited = time.monotonic()
        if exited is not None and time.monotonic() > exited + 2:
            return False
        time.sleep(0.001)
    os.kill(pid, getattr(signal, name))
    return True


def test_signals_to_target_during_call(service, interp, request):
    """Signals the target receives while pyleaks is in the middle of a
    call reach the target's own handlers, and the census still comes out."""
    t = service.target
    rng = _rng(request)
    for attempt in range(1, 4):
        before = t.ask("reset_gap")
        started = _start_pyleaks(t.pid, COMMANDS)
        _wait_for(lambda: _helper_mapped(t.pid) or started.popen.poll() is not None, EXIT_TIMEOUT)
        time.sleep(rng.uniform(0, service.helper_window / 4))
        sent: Dict[str, int] = {}
        log = []
        for name in TARGET_SIGNALS:
            traced = bool(harness.tracer_pid(t.pid))
            if _send_unmerged(t.pid, name, started):
                sent[name] = sent.get(name, 0) + 1
                log.append(name + ("" if traced else "(detached)"))
            else:
                log.append(name + "(not sent: still pending)")
            time.sleep(SPACING)
        _say("attempt %d: %s" % (attempt, " ".join(log)))
        r = started.finish()
        _assert_healthy(t, before, "after signals during a census (%s)" % " ".join(log),
                        signals_sent=sent)
        harness.assert_no_traceback(r)
        if _retry_refusal(r):
            # A thread was inside the loader or malloc (the target dlopens
            # and allocates all the time): refused, rightly; try again.
            continue
        assert r.returncode == 0, "the session with signals to the target failed:\n" + r.describe()
        _check_census(r, t)
        if log[0] == TARGET_SIGNALS[0]:
            break
        # The session ended before the first signal: that tested nothing.
    else:
        pytest.fail("three sessions ended before the first signal was sent", pytrace=False)
    service.healthy = True


# ---------------------------------------------------------------------------
# 3. A stale helper

def test_stale_helper_cleaned(service, interp, request):
    """gdb killed (SIGKILL) while the helper is loaded leaves it mapped in
    the target; the next session unloads it and says so."""
    t = service.target
    rng = _rng(request)
    for attempt in range(3):
        before = t.ask("reset_gap")
        started = _start_pyleaks(t.pid, COMMANDS)
        _wait_for(lambda: _helper_mapped(t.pid) or started.popen.poll() is not None,
                  EXIT_TIMEOUT)
        # Shorter each time: the session may finish before the kill.
        time.sleep(rng.uniform(0, service.helper_window / 2) / (4 ** attempt))
        phase = _phase(started, t.pid)
        gdb = _send(started, "gdb", signal.SIGKILL)
        _say("SIGKILL to gdb (%s), attempt %d" % (phase, attempt + 1))
        r = started.finish()
        after = _assert_healthy(t, before, "after SIGKILL to gdb with the helper loaded (%s)"
                                % phase, helper_may_remain=True)
        if gdb is not None and phase != "pyleaks had exited":
            break
        _say("  the session ended first:\n" + r.describe())
    else:
        pytest.fail("three sessions ended before their gdb could be killed", pytrace=False)
    stale = _pyleaks_mappings(t)
    if not stale:
        pytest.skip("nothing of pyleaks was left mapped after gdb was killed (%s): "
                    "no stale helper to clean up" % phase)
    _follow_up(t, after, "SIGKILL to gdb")
    service.healthy = True


# ---------------------------------------------------------------------------
# 4. Stress

STRESS_ATTACHES = 50
# Documented refusals allowed in the stress run; a retry follows each.
STRESS_REFUSALS = 10


@pytest.fixture(scope="module")
def stress_interp(built):
    for it in FAULT_INTERPRETERS:
        if it.id == "py3.11" and it.available:
            return it
    usable = [it for it in FAULT_INTERPRETERS if it.available]
    if not usable:
        pytest.skip("; ".join(it.skip_reason() for it in FAULT_INTERPRETERS))
    return usable[-1]


def test_stress_attach_50_times(stress_interp, pool):
    """A multi-threaded allocating target, attached 50 times in a row:
    every census right, the target healthy at the end."""
    pool.discard()  # one busy target at a time
    t = harness.ControlledTarget(stress_interp.path,
                                 args=["--objects", "100000", "--allocators", "3"])
    try:
        before = t.ask("reset_gap")
        refusals = []
        done = 0
        while done < STRESS_ATTACHES:
            r = _start_pyleaks(t.pid, ("py-leaks --json",)).finish()
            assert t.alive(), "the target died in attach %d:\n%s" % (done + 1, r.describe())
            if r.returncode != 0:
                assert _refused(r), "attach %d failed:\n%s" % (done + 1, r.describe())
                refusals.append(" ".join(r.error_lines()))
                assert len(refusals) <= STRESS_REFUSALS, "refused %d times:\n%s" % (
                    len(refusals), "\n".join(refusals))
            else:
                _check_census(r, t)
                done += 1
            assert not harness.tracer_pid(t.pid), "still traced after attach %d" % (done + 1)
            left = _pyleaks_mappings(t)
            assert not left, "pyleaks mapping left after attach %d: %s" % (done + 1, left)
        after = _assert_healthy(t, before, "after %d attaches" % STRESS_ATTACHES)
        assert after["churn"]["made"] > before["churn"]["made"]
        _say("%d attaches, %d refusals, longest pause %.3f s"
             % (done, len(refusals), after["heartbeat"]["max_gap"]))
    finally:
        t.close()
