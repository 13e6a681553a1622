"""The recorded sessions of the findings tests (tests/test_findings.py):
one target per scenario and interpreter (targets/findings_target.py, the
clean program targets/findings_clean.py), one or two `py-leaks --json`
runs with the target working in between, then the target's oracle; and
the checks of the "findings" array against it.

The JSON contract under test (py-leaks --json):

    "findings": [{"kind", "summary", "objects": ["0x..."], "count",
                  "bytes", "type": str|null,
                  "chain": {"root": {"kind", "description"}|null,
                            "hops": [{"address", "type", "label", "repr"}]}
                           |null,
                  "hint", "growth" (growing_container only)}]

always present, [] when nothing is found.  Looks are remembered in
$PYLEAKS_STATE_DIR: every session gets a fresh one.

Run standalone to check the targets without pyleaks (each scenario on
every interpreter: ready line, blocked in its read, the second look,
the oracle), or with --pyleaks to run the looks too and print what was
found:

    python3 tests/findings_harness.py [--pyleaks] [SCENARIO...]
"""

import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import harness

FINDINGS_TARGET = harness.TARGETS_DIR / "findings_target.py"
FINDINGS_CLEAN = harness.TARGETS_DIR / "findings_clean.py"

KINDS = ("growing_container", "mutable_default", "lru_cache_instances", "retained_traceback",
         "observer_leak", "cyclic_garbage", "uncollectable", "unexplained_refs")

# Scenarios of findings_target.py, each planting findings of one kind.
LEAK_SCENARIOS = ("growing_container", "mutable_default", "lru_cache_instances",
                  "retained_traceback", "last_traceback", "observer_leak",
                  "cyclic_garbage", "uncollectable", "unexplained_refs")
CLEAN = "clean"
SCENARIOS = LEAK_SCENARIOS + (CLEAN,)

# The request that makes a two-look target work between its looks.
BETWEEN_LOOKS = {"growing_container": "grow", CLEAN: "work"}

ORACLE_TIMEOUT = 120
WORK_TIMEOUT = 120

# Refusals whose advice is to retry (docs/safety.md): a thread of the
# clean program (its ticker) inside malloc or holding the GIL when
# pyleaks looks.  They say nothing about findings: retried.
RETRY = ("is inside malloc", "is inside the dynamic loader", "did not reach a safe point")


# ---------------------------------------------------------------------------
# The target

class FindingsTarget(harness.ControlledTarget):
    """A findings target: the ready line, then one JSON line answered per
    request ({"op": "grow"|"work"|"oracle"}); it exits after "oracle"."""

    def __init__(self, python, scenario, ext=None):
        script = FINDINGS_CLEAN if scenario == CLEAN else FINDINGS_TARGET
        args = [] if scenario == CLEAN else [scenario] + ([str(ext)] if ext else [])
        super().__init__(python, script, args=args,
                         env=harness.clean_env(PYTHONDONTWRITEBYTECODE="1"))
        self.scenario = scenario

    def between_looks(self):
        op = BETWEEN_LOOKS[self.scenario]
        answer = self.ask(op, timeout=WORK_TIMEOUT)
        assert "error" not in answer, "target refused %r: %r" % (op, answer)
        return answer

    def oracle(self):
        answer = self.ask("oracle", timeout=ORACLE_TIMEOUT)
        assert "error" not in answer, "target refused the oracle request: %r" % (answer,)
        try:
            self.returncode = self.proc.wait(timeout=harness.TARGET_TIMEOUT)
        except Exception:
            self.returncode = None
        self.stderr = self._stderr_now() if self.returncode is not None else "(still running)"
        assert self.returncode == 0, "target exited %s after its oracle; stderr:\n%s" % (
            self.returncode, self.stderr)
        return answer


def main_thread_syscall(pid) -> Optional[List[str]]:
    try:
        with open("/proc/%d/syscall" % pid) as f:
            return f.read().split()
    except OSError:
        return None


