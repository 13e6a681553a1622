"""py-objects: addresses and reprs, confirmed by the target itself (it
looks every listed address up among its live objects), on every
interpreter."""

import re

import harness

DEFAULT_MAX = 100  # py-objects without --max (docs/usage.md)


def _resolve(session, name):
    """(json, [(address, [type, repr] or None)]) for a py-objects section."""
    j = session.json(name)
    answers = session.report["addresses"]
    return j, [(a, answers.get(a, "not asked")) for a in harness.objects_addresses(j)]


def _check_instances(session, section, qualified, limit=None):
    j, resolved = _resolve(session, section)
    want = session.ready["expect"][qualified]
    assert j["type"] == qualified
    assert j["count"] == want, "count %d, the target has %d" % (j["count"], want)
    shown = min(want, limit if limit is not None else DEFAULT_MAX)
    assert len(j["objects"]) == shown, "%d objects listed, expected %d" % (len(j["objects"]), shown)
    addrs = [a for a, _ in resolved]
    assert len(set(addrs)) == len(addrs), "an address is listed twice"
    bad = [(a, ans) for a, ans in resolved if not ans or ans[0] != qualified]
    assert not bad, "addresses that are not live %s objects of the target: %s" % (qualified, bad[:10])
    return j


def test_qualified_name_lists_all(session):
    _check_instances(session, "slotted_all", "__main__.Slotted", limit=1000)


def test_short_name_and_limit(session):
    _check_instances(session, "slotted_short", "__main__.Slotted", limit=5)


def test_module_class_default_limit(session):
    """Handler's module is app.handlers; without --max 100 are shown."""
    _check_instances(session, "handler_default", "app.handlers.Handler")


def test_nested_class_by_qualname(session):
    _check_instances(session, "inner_qualname", "__main__.Outer.Inner", limit=100)


def test_nested_class_by_last_component(session):
    _check_instances(session, "inner_last", "__main__.Outer.Inner", limit=3)


def test_same_name_types_merged(session):
    """Two class objects named __main__.Dup: one name, both lists of objects."""
    _check_instances(session, "dup_merged", "__main__.Dup", limit=100)


def test_permanent_generation_objects(session):
    """Objects frozen by gc.freeze() are on the permanent generation list."""
    _check_instances(session, "frozen", "__main__.Frozen", limit=100)


def test_unreachable_garbage_objects(session):
    """Cycles not collected yet are still live objects."""
    _check_instances(session, "garbage", "__main__.Garbage", limit=100)


def test_dict_subclass_objects(session):
    _check_instances(session, "mydict", "__main__.MyDict", limit=1000)


def _check_reprs(session, section, type_name, limit):
    j, resolved = _resolve(session, section)
    census = harness.census_rows(session.json("census"))
    assert j["type"] == type_name
    assert j["count"] == census[type_name]["count"], "py-objects and py-leaks disagree on the count"
    assert len(j["objects"]) == min(limit, j["count"])
    bad = []
    for obj, (addr, ans) in zip(j["objects"], resolved):
        if not ans or ans[0] != type_name:
            bad.append("%s: not a live %s of the target (%r)" % (addr, type_name, ans))
        elif not harness.repr_matches(obj["repr"], ans[1]):
            bad.append("%s: pyleaks shows %s, repr() is %s" % (addr, obj["repr"], ans[1][:100]))
    assert not bad, "%d of %d wrong:\n%s" % (len(bad), len(resolved), "\n".join(bad[:30]))
    return j, resolved


def _specials_listed(session, resolved, kind):
    specials = set(session.report["specials"])
    return [ans[1] for a, ans in resolved if a in specials and ans and ans[0] == kind]


def test_str_reprs(session):
    j, resolved = _check_reprs(session, "str", "str", 400)
    # The target's SPECIALS list is the first object of the youngest GC
    # list, so its strings are among the first listed (table order,
    # docs/architecture.md): this makes sure 2- and 4-byte strings,
    # escapes and truncation were among those checked.
    listed = _specials_listed(session, resolved, "str")
    assert len(listed) >= 10, "too few of the target's special strings listed: %s" % listed


def test_int_reprs(session):
    j, resolved = _check_reprs(session, "int", "int", 400)
    listed = _specials_listed(session, resolved, "int")
    assert any(len(r) > 30 for r in listed) and any(r.startswith("-") for r in listed), (
        "big and negative ints not among those checked: %s" % listed)


def test_float_reprs(session):
    _check_reprs(session, "float", "float", 200)


def test_text_mode(session):
    text = session.out["slotted_text"]
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    want = session.ready["expect"]["__main__.Slotted"]
    assert want > DEFAULT_MAX, "the test needs more Slotted objects than --max lists"
    assert lines[0] == "%s objects of type __main__.Slotted (showing %d; --max N for more):" % (
        "{:,}".format(want), DEFAULT_MAX), text
    assert lines[-1] == "(showing %d of %s objects; --max N for more)" % (
        DEFAULT_MAX, "{:,}".format(want)), text
    rows = [ln for ln in lines if re.match(r"0x[0-9a-f]+\s", ln)]
    assert len(rows) == DEFAULT_MAX, text
    answers = session.report["addresses"]
    for ln in rows:
        a = harness.normalize_address(ln.split()[0])
        assert answers.get(a) and answers[a][0] == "__main__.Slotted", ln
