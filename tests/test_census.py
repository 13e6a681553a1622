"""py-leaks: the census of a live target against the gc module's count,
on every interpreter."""

import re

import harness


def test_session_succeeded(session):
    r = session.run
    harness.assert_no_traceback(r)
    assert r.returncode == 0, "pyleaks failed:\n" + r.describe()
    assert not [ln for ln in r.stderr.splitlines() if ln.strip().startswith("pyleaks:")
                and not ln.strip().startswith("pyleaks: note:")], (
        "error messages in a successful session:\n" + r.describe())


def test_json_header(session):
    j = session.json("census")
    assert j["python_version"] == session.ready["python_version"]
    assert j["mode"] == "live"
    assert j["pid"] == session.ready["pid"]
    assert j["graph_reused"] is False, "first census of a session cannot reuse a graph"
    assert j["warnings"] == 0, "warnings on a healthy heap: %r" % j["warnings"]
    for key in ("elapsed_s", "walk_s"):
        assert isinstance(j[key], (int, float)) and j[key] >= 0, (key, j[key])
    rows = harness.census_rows(j)
    assert j["total_objects"] == sum(r["count"] for r in rows.values())
    assert j["total_bytes"] == sum(r["bytes"] for r in rows.values())
    assert all(r["count"] > 0 and r["bytes"] > 0 for r in rows.values()), (
        [r for r in rows.values() if r["count"] <= 0 or r["bytes"] <= 0])
    assert 0 < j["gc_tracked"] < j["total_objects"]


def test_distinctive_types_exact(session):
    """The target's own classes: no wakeup noise touches them."""
    rows = harness.census_rows(session.json("census"))
    census = session.report["census"]
    bad = []
    for name, want in session.ready["expect"].items():
        got = rows[name]["count"] if name in rows else 0
        oracle = census.get(name, [0])[0]
        if got != want or oracle != want:
            bad.append("%s: pyleaks %d, oracle %d, built %d" % (name, got, oracle, want))
    assert not bad, "\n".join(bad)


def test_census_equals_oracle(session):
    bad = harness.census_mismatches(session.json("census"), session.report)
    assert not bad, ("census differs from gc's count (tolerance %s):\n" % harness.WAKEUP_TOLERANCE
                     + "\n".join(bad))


def test_sizes_equal_getsizeof(session):
    bad = harness.size_mismatches(session.json("census"), session.report)
    assert not bad, "per-type bytes differ from the sum of sys.getsizeof:\n" + "\n".join(bad)


def test_totals_close_to_oracle(session):
    j = session.json("census")
    o = session.report
    slack = sum(harness.WAKEUP_TOLERANCE.values())
    assert abs(j["total_objects"] - o["total_objects"]) <= slack, (j["total_objects"], o["total_objects"])
    assert abs(j["gc_tracked"] - o["gc_tracked"]) <= slack, (j["gc_tracked"], o["gc_tracked"])
    # dict and instance sizes are documented approximations (docs/sizes.md),
    # so only the total's order of magnitude is checked.
    assert 0.8 * o["total_bytes"] <= j["total_bytes"] <= 1.25 * o["total_bytes"], (
        j["total_bytes"], o["total_bytes"])


def test_edges_match_referents(session):
    """Every tp_traverse visit of every object is one reference."""
    j = session.json("census")
    o = session.report
    slack = sum(harness.WAKEUP_TOLERANCE.values())
    assert abs(j["edges"] - o["refs_total"]) <= slack, (j["edges"], o["refs_total"])


def test_default_order_is_by_count(session):
    counts = [r["count"] for r in session.json("census")["types"]]
    assert counts == sorted(counts, reverse=True)
    top = session.json("top_default")
    assert [r["count"] for r in top["types"]] == counts[:7]


def counted(rows):
    """A census's rows without their change since the previous look (the
    first look of a process has none to give, later ones do)."""
    return [{k: r[k] for k in ("type", "count", "bytes")} for r in rows]


def test_top_sort_bytes(session):
    full = harness.census_rows(session.json("census"))
    top = session.json("top_bytes")["types"]
    assert len(top) == 5
    got = [r["bytes"] for r in top]
    assert got == sorted((r["bytes"] for r in full.values()), reverse=True)[:5]
    for r in top:
        assert counted([full[r["type"]]]) == counted([r]), (
            "top row differs from the full census: %r vs %r" % (r, full[r["type"]]))


def test_top_sort_count(session):
    full = harness.census_rows(session.json("census"))
    top = session.json("top_count")["types"]
    assert len(top) == 5
    assert [r["count"] for r in top] == sorted((r["count"] for r in full.values()), reverse=True)[:5]
    for r in top:
        assert counted([full[r["type"]]]) == counted([r])


def test_top_keeps_totals(session):
    """--top truncates the rows, not the totals."""
    full = session.json("census")
    for name in ("top_bytes", "top_count"):
        j = session.json(name)
        assert (j["total_objects"], j["total_bytes"]) == (full["total_objects"], full["total_bytes"])


def test_graph_reused(session):
    first = session.json("census")
    for name in ("census_again", "census_last"):
        j = session.json(name)
        assert j["graph_reused"] is True, "%s did not reuse the graph" % name
        assert counted(j["types"]) == counted(first["types"]), "%s counted differently" % name
        assert (j["total_objects"], j["gc_tracked"], j["edges"]) == (
            first["total_objects"], first["gc_tracked"], first["edges"])


NUM = r"[0-9][0-9,]*"


def _int(s):
    return int(s.replace(",", ""))


def test_text_mode(session):
    j = session.json("census")
    lines = [ln for ln in session.out["text"].splitlines() if ln.strip()]
    header = re.compile(r"^pyleaks: CPython (\S+), live process (\d+): (%s) objects\b" % NUM)
    m = [header.match(ln.strip()) for ln in lines]
    found = [x for x in m if x]
    assert len(found) == 1, "no header line:\n" + session.out["text"]
    version, pid, objects = found[0].groups()
    assert (version, int(pid), _int(objects)) == (j["python_version"], j["pid"], j["total_objects"])
    # Table rows: count first, type name last.
    names = {r["type"]: r for r in j["types"]}
    rows = []
    for ln in lines:
        parts = ln.split()
        if len(parts) >= 3 and re.fullmatch(NUM, parts[0]) and parts[-1] in names:
            rows.append((_int(parts[0]), parts[-1]))
    assert rows, "no table rows:\n" + session.out["text"]
    assert len(rows) == min(25, len(names)), "default --top is 25:\n" + session.out["text"]
    for count, name in rows:
        assert names[name]["count"] == count, (name, count, names[name]["count"])
    assert [c for c, _ in rows] == [r["count"] for r in j["types"][:25]]
    assert ("__main__.Plain" in dict((n, c) for c, n in rows)), session.out["text"]


def test_graph_rebuilt_after_target_ran(session):
    first = session.json("census")
    assert str(session.ready["pid"]) in session.out["run_target"], session.out["run_target"]
    j = session.json("census_after_run")
    assert j["graph_reused"] is False, "the target ran, yet the old graph was reused"
    assert counted(j["types"]) == counted(first["types"])
    assert (j["total_objects"], j["gc_tracked"], j["edges"]) == (
        first["total_objects"], first["gc_tracked"], first["edges"])


def test_force_on_a_quiet_target(session):
    """--force changes nothing when there is nothing to force."""
    j = session.json("force")
    assert counted(j["types"]) == counted(session.json("census")["types"][:3])
