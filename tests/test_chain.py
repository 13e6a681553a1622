"""py-chain on the incidents of issue 3, on every interpreter: each chain
checked by the target itself (chain_harness.chain_problems: every hop a
reference gc.get_referents confirms, types, labels, the root, and the
length equal to the target's own BFS from that root)."""

import re
import shutil
import subprocess

import pytest

import chain_harness as ch
import harness


def _show(chain):
    return "\n".join("  %-28s %-32s %s" % (h.get("label"), h.get("type"), h.get("address"))
                     for h in chain.get("hops", []))


def _the_chain(s, name, target):
    """The one chain of a py-chain --json answer, checked against the oracle."""
    j = s.json(name)
    assert harness.normalize_address(j["target"]) == s.addr(target), j["target"]
    assert j["type"] == s.report["objects"][s.addr(target)]["type"], j["type"]
    assert isinstance(j.get("elapsed_s"), (int, float)) and j["elapsed_s"] >= 0, j.get("elapsed_s")
    chains = s.chains(name)
    assert len(chains) == 1, "%s: expected one chain, got %r" % (name, j)
    key, chain = chains[0]
    bad = ch.chain_problems(s, key, chain, s.addr(target))
    assert not bad, "%s (root %r):\n%s\n%s" % (name, chain["root"], "\n".join(bad), _show(chain))
    return chain


def _assert_module_root(chain, module=ch.APP):
    assert chain["root"] == {"kind": "module", "description": "module " + module}, (
        "%r\n%s" % (chain["root"], _show(chain)))


def _attr_labels(chain, name):
    """How many hops name attribute `name`: `.name`, or `['name']` after
    an explicit `.__dict__` hop."""
    labels = ch.labels_of(chain)
    n = labels.count("." + name)
    for i, label in enumerate(labels):
        if label == "[%r]" % name and i > 0 and labels[i - 1] == ".__dict__":
            n += 1
    return n


# ---------------------------------------------------------------------------
# The session itself

def test_chain_session_succeeded(chain_session):
    r = chain_session.run
    harness.assert_no_traceback(r)
    assert r.returncode == 0, "pyleaks failed:\n" + r.describe()
    # Text output's header lines start with 'pyleaks:' too, on stdout.
    errors = [ln for ln in r.stderr.splitlines() if ln.strip().startswith("pyleaks:")
              and not ln.strip().startswith("pyleaks: note:")]
    assert not errors, "error messages in a successful session:\n" + r.describe()


def test_target_untouched(chain_session):
    rep = chain_session.report
    assert rep["refcounts_after"] == rep["refcounts_before"], (
        rep["refcounts_before"], rep["refcounts_after"])
    assert rep["checksum_after"] == rep["checksum_before"], "the target's data changed"
    assert rep["gc_enabled"] is False and rep["gc_enabled_before"] is False
    assert chain_session.state_after == "S", chain_session.state_after
    assert chain_session.tracer_after == 0
    assert not chain_session.maps_problems, "\n".join(chain_session.maps_problems)


# ---------------------------------------------------------------------------
# The incidents

def test_deep_registry(chain_session):
    """60 nested containers below a module-level registry: found whole."""
    s = chain_session
    chain = _the_chain(s, "deep", "deep")
    _assert_module_root(chain)
    labels = ch.labels_of(chain)
    depth = s.ready["depth"]
    assert len(chain["hops"]) >= depth + 2, _show(chain)
    assert _attr_labels(chain, "REGISTRY") == 1, _show(chain)
    assert labels.count("['upload']") == 1, _show(chain)
    assert labels.count("['next']") == depth // 3, _show(chain)
    assert labels.count("[0]") == depth // 3, _show(chain)
    assert _attr_labels(chain, "child") == depth // 3, _show(chain)


