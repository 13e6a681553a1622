"""py-leaks --json "findings" on planted leaks, on every interpreter: each
scenario of targets/findings_target.py plants one cause (a growing
module/class-level container, a mutable default argument, lru_cache on a
method, exceptions kept with their tracebacks, an observer leak, cyclic
garbage, gc.garbage, references a C extension forgot), and the target
itself computes what the finding must say (findings_harness.py: count,
objects, bytes, type, chain); the clean program (targets/findings_clean.py),
busy and leak-free, must yield no finding at two looks.
"""

from typing import Dict

import pytest

import chain_harness
import findings_harness as fh
import harness

_ext: Dict[str, tuple] = {}


def _leaky_ext(interp, tmp_path_factory):
    """leaky_ext compiled for interp (once), or skip saying why not."""
    if interp.id not in _ext:
        _ext[interp.id] = chain_harness.build_leaky_ext(
            interp, tmp_path_factory.mktemp("findings-ext-" + interp.id))
    so, why = _ext[interp.id]
    if so is None:
        pytest.skip(why)
    return so


def _session(interp, scenario, tmp_path_factory) -> fh.FindingsSession:
    ext = _leaky_ext(interp, tmp_path_factory) if scenario == "unexplained_refs" else None
    try:
        return fh.get_session(
            interp, scenario,
            lambda: tmp_path_factory.mktemp("findings-%s-%s" % (interp.id, scenario)), ext)
    except AssertionError as e:
        pytest.fail(str(e), pytrace=False)


def _context(s: fh.FindingsSession, findings) -> str:
    return "%s %s: the findings:\n%s\nthe target's info: %s" % (
        s.interp.id, s.scenario, fh.show_all(findings), s.oracle.get("info"))


# ---------------------------------------------------------------------------
# Every scenario: the looks succeed and the findings follow the contract.

@pytest.mark.parametrize("scenario", fh.SCENARIOS)
def test_findings_well_formed(interp, scenario, tmp_path_factory):
    s = _session(interp, scenario, tmp_path_factory)
    for i, r in enumerate(s.runs):
        harness.assert_no_traceback(r)
        assert r.returncode == 0, "look %d: pyleaks failed:\n%s" % (i + 1, r.describe())
        findings = s.findings(i)
        bad = ["finding %d: %s" % (k, p) for k, f in enumerate(findings)
               for p in fh.shape_problems(f)]
        assert not bad, "look %d:\n%s\n%s" % (i + 1, "\n".join(bad), _context(s, findings))


# ---------------------------------------------------------------------------
# The planted leaks

@pytest.mark.parametrize("scenario", fh.LEAK_SCENARIOS)
def test_planted_findings(interp, scenario, tmp_path_factory):
    """Each planted leak is one finding of its kind, whose count, objects,
    bytes, type and chain are what the target computed."""
    s = _session(interp, scenario, tmp_path_factory)
    findings = s.findings()
    bad = []
    for exp in s.oracle["expected"]:
        found = fh.find(findings, exp)
        if not found:
            what = ("objects[0] %s" % exp["object"] if exp["object"]
                    else "objects all among the %d planted" % len(exp["members"]))
            bad.append("%s: no %s finding with %s" % (exp["name"], exp["kind"], what))
            for f in fh.near(findings, exp)[:1]:
                bad += ["  a %s finding names some of them: %s" % (exp["kind"], p)
                        for p in fh.expectation_problems(f, exp)]
            continue
        if len(found) > 1:
            bad.append("%s: %d %s findings for it" % (exp["name"], len(found), exp["kind"]))
        problems = fh.expectation_problems(found[0], exp)
        bad += ["%s: %s" % (exp["name"], p) for p in problems]
    assert not bad, "\n".join(bad) + "\n" + _context(s, findings)


@pytest.mark.parametrize("scenario", fh.LEAK_SCENARIOS)
def test_planted_objects_not_claimed_by_other_kinds(interp, scenario, tmp_path_factory):
    s = _session(interp, scenario, tmp_path_factory)
    findings = s.findings()
    bad = fh.planted_problems(findings, s.oracle)
    assert not bad, "\n".join(bad) + "\n" + _context(s, findings)


@pytest.mark.parametrize("scenario", fh.LEAK_SCENARIOS)
def test_lookalikes_not_flagged(interp, scenario, tmp_path_factory):
    """Bounded caches, small defaults, objects held normally next to the
    leak: no finding names them."""
    s = _session(interp, scenario, tmp_path_factory)
    findings = s.findings()
    bad = fh.control_problems(findings, s.oracle)
    assert not bad, "\n".join(bad) + "\n" + _context(s, findings)


@pytest.mark.parametrize("scenario", fh.LEAK_SCENARIOS)
def test_no_unrelated_findings(interp, scenario, tmp_path_factory):
    """The targets are small programs around their leak: every finding is
    one the scenario planted."""
    s = _session(interp, scenario, tmp_path_factory)
    findings = s.findings()
    extra = fh.unexpected(findings, s.oracle)
    assert not extra, "findings the scenario did not plant:\n%s\n%s" % (
        fh.show_all(extra), _context(s, findings))


def test_growth_needs_two_looks(interp, tmp_path_factory):
    """At the first look (an empty $PYLEAKS_STATE_DIR) nothing has grown
    yet; the looks are remembered there, not elsewhere."""
    s = _session(interp, "growing_container", tmp_path_factory)
    first = s.findings(0)
    growing = [f for f in first if isinstance(f, dict) and f.get("kind") == "growing_container"]
    assert not growing, "growing_container findings at the first look:\n%s" % fh.show_all(growing)
    assert any(s.state_dir.iterdir()), (
        "nothing written in $PYLEAKS_STATE_DIR (%s) after two looks" % s.state_dir)
    assert sorted(s.between["grown"].values()) == sorted(e["growth"] for e in s.oracle["expected"]), (
        s.between, s.oracle["expected"])


# ---------------------------------------------------------------------------
# The clean program

def test_clean_program_has_no_findings(interp, tmp_path_factory):
    s = _session(interp, fh.CLEAN, tmp_path_factory)
    bad = []
    for i in range(len(s.looks)):
        findings = s.findings(i)
        if findings != []:
            bad.append("look %d of %d: %d findings:\n%s" % (i + 1, len(s.looks), len(findings),
                                                           fh.show_all(findings)))
    assert len(s.looks) == 2, "the clean program is looked at twice"
    assert not bad, "a program with no leak:\n%s\ncontainers the target saw grow between the " \
        "looks (>= 20 items): %s" % ("\n".join(bad), s.oracle["info"].get("grown"))
