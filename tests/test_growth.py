"""py-leaks growth: the change by type since the previous look or a named
snapshot, and the new objects by identity (--new), on every interpreter,
against the target's own count (tests/targets/growth_target.py).

One target per interpreter and two pyleaks runs: the first looks twice
and saves snapshot 'before'; the target counts itself, then grows by
known objects (N Grown, N/10 of a type that had none, and drops every
object of another type); the second run looks again in several ways and
the target counts itself again.  Every change pyleaks reports must equal
the difference of the target's two counts, and the new objects the
difference of the identities it counted.

The rest (primary interpreter): where looks live and what happens when
their files are damaged, belong to another process or are missing."""

import json
import os
import re
import time
from collections import Counter

import pytest

import harness

TARGET = harness.TARGETS_DIR / "growth_target.py"
GROW = 1000
DOOMED = 300
GROWN, FRESH, DOOMED_T = "__main__.Grown", "__main__.Fresh", "__main__.Doomed"

RUN_A = [
    ("first", "py-leaks --json --save before"),
    ("again", "py-leaks --json"),
]
RUN_B = [
    ("growth", "py-leaks --json"),
    ("new", "py-leaks --json --new --since before"),
    ("since", "py-leaks --json --since before --sort growth"),
    ("text", "py-leaks --sort growth --since before --top 40"),
    ("new_text", "py-leaks --new --since before --top 40"),
]


def state_env(state_dir):
    return harness.clean_env(PYLEAKS_STATE_DIR=str(state_dir))


class Scenario:
    def __init__(self, ready, run_a, run_b, oracle_a, oracle_b, grown):
        self.ready = ready
        self.run_a, self.run_b = run_a, run_b
        self.out_a = harness.sections(run_a.stdout)
        self.out_b = harness.sections(run_b.stdout)
        self.oracle_a, self.oracle_b = oracle_a, oracle_b
        self.grown = grown

    def json(self, name):
        out = self.out_a if name in self.out_a else self.out_b
        return harness.one_json(out.get(name, ""), name)

    def text(self, name):
        return self.out_b[name]

    def oracle_delta(self):
        """type name -> (count, bytes) change between the two counts."""
        a, b = self.oracle_a["census"], self.oracle_b["census"]
        delta = {}
        for name in set(a) | set(b):
            ca, ba = a.get(name, [0, 0])[:2]
            cb, bb = b.get(name, [0, 0])[:2]
            if (ca, ba) != (cb, bb):
                delta[name] = (cb - ca, bb - ba)
        return delta

    def oracle_new(self):
        """type name -> objects alive at the second count whose identity
        (address and type) the first count did not have."""
        with open(self.oracle_a["ids_file"]) as f:
            before = json.load(f)
        with open(self.oracle_b["ids_file"]) as f:
            after = json.load(f)
        new = Counter(name for addr, name in after.items() if before.get(addr) != name)
        gone = sum(1 for addr, name in before.items() if after.get(addr) != name)
        return new, gone


def run_scenario(python, state_dir, ids_dir):
    t = harness.ControlledTarget(python, TARGET, args=[
        "--grow", GROW, "--doomed", DOOMED, "--ids-dir", ids_dir])
    try:
        env = state_env(state_dir)
        run_a = harness.pyleaks(t.pid, *harness.commands_with_markers(RUN_A), env=env)
        oracle_a = t.ask("census", timeout=60)
        grown = t.ask("grow", timeout=60)
        run_b = harness.pyleaks(t.pid, *harness.commands_with_markers(RUN_B), env=env)
        oracle_b = t.ask("census", timeout=60)
        return Scenario(t.ready, run_a, run_b, oracle_a, oracle_b, grown)
    finally:
        t.close()


_scenarios = {}


@pytest.fixture(scope="module")
def scenario(interp, tmp_path_factory):
    if interp.id not in _scenarios:
        base = tmp_path_factory.mktemp("growth-" + interp.id)
        _scenarios[interp.id] = run_scenario(interp.path, base / "state", base)
    return _scenarios[interp.id]


def rows_of(j):
    return harness.census_rows(j)


# --- the growth scenario, every interpreter -----------------------------------

