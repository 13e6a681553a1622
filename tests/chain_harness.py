"""The recorded chain session of the py-chain / py-refs / py-backrefs tests:
one chain target per interpreter (targets/chain_target.py, the leaks of
targets/chain_app.py), one pyleaks run with every command, then the
target's oracle on what pyleaks answered; and the checks of a chain
against that oracle."""

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import harness

CHAIN_TARGET = harness.TARGETS_DIR / "chain_target.py"
LEAKY_EXT_SRC = harness.TARGETS_DIR / "leaky_ext.c"
APP = "chain_app"
ROOT_KINDS = ("module", "frame", "interpreter", "c")
COMPILE_TIMEOUT = 120


# ---------------------------------------------------------------------------
# The C extension, compiled against the target interpreter's own headers.

def include_dir(python: str) -> Optional[str]:
    r = harness.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['include'])"],
                    timeout=60)
    return r.stdout.strip() if r.returncode == 0 and r.stdout.strip() else None


def build_leaky_ext(interp: harness.Interpreter, outdir: Path):
    """(path of leaky_ext built for interp, "") or (None, why not)."""
    inc = include_dir(interp.path)
    if not inc or not os.path.exists(os.path.join(inc, "Python.h")):
        return None, ("%s: no Python.h for %s (looked in %s): the C-extension "
                      "scenario needs the interpreter's headers (python3.X-dev)"
                      % (interp.id, interp.path, inc))
    so = outdir / ("leaky_ext-%s.so" % interp.id)
    r = harness.run(["cc", "-shared", "-fPIC", "-O0", "-Wall", "-Wextra", "-Werror",
                     "-I", inc, "-o", so, LEAKY_EXT_SRC], timeout=COMPILE_TIMEOUT)
    assert r.returncode == 0, "compiling leaky_ext.c failed:\n" + r.describe()
    return so, ""


# ---------------------------------------------------------------------------
# The session.

def start_target(python, args=()):
    """The chain target; it imports chain_app and chain_oracle from the
    source tree, which may be read-only (distcheck): no bytecode."""
    return harness.Target(python, CHAIN_TARGET, args=args,
                          env=harness.clean_env(PYTHONDONTWRITEBYTECODE="1"))


def session_commands(ready, dot_dir: Path):
    a = ready["addrs"]
    cmds = [
        ("deep", "py-chain %s --json" % a["deep"]),
        ("lru", "py-chain %s --json" % a["lru_body"]),
        ("lru_text", "py-chain %s" % a["lru_body"]),
        ("default_arg", "py-chain %s --json" % a["event"]),
        ("exception", "py-chain %s --json" % a["exc_upload"]),
        ("thread", "py-chain %s --json" % a["thread_local"]),
        ("cycle", "py-chain %s --json" % a["cycle"]),
        ("cycle_text", "py-chain %s" % a["cycle"]),
        ("all_roots", "py-chain %s --all-roots --max 20 --json" % a["shared"]),
        ("all_roots_default", "py-chain %s --all-roots --json" % a["shared"]),
        ("all_roots_1", "py-chain %s --all-roots --max 1 --json" % a["shared"]),
        ("by_type", "py-chain --type %s.Handler --json" % APP),
        ("by_type_text", "py-chain --type %s.Handler" % APP),
        ("dot", "py-chain %s --dot %s" % (a["lru_body"], dot_dir / "lru.dot")),
        ("dot_svg", "py-backrefs %s --depth 2 --dot %s" % (a["popular"], dot_dir / "popular.svg")),
        ("refs_dict", "py-refs %s --json" % a["routes"]),
        ("refs_list", "py-refs %s --json" % a["pop_list"]),
        ("refs_instance", "py-refs %s --json" % a["holder"]),
        ("refs_function", "py-refs %s --json" % a["record_event"]),
        ("refs_text", "py-refs %s" % a["routes"]),
        ("backrefs", "py-backrefs %s --json" % a["popular"]),
        ("backrefs_depth2", "py-backrefs %s --depth 2 --json" % a["popular"]),
        ("backrefs_max", "py-backrefs %s --depth 2 --max 3 --json" % a["popular"]),
        ("backrefs_thread", "py-backrefs %s --json" % a["thread_local"]),
        ("backrefs_text", "py-backrefs %s" % a["popular"]),
    ]
    if ready["ext"]:
        cmds += [
            ("c_leak", "py-chain %s --json" % a["c_conn"]),
            ("c_leak_inner", "py-chain %s --json" % a["c_buffer"]),
            ("backrefs_c", "py-backrefs %s --json" % a["c_conn"]),
        ]
    return cmds


REFS_SECTIONS = ("refs_dict", "refs_list", "refs_instance", "refs_function")
BACKREFS_SECTIONS = {"backrefs": ("popular", 1), "backrefs_depth2": ("popular", 2),
                     "backrefs_thread": ("thread_local", 1), "backrefs_c": ("c_conn", 1)}