def test_lru_cache_on_method(chain_session):
    """module -> Handler -> render (the lru_cache wrapper) -> its cache's
    key (self, 'json') -> the handler -> .body"""
    s = chain_session
    chain = _the_chain(s, "lru", "lru_body")
    _assert_module_root(chain)
    hops = chain["hops"]
    types = [h["type"] for h in hops]
    assert "functools._lru_cache_wrapper" in types, _show(chain)
    w = types.index("functools._lru_cache_wrapper")
    assert "cache" in hops[w + 1]["label"], _show(chain)
    handler = [i for i, h in enumerate(hops)
               if harness.normalize_address(h["address"]) == s.addr("lru_handler")]
    assert handler, "the chain does not pass through the body's handler:\n" + _show(chain)
    i = handler[0]
    assert hops[i]["label"] == "[0]" and hops[i - 1]["type"] == "tuple", _show(chain)
    # The key (self, 'json'): reached from the cache's dict, or (tp_traverse
    # of the wrapper visits its entries' keys) from the wrapper itself.
    assert (hops[i - 1]["label"].startswith("key of [(")
            or (i - 1 == w + 1 and "key" in hops[i - 1]["label"])), _show(chain)
    assert _attr_labels(chain, "body") == 1 and i >= len(hops) - 3, _show(chain)


def test_mutable_default_argument(chain_session):
    s = chain_session
    chain = _the_chain(s, "default_arg", "event")
    _assert_module_root(chain)
    labels = ch.labels_of(chain)
    assert _attr_labels(chain, "record_event") == 1, _show(chain)
    assert ch.label_at(chain, s.addr("record_event")) in (".record_event", "['record_event']")
    assert ("__defaults__[0]" in labels
            or labels[-3:-1] == ["__defaults__", "[0]"]), _show(chain)
    assert labels[-1] == "[17]", _show(chain)


def test_exception_traceback_keeps_locals(chain_session):
    s = chain_session
    chain = _the_chain(s, "exception", "exc_upload")
    _assert_module_root(chain)
    labels = ch.labels_of(chain)
    assert _attr_labels(chain, "ERRORS") == 1, _show(chain)
    for want in ("[3]", "__traceback__", "tb_next", "tb_frame"):
        assert want in labels, "no %r hop:\n%s" % (want, _show(chain))
    assert labels[-1] == "local 'upload'", _show(chain)
    assert [h["type"] for h in chain["hops"][-4:]] == [
        "traceback", "traceback", "frame", "chain_app.Upload"], _show(chain)


def test_local_of_sleeping_thread(chain_session):
    s = chain_session
    chain = _the_chain(s, "thread", "thread_local")
    th = s.ready["thread"]
    assert chain["root"]["kind"] == "frame", chain["root"]
    assert len(chain["hops"]) == 1, "the local itself is the root object:\n" + _show(chain)
    desc = chain["root"]["description"]
    assert re.search(r"\bthread \d+\b", desc), desc
    assert "'%s'" % th["name"] in desc, "the thread's name is missing: %r (%r)" % (desc, th)
    assert (str(th["native_id"]) in desc
            or ("%x" % th["ident"]) in desc), "the thread's id is missing: %r (%r)" % (desc, th)
    assert "%s()" % th["function"] in desc, desc
    assert "%s:%d" % (th["file"], th["line"]) in desc, desc
    assert desc.endswith("local '%s'" % th["local"]), desc


def test_c_extension_forgot_decref(chain_session):
    s = chain_session
    if not s.ready["ext"]:
        pytest.skip(s.ext_reason)
    assert s.report["unexplained"][s.addr("c_conn")] == 1, "the oracle's own count"
    chain = _the_chain(s, "c_leak", "c_conn")
    assert chain["root"]["kind"] == "c", chain["root"]
    assert len(chain["hops"]) == 1, _show(chain)
    assert ch.C_DESC_RE.search(chain["root"]["description"]).group(1) == "1"
    inner = _the_chain(s, "c_leak_inner", "c_buffer")
    assert inner["root"] == chain["root"], (inner["root"], chain["root"])
    assert harness.normalize_address(inner["hops"][0]["address"]) == s.addr("c_conn")
    assert _attr_labels(inner, "buffer") == 1, _show(inner)