def test_runs_succeeded(scenario):
    for r in (scenario.run_a, scenario.run_b):
        harness.assert_no_traceback(r)
        assert r.returncode == 0, r.describe()
        assert not r.error_lines() or all(ln.startswith("pyleaks: CPython") for ln in r.error_lines()), \
            r.describe()


def test_first_look_has_nothing_to_compare(scenario):
    j = scenario.json("first")
    assert j["since"] is None
    assert all(r["count_delta"] is None and r["bytes_delta"] is None for r in j["types"])
    assert all(r["count"] > 0 for r in j["types"])
    assert j["saved"]["name"] == "before"


def test_second_look_of_a_session_compares_with_the_first(scenario):
    first, j = scenario.json("first"), scenario.json("again")
    assert j["graph_reused"] is True
    assert j["since"]["kind"] == "previous" and j["since"]["name"] is None
    assert 0 <= j["since"]["age_s"] < 600
    assert abs(j["since"]["time"] - (time.time() - j["since"]["age_s"])) < 600
    assert all(r["count_delta"] == 0 and r["bytes_delta"] == 0 for r in j["types"]), \
        [r for r in j["types"] if r["count_delta"] or r["bytes_delta"]]
    assert [(r["type"], r["count"]) for r in j["types"]] == \
        [(r["type"], r["count"]) for r in first["types"]]


def test_each_look_equals_the_oracle(scenario):
    """The premise of the exact deltas below: each look counts what the
    target counts (up to the same few objects both times)."""
    for look, oracle in (("first", scenario.oracle_a), ("growth", scenario.oracle_b)):
        j = scenario.json(look)
        assert abs(j["total_objects"] - oracle["total_objects"]) <= 5, (
            look, j["total_objects"], oracle["total_objects"])


def test_count_deltas_equal_the_oracle(scenario):
    """Every type's change since the previous look is the change the
    target counted itself, and so are the totals."""
    j = scenario.json("growth")
    got = {r["type"]: r["count_delta"] for r in j["types"] if r["count_delta"]}
    want = {name: d[0] for name, d in scenario.oracle_delta().items() if d[0]}
    assert got == want, "pyleaks %s\noracle  %s" % (
        sorted(set(got.items()) - set(want.items())), sorted(set(want.items()) - set(got.items())))
    assert sum(r["count_delta"] for r in j["types"]) == \
        scenario.oracle_b["total_objects"] - scenario.oracle_a["total_objects"]
    previous = scenario.json("again")
    assert j["total_objects"] - previous["total_objects"] == sum(r["count_delta"] for r in j["types"])
    assert j["total_bytes"] - previous["total_bytes"] == sum(r["bytes_delta"] for r in j["types"])


def test_the_types_the_target_grew(scenario):
    rows = rows_of(scenario.json("growth"))
    assert rows[GROWN]["count_delta"] == GROW == len(scenario.grown["grown"])
    assert rows[FRESH]["count"] == rows[FRESH]["count_delta"] == GROW // 10
    assert rows[FRESH]["bytes"] == rows[FRESH]["bytes_delta"] > 0
    assert rows[GROWN]["bytes_delta"] == GROW * rows[GROWN]["bytes"] // rows[GROWN]["count"]


def test_a_type_that_disappeared_is_a_row_of_zero(scenario):
    j = scenario.json("growth")
    rows = rows_of(j)
    gone = rows[DOOMED_T]
    assert gone["count"] == 0 and gone["bytes"] == 0
    assert gone["count_delta"] == -DOOMED and gone["bytes_delta"] < 0
    before = rows_of(scenario.json("again"))[DOOMED_T]
    assert gone["bytes_delta"] == -before["bytes"]
    # --sort growth puts the biggest growth first, the biggest drop last.
    since = scenario.json("since")["types"]
    deltas = [r["count_delta"] for r in since]
    assert deltas == sorted(deltas, reverse=True)
    assert since[-1]["type"] == DOOMED_T or since[-1]["count_delta"] <= -DOOMED