@dataclass
class ChainSession:
    interp: harness.Interpreter
    ready: dict
    run: harness.Run
    out: Dict[str, str]
    cmds: Dict[str, str]
    dot_dir: Path
    ext_reason: str                 # why the C-extension scenario is absent
    state_after: Optional[str]
    tracer_after: Optional[int]
    maps_problems: List[str]
    request: dict = field(default_factory=dict)
    path_index: Dict[tuple, int] = field(default_factory=dict)
    wake_report: Optional[dict] = None
    wake_error: str = ""

    @property
    def report(self) -> dict:
        assert self.wake_report is not None, (
            "the chain target did not report after the session: %s\n%s"
            % (self.wake_error, self.run.describe()))
        return self.wake_report

    def addr(self, name) -> str:
        return harness.normalize_address(self.ready["addrs"][name])

    def has(self, name) -> bool:
        return name in self.out and any(ln.strip().startswith("{")
                                        for ln in self.out[name].splitlines())

    def json(self, name):
        assert name in self.cmds, "no command %r in this session" % name
        assert name in self.out, "no output section %r:\n%s" % (name, self.run.describe())
        return harness.one_json(self.out[name], "%s (%s)" % (name, self.cmds[name]))

    def chains(self, name):
        """[(key, chain)] of a py-chain --json answer: chain = {root, hops}."""
        j = self.json(name)
        if "chains" in j:
            return [((name, i), c) for i, c in enumerate(j["chains"])]
        if j.get("root") is None:
            return []
        return [((name, 0), {"root": j["root"], "hops": j["hops"]})]

    def oracle_path(self, key):
        assert key in self.path_index, "chain %r was not sent to the oracle (bad hops?)" % (key,)
        return self.report["paths"][self.path_index[key]]


def _build_request(s: ChainSession):
    a = {k: harness.normalize_address(v) for k, v in s.ready["addrs"].items()}
    paths, frames = [], []
    unexplained = {a["cycle"], a["control"]}
    if s.ready["ext"]:
        unexplained.add(a["c_conn"])
    objects = set(a.values())
    for name, cmd in s.cmds.items():
        if not cmd.startswith("py-chain") or "--json" not in cmd or not s.has(name):
            continue
        try:
            j = s.json(name)
            chains = s.chains(name)
        except (AssertionError, KeyError, TypeError):
            continue
        if j.get("picked"):
            objects.add(harness.normalize_address(j["picked"]["address"]))
        for key, c in chains:
            try:
                hops = [harness.normalize_address(h["address"]) for h in c["hops"]]
            except (KeyError, TypeError, ValueError):
                continue
            s.path_index[key] = len(paths)
            paths.append(hops)
            root = c.get("root") or {}
            if hops and root.get("kind") == "c":
                unexplained.add(hops[0])
            if hops and root.get("kind") == "frame":
                frames.append([root.get("description", ""), hops[0]])
    backrefs = [[a[obj], depth] for name, (obj, depth) in BACKREFS_SECTIONS.items()
                if name in s.cmds]
    refs = [harness.normalize_address(s.cmds[n].split()[1]) for n in REFS_SECTIONS]
    return {"paths": paths, "frame_roots": frames, "unexplained": sorted(unexplained),
            "objects": sorted(objects), "cycles": [a["cycle"]], "refs": refs,
            "backrefs": backrefs}


def record(interp: harness.Interpreter, workdir: Path) -> ChainSession:
    workdir.mkdir(parents=True, exist_ok=True)
    so, ext_reason = build_leaky_ext(interp, workdir)
    dot_dir = workdir / "dot"
    dot_dir.mkdir(exist_ok=True)
    target = start_target(interp.path, [so] if so else [])
    try:
        maps_before = target.maps()
        cmds = session_commands(target.ready, dot_dir)
        r = harness.pyleaks(target.pid, *harness.commands_with_markers(cmds))
        s = ChainSession(interp, target.ready, r, harness.sections(r.stdout), dict(cmds),
                         dot_dir, ext_reason, target.settled_state(),
                         harness.tracer_pid(target.pid),
                         harness.maps_problems(maps_before, target.maps()))
        s.request = _build_request(s)
        try:
            s.wake_report = target.wake(request=s.request)
        except AssertionError as e:
            s.wake_error = str(e)
        return s
    finally:
        target.close()


_sessions: Dict[str, ChainSession] = {}
_failed: Dict[str, str] = {}


def get_session(interp, tmp_path_factory) -> ChainSession:
    if interp.id in _failed:
        raise AssertionError(_failed[interp.id])
    if interp.id not in _sessions:
        try:
            _sessions[interp.id] = record(interp, tmp_path_factory.mktemp("chain-" + interp.id))
        except AssertionError as e:
            _failed[interp.id] = "recording the %s chain session failed: %s" % (interp.id, e)
            raise
    return _sessions[interp.id]


# ---------------------------------------------------------------------------
# Checking a chain against the oracle.

C_DESC_RE = re.compile(r"\b(\d+) references? unexplained")
FRAME_LINE_RE = re.compile(r"frame (\S+?)\(\) \S+?:(\d+)")


