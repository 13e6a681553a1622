"""Bounded answers on big containers (issue 13): py-refs, py-backrefs and
py-objects on a dict of a million keys and lists of a million items list
at most --max rows (default 100), the first in reading order, and always
say how many there are in all; each total is checked against the
target's own len() and gc module.  How long they take is measured by
bench/refs.sh, never here.  Also: names with a NUL in them are shown with
the NUL escaped, not cut there.

One target (tests/targets/bounded_target.py) on the primary interpreter,
one pyleaks session, then the target's oracle."""

import pytest

import harness

TARGET = harness.TARGETS_DIR / "bounded_target.py"
N = 1_000_000
DEFAULT_MAX = 100  # docs/usage.md

COMMANDS = [
    ("refs_dict", "py-refs {big_dict} --json"),
    ("refs_list", "py-refs {big_list} --json"),
    ("refs_dup", "py-refs {dup_list} --json"),
    ("refs_dict_max", "py-refs {big_dict} --max 7 --json"),
    ("refs_text", "py-refs {big_dict}"),
    ("backrefs_sentinel", "py-backrefs {sentinel} --json"),
    ("backrefs_text", "py-backrefs {sentinel}"),
    ("backrefs_shared", "py-backrefs {shared} --json"),
    ("objects_node", "py-objects Node --json"),
    ("objects_text", "py-objects Node"),
    ("chain_last", "py-chain {last_node} --json"),
    ("census", "py-leaks --json"),
    ("refs_nul_keys", "py-refs {nul_keys} --json"),
    ("chain_key_marker", "py-chain {key_marker} --json"),
    ("chain_attr_marker", "py-chain {attr_marker} --json"),
]

REFS = {"refs_dict": "big_dict", "refs_list": "big_list", "refs_dup": "dup_list"}


class Session:
    def __init__(self, ready, run, out, report):
        self.ready = ready
        self.run = run
        self.out = out
        self.report = report

    def addr(self, name):
        return harness.normalize_address(self.ready["addrs"][name])

    def json(self, name):
        return harness.one_json(self.out.get(name, ""), name)


@pytest.fixture(scope="module")
def bounded(primary):
    t = harness.Target(primary.path, TARGET, args=(N,))
    try:
        assert t.ready["n"] == N
        cmds = [(name, cmd.format(**t.ready["addrs"])) for name, cmd in COMMANDS]
        r = harness.pyleaks(t.pid, *harness.commands_with_markers(cmds))
        out = harness.sections(r.stdout)
        listed = set()
        for name in ("backrefs_sentinel", "objects_node"):
            try:
                j = harness.one_json(out.get(name, ""), name)
            except AssertionError:
                continue
            rows = j.get("referrers") or j.get("objects") or []
            listed.update(row["address"] for row in rows if row.get("address"))
        report = t.wake(request={"first": {v: DEFAULT_MAX for v in REFS.values()},
                                 "objects": sorted(listed)})
        return Session(t.ready, r, out, report)
    finally:
        t.close()


def _norm_rows(rows):
    return [[harness.normalize_address(r["address"]), r["label"]] for r in rows]


@pytest.mark.parametrize("section", sorted(REFS))
def test_refs_default_max(bounded, section):
    """The total is every reference (gc.get_referents), the rows the first
    100 in reading order: the dict's keys and values entry by entry, the
    lists' items by index."""
    s = bounded
    harness.assert_no_traceback(s.run)
    j = s.json(section)
    name = REFS[section]
    assert harness.normalize_address(j["address"]) == s.addr(name)
    want_total = s.report["referents"][name]
    assert want_total == s.report["len"][name] * (2 if name == "big_dict" else 1)
    assert j["total"] == want_total, (j["total"], want_total)
    assert len(j["referents"]) == DEFAULT_MAX
    want = [[harness.normalize_address(a), label] for a, label in s.report["first"][name]]
    assert _norm_rows(j["referents"]) == want


def test_refs_max(bounded):
    s = bounded
    full = s.json("refs_dict")
    cut = s.json("refs_dict_max")
    assert cut["total"] == full["total"]
    assert cut["referents"] == full["referents"][:7]