def blocked_in_request(pid, timeout=10.0) -> bool:
    """The main thread sleeps in read(0, ...): protocol.request()."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sc = main_thread_syscall(pid)
        if sc and sc[0] == "0" and int(sc[1], 16) == 0 and harness.proc_state(pid) == "S":
            return True
        time.sleep(0.05)
    return False


# ---------------------------------------------------------------------------
# The session

def look(pid, state_dir, attempts=4) -> harness.Run:
    env = harness.clean_env(PYLEAKS_STATE_DIR=str(state_dir))
    r = None
    for _ in range(attempts):
        r = harness.pyleaks(pid, "py-leaks --json", env=env)
        if r.returncode == 0 or not any(m in r.stderr for m in RETRY):
            return r
        time.sleep(0.3)
    return r


@dataclass
class FindingsSession:
    interp: harness.Interpreter
    scenario: str
    ready: dict
    runs: List[harness.Run]
    between: Optional[dict]         # the target's answer between the looks
    oracle: dict
    state_dir: Path
    looks: List[Optional[dict]] = field(default_factory=list)   # parsed JSON per run
    look_errors: List[str] = field(default_factory=list)

    def findings(self, i=-1) -> list:
        """The findings of look i (the last by default)."""
        j = self.looks[i]
        assert j is not None, "look %d gave no JSON: %s\n%s" % (
            i, self.look_errors[i], self.runs[i].describe())
        assert "findings" in j, ("py-leaks --json has no \"findings\" (look %d of %d); keys: %s"
                                 % (i % len(self.looks) + 1, len(self.looks), sorted(j)))
        assert isinstance(j["findings"], list), "\"findings\" is not a list: %r" % (j["findings"],)
        return j["findings"]


def record(interp: harness.Interpreter, scenario: str, workdir: Path,
           ext=None) -> FindingsSession:
    workdir.mkdir(parents=True, exist_ok=True)
    state_dir = workdir / "state"
    state_dir.mkdir(exist_ok=True)
    target = FindingsTarget(interp.path, scenario, ext)
    try:
        runs = [look(target.pid, state_dir)]
        between = None
        if target.ready.get("looks") == 2:
            between = target.between_looks()
            runs.append(look(target.pid, state_dir))
        oracle = target.oracle()
    finally:
        target.close()
    s = FindingsSession(interp, scenario, target.ready, runs, between, oracle, state_dir)
    for r in runs:
        try:
            s.looks.append(harness.one_json(r.stdout, "py-leaks --json") if r.returncode == 0
                           else None)
            s.look_errors.append("" if r.returncode == 0 else "pyleaks exited %d" % r.returncode)
        except AssertionError as e:
            s.looks.append(None)
            s.look_errors.append(str(e))
    return s


_sessions: Dict[tuple, FindingsSession] = {}
_failed: Dict[tuple, str] = {}


def get_session(interp, scenario, workdir_factory, ext=None) -> FindingsSession:
    key = (interp.id, scenario)
    if key in _failed:
        raise AssertionError(_failed[key])
    if key not in _sessions:
        try:
            _sessions[key] = record(interp, scenario, workdir_factory(), ext)
        except AssertionError as e:
            _failed[key] = "recording the %s %s session failed: %s" % (interp.id, scenario, e)
            raise AssertionError(_failed[key])
    return _sessions[key]


# ---------------------------------------------------------------------------
# Checks

def norm(a) -> Optional[str]:
    try:
        return harness.normalize_address(a)
    except (TypeError, ValueError):
        return None


def show(f) -> str:
    """A finding in a few lines, for failure messages."""
    f = dict(f)
    objs = f.get("objects")
    if isinstance(objs, list) and len(objs) > 5:
        f["objects"] = objs[:5] + ["... %d in all" % len(objs)]
    chain = f.pop("chain", None)
    text = json.dumps(f, sort_keys=True)
    if isinstance(chain, dict):
        text += "\n    chain root %r" % (chain.get("root"),)
        for h in chain.get("hops") or []:
            if isinstance(h, dict):
                text += "\n      %-30s %-28s %s" % (h.get("label"), h.get("type"), h.get("address"))
    else:
        text += "\n    chain %r" % (chain,)
    return text


def show_all(findings) -> str:
    if not findings:
        return "  (no findings)"
    return "\n".join("  " + show(f) for f in findings)


def shape_problems(f) -> List[str]:
    """What in one finding does not follow the JSON contract."""
    bad = []
    if not isinstance(f, dict):
        return ["not an object: %r" % (f,)]
    kind = f.get("kind")
    if kind not in KINDS:
        bad.append("kind %r is none of %s" % (kind, KINDS))
    for name in ("summary", "hint"):
        if not isinstance(f.get(name), str) or not f[name].strip():
            bad.append("%s is not a non-empty string: %r" % (name, f.get(name)))
    objs = f.get("objects")
    if not isinstance(objs, list) or not objs:
        bad.append("objects is not a non-empty list: %r" % (objs,))
    elif not all(isinstance(a, str) and a.startswith("0x") and norm(a) for a in objs):
        bad.append("objects are not all \"0x...\" addresses: %r" % (objs[:5],))
    for name in ("count", "bytes"):
        v = f.get(name)
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            bad.append("%s is not an int >= 0: %r" % (name, v))
    if f.get("type") is not None and not isinstance(f.get("type"), str):
        bad.append("type is neither a string nor null: %r" % (f.get("type"),))
    if kind == "growing_container":
        g = f.get("growth")
        if not isinstance(g, int) or isinstance(g, bool):
            bad.append("growing_container without an int growth: %r" % (g,))
    elif "growth" in f:
        bad.append("growth on a %s finding" % kind)
    if "chain" not in f:
        bad.append("no chain field (null when there is none)")
    chain = f.get("chain")
    if chain is not None:
        if not isinstance(chain, dict) or not isinstance(chain.get("hops"), list):
            bad.append("chain is not {root, hops: [...]}: %r" % (chain,))
        else:
            root = chain.get("root")
            if root is not None and not (isinstance(root, dict)
                                         and isinstance(root.get("kind"), str)
                                         and isinstance(root.get("description"), str)):
                bad.append("chain root is not {kind, description} or null: %r" % (root,))
            for i, h in enumerate(chain["hops"]):
                if not (isinstance(h, dict) and norm(h.get("address"))
                        and all(isinstance(h.get(k), str) for k in ("type", "label", "repr"))):
                    bad.append("hop %d is not {address, type, label, repr}: %r" % (i, h))
    return bad


def objects_of(f) -> List[str]:
    return [norm(a) for a in f.get("objects") or [] if norm(a)]


def matches(f, exp) -> bool:
    """f is the finding exp plants: same kind, and objects[0] is exp's
    object, or (matched by members) its objects are all members."""
    if f.get("kind") != exp["kind"]:
        return False
    objs = objects_of(f)
    if not objs:
        return False
    if exp["object"] is not None:
        return objs[0] == norm(exp["object"])
    return set(objs) <= set(exp["members"])


def find(findings, exp) -> List[dict]:
    return [f for f in findings if isinstance(f, dict) and matches(f, exp)]


def near(findings, exp) -> List[dict]:
    """Findings of exp's kind that name some of its objects without
    matching it (objects[0] another object, or strangers among the
    members): what to show when find() finds nothing."""
    want = {norm(exp["object"])} if exp["object"] is not None else set(exp["members"])
    return [f for f in findings if isinstance(f, dict) and f.get("kind") == exp["kind"]
            and want & set(objects_of(f))]


# Cyclic garbage is counted against gc.collect()'s own count, which is
# lower by a few objects: the collector untracks tuples and dicts of only
# atomic items before it looks (pyleaks leaves those out too), and some
# live objects no root explains to pyleaks are counted as garbage (6 to 12
# of 4,000-8,000 on 3.9-3.13, 168 of 8,000 on 3.8: docs/analysis.md, known
# limits).  Up to 3% more is accepted, never fewer.
GARBAGE_SLACK = 0.03


def count_matches(f, exp):
    count = f.get("count")
    if exp["kind"] != "cyclic_garbage" or not isinstance(count, int):
        return count == exp["count"]
    return exp["count"] <= count <= exp["count"] * (1 + GARBAGE_SLACK)


def expectation_problems(f, exp) -> List[str]:
    """Everything in finding f that differs from the oracle's exp."""
    bad = []
    if not count_matches(f, exp):
        bad.append("count %r, the target counts %d" % (f.get("count"), exp["count"]))
    if "growth" in exp and f.get("growth") != exp["growth"]:
        bad.append("growth %r, the target grew it by %d" % (f.get("growth"), exp["growth"]))
    objs = objects_of(f)
    if exp["members"] is not None:
        strangers = [a for a in objs if a not in set(exp["members"])]
        if strangers or not objs:
            bad.append("objects not among the %d the target planted: %s"
                       % (len(exp["members"]), strangers[:5] or "(none listed)"))
    elif not objs or objs[0] != norm(exp["object"]):
        bad.append("objects[0] is %s, the target's is %s" % (objs[:1], exp["object"]))
    b = f.get("bytes")
    if not isinstance(b, int) or b <= 0 or b < exp["bytes_min"]:
        bad.append("bytes %r: less than the getsizeof of the leaked items, summed (%d)"
                   % (b, exp["bytes_min"]))
    if exp["type"] is not None:
        if f.get("type") != exp["type"]:
            bad.append("type %r, expected %r" % (f.get("type"), exp["type"]))
    elif f.get("type") is not None and f.get("type") not in exp.get("types_ok", ()):
        bad.append("type %r is none of %s (or null)" % (f.get("type"), exp.get("types_ok")))
    want = exp["chain"]
    if want is not None:
        bad += chain_problems(f.get("chain"), objs[0] if objs else None, want)
    return bad