def label_ok(label: str, candidates: List[str]) -> bool:
    """label is one of the oracle's candidates; a candidate ending in '*'
    is a prefix (a dict key whose repr is an object's)."""
    return any(label == c or (c.endswith("*") and label.startswith(c[:-1]))
               for c in candidates)


def expanded_length(op) -> Optional[int]:
    """References the chain follows: a hop through a part its label names
    (`.attr` through an instance's or module's __dict__, `__defaults__[0]`
    through the defaults tuple ...) is two."""
    steps = op["steps"][1:]
    if any(x is None for x in steps):
        return None
    return sum(steps)


def chain_problems(s: ChainSession, key, chain, target: str) -> List[str]:
    """Everything wrong with one chain: hops that are not references, types,
    labels, the root, the length against the target's own BFS."""
    bad = []
    hops = chain["hops"]
    root = chain.get("root") or {}
    if not hops:
        return ["no hops"]
    addrs = [harness.normalize_address(h["address"]) for h in hops]
    if addrs[-1] != harness.normalize_address(target):
        bad.append("the last hop %s is not the target %s" % (addrs[-1], target))
    if hops[0].get("label") != "":
        bad.append("hops[0] has a label: %r" % hops[0].get("label"))
    op = s.oracle_path(key)
    for i, h in enumerate(hops):
        where = "hop %d (%s %s %r)" % (i, h.get("type"), addrs[i], h.get("label"))
        if not op["live"][i]:
            bad.append("%s: not a live object of the target" % where)
            continue
        if h.get("type") != op["types"][i]:
            bad.append("%s: type %r, the target says %r" % (where, h.get("type"), op["types"][i]))
        if not isinstance(h.get("repr"), str) or not h["repr"]:
            bad.append("%s: no repr" % where)
        if i == 0:
            continue
        if op["steps"][i] is None:
            bad.append("%s: %s does not refer to it (gc.get_referents, directly or through "
                       "its __dict__/__defaults__/closure/args)" % (where, addrs[i - 1]))
            continue
        labels = op["labels"][i]
        if not h.get("label"):
            bad.append("%s: empty label" % where)
        elif labels and not label_ok(h["label"], labels):
            bad.append("%s: label %r, expected one of %s" % (where, h["label"], labels))
    n = expanded_length(op)
    if n is not None and op["bfs"] != n:
        bad.append("the chain follows %d references from its root, the target's BFS from %s "
                   "finds %s" % (n, addrs[0], op["bfs"]))
    bad += root_problems(s, root, addrs[0])
    return bad


def root_problems(s: ChainSession, root, first: str) -> List[str]:
    kind, desc = root.get("kind"), root.get("description")
    if kind not in ROOT_KINDS:
        return ["root kind %r is none of %s" % (kind, ROOT_KINDS)]
    if not isinstance(desc, str) or not desc:
        return ["root without a description: %r" % (root,)]
    rep = s.report
    if kind == "module":
        m = re.fullmatch(r"module (\S+)", desc)
        if not m:
            return ["module root description %r is not 'module NAME'" % desc]
        want = rep["modules"].get(m.group(1))
        if want is None:
            return ["%r: no module %r in sys.modules" % (desc, m.group(1))]
        if harness.normalize_address(want) != first:
            return ["%r: hops[0] is %s, sys.modules[%r] is %s" % (desc, first, m.group(1), want)]
    elif kind == "c":
        m = C_DESC_RE.search(desc)
        want = rep["unexplained"].get(first)
        if not m:
            return ["C root description %r does not say how many references are unexplained"
                    % desc]
        if want is None or int(m.group(1)) != want:
            return ["%r: the target counts %s unexplained references to %s"
                    % (desc, want, first)]
    elif kind == "frame":
        found = rep["frame_roots"][s.request["frame_roots"].index([desc, first])]
        m = FRAME_LINE_RE.search(desc)
        if not m:
            return ["%r does not name the function and FILE:LINE" % desc]
        if not found.get("found"):
            return ["%r: %s" % (desc, found.get("why"))]
        if found["local_ok"] is False:
            return ["%r: that variable of that frame does not refer to %s" % (desc, first)]
        moved = found["oracle_thread"] and m.group(1) == s.ready["block_function"]
        if not moved and int(m.group(2)) != found["line"]:
            return ["%r: the frame is at line %d" % (desc, found["line"])]
    elif kind == "interpreter":
        for name, want in rep["interpreter"].items():
            if desc.endswith(" " + name) and harness.normalize_address(want) != first:
                return ["%r: hops[0] is %s, %s is %s" % (desc, first, name, want)]
    return []


def label_at(chain, addr) -> Optional[str]:
    """The label of the hop into the object at addr."""
    for h in chain["hops"]:
        if harness.normalize_address(h["address"]) == harness.normalize_address(addr):
            return h["label"]
    return None


def labels_of(chain) -> List[str]:
    return [h["label"] for h in chain["hops"][1:]]