def test_refs_text_says_how_many(bounded):
    s = bounded
    total = s.json("refs_dict")["total"]
    lines = [ln for ln in s.out["refs_text"].splitlines() if ln.strip()]
    assert "refers to {:,} objects".format(total) in lines[0], lines[0]
    assert "(showing {} of {:,} references".format(DEFAULT_MAX, total) in lines[-1], lines[-1]
    assert "--max N" in lines[-1]
    assert len(lines) == DEFAULT_MAX + 2, "%d lines" % len(lines)


def test_backrefs_default_max(bounded):
    """The sentinel's referrers are the million nodes: all counted, the
    first 100 listed, each a live Node that refers to it as .ref."""
    s = bounded
    j = s.json("backrefs_sentinel")
    assert s.report["sentinel_referrer_types"] == ["__main__.Node"]
    assert j["total"] == s.report["sentinel_referrers"] == N
    rows = j["referrers"]
    assert len(rows) == DEFAULT_MAX
    addrs = [harness.normalize_address(r["address"]) for r in rows]
    assert len(set(addrs)) == len(addrs), "a referrer listed twice"
    live = s.report["objects"]
    bad = [r for r in rows if live.get(harness.normalize_address(r["address"])) != "__main__.Node"
           or r["label"] != ".ref" or r["depth"] != 1
           or harness.normalize_address(r["via"]) != s.addr("sentinel")]
    assert not bad, bad[:5]


def test_backrefs_text_says_how_many(bounded):
    s = bounded
    lines = [ln for ln in s.out["backrefs_text"].splitlines() if ln.strip()]
    assert "{:,} referrers and roots".format(N) in lines[0], lines[0]
    assert "(showing {} of {:,} referrers and roots".format(DEFAULT_MAX, N) in lines[-1], lines[-1]
    assert len(lines) == DEFAULT_MAX + 2, "%d lines" % len(lines)


def test_backrefs_each_referrer_once(bounded):
    """A million references from two containers: two referrers."""
    s = bounded
    j = s.json("backrefs_shared")
    got = sorted(harness.normalize_address(r["address"]) for r in j["referrers"])
    assert got == sorted(harness.normalize_address(a) for a in s.report["shared_referrers"])
    assert j["total"] == len(got) == 2


def test_objects_default_max(bounded):
    s = bounded
    j = s.json("objects_node")
    assert j["type"] == "__main__.Node"
    assert j["total"] == j["count"] == s.report["nodes"] == N
    assert len(j["objects"]) == DEFAULT_MAX
    live = s.report["objects"]
    bad = [o["address"] for o in j["objects"]
           if live.get(harness.normalize_address(o["address"])) != "__main__.Node"]
    assert not bad, bad[:5]
    lines = [ln for ln in s.out["objects_text"].splitlines() if ln.strip()]
    assert "(showing {} of {:,} objects".format(DEFAULT_MAX, N) in lines[-1], lines[-1]
    assert len(lines) == DEFAULT_MAX + 2


def test_chain_through_big_list(bounded):
    s = bounded
    j = s.json("chain_last")
    hops = j["hops"]
    assert harness.normalize_address(hops[-1]["address"]) == s.addr("last_node")
    assert hops[-1]["label"] == "[%d]" % (N - 1)
    assert harness.normalize_address(hops[-2]["address"]) == s.addr("big_list")


def test_nul_in_type_name(bounded):
    """A NUL in __qualname__ is shown as \\x00, not cut there."""
    s = bounded
    want = s.ready["nul"]["type"].replace("\0", "\\x00")
    rows = harness.census_rows(s.json("census"))
    assert want in rows, sorted(n for n in rows if "Nul" in n)
    assert rows[want]["count"] == s.ready["nul"]["count"]


def test_nul_in_key_and_attribute(bounded):
    s = bounded
    key = s.ready["nul"]["key"]
    # A str-keyed dict's references are its values (tp_traverse).
    labels = [r["label"] for r in s.json("refs_nul_keys")["referents"]]
    assert "[%r]" % key in labels, labels
    assert s.json("chain_key_marker")["hops"][-1]["label"] == "[%r]" % key
    attr = s.ready["nul"]["attr"].replace("\0", "\\x00")
    assert s.json("chain_attr_marker")["hops"][-1]["label"] == "." + attr