def chain_problems(chain, last, want) -> List[str]:
    if not isinstance(chain, dict):
        return ["no chain (%r): the object is reachable from a root" % (chain,)]
    hops = chain.get("hops") or []
    if not hops:
        return ["the chain has no hops"]
    bad = []
    if norm(hops[-1].get("address")) != last:
        bad.append("the chain's last hop is %s, not objects[0] %s"
                   % (hops[-1].get("address"), last))
    root = chain.get("root")
    if not isinstance(root, dict):
        bad.append("the chain has no root: %r" % (root,))
    else:
        if root.get("kind") not in want["root_kinds"]:
            bad.append("root kind %r, expected %s" % (root.get("kind"), " or ".join(want["root_kinds"])))
        if want.get("root_description") and root.get("description") != want["root_description"]:
            bad.append("root %r, expected %r" % (root.get("description"), want["root_description"]))
    if want.get("label_contains"):
        labels = [h.get("label") or "" for h in hops]
        if not any(want["label_contains"] in l for l in labels):
            bad.append("no hop label contains %r: %s" % (want["label_contains"], labels))
    return bad


def planted_problems(findings, oracle) -> List[str]:
    """Findings of another kind than the scenario's that name one of the
    planted objects."""
    kinds = {e["kind"] for e in oracle["expected"]}
    planted = set(oracle["planted"])
    bad = []
    for f in findings:
        if not isinstance(f, dict) or f.get("kind") in kinds:
            continue
        hit = [a for a in objects_of(f) if a in planted]
        if hit:
            bad.append("a %s finding names %d planted objects (%s ...):\n  %s"
                       % (f.get("kind"), len(hit), hit[0], show(f)))
    return bad