def test_cycle_with_collector_disabled(chain_session):
    s = chain_session
    j = s.json("cycle")
    a = s.addr("cycle")
    assert harness.normalize_address(j["target"]) == a
    assert j["type"] == s.report["objects"][a]["type"] == "chain_app.CycleNode"
    assert j["root"] is None and j["hops"] == [], j
    u = j.get("unreachable")
    assert u, "no 'unreachable' explanation: %r" % j
    want = s.report["cycles"][a]
    assert want["collectable"], "the oracle: gc.collect() would not free it"
    # 3.8-3.10: each instance's __dict__ is in the cycle too.
    assert want["cycle_group"] in (s.ready["cycle_size"], 2 * s.ready["cycle_size"]), want
    assert u["cycle_group"] == want["cycle_group"], (u, want)
    assert u["garbage"] == want["garbage"], (u, want)
    assert u["gc_enabled"] is False, u
    assert u["unexplained"] == 0 == s.report["unexplained"][a], u
    assert isinstance(u["explanation"], str) and u["explanation"].strip(), u
    text = s.out["cycle_text"]
    assert str(want["cycle_group"]) in text and "disabled" in text.lower(), text


# ---------------------------------------------------------------------------
# --all-roots, --type

def _all_chains(s, name):
    j = s.json(name)
    assert harness.normalize_address(j["target"]) == s.addr("shared")
    chains = s.chains(name)
    bad = []
    for key, c in chains:
        bad += ["%s: %s" % (c["root"].get("description"), p)
                for p in ch.chain_problems(s, key, c, s.addr("shared"))]
    assert not bad, "\n".join(bad)
    roots = [(c["root"]["kind"], c["root"]["description"]) for _, c in chains]
    assert len(set(roots)) == len(roots), "a root is listed twice: %s" % roots
    return chains


def test_all_roots_two_modules(chain_session):
    s = chain_session
    chains = _all_chains(s, "all_roots")
    assert 2 <= len(chains) <= 20, len(chains)
    descs = [c["root"]["description"] for _, c in chains]
    assert "module " + ch.APP in descs and "module chain_peers" in descs, descs
    lengths = [ch.expanded_length(s.oracle_path(k)) for k, _ in chains]
    assert lengths == sorted(lengths), "not shortest first: %s" % list(zip(descs, lengths))
    for _, c in chains:
        if c["root"]["description"] == "module chain_peers":
            assert ch.labels_of(c)[-1] in (".CONFIG", "['CONFIG']"), _show(c)


def test_all_roots_max(chain_session):
    s = chain_session
    full = _all_chains(s, "all_roots")
    default = _all_chains(s, "all_roots_default")
    one = _all_chains(s, "all_roots_1")
    assert len(default) == min(10, len(full)), (len(default), len(full))
    assert len(one) == 1
    assert one[0][1]["root"] == full[0][1]["root"], (one[0][1]["root"], full[0][1]["root"])


def test_type_picks_an_object(chain_session):
    s = chain_session
    j = s.json("by_type")
    picked = j.get("picked")
    assert picked and isinstance(picked.get("why"), str) and picked["why"].strip(), j
    a = harness.normalize_address(picked["address"])
    assert s.report["objects"][a]["type"] == "chain_app.Handler", s.report["objects"][a]
    assert harness.normalize_address(j["target"]) == a and j["type"] == "chain_app.Handler"
    [(key, chain)] = s.chains("by_type")
    bad = ch.chain_problems(s, key, chain, a)
    assert not bad, "\n".join(bad) + "\n" + _show(chain)
    text = s.out["by_type_text"]
    assert picked["address"] in text and picked["why"] in text, text


# ---------------------------------------------------------------------------
# Text and graphviz output

