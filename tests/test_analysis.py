"""py-leaks' analysis on a heap whose holders are known: the biggest
holder is the planted list, what it retains equals what the target's own
structure says it must (its size plus every object only it holds, sized
by pyleaks' census of those types), the retained bytes per type agree,
and the instances are grouped under the list's path pattern.  Every
interpreter."""

import pytest

import harness

TARGET = harness.TARGETS_DIR / "analysis_target.py"


@pytest.fixture(scope="module")
def looked(request):
    cache = {}

    def run(interp):
        if interp.id not in cache:
            t = harness.Target(interp.path, TARGET)
            try:
                r = harness.pyleaks(t.pid, "py-leaks --json")
                harness.assert_no_traceback(r)
                cache[interp.id] = (t.ready, harness.one_json(r.stdout, "py-leaks"))
                t.wake(request={})
            finally:
                t.close()
        return cache[interp.id]
    return run


def _types(j):
    return {row["type"]: row for row in j["types"]}


def test_biggest_holder_is_the_planted_list(interp, looked):
    ready, j = looked(interp)
    assert j["suspects"], j.get("suspects")
    top = j["suspects"][0]
    assert harness.normalize_address(top["address"]) == \
        harness.normalize_address(ready["list"]), top
    assert top["subject"] == "__main__.Session" and top["count"] == ready["n"], top
    assert top["chain"]["root"]["description"] == "module __main__", top["chain"]
    assert top["chain"]["hops"][-1]["label"] == "._active_sessions", top["chain"]


def test_retained_equals_what_only_the_list_holds(interp, looked):
    ready, j = looked(interp)
    types = _types(j)
    session, payload = types["__main__.Session"], types["__main__.Payload"]
    assert session["count"] == ready["n"], session
    # Payloads: N in the list's sessions, N // 10 in the records.
    assert payload["count"] == ready["n"] + ready["n"] // 10, payload
    per_payload_list = payload["bytes"] - _records_payload_bytes(j, ready)
    expected = ready["list_size"] + session["bytes"] + per_payload_list
    top = j["suspects"][0]
    assert top["retained_bytes"] == expected, (top["retained_bytes"], expected)


def _records_payload_bytes(j, ready):
    """Bytes of the records' payloads: every one is the same size (64
    bytes of data), and so is every session payload (8 + 512), so the two
    sizes follow from the census total and the counts."""
    n, m = ready["n"], ready["n"] // 10
    total = _types(j)["__main__.Payload"]["bytes"]
    # n * a + m * b = total, with a - b = (8 + 512) - 64 bytes of data.
    diff = 8 + 512 - 64
    b = (total - n * diff) // (n + m)
    assert (n + m) * b + n * diff == total, "payload sizes are not uniform"
    return m * b


def test_retained_per_type(interp, looked):
    ready, j = looked(interp)
    types = _types(j)
    session, payload = types["__main__.Session"], types["__main__.Payload"]
    # No payload holds another: together they retain their own bytes.
    assert payload["retained"] == payload["bytes"], payload
    # Sessions retain themselves and their payloads.
    assert session["retained"] == session["bytes"] + payload["bytes"] - \
        _records_payload_bytes(j, ready), session


def test_holders_grouped_by_pattern(interp, looked):
    ready, j = looked(interp)
    groups = {h["type"]: h for h in j["holders"]}
    assert "__main__.Session" in groups, j["holders"]
    first = groups["__main__.Session"]["patterns"][0]
    assert first["pattern"] == "module __main__ ._active_sessions [*] __main__.Session", first
    assert first["count"] == ready["n"], first


def test_findings_empty_without_a_cause(interp, looked):
    """Big but bounded holders are not causes: no finding."""
    _, j = looked(interp)
    assert j["findings"] == [], j["findings"]