def control_problems(findings, oracle) -> List[str]:
    """Findings that name a look-alike that is no leak."""
    controls = set(oracle["controls"])
    bad = []
    for f in findings:
        hit = [a for a in objects_of(f) if a in controls] if isinstance(f, dict) else []
        if hit:
            bad.append("a %s finding names %s, which is bounded / held normally:\n  %s"
                       % (f.get("kind"), hit, show(f)))
    return bad


def unexpected(findings, oracle) -> List[dict]:
    """Findings that match none of the oracle's expected ones."""
    return [f for f in findings
            if not any(isinstance(f, dict) and matches(f, e) for e in oracle["expected"])]


# ---------------------------------------------------------------------------
# Standalone: the targets alone on every interpreter (and pyleaks's looks
# with --pyleaks).

def _check_oracle(scenario, ready, between, oracle) -> List[str]:
    bad = []
    exp = oracle["expected"]
    if scenario == CLEAN:
        if exp:
            bad.append("the clean program expects findings")
        if oracle["info"]["grown"]:
            bad.append("containers grew between the looks: %s" % oracle["info"]["grown"])
        return bad
    if not exp:
        bad.append("no expected finding")
    for e in exp:
        if e["count"] < 1 or e["bytes_min"] <= 0:
            bad.append("%s: count %d bytes_min %d" % (e["name"], e["count"], e["bytes_min"]))
        if e["object"] is None and not e["members"]:
            bad.append("%s: neither object nor members" % e["name"])
        if e["object"] is not None and e["object"] not in oracle["planted"]:
            bad.append("%s: object not planted" % e["name"])
    if scenario == "growing_container":
        for e in exp:
            if e["growth"] < 2000 or e["count"] - e["growth"] < 2000:
                bad.append("%s: growth %d count %d" % (e["name"], e["growth"], e["count"]))
        if sorted(between["grown"].values()) != sorted(e["growth"] for e in exp):
            bad.append("grown %s vs growth %s" % (between["grown"], [e["growth"] for e in exp]))
    elif scenario == "cyclic_garbage":
        info = oracle["info"]
        if info["gc_collect"] != info["created"]:
            bad.append("gc.collect() freed %d, the target made %d" % (info["gc_collect"],
                                                                      info["created"]))
    elif scenario not in ("last_traceback",):
        for e in exp:
            if e["count"] < 2000:
                bad.append("%s: only %d" % (e["name"], e["count"]))
    return bad