def test_text_reads_like_code(chain_session):
    """One line per hop, root first, each with its label, type and
    address, in the order of the JSON chain."""
    s = chain_session
    [(_, chain)] = s.chains("lru")
    lines = [ln for ln in s.out["lru_text"].splitlines() if ln.strip()]
    header = [i for i, ln in enumerate(lines)
              if "chain to" in ln and s.ready["addrs"]["lru_body"] in ln]
    assert header, "no header line naming the target:\n" + s.out["lru_text"]
    assert "chain_app.RequestBody" in lines[header[0]], lines[header[0]]
    body = lines[header[0] + 1:]
    assert chain["root"]["description"] in body[0], body[0]
    pos = 0
    for h in chain["hops"][1:]:
        found = [i for i in range(pos, len(body))
                 if h["address"] in body[i] and h["label"] in body[i]]
        assert found, "no line with %s %s after line %d:\n%s" % (
            h["label"], h["address"], pos, "\n".join(body))
        pos = found[0] + 1


def _dot_ok(path):
    assert path.exists(), "%s was not written" % path
    if shutil.which("dot") is None:
        return
    r = subprocess.run(["dot", "-Tsvg", "-o", "/dev/null", str(path)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, "dot rejects %s: %s\n%s" % (path, r.stderr, path.read_text()[:3000])


DOT_NODE_RE = re.compile(r'^\s*(\w+)\s*\[label="((?:[^"\\]|\\.)*)"')
DOT_EDGE_RE = re.compile(r'^\s*(\w+)\s*->\s*(\w+)\s*(?:\[label="((?:[^"\\]|\\.)*)")?')


def _dot_graph(text):
    """({node id: address in its label}, {(from address, to address): edge label})"""
    nodes, edges = {}, {}
    for line in text.splitlines():
        m = DOT_EDGE_RE.match(line)
        if m:
            edges[m.group(1), m.group(2)] = re.sub(r"\\(.)", r"\1", m.group(3) or "")
            continue
        m = DOT_NODE_RE.match(line)
        if m:
            # The first address in the label ("type\\n0x...\\nrepr").
            a = re.search(r"0x[0-9a-fA-F]+", m.group(2))
            nodes[m.group(1)] = harness.normalize_address(a.group(0)) if a else None
    return nodes, {(nodes.get(x), nodes.get(y)): label for (x, y), label in edges.items()}


def test_dot_chain(chain_session):
    """The graph has every hop, and each edge of the chain with its label."""
    s = chain_session
    path = s.dot_dir / "lru.dot"
    _dot_ok(path)
    text = path.read_text()
    assert text.lstrip().startswith(("digraph", "strict digraph")), text[:200]
    [(_, chain)] = s.chains("lru")
    nodes, edges = _dot_graph(text)
    addrs = [harness.normalize_address(h["address"]) for h in chain["hops"]]
    assert set(addrs) <= set(nodes.values()), (addrs, nodes)
    for i in range(1, len(addrs)):
        assert edges.get((addrs[i - 1], addrs[i])) == chain["hops"][i]["label"], (
            "edge %s -> %s %r: %r\n%s" % (addrs[i - 1], addrs[i], chain["hops"][i]["label"],
                                          edges.get((addrs[i - 1], addrs[i])), text))


def test_dot_rendered_svg(chain_session):
    s = chain_session
    if shutil.which("dot") is None:
        pytest.skip("graphviz's dot is not installed: nothing renders .svg")
    svg = s.dot_dir / "popular.svg"
    assert svg.exists(), "%s was not rendered:\n%s" % (svg, s.out.get("dot_svg"))
    assert "<svg" in svg.read_text()[:2000]
    source = s.dot_dir / "popular.dot"
    _dot_ok(source)
    nodes, edges = _dot_graph(source.read_text())
    for r in s.json("backrefs_depth2")["referrers"]:
        if r.get("address"):
            pair = (harness.normalize_address(r["address"]), harness.normalize_address(r["via"]))
            assert edges.get(pair) == r["label"], (r, edges.get(pair))
