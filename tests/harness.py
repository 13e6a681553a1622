"""Shared machinery of the pyleaks tests: where things are, running real
gdb / the pyleaks wrapper with timeouts, target processes and their
oracle, and parsing the output."""

import glob
import json
import os
import re
import select
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

TESTS_DIR = Path(__file__).resolve().parent
TARGETS_DIR = TESTS_DIR / "targets"
HEAP_TARGET = TARGETS_DIR / "heap_target.py"
MALLOC_TARGET = TARGETS_DIR / "malloc_target.py"
BUSY_TARGET = TARGETS_DIR / "busy_target.py"

# Every subprocess gets a timeout; a gdb session on these small heaps
# takes a few seconds.
GDB_TIMEOUT = 180
TARGET_TIMEOUT = 60


def build_dir() -> Path:
    env = os.environ.get("PYLEAKS_BUILDDIR")
    if env:
        return Path(env).resolve()
    return (TESTS_DIR.parent / "build").resolve()


def pyleaks_exe() -> Path:
    return build_dir() / "pyleaks"


def gdb_script() -> Path:
    return build_dir() / "gdbplugin" / "pyleaks.gdb"


# ---------------------------------------------------------------------------
# Interpreters

def pyenv_root() -> Path:
    return Path(os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv"))


@dataclass
class Interpreter:
    id: str                 # pytest id: py3.8 ... py3.11-debian
    path: Optional[str]     # None when absent
    looked_for: str         # what was searched, for the skip reason
    missing: str = ""       # why it cannot be used ("" = usable)

    @property
    def available(self) -> bool:
        return self.path is not None and not self.missing

    def skip_reason(self) -> str:
        return "%s: %s" % (self.id, self.missing or "not found: looked for " + self.looked_for)


def _version_key(path: str):
    ver = Path(path).parent.parent.name
    return [int(x) if x.isdigit() else -1 for x in re.split(r"[.]", ver)]


def find_pyenv(minor: str) -> Interpreter:
    """The newest pyenv build of version `minor` ("3.8"), a final release
    (X.Y.Z, no rc/dev builds)."""
    pattern = str(pyenv_root() / "versions" / ("%s.*" % minor) / "bin" / ("python%s" % minor))
    found = [p for p in glob.glob(pattern)
             if re.fullmatch(r"\d+\.\d+\.\d+", Path(p).parent.parent.name)
             and os.access(p, os.X_OK)]
    found.sort(key=_version_key)
    return Interpreter("py" + minor, found[-1] if found else None, pattern)


def _build_id(path: str) -> Optional[str]:
    try:
        out = subprocess.run(["readelf", "-n", path], capture_output=True,
                             text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.search(r"Build ID:\s*([0-9a-f]+)", out)
    return m.group(1) if m else None


def find_debian(path: str = "/usr/bin/python3.11") -> Interpreter:
    """Debian's python3.11: symbols come from python3.11-dbg (build-id)."""
    it = Interpreter("py3.11-debian", path if os.access(path, os.X_OK) else None, path)
    if it.path:
        bid = _build_id(path)
        debug = "/usr/lib/debug/.build-id/%s/%s.debug" % (bid[:2], bid[2:]) if bid else None
        if not debug or not os.path.exists(debug):
            it.missing = ("%s has no separate debug symbols (looked for %s): "
                          "apt-get install python3.11-dbg" % (path, debug))
    return it


def all_interpreters() -> List[Interpreter]:
    return [find_pyenv(m) for m in ("3.8", "3.9", "3.10", "3.11", "3.12", "3.13")] + [find_debian()]


# ---------------------------------------------------------------------------
# Subprocesses

def clean_env(**extra) -> Dict[str, str]:
    """A predictable environment: no PYTHON* variables leaking into targets
    or gdb's embedded Python, UTF-8 output."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PYTHON") and k not in ("LD_LIBRARY_PATH", "LD_PRELOAD")}
    env["LC_ALL"] = "C.UTF-8"
    env.pop("LANGUAGE", None)
    env.update(extra)
    return env


@dataclass
class Run:
    argv: List[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + "\n" + self.stderr

    def describe(self) -> str:
        return ("$ %s\n-> exit %d\n--- stdout ---\n%s\n--- stderr ---\n%s"
                % (" ".join(repr(a) if " " in a else a for a in self.argv),
                   self.returncode, _clip(self.stdout), _clip(self.stderr)))

    def error_lines(self) -> List[str]:
        """Lines that are pyleaks error messages.  Not notes ('pyleaks:
        note: ...'); the text-mode census header also starts with
        'pyleaks:', so tests looking for errors never run a text census."""
        return [ln.strip() for ln in self.output.splitlines()
                if ln.strip().startswith("pyleaks:")
                and not ln.strip().startswith("pyleaks: note:")]


def _clip(s: str, n: int = 6000) -> str:
    return s if len(s) <= n else s[:n // 2] + "\n[... %d chars ...]\n" % (len(s) - n) + s[-n // 2:]


def run(argv, timeout=GDB_TIMEOUT, env=None) -> Run:
    """Run a command in its own process group; on timeout kill the group
    and fail with what it printed so far."""
    proc = subprocess.Popen([str(a) for a in argv], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env or clean_env(), start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        raise AssertionError("timed out after %ds: %s\n%s" % (
            timeout, argv, _clip(out.decode("utf-8", "replace")
                                 + err.decode("utf-8", "replace"))))
    return Run([str(a) for a in argv], proc.returncode,
               out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))


def marker(name: str) -> str:
    """A gdb command printing a line that splits the output into sections."""
    return "echo @@@ %s @@@\\n" % name


MARKER_RE = re.compile(r"^@@@ (\S+) @@@$")


def sections(text: str) -> Dict[str, str]:
    """Output of a session whose commands were preceded by marker(name)."""
    out: Dict[str, List[str]] = {}
    current = None
    for line in text.splitlines():
        m = MARKER_RE.match(line.strip())
        if m:
            current = m.group(1)
            out[current] = []
        elif current is not None:
            out[current].append(line)
    return {k: "\n".join(v) for k, v in out.items()}


def commands_with_markers(named_cmds):
    """[(name, cmd)] -> [marker, cmd, marker, cmd, ..., marker('end')]"""
    cmds = []
    for name, cmd in named_cmds:
        cmds += [marker(name), cmd]
    return cmds + [marker("end")]


def pyleaks(pid, *cmds, timeout=GDB_TIMEOUT, env=None) -> Run:
    argv = [pyleaks_exe(), "--pid", str(pid)]
    for c in cmds:
        argv += ["-c", c]
    return run(argv, timeout=timeout, env=env)


def plain_gdb(pid, *cmds, timeout=GDB_TIMEOUT) -> Run:
    argv = ["gdb", "-nx", "--batch", "-q"]
    if pid is not None:
        argv += ["-p", str(pid)]
    argv += ["-x", gdb_script()]
    for c in cmds:
        argv += ["-ex", c]
    return run(argv, timeout=timeout)


def one_json(text: str, what: str = "output"):
    """The single JSON object line in text (the --json contract)."""
    objs = []
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("{"):
            try:
                objs.append(json.loads(s))
            except ValueError as e:
                raise AssertionError("invalid JSON line in %s: %s\n%s" % (what, e, _clip(s)))
    assert len(objs) == 1, "expected exactly one JSON line in %s, got %d:\n%s" % (
        what, len(objs), _clip(text))
    return objs[0]


TRACEBACK_MARKS = ("Traceback (most recent call last)", "Python Exception")


def assert_no_traceback(r: Run):
    for m in TRACEBACK_MARKS:
        assert m not in r.output, "a Python traceback leaked (%r):\n%s" % (m, r.describe())


def assert_refused(r: Run, *needles: str, alternatives=()):
    """A clean pyleaks error: non-zero exit, a 'pyleaks:' line that says
    (case-insensitively) every needle, and no traceback."""
    assert_no_traceback(r)
    assert r.returncode != 0, "expected a non-zero exit status:\n" + r.describe()
    lines = r.error_lines()
    assert lines, "no 'pyleaks:' error message:\n" + r.describe()
    text = "\n".join(lines).lower()
    missing = [n for n in needles if n.lower() not in text]
    assert not missing, "the pyleaks message does not mention %s:\n%s" % (missing, r.describe())
    if alternatives:
        assert any(a.lower() in text for a in alternatives), (
            "the pyleaks message mentions none of %s:\n%s" % (list(alternatives), r.describe()))
    return lines


# ---------------------------------------------------------------------------
# Processes

def proc_state(pid) -> Optional[str]:
    """State letter from /proc/PID/stat (None when the process is gone)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            data = f.read()
    except OSError:
        return None
    return data[data.rindex(")") + 2]


def settled_state(pid, timeout=3.0) -> Optional[str]:
    """The state once a just-detached process has gone back to what it was
    doing: a thread resumed by a detach is runnable ('R') for a moment
    before it re-enters its blocking call."""
    deadline = time.monotonic() + timeout
    state = proc_state(pid)
    while state == "R" and time.monotonic() < deadline:
        time.sleep(0.02)
        state = proc_state(pid)
    return state


def tracer_pid(pid) -> Optional[int]:
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("TracerPid:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


@dataclass(frozen=True)
class Mapping:
    start: int
    end: int
    perms: str
    offset: int
    path: str

    @property
    def size(self):
        return self.end - self.start


def read_maps(pid) -> List[Mapping]:
    maps = []
    with open("/proc/%d/maps" % pid) as f:
        for line in f:
            parts = line.split(None, 5)
            lo, hi = parts[0].split("-")
            maps.append(Mapping(int(lo, 16), int(hi, 16), parts[1], int(parts[2], 16),
                                parts[5].strip() if len(parts) > 5 else ""))
    return maps


# How much more anonymous memory a target may have after a pyleaks
# session: dlopen()/dlclose() of the helper may leave glibc bookkeeping
# behind, but the helper's arenas (reserved in much larger regions) must
# all be unmapped.
ANON_GROWTH_LIMIT = 1 << 20


def maps_problems(before: List[Mapping], after: List[Mapping]) -> List[str]:
    """What a pyleaks session left in the target's address space."""
    problems = ["pyleaks mapping left: %s" % m.path for m in after if "pyleaks" in m.path]
    files_before = {m for m in before if m.path.startswith("/")}
    files_after = {m for m in after if m.path.startswith("/")}
    for m in sorted(files_after - files_before, key=lambda m: m.start):
        problems.append("new file mapping: %x-%x %s %s" % (m.start, m.end, m.perms, m.path))
    for m in sorted(files_before - files_after, key=lambda m: m.start):
        problems.append("file mapping changed/removed: %x-%x %s %s" % (m.start, m.end, m.perms, m.path))
    anon_before = sum(m.size for m in before if not m.path)
    anon_after = sum(m.size for m in after if not m.path)
    if anon_after - anon_before > ANON_GROWTH_LIMIT:
        problems.append("anonymous memory grew by %d bytes (limit %d)"
                        % (anon_after - anon_before, ANON_GROWTH_LIMIT))
    return problems


class Target:
    """A Python process running one of tests/targets/*.py: started, waited
    for until it prints its ready line, woken by one request line, always
    killed in close().  prefix: a command that runs it (unshare ...)."""

    def __init__(self, python, script=HEAP_TARGET, env=None, args=(), prefix=()):
        self.argv = ([str(a) for a in prefix] + [str(python), "-u", str(script)]
                     + [str(a) for a in args])
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=env or clean_env(), cwd=str(TARGETS_DIR))
        self.pid = self.proc.pid
        self.report = None
        self.returncode = None
        self.stderr = ""
        try:
            self.ready = self._read_ready()
        except BaseException:
            self.close()
            raise

    def _read_ready(self):
        fd = self.proc.stdout.fileno()
        buf = b""
        deadline = time.monotonic() + TARGET_TIMEOUT
        while b"\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None and not select.select([fd], [], [], 0)[0]:
                raise AssertionError("target %s did not become ready (exit %s); stderr:\n%s"
                                     % (self.argv, self.proc.poll(), self._stderr_now()))
            if select.select([fd], [], [], min(left, 0.5))[0]:
                chunk = os.read(fd, 65536)
                if not chunk and self.proc.poll() is not None:
                    continue
                buf += chunk
        line, rest = buf.split(b"\n", 1)
        assert not rest, "target printed more than its ready line: %r" % rest
        ready = json.loads(line)
        assert ready.get("ready") and ready["pid"] == self.pid, ready
        return ready

    def _stderr_now(self):
        if self.proc.poll() is None:
            return "(still running)"
        return self.proc.stderr.read().decode("utf-8", "replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def state(self):
        return proc_state(self.pid)

    def settled_state(self):
        return settled_state(self.pid)

    def maps(self):
        return read_maps(self.pid)

    def wake(self, addresses=(), request=None):
        """Send the request line ({"addresses": [...]}, or the whole request
        when given); return the target's report (the last JSON line it
        printed).  The process must exit 0."""
        if request is None:
            request = {"addresses": sorted(set(addresses))}
        request = json.dumps(request) + "\n"
        try:
            out, err = self.proc.communicate(request.encode(), timeout=TARGET_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.close()
            raise AssertionError("target %d did not answer within %ds (state %s)"
                                 % (self.pid, TARGET_TIMEOUT, self.state()))
        self.returncode = self.proc.returncode
        self.stderr = err.decode("utf-8", "replace")
        lines = [ln for ln in out.decode("utf-8", "replace").splitlines() if ln.strip()]
        assert self.returncode == 0, "target exited %d; stderr:\n%s" % (self.returncode, self.stderr)
        assert lines, "target printed no report; stderr:\n" + self.stderr
        self.report = json.loads(lines[-1])
        return self.report

    def close(self):
        if self.proc.poll() is None:
            try:
                os.kill(self.pid, signal.SIGCONT)
                self.proc.kill()
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                f.close()
            except Exception:
                pass


def assert_untouched(report):
    """The target's own verdict: nothing it owns changed."""
    assert report["refcounts_after"] == report["refcounts_before"], (
        "refcounts of sample objects changed: before %s after %s"
        % (report["refcounts_before"], report["refcounts_after"]))
    assert report["checksum_after"] == report["checksum_before"], "the target's data changed"
    assert report["freeze_count_after"] == report["freeze_count_before"], (
        "permanent generation changed: %d -> %d objects"
        % (report["freeze_count_before"], report["freeze_count_after"]))
    assert report["gc_enabled"] is False, "the collector was re-enabled in the target"


# ---------------------------------------------------------------------------
# Comparing a census with the oracle

# Types whose sizes must equal sys.getsizeof exactly (docs/sizes.md).
EXACT_SIZE_TYPES = ("list", "tuple", "bytes", "float", "set", "frozenset", "bytearray", "str")

# Objects that exist when the oracle counts but did not when pyleaks
# looked (or the reverse) and that the oracle cannot exclude by id, per
# type.  Empty: waking the target creates nothing the census set can
# reach -- the request bytes and the oracle's own frame and containers
# are excluded by id, the collector is off, nothing else runs -- and the
# counts were measured equal on every interpreter (3.8-3.13, Debian's
# 3.11).  A change of the target that needs a tolerance must list the
# builtin type and the objects' origin here, a few objects at most.
WAKEUP_TOLERANCE: Dict[str, int] = {}


def census_rows(j) -> Dict[str, dict]:
    rows = {}
    for row in j["types"]:
        assert row["type"] not in rows, "type %r listed twice" % row["type"]
        rows[row["type"]] = row
    return rows


def census_mismatches(j, oracle) -> List[str]:
    """Per-type differences between a py-leaks --json census and the
    oracle's, beyond WAKEUP_TOLERANCE."""
    rows = census_rows(j)
    ocensus = oracle["census"]
    bad = []
    for name in sorted(set(rows) | set(ocensus)):
        got = rows[name]["count"] if name in rows else 0
        want = ocensus[name][0] if name in ocensus else 0
        if abs(got - want) > WAKEUP_TOLERANCE.get(name, 0):
            bad.append("%-40s pyleaks %7d  oracle %7d  (%+d)" % (name, got, want, got - want))
    return bad


def size_mismatches(j, oracle) -> List[str]:
    rows = census_rows(j)
    bad = []
    for name in EXACT_SIZE_TYPES:
        if name not in oracle["census"]:
            continue
        count, nbytes, unsized = oracle["census"][name]
        assert unsized == 0, "oracle could not size %d %s objects" % (unsized, name)
        row = rows.get(name)
        if row is None:
            bad.append("%s: missing from the census" % name)
        elif row["count"] != count:
            bad.append("%-10s %d objects, the oracle has %d: bytes not comparable"
                       % (name, row["count"], count))
        elif row["bytes"] != nbytes:
            bad.append("%-10s pyleaks %9d bytes  sys.getsizeof %9d  (%+d) over %d objects"
                       % (name, row["bytes"], nbytes, row["bytes"] - nbytes, count))
    return bad


ADDRESS_RE = re.compile(r"\b0x[0-9a-fA-F]+\b")


def objects_addresses(j) -> List[str]:
    return [normalize_address(o["address"]) for o in j["objects"]]


def normalize_address(a: str) -> str:
    return hex(int(a, 16))


def repr_matches(shown: str, true: str) -> bool:
    """pyleaks' short repr equals the target's repr(), or is a prefix of it
    (at least 12 characters) cut short with an ellipsis ('...' or the
    one-character one), the closing quote before or after the ellipsis."""
    if shown == true:
        return True
    m = re.fullmatch(r"(.*?)['\"]?(?:\.\.\.|\u2026)['\"]?", shown, re.S)
    if not m:
        return False
    body = m.group(1)
    return len(body) >= 12 and len(body) < len(true) and true.startswith(body)


# ---------------------------------------------------------------------------
# Long-running targets and what a session leaves behind (tests/test_faults.py)

FAULT_TARGET = TARGETS_DIR / "fault_target.py"


class ControlledTarget(Target):
    """A Target that answers any number of requests (one JSON line each
    way) instead of one wake-up: tests/targets/fault_target.py."""

    def __init__(self, python, script=FAULT_TARGET, env=None, args=()):
        super().__init__(python, script, env=env, args=args)
        self._buf = b""

    def ask(self, op="state", timeout=10.0):
        """The target's answer to {"op": op}.  A target that is stopped,
        traced or dead cannot answer: say so instead of waiting."""
        try:
            self.proc.stdin.write((json.dumps({"op": op}) + "\n").encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError):
            raise AssertionError("target %d is gone (exit %s); stderr:\n%s"
                                 % (self.pid, self.proc.poll(), self._stderr_now()))
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(
                    "target %d did not answer %r within %.0f s: alive %s, TracerPid %s, "
                    "threads (state, kernel wait channel) %s -- a thread that keeps a "
                    "lock or the GIL forever hangs it" % (
                        self.pid, op, timeout, self.alive(), tracer_pid(self.pid),
                        thread_waits(self.pid)))
            if select.select([fd], [], [], min(left, 0.5))[0]:
                chunk = os.read(fd, 65536)
                if not chunk:
                    raise AssertionError("target %d closed its output (exit %s); stderr:\n%s"
                                         % (self.pid, self.proc.wait(10), self._stderr_now()))
                self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        return json.loads(line)


def children(pid) -> List[int]:
    """Child processes of pid (all its threads' children)."""
    kids = []
    try:
        for task in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/children" % (pid, task)) as f:
                kids += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return kids


def proc_comm(pid) -> Optional[str]:
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return None


def session_members(sid) -> List[int]:
    """Live (non-zombie) processes of session sid."""
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                data = f.read()
        except OSError:
            continue
        fields = data[data.rindex(")") + 2:].split()
        # state ppid pgrp session ...
        if int(fields[3]) == sid and fields[0] not in ("Z", "X"):
            pids.append(int(name))
    return pids


def code_differences(pid, skip=()) -> List[str]:
    """Executable file mappings of pid whose bytes differ from their file:
    a breakpoint instruction a debugger left in the code (or any other
    write to it).  Paths containing a string of skip, and deleted files,
    are not compared."""
    problems = []
    try:
        mem = open("/proc/%d/mem" % pid, "rb", buffering=0)
    except OSError as e:
        return ["cannot read /proc/%d/mem: %s" % (pid, e)]
    with mem:
        for m in read_maps(pid):
            if "x" not in m.perms or not m.path.startswith("/") or m.path.endswith("(deleted)"):
                continue
            if any(s in m.path for s in skip):
                continue
            try:
                with open(m.path, "rb") as f:
                    f.seek(m.offset)
                    want = f.read(m.size)
                mem.seek(m.start)
                got = mem.read(len(want))
            except OSError:
                continue  # unmapped meanwhile (a library being dlclose()d)
            if got != want:
                n = next(i for i in range(len(got)) if got[i] != want[i])
                problems.append("%s: code at 0x%x (file offset 0x%x) is %02x, the file has %02x"
                                % (m.path, m.start + n, m.offset + n, got[n], want[n]))
    return problems


def thread_states(pid) -> Dict[int, str]:
    """State letter of every thread of pid."""
    states = {}
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return states
    for tid in tids:
        try:
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                data = f.read()
        except OSError:
            continue
        states[int(tid)] = data[data.rindex(")") + 2]
    return states


def thread_waits(pid) -> Dict[int, str]:
    """State and kernel wait channel of every thread of pid: what a hung
    process is waiting for (futex_wait_queue: a lock)."""
    out = {}
    for tid, state in thread_states(pid).items():
        try:
            with open("/proc/%d/task/%d/wchan" % (pid, tid)) as f:
                out[tid] = "%s %s" % (state, f.read().strip() or "-")
        except OSError:
            out[tid] = state
    return out


def pending_signals(pid) -> int:
    """Signals pending in pid, for the process and any of its threads, as
    a mask (bit n-1 = signal n): a standard signal sent while the same one
    is pending is merged with it by the kernel."""
    mask = 0
    paths = ["/proc/%d/status" % pid]
    try:
        paths += ["/proc/%d/task/%s/status" % (pid, t) for t in os.listdir("/proc/%d/task" % pid)]
    except OSError:
        pass
    for path in paths:
        try:
            with open(path) as f:
                for line in f:
                    if line.startswith(("SigPnd:", "ShdPnd:")):
                        mask |= int(line.split()[1], 16)
        except OSError:
            pass
    return mask