def _standalone(it, scenario, with_pyleaks, workdir) -> List[str]:
    import chain_harness
    ext = None
    if scenario == "unexplained_refs":
        ext, why = chain_harness.build_leaky_ext(it, workdir)
        if ext is None:
            return ["SKIP " + why]
    t = FindingsTarget(it.path, scenario, ext)
    out = []
    try:
        if not blocked_in_request(t.pid):
            return ["not blocked in read(0) after ready: %s" % main_thread_syscall(t.pid)]
        state = workdir / ("state-%s-%s" % (it.id, scenario))
        state.mkdir(parents=True, exist_ok=True)
        runs = []
        if with_pyleaks:
            runs.append(look(t.pid, state))
        between = None
        if t.ready["looks"] == 2:
            between = t.between_looks()
            if not blocked_in_request(t.pid):
                return ["not blocked in read(0) after %s" % BETWEEN_LOOKS[scenario]]
            if with_pyleaks:
                runs.append(look(t.pid, state))
        oracle = t.oracle()
        out += _check_oracle(scenario, t.ready, between, oracle)
        summary = "; ".join("%s count=%d%s bytes>=%d" % (
            e["kind"], e["count"], " growth=%d" % e["growth"] if "growth" in e else "",
            e["bytes_min"]) for e in oracle["expected"]) or "expects no finding"
        out.append("ok " + summary + " " + json.dumps(oracle["info"])[:300])
        for i, r in enumerate(runs):
            if r.returncode != 0:
                out.append("look %d: pyleaks exited %d: %s" % (i + 1, r.returncode,
                                                               r.error_lines()[:2]))
                continue
            j = harness.one_json(r.stdout)
            out.append("look %d: %d objects, findings %s" % (
                i + 1, j["total_objects"],
                json.dumps(j["findings"])[:500] if "findings" in j else "(no findings key)"))
    finally:
        t.close()
    return out


def main(argv):
    import tempfile
    with_pyleaks = "--pyleaks" in argv
    names = [a for a in argv if not a.startswith("--")] or list(SCENARIOS)
    failed = False
    with tempfile.TemporaryDirectory(prefix="findings-") as tmp:
        for it in harness.all_interpreters():
            if not it.available:
                print("%-14s SKIP %s" % (it.id, it.skip_reason()))
                continue
            for scenario in names:
                t0 = time.monotonic()
                try:
                    lines = _standalone(it, scenario, with_pyleaks, Path(tmp))
                except AssertionError as e:
                    lines = ["FAILED: %s" % e]
                ok = lines and all(ln.startswith(("ok", "look", "SKIP")) for ln in lines)
                failed |= not ok
                print("%-14s %-20s %5.1fs %s" % (it.id, scenario, time.monotonic() - t0,
                                                 "ok" if ok else "PROBLEM"))
                for ln in lines:
                    print("    " + ln)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
