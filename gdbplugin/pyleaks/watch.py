"""py-leaks-watch: sample a running process, and tell a trend from a
sawtooth.

The target runs freely between the samples: after each sample pyleaks
takes its normal way out (pyl_release(), dlclose() and the call stub
removed, then gdb's `detach`), waits, and attaches again in the same gdb
session (`attach PID`: gdb keeps the symbols it read, so this costs a
fraction of a new gdb).  Between two samples the target is exactly as
after a detach: not traced, not stopped, no breakpoint, nothing of
pyleaks mapped in it; a gdb killed meanwhile leaves it untouched, and a
signal that asks gdb to stop (Ctrl-C, SIGTERM, SIGHUP) ends the watch
there, with what was sampled so far.

Each sample is an attach, the target's RSS (read before anything is
loaded into it), a census without the analysis (api.census) and a detach;
the first one also records the big containers of the leak analysis
(api.analyze) and the last one runs the whole analysis (findings.analyse)
with them as the previous look, so that a growing_container finding
covers the whole watch.  The last sample stays attached, for the
commands that follow.

The verdicts are computed on gdb's side from a few numbers per sample:
no per-object work here."""

import math
import signal
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import gdb

from . import abi, api, findings, growth, interrupts, memory, session
from . import target as target_mod
from .errors import PyleaksError, process_alive

# --- verdicts ------------------------------------------------------------------

GROWING, RISING, SAWTOOTH, SHRINKING, FLAT = (
    "growing", "rising", "sawtooth", "shrinking", "flat")
# Most alarming first: the overall verdict is the first one of these that
# the RSS or the Python bytes have.
VERDICT_ORDER = (GROWING, RISING, SAWTOOTH, SHRINKING, FLAT)

STEADY_SHARE = 0.8          # intervals that must rise, for "growing"
SAWTOOTH_SHARE = 0.1        # net rise allowed, of max - min
# What a change must exceed to count as a rise or a fall: a share of the
# series' largest value, and at least an absolute floor.  RSS moves in
# pages and with the allocator's own bookkeeping; the Python bytes are
# exact, but a busy program allocates and frees all the time.
NOISE_SHARE = 0.001
RSS_FLOOR = 64 << 10
PYTHON_FLOOR = 1 << 10


def noise_floor(values, absolute):
    top = max((abs(v) for v in values), default=0)
    return max(absolute, int(top * NOISE_SHARE))