def test_exact_size_types_bytes_deltas(scenario):
    """For the types whose sizes equal sys.getsizeof, bytes changes equal
    the target's own."""
    rows = rows_of(scenario.json("growth"))
    delta = scenario.oracle_delta()
    bad = []
    for name in harness.EXACT_SIZE_TYPES:
        if name in delta and scenario.oracle_b["census"][name][2] == 0:
            got = rows[name]["bytes_delta"] if name in rows else 0
            if got != delta[name][1]:
                bad.append("%s: pyleaks %+d, oracle %+d" % (name, got, delta[name][1]))
    assert not bad, bad


def test_since_a_snapshot(scenario):
    j = scenario.json("since")
    assert j["since"]["kind"] == "snapshot" and j["since"]["name"] == "before"
    first = scenario.json("first")
    assert j["since"]["time"] == pytest.approx(scenario.json("new")["since"]["time"])
    rows = rows_of(j)
    # The snapshot is the first look: its change is the whole change.
    assert rows[GROWN]["count_delta"] == GROW
    assert sum(r["count_delta"] for r in j["types"]) == j["total_objects"] - first["total_objects"]


def test_new_objects_equal_the_oracle(scenario):
    """--new: the objects alive now whose address and type the snapshot
    did not have, by type: what the target's own identities say."""
    j = scenario.json("new")["new"]
    want, gone = scenario.oracle_new()
    got = {r["type"]: r["count"] for r in j["types"]}
    assert got == dict(want), "pyleaks %s\noracle  %s" % (
        sorted(set(got.items()) - set(want.items())), sorted(set(want.items()) - set(got.items())))
    assert j["objects"] == sum(want.values())
    assert j["bytes"] == sum(r["bytes"] for r in j["types"])
    assert j["gone"] == gone
    assert j["since"]["kind"] == "snapshot" and j["since"]["name"] == "before"
    assert got[GROWN] == GROW and got[FRESH] == GROW // 10
    counts = [r["count"] for r in j["types"]]
    assert counts == sorted(counts, reverse=True)


def test_text_growth_table(scenario):
    text = scenario.text("text")
    lines = text.splitlines()
    assert any(re.match(r"^growth since snapshot 'before' \d+ s ago \(\d\d:\d\d:\d\d\): \+[0-9,]+ objects", ln)
               for ln in lines), text
    assert re.search(r"\+count\s+\+bytes\s+type", text), text
    grown = [ln for ln in lines if ln.endswith(" " + GROWN)]
    assert grown and re.search(r"\s\+1,000\s", grown[0]), grown
    fresh = [ln for ln in lines if ln.endswith(" " + FRESH)]
    assert fresh and re.search(r"\snew\s", fresh[0]), fresh
    doomed = [ln for ln in lines if ln.endswith(" " + DOOMED_T)]
    assert doomed and re.search(r"^\s*0\s+0 B\s+-300\s+-", doomed[0]), doomed
    assert re.search(r"memory: .* RSS; Python objects ", text), text


def test_text_new_objects(scenario):
    text = scenario.text("new_text")
    j = scenario.json("new")["new"]
    m = re.search(r"^new objects since snapshot 'before' .*: ([0-9,]+) objects, .*; ([0-9,]+) objects of then "
                  r"are gone$", text, re.M)
    assert m, text
    assert int(m.group(1).replace(",", "")) == j["objects"]
    assert int(m.group(2).replace(",", "")) == j["gone"]
    grown = [ln for ln in text.splitlines() if ln.endswith(" " + GROWN)]
    assert grown and grown[0].split()[0] == "1,000", grown


# --- where looks live, and when they cannot be used (primary interpreter) ------

def process_key(pid):
    with open("/proc/%d/stat" % pid) as f:
        stat = f.read()
    start = stat[stat.rindex(")") + 2:].split()[19]
    with open("/proc/sys/kernel/random/boot_id") as f:
        boot = f.read().strip()
    return "%d-%s-%s" % (pid, start, boot), int(start), boot


@pytest.fixture
def growth_target(primary, tmp_path):
    t = harness.ControlledTarget(primary.path, TARGET, args=["--ids-dir", tmp_path])
    yield t
    t.close()


def look_json(pid, state_dir, *options):
    r = harness.pyleaks(pid, "py-leaks --json " + " ".join(options), env=state_env(state_dir))
    harness.assert_no_traceback(r)
    return r


