"""Fixtures: the interpreters under test, the built pyleaks, targets, and
one recorded pyleaks session per interpreter that most tests inspect.

Run with `make check` (or `make check-pytest`) in a build tree, or by hand:
    PYLEAKS_BUILDDIR=/path/to/build /usr/bin/python3 -m pytest tests
(the python that has pytest; the targets run under each interpreter found,
see pytest's header for which were found and which are skipped)."""

from dataclasses import dataclass
from typing import Dict, List, Optional

import pytest

import harness
from harness import Target

INTERPRETERS = harness.all_interpreters()


def pytest_report_header(config):
    lines = ["pyleaks build tree: %s" % harness.build_dir()]
    for it in INTERPRETERS:
        lines.append("  %-14s %s" % (it.id, it.path if it.available else "SKIP (" + it.skip_reason() + ")"))
    return lines


@pytest.fixture(scope="session")
def built():
    """The build tree must hold the wrapper and the gdb script: running the
    suite against nothing is a setup error, not a skip."""
    missing = [str(p) for p in (harness.pyleaks_exe(), harness.gdb_script()) if not p.exists()]
    if missing:
        pytest.fail("pyleaks is not built: missing %s (build it, or set PYLEAKS_BUILDDIR "
                    "to the build tree)" % ", ".join(missing), pytrace=False)
    return harness.build_dir()


@pytest.fixture(scope="session", params=[pytest.param(it, id=it.id) for it in INTERPRETERS])
def interp(request, built):
    it = request.param
    if not it.available:
        pytest.skip(it.skip_reason())
    return it


@pytest.fixture(scope="session")
def primary(built):
    """The interpreter the error-path tests run on: pyenv 3.11 if present,
    else the newest one found."""
    usable = [it for it in INTERPRETERS if it.available]
    if not usable:
        pytest.skip("no supported interpreter found: " + "; ".join(i.skip_reason() for i in INTERPRETERS))
    for it in usable:
        if it.id == "py3.11":
            return it
    return usable[-1]


@pytest.fixture
def make_target():
    """Start targets; every one is killed when the test ends."""
    started: List[Target] = []

    def start(python, script=harness.HEAP_TARGET, env=None, args=()):
        t = Target(python, script, env=env, args=args)
        started.append(t)
        return t

    yield start
    for t in started:
        t.close()


# ---------------------------------------------------------------------------
# The recorded session: one target per interpreter, one pyleaks run with
# every command the census/objects/untouched tests look at, then the
# oracle.  Recorded once and shared, so the suite attaches to each
# interpreter once for all of these checks.

SESSION_COMMANDS = [
    ("census", "py-leaks --json"),
    ("census_again", "py-leaks --json"),
    ("top_bytes", "py-leaks --json --top 5 --sort bytes"),
    ("top_count", "py-leaks --json --top 5 --sort count"),
    ("top_default", "py-leaks --json --top 7"),
    ("text", "py-leaks"),
    ("slotted_all", "py-objects __main__.Slotted --json --limit 1000"),
    ("slotted_short", "py-objects Slotted --json --limit 5"),
    ("handler_default", "py-objects Handler --json"),
    ("inner_qualname", "py-objects Outer.Inner --json --limit 100"),
    ("inner_last", "py-objects Inner --json --limit 3"),
    ("dup_merged", "py-objects __main__.Dup --json --limit 100"),
    ("frozen", "py-objects Frozen --json --limit 100"),
    ("garbage", "py-objects Garbage --json --limit 100"),
    ("mydict", "py-objects MyDict --json --limit 1000"),
    ("str", "py-objects str --json --limit 400"),
    ("int", "py-objects int --json --limit 400"),
    ("float", "py-objects float --json --limit 200"),
    ("slotted_text", "py-objects Slotted"),
    ("py_bt", "py-bt"),
    ("census_last", "py-leaks --json"),
    ("force", "py-leaks --json --force --top 3"),
    # The target runs (an inferior call of the user's): the graph must be
    # rebuilt, and the heap has not changed.
    ("run_target", "call (int)getpid()"),
    ("census_after_run", "py-leaks --json"),
]


@dataclass
class Session:
    interp: harness.Interpreter
    ready: dict
    run: harness.Run
    out: Dict[str, str]          # stdout per command name
    state_after: Optional[str]   # /proc state right after pyleaks exited
    tracer_after: Optional[int]
    maps_problems: List[str]
    wake_report: Optional[dict]  # the target's oracle and verdict
    wake_error: str              # why there is none

    @property
    def report(self) -> dict:
        assert self.wake_report is not None, (
            "the target did not report after the session: %s\n%s"
            % (self.wake_error, self.run.describe()))
        return self.wake_report

    def json(self, name):
        assert name in self.out, "no output section %r:\n%s" % (name, self.run.describe())
        return harness.one_json(self.out[name], name)


_sessions: Dict[str, Session] = {}


def record_session(it: harness.Interpreter) -> Session:
    target = Target(it.path)
    try:
        maps_before = target.maps()
        r = harness.pyleaks(target.pid, *harness.commands_with_markers(SESSION_COMMANDS))
        state_after = target.settled_state()
        tracer_after = harness.tracer_pid(target.pid)
        problems = harness.maps_problems(maps_before, target.maps())
        out = harness.sections(r.stdout)
        addresses = set()
        for name, cmd in SESSION_COMMANDS:
            if not cmd.startswith("py-objects") or name not in out:
                continue
            for a in harness.ADDRESS_RE.findall(out[name]):
                addresses.add(harness.normalize_address(a))
        report, error = None, ""
        try:
            report = target.wake(addresses)
        except AssertionError as e:
            error = str(e)
        return Session(it, target.ready, r, out, state_after, tracer_after, problems,
                       report, error)
    finally:
        target.close()


_failed: Dict[str, str] = {}


@pytest.fixture(scope="session")
def chain_session(interp, tmp_path_factory):
    """The recorded py-chain/py-refs/py-backrefs session (chain_harness.py)."""
    import chain_harness
    try:
        return chain_harness.get_session(interp, tmp_path_factory)
    except AssertionError as e:
        pytest.fail(str(e), pytrace=False)


@pytest.fixture(scope="session")
def session(interp) -> Session:
    if interp.id in _failed:
        pytest.fail(_failed[interp.id], pytrace=False)
    if interp.id not in _sessions:
        try:
            _sessions[interp.id] = record_session(interp)
        except AssertionError as e:
            _failed[interp.id] = "recording the %s session failed: %s" % (interp.id, e)
            raise
    return _sessions[interp.id]