def series_verdict(values, floor=0):
    """The verdict on a series of numbers, one per sample (None for a
    series that is not known at every sample, or of fewer than 2):

    growing    rose in every interval, or in at least 80% of them with a
               net rise above the noise and above its biggest fall
    sawtooth   rose and fell with no net growth beyond the noise: the
               last value at most the first + 10% of max - min (or the
               noise floor), or, for one that ends on a peak, the lowest
               value of its second half at most the lowest of its first
               half + that much (the lows do not grow)
    flat       no change beyond the noise
    rising     grew, but not steadily (a step, growth with falls)
    shrinking  fell and never rose

    A change counts as a rise (a fall) when it is above floor (below
    -floor)."""
    if len(values) < 2 or any(v is None for v in values):
        return None
    deltas = [b - a for a, b in zip(values, values[1:])]
    n = len(deltas)
    up = sum(1 for d in deltas if d > floor)
    down = sum(1 for d in deltas if d < -floor)
    net = values[-1] - values[0]
    amplitude = max(values) - min(values)
    biggest_fall = max([-d for d in deltas if d < 0], default=0)
    if up == n:
        return GROWING
    if up >= math.ceil(STEADY_SHARE * n) and net > floor and \
            net > biggest_fall:
        return GROWING
    if up == 0 and down == 0 and abs(net) <= floor:
        return FLAT
    tolerance = max(SAWTOOTH_SHARE * amplitude, floor)
    half = (len(values) + 1) // 2
    lows_held = min(values[len(values) // 2:]) <= min(values[:half]) + \
        tolerance
    if up and down and (net <= tolerance or lows_held):
        return SAWTOOTH
    if net > floor:
        return RISING
    if net < -floor:
        return SHRINKING
    return FLAT


def overall_verdict(*verdicts):
    known = [v for v in verdicts if v is not None]
    for v in VERDICT_ORDER:
        if v in known:
            return v
    return None


def grew_every_interval(counts):
    return len(counts) >= 2 and all(b > a for a, b in zip(counts, counts[1:]))


# --- samples -------------------------------------------------------------------

@dataclass
class Sample:
    time: float                     # epoch seconds, when the census ended
    rss: Optional[int]              # VmRSS at the attach, before pyleaks
    total_objects: int
    total_bytes: int
    census_s: float                 # the helper's time for the census
    pause_s: float = 0.0            # attach (or command start) to detach
    types: Dict[str, Tuple[int, int]] = field(default_factory=dict)


@dataclass
class Series:
    """One type over the samples: counts and bytes, 0 where it had no
    object."""

    name: str
    counts: List[int]
    bytes: List[int]

    @property
    def growth(self):
        return self.counts[-1] - self.counts[0]

    @property
    def deltas(self):
        return [b - a for a, b in zip(self.counts, self.counts[1:])]


@dataclass
class Watch:
    pid: int
    interval: float
    asked: int
    target: Optional[target_mod.Target] = None
    samples: List[Sample] = field(default_factory=list)
    # Why the watch ended before its last sample (None: it did not).
    stopped: Optional[str] = None
    error: Optional[PyleaksError] = None
    detached: bool = False          # gdb is not attached to it now
    containers: Optional[Dict[int, Tuple[str, int]]] = None
    analysis: Optional[findings.Analysis] = None
    analysis_s: float = 0.0
    notes: List[str] = field(default_factory=list)

    @property
    def complete(self):
        return self.stopped is None

    def series(self):
        """Every type of any sample, as a Series."""
        names = set()
        for s in self.samples:
            names.update(s.types)
        out = []
        for name in names:
            pairs = [s.types.get(name, (0, 0)) for s in self.samples]
            out.append(Series(name, [c for c, _ in pairs],
                              [b for _, b in pairs]))
        return out

    def growing_types(self):
        """The types whose count rose in every interval (the leak
        candidates), most growth first."""
        grown = [s for s in self.series() if grew_every_interval(s.counts)]
        return sorted(grown, key=lambda s: (-s.growth, s.name))

    def sawtooth_types(self):
        """The types whose count rose and fell without growing: garbage
        that is made and freed again, biggest swing first."""
        out = [s for s in self.series()
               if series_verdict(s.counts) == SAWTOOTH]
        return sorted(out, key=lambda s: (-(max(s.counts) - min(s.counts)),
                                          s.name))

    def rss_values(self):
        return [s.rss for s in self.samples]

    def python_values(self):
        return [s.total_bytes for s in self.samples]

    def verdicts(self):
        rss = self.rss_values()
        py = self.python_values()
        v_rss = series_verdict(rss, noise_floor(
            [v for v in rss if v is not None], RSS_FLOOR))
        v_py = series_verdict(py, noise_floor(py, PYTHON_FLOOR))
        return {"rss": v_rss, "python": v_py,
                "overall": overall_verdict(v_rss, v_py)}


# --- letting the target run between samples ---------------------------------

def _state_and_tracer(pid):
    """(state letter, TracerPid) from /proc; (None, None) when gone."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            stat = f.read()
        with open("/proc/%d/status" % pid) as f:
            tracer = next((int(line.split()[1]) for line in f
                           if line.startswith("TracerPid:")), 0)
    except (OSError, ValueError, IndexError):
        return None, None
    return chr(stat[stat.rfind(b")") + 2]), tracer


def _suppressed_output(command):
    """Run a gdb command quietly: its output captured, and gdb's own
    notice of where the target stopped (printed outside the command's
    output) suppressed."""
    try:
        old = gdb.parameter("suppress-cli-notifications")
    except (gdb.error, RuntimeError):
        old = None
    if old is not None:
        gdb.execute("set suppress-cli-notifications on", to_string=True)
    try:
        return gdb.execute(command, to_string=True)
    finally:
        if old is not None:
            gdb.execute("set suppress-cli-notifications %s"
                        % ("on" if old else "off"), to_string=True)


def detach(pid):
    """pyleaks' normal way out: the helper and the stub unloaded, then
    gdb detaches.  The target then runs as before, not traced."""
    api.release(pid, quiet=False)
    _suppressed_output("detach")


def attach(pid):
    """Attach gdb to the process again; a fresh attach for pyleaks."""
    try:
        _suppressed_output("attach %d" % pid)
    except gdb.error as exc:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else \
            type(exc).__name__
        raise PyleaksError("cannot attach to process %d again: %s"
                           % (pid, text)) from None
    if gdb.selected_inferior().pid != pid:
        raise PyleaksError("cannot attach to process %d again" % pid)
    pstate = session.state(pid)
    # Nobody but pyleaks has resumed it since this attach.
    pstate.user_resumed = False


def why_not_attach(pid, start_time):
    """Why gdb must not attach to the process again, or None."""
    state, tracer = _state_and_tracer(pid)
    if state is None or state in "ZX" or not process_alive(pid) or \
            growth.process_identity(pid)["start_time"] != start_time:
        return "process %d exited" % pid
    if tracer:
        return ("process %d is now traced by PID %d (gdb/strace?)"
                % (pid, tracer))
    if state in "Tt":
        return ("process %d was stopped (SIGSTOP) meanwhile, and attaching "
                "would resume it" % pid)
    return None


def wait(seconds):
    """Sleep while the target runs, until the time is up (None) or a
    signal asks pyleaks to stop (the signal number)."""
    deadline = time.monotonic() + seconds
    while True:
        sig = interrupts.pending()
        if sig is not None:
            return sig
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        if interrupts.SESSION:
            # The wrapper's gdb blocks them: wait for one, or the time.
            got = signal.sigtimedwait(interrupts.CAUGHT, min(left, 0.5))
            if got is not None:
                interrupts.received.append(got.si_signo)
        else:
            time.sleep(min(left, 0.05))


# --- the watch -------------------------------------------------------------------

def _take(w, force, first):
    """One sample of the attached target: its RSS, then the census."""
    rss = memory.rss(w.pid)
    ctx, res = api.census("count", 0, force)
    now = time.time()
    w.target = ctx.target
    for note in ctx.notes:
        if note not in w.notes:
            w.notes.append(note)
    sample = Sample(now, rss, res.total_objects, res.total_bytes,
                    res.call_ns / 1e9,
                    types={r["name"]: (r["count"], r["bytes"])
                           for r in res.rows})
    if first:
        _, ares = api.analyze(0, findings.MAX_CONTAINERS, force)
        w.containers = {r["address"]: (r["name"], r["length"])
                        for r in ares.rows if r["section"] ==
                        abi.SECTION_CONTAINER}
    return sample, res


def _interrupted(w, sig, what):
    interrupts.mark_reported()
    w.stopped = "interrupted by %s %s" % (interrupts.name(sig), what)


def run(pid, seconds, n_samples, force, analysis, progress=None):
    """Watch the attached process `pid`: n_samples samples, seconds
    apart.  Returns the Watch; its `error` is set when a sample failed,
    its `stopped` when the watch ended early (a signal, the process gone
    or stopped, a failure)."""
    command_started = time.monotonic()
    w = Watch(pid, seconds, n_samples)
    start_time = growth.process_identity(pid)["start_time"]
    # The first sample too is taken with nothing of pyleaks in the target
    # (an earlier command's helper would count in its RSS).
    try:
        api.release(pid, quiet=False)
    except PyleaksError as exc:
        w.stopped, w.error = "sample 1 of %d failed" % n_samples, exc
        return w
    last_res = None
    with interrupts.catching():
        for i in range(n_samples):
            started = command_started
            what = "sample %d of %d" % (i + 1, n_samples)
            if i:
                sig = wait(seconds)
                if sig is not None:
                    _interrupted(w, sig, "while waiting for " + what)
                    break
                why = why_not_attach(pid, start_time)
                if why is not None:
                    w.stopped = why
                    break
                started = time.monotonic()
                try:
                    attach(pid)
                except PyleaksError as exc:
                    w.stopped, w.error = plain(exc), exc
                    w.detached = gdb.selected_inferior().pid != pid
                    break
                w.detached = False
                sig = interrupts.pending()
                if sig is not None:
                    _leave(w, pid)
                    _interrupted(w, sig, "while attaching for " + what)
                    break
            try:
                sample, last_res = _take(w, force, i == 0 and analysis)
            except PyleaksError as exc:
                w.stopped, w.error = what + " failed", exc
                w.detached = gdb.selected_inferior().pid != pid
                break
            w.samples.append(sample)
            if i < n_samples - 1 and not _leave(w, pid):
                w.stopped = "detaching after %s failed" % what
            sample.pause_s = time.monotonic() - started
            if w.stopped:
                break
            if progress is not None and i < n_samples - 1:
                progress(w, sample)
    if w.complete and analysis:
        started = time.monotonic()
        try:
            w.analysis = findings.analyse(force, w.containers or {})
        except PyleaksError as exc:
            w.stopped, w.error = "the analysis after the last sample " \
                "failed", exc
        w.analysis_s = time.monotonic() - started
        if w.analysis is not None:
            for note in w.analysis.notes:
                if note not in w.notes:
                    w.notes.append(note)
    if len(w.samples) == n_samples and last_res is not None and \
            w.target is not None:
        _remember(w, last_res)
    return w


def plain(exc):
    return str(exc).replace("pyleaks: ", "", 1).rstrip(".")


def _leave(w, pid):
    """Detach (the helper unloaded first); False when that failed (the
    error is kept)."""
    try:
        detach(pid)
    except PyleaksError as exc:
        w.error = exc
        w.detached = gdb.selected_inferior().pid != pid
        return False
    w.detached = True
    return True


def _remember(w, res):
    """The last sample becomes the process's previous look, for the next
    py-leaks (with the big containers of the analysis, when made)."""
    look = growth.look_of(w.target, res.rows, w.samples[-1].time)
    if w.analysis is not None and isinstance(look.extra, dict):
        look.extra["containers"] = w.analysis.containers
    growth.record(w.target, look, None, w.notes)