def test_state_files(growth_target, tmp_path):
    """One file per process, private, named by pid, start time and boot
    id; written whole (no temporary file left)."""
    state = tmp_path / "a" / "state"
    r = look_json(growth_target.pid, state)
    assert r.returncode == 0, r.describe()
    key = process_key(growth_target.pid)[0]
    assert sorted(os.listdir(state)) == [key + ".json"]
    assert os.stat(state).st_mode & 0o777 == 0o700
    assert os.stat(state / (key + ".json")).st_mode & 0o077 == 0
    look = json.loads((state / (key + ".json")).read_text())
    assert look["process"]["pid"] == growth_target.pid
    assert look["python_version"] == growth_target.ready["python_version"]
    assert {n: c for n, c, _ in look["types"]} == {
        t["type"]: t["count"] for t in harness.one_json(r.stdout)["types"]}
    # The analysis keeps the longest containers, for the next look's
    # growing-container finding: [address, type, length] each.
    assert set(look["extra"]) == {"containers"}, look["extra"].keys()
    assert all(isinstance(a, int) and isinstance(t, str) and n >= 64
               for a, t, n in look["extra"]["containers"])


def test_unknown_snapshot_names_the_known_ones(growth_target, tmp_path):
    state = tmp_path / "state"
    r = look_json(growth_target.pid, state, "--since", "nothing")
    line = harness.assert_refused(r, "no snapshot named 'nothing'", "--save")[0]
    assert "{" not in r.stdout
    assert look_json(growth_target.pid, state, "--save", "one").returncode == 0
    assert look_json(growth_target.pid, state, "--save", "two.b-3_").returncode == 0
    r = look_json(growth_target.pid, state, "--since", "three")
    harness.assert_refused(r, "no snapshot named 'three'", "known snapshots: one, two.b-3_")
    assert len(line.splitlines()) == 1


@pytest.mark.parametrize("name", ["../x", ".hidden", "a/b", "sp ace", ""])
def test_bad_snapshot_names(growth_target, tmp_path, name):
    r = harness.pyleaks(growth_target.pid, "py-leaks --json --save '%s'" % name,
                        env=state_env(tmp_path / "state"))
    harness.assert_refused(r, "--save", "not a snapshot name")
    assert not (tmp_path / "state").exists() or not list((tmp_path / "state").rglob("*x*"))


def test_corrupt_state_file(growth_target, tmp_path):
    """A damaged look is a note; the look starts afresh and replaces it."""
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    key = process_key(growth_target.pid)[0]
    (state / (key + ".json")).write_bytes(b'{"format": 1, "types": [["str", 1')
    r = look_json(growth_target.pid, state)
    assert r.returncode == 0, r.describe()
    j = harness.one_json(r.stdout)
    assert j["since"] is None
    notes = [ln for ln in r.stderr.splitlines() if ln.startswith("pyleaks: note: the previous look")]
    assert len(notes) == 1 and "not valid JSON" in notes[0], r.describe()
    json.loads((state / (key + ".json")).read_text())
    # A look of the wrong shape, too.
    (state / (key + ".json")).write_text('{"format": 1, "types": 3}')
    r = look_json(growth_target.pid, state)
    assert r.returncode == 0 and harness.one_json(r.stdout)["since"] is None, r.describe()
    assert "pyleaks: note: the previous look cannot be used" in r.stderr


