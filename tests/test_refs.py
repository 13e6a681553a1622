"""py-refs and py-backrefs on every interpreter: the referents listed are
exactly gc.get_referents() of the object, the referrers exactly the
objects of the graph whose referents include it, each with the label the
target agrees with.  The graph is the census set (gc.get_objects() and
the closure of gc.get_referents over it, docs/architecture.md), scanned
with gc.get_referents: this is gc.get_referrers() restricted to the graph
plus the untracked containers gc.get_referrers() cannot see (a tuple of
atoms, a dict of atoms); the oracle's own containers are excluded by id,
and on 3.8-3.10 so are executing frames, which CPython does not track."""

import pytest

import chain_harness as ch
import harness

EXACT = harness.EXACT_SIZE_TYPES


def _norm(a):
    return harness.normalize_address(a)


def _refs(s, name, key):
    j = s.json(name)
    a = s.addr(key)
    assert _norm(j["address"]) == a, j["address"]
    want = s.report["refs"][a]
    assert want is not None, "the oracle does not know %s" % a
    assert j["type"] == want["type"], (j["type"], want["type"])
    rows = j["referents"]
    got = {_norm(r["address"]) for r in rows}
    assert got == set(want["referents"]), (
        "referents differ from gc.get_referents:\n  only pyleaks: %s\n  only gc: %s" % (
            sorted((x, [r["type"] for r in rows if _norm(r["address"]) == x]) for x in got
                   - set(want["referents"])),
            sorted((x, want["referents"][x]["type"]) for x in set(want["referents"]) - got)))
    bad = []
    for r in rows:
        w = want["referents"][_norm(r["address"])]
        where = "%s %s %r" % (r["type"], r["address"], r["label"])
        if r["type"] != w["type"]:
            bad.append("%s: the target says %s" % (where, w["type"]))
        if not r["label"]:
            bad.append("%s: empty label" % where)
        elif w["labels"] and not ch.label_ok(r["label"], w["labels"]):
            bad.append("%s: expected one of %s" % (where, w["labels"]))
        if r["type"] in EXACT and w["size"] is not None and r["size"] != w["size"]:
            bad.append("%s: size %s, sys.getsizeof %s" % (where, r["size"], w["size"]))
        if not isinstance(r.get("repr"), str) or not r["repr"]:
            bad.append("%s: no repr" % where)
    assert not bad, "\n".join(bad)
    return rows


def _labels(rows):
    return sorted(r["label"] for r in rows)


def test_refs_dict(chain_session):
    rows = _refs(chain_session, "refs_dict", "routes")
    assert _labels(rows) == sorted([
        "['upload']", "key of ['upload']", "['download']", "key of ['download']",
        "[3]", "key of [3]", "[(1, 2)]", "key of [(1, 2)]"]), _labels(rows)


def test_refs_list(chain_session):
    rows = _refs(chain_session, "refs_list", "pop_list")
    assert _labels(rows) == ["[0]", "[1]", "[2]"]
    assert [r["label"] for r in rows] == ["[0]", "[1]", "[2]"], "not in tp_traverse order"


def test_refs_instance(chain_session):
    s = chain_session
    rows = _refs(s, "refs_instance", "holder")
    labels = set(_labels(rows))
    # 3.11+: attributes are inline values; before, they live in __dict__,
    # whose entries py-refs shows as the instance's attributes.
    assert labels in ({".ref", ".other", "__class__"}, {".ref", ".other"}), labels


def test_refs_function(chain_session):
    rows = _refs(chain_session, "refs_function", "record_event")
    labels = set(_labels(rows))
    for want in ("__code__", "__globals__", "__defaults__"):
        assert want in labels, labels


def test_refs_text(chain_session):
    s = chain_session
    rows = s.json("refs_dict")["referents"]
    text = s.out["refs_text"]
    for r in rows:
        assert any(r["address"] in ln and r["label"] in ln for ln in text.splitlines()), (
            "no line with %s %s:\n%s" % (r["label"], r["address"], text))


# ---------------------------------------------------------------------------

