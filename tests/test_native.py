"""py-leaks points out the C extension types that grew between two looks
(their objects may own memory the census does not count): the target's
array.array objects, never its plain class's instances.  Every
interpreter whose array module is an extension of its own (Debian builds
it into the interpreter: skipped, saying so)."""

import pytest

import harness

TARGET = harness.TARGETS_DIR / "native_target.py"


def test_growing_extension_type_is_named(interp, tmp_path):
    t = harness.ControlledTarget(interp.path, TARGET)
    try:
        if not t.ready["array_module"]:
            pytest.skip("%s: the array module is built into the interpreter, "
                        "not an extension" % interp.id)
        env = harness.clean_env(PYLEAKS_STATE_DIR=str(tmp_path / "state"))
        first = harness.pyleaks(t.pid, "py-leaks --json --no-analysis", env=env)
        assert first.returncode == 0, first.describe()
        assert harness.one_json(first.stdout)["native_growth"] == []
        assert t.ask("grow")["grown"] == 500
        second = harness.pyleaks(t.pid, "py-leaks --json --no-analysis", env=env)
        assert second.returncode == 0, second.describe()
        grown = {n["type"]: n for n in harness.one_json(second.stdout)["native_growth"]}
        assert "array.array" in grown, grown
        assert grown["array.array"]["count_delta"] == 500, grown
        assert grown["array.array"]["module_file"] == t.ready["array_module"], grown
        assert not any("Plain" in name for name in grown), grown
        text = harness.pyleaks(t.pid, "py-leaks --no-analysis", env=env)
        # A third look: nothing grew since the second one.
        assert "C extension types that grew" not in text.stdout, text.stdout
    finally:
        t.close()