def test_unwritable_state_dir_is_a_note(growth_target, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    r = look_json(growth_target.pid, blocker / "state")
    assert r.returncode == 0, r.describe()
    harness.one_json(r.stdout)
    assert "pyleaks: note: this look is not remembered: cannot create" in r.stderr, r.describe()


def test_reused_pid_is_another_process(growth_target, tmp_path):
    """A look of an earlier process that had the same pid (another start
    time) is never compared with."""
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    key, start, boot = process_key(growth_target.pid)
    other = "%d-%d-%s.json" % (growth_target.pid, start - 1, boot)
    fake = {"format": 1, "time": time.time() - 60, "python_version": "3.11.7",
            "executable": "/usr/bin/python3", "name": None,
            "process": {"pid": growth_target.pid, "start_time": start - 1, "boot_id": boot},
            "types": [["str", 1, 50], ["__main__.Gone", 10, 1000]], "extra": {}}
    (state / other).write_text(json.dumps(fake))
    r = look_json(growth_target.pid, state)
    j = harness.one_json(r.stdout)
    assert j["since"] is None, j["since"]
    assert "__main__.Gone" not in {t["type"] for t in j["types"]}
    assert (state / other).exists() and (state / (key + ".json")).exists()


def test_old_state_files_are_pruned(growth_target, tmp_path):
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    old = state / "1-2-3.json"
    recent = state / "4-5-6.json"
    for p in (old, recent):
        p.write_text("{}")
    week = time.time() - 8 * 24 * 3600
    os.utime(old, (week, week))
    assert look_json(growth_target.pid, state).returncode == 0
    assert not old.exists() and recent.exists()


def test_snapshot_of_another_process(growth_target, tmp_path, interp, primary):
    """Snapshots compare across processes (two runs of a program); with
    another executable or version a note says so; --new refuses, since
    addresses mean nothing in another process."""
    state = tmp_path / "state"
    other = harness.ControlledTarget(interp.path, TARGET, args=["--ids-dir", tmp_path])
    try:
        assert look_json(other.pid, state, "--save", "elsewhere").returncode == 0
    finally:
        other.close()
    r = look_json(growth_target.pid, state, "--since", "elsewhere")
    assert r.returncode == 0, r.describe()
    j = harness.one_json(r.stdout)
    assert j["since"]["kind"] == "snapshot" and j["since"]["name"] == "elsewhere"
    rows = rows_of(j)
    assert rows["__main__.Base"]["count_delta"] == 0
    notes = [ln for ln in r.stderr.splitlines() if ln.startswith("pyleaks: note: the look compared with")]
    if interp.path == primary.path:
        assert not notes, r.describe()
    else:
        assert notes and (interp.path in r.stderr or "CPython" in r.stderr), r.describe()
    r = look_json(growth_target.pid, state, "--new", "--since", "elsewhere")
    harness.assert_refused(r, "snapshot 'elsewhere' is of another process", "--new")


def test_new_without_identities_yet(growth_target, tmp_path):
    """--new with no earlier look that kept identities: says so, keeps
    them for the next --new."""
    state = tmp_path / "state"
    assert look_json(growth_target.pid, state).returncode == 0
    r = look_json(growth_target.pid, state, "--new")
    assert r.returncode == 0, r.describe()
    assert harness.one_json(r.stdout)["new"] is None
    r = look_json(growth_target.pid, state, "--new")
    new = harness.one_json(r.stdout)["new"]
    assert new["since"]["kind"] == "previous" and new["objects"] == 0 and new["gone"] == 0, new
    assert new["types"] == []


def test_sort_growth_on_a_first_look(growth_target, tmp_path):
    """Nothing to compare with: --sort growth orders by count."""
    r = look_json(growth_target.pid, tmp_path / "state", "--sort", "growth")
    j = harness.one_json(r.stdout)
    assert j["since"] is None
    counts = [t["count"] for t in j["types"]]
    assert counts == sorted(counts, reverse=True)


def test_damaged_snapshot(growth_target, tmp_path):
    """A snapshot that cannot be read is one line saying which and what
    to do; so are its damaged identities, for --new."""
    state = tmp_path / "state"
    assert look_json(growth_target.pid, state, "--save", "good").returncode == 0
    (state / "snapshots" / "bad.json").write_text("[1, 2")
    r = look_json(growth_target.pid, state, "--since", "bad")
    lines = harness.assert_refused(r, "snapshot 'bad' cannot be read", "--save bad")
    assert len(lines) == 1, lines
    (state / "snapshots" / "good.ids").write_bytes(b"pyleaks-ids 1\n{}\ngarbage")
    r = look_json(growth_target.pid, state, "--new", "--since", "good")
    harness.assert_refused(r, "identities of snapshot 'good' cannot be read", "damaged")
    # Without --new the counts of that snapshot still serve.
    r = look_json(growth_target.pid, state, "--since", "good")
    assert r.returncode == 0 and harness.one_json(r.stdout)["since"]["name"] == "good", r.describe()