def _backrefs(s, name, key, depth):
    j = s.json(name)
    a = s.addr(key)
    assert _norm(j["address"]) == a, j["address"]
    answer = s.report["backrefs"]["%s/%d" % (a, depth)]
    assert answer is not None, "the oracle does not know %s" % a
    want = answer["rows"]
    # gc.get_referrers() restricted to the graph: the tracked referrers.
    tracked = set(answer["gc_referrers"])
    depth1 = {x for x, w in want.items() if w["depth"] == 1}
    assert tracked <= depth1, "gc.get_referrers finds more: %s" % sorted(tracked - depth1)
    items = j["referrers"]
    objs = [r for r in items if r.get("address")]
    roots = [r for r in items if not r.get("address")]
    got = {}
    for r in objs:
        assert _norm(r["address"]) not in got, "%s listed twice" % r["address"]
        got[_norm(r["address"])] = r
    assert set(got) == set(want), (
        "referrers differ from the target's:\n  only pyleaks: %s\n  only the target: %s" % (
            sorted((x, got[x]["type"], got[x]["depth"]) for x in set(got) - set(want)),
            sorted((x, want[x]["type"], want[x]["depth"]) for x in set(want) - set(got))))
    depths = [r["depth"] for r in items]
    assert depths == sorted(depths), "not breadth first: %s" % depths
    bad = []
    for x, r in got.items():
        w = want[x]
        where = "%s %s depth %s via %s %r" % (r["type"], x, r["depth"], r.get("via"), r["label"])
        if r["type"] != w["type"] or r["depth"] != w["depth"]:
            bad.append("%s: the target says %s at depth %d" % (where, w["type"], w["depth"]))
            continue
        via = _norm(r["via"]) if r.get("via") else None
        if via not in w["via"]:
            bad.append("%s: it refers to none such one level closer (%s)" % (where, sorted(w["via"])))
        elif not r["label"] or (w["via"][via] and not ch.label_ok(r["label"], w["via"][via])):
            bad.append("%s: expected one of %s" % (where, w["via"][via]))
    for r in roots:
        if not (r.get("root") or {}).get("kind"):
            bad.append("an entry with neither address nor root: %r" % (r,))
    assert not bad, "\n".join(bad)
    return got, roots


def test_backrefs_depth1(chain_session):
    s = chain_session
    got, roots = _backrefs(s, "backrefs", "popular", 1)
    # All six referrers are tracked containers: exactly gc.get_referrers().
    answer = s.report["backrefs"]["%s/1" % s.addr("popular")]
    assert set(got) == set(answer["gc_referrers"]), (sorted(got), answer["gc_referrers"])
    labels = sorted(r["label"] for r in got.values())
    ref = ".ref" if ".ref" in labels else "['ref']"
    assert labels == sorted(["[1]", "['p']", "[0]", "member of set", "cell_contents", ref]), labels
    assert all(_norm(r["via"]) == s.addr("popular") for r in got.values())
    assert not roots, roots


def test_backrefs_depth2(chain_session):
    s = chain_session
    got, roots = _backrefs(s, "backrefs_depth2", "popular", 2)
    assert {r["depth"] for r in got.values()} == {1, 2}


def test_backrefs_max(chain_session):
    """--max N lists the first N of the breadth-first list and counts all."""
    s = chain_session
    full = s.json("backrefs_depth2")
    cut = s.json("backrefs_max")
    assert len(full["referrers"]) > 3, "the object needs more than 3 referrers for this test"
    assert cut["referrers"] == full["referrers"][:3], (cut, full)
    assert cut["total"] == full["total"] == len(full["referrers"]), (cut["total"], full["total"])


def test_backrefs_of_thread_local(chain_session):
    s = chain_session
    got, roots = _backrefs(s, "backrefs_thread", "thread_local", 1)
    th = s.ready["thread"]
    frames = [r for r in roots + list(got.values())
              if (r.get("root") or {}).get("kind") == "frame"
              and "%s()" % th["function"] in r["root"]["description"]
              and r["root"]["description"].endswith("local '%s'" % th["local"])]
    assert frames, "the thread's local is not listed as a root: %r" % (roots,)


def test_backrefs_of_c_leak(chain_session):
    s = chain_session
    if not s.ready["ext"]:
        pytest.skip(s.ext_reason)
    got, roots = _backrefs(s, "backrefs_c", "c_conn", 1)
    assert [r["root"]["kind"] for r in roots] == ["c"], roots
    assert "1 reference" in roots[0]["root"]["description"], roots


def test_backrefs_text(chain_session):
    s = chain_session
    text = s.out["backrefs_text"]
    for r in s.json("backrefs")["referrers"]:
        assert any(r["address"] in ln and r["label"] in ln for ln in text.splitlines()), (
            "no line with %s %s:\n%s" % (r["label"], r["address"], text))
