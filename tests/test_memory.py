"""py-leaks' memory line: RSS, the bytes of the Python objects, pymalloc's
arenas and the free space in them, and the rest, on every interpreter,
against what the target says of itself (tests/targets/memory_target.py):
sys._debugmallocstats() and its own VmRSS.

pymalloc's figures are exact: the target is idle between the look and
its statistics (only the few blocks waking it up may differ).  RSS is
compared within a few percent: while pyleaks looks, its helper's memory
is mapped in the target (py-leaks gives it as memory.helper and leaves it
out of `other`), and after the detach, when the target measures itself,
that memory is gone again; what remains between the two is a few pages
of the helper's code and of the wake-up."""

import re

import pytest

import harness

TARGET = harness.TARGETS_DIR / "memory_target.py"
COMMANDS = [("json", "py-leaks --json --top 3"), ("text", "py-leaks --top 3")]

# The wake-up before the statistics (reading the request line) may take
# or free a few blocks; it never needs a pool or an arena.
BLOCK_SLACK = 4096
RSS_SLACK = 0.05


class Look:
    def __init__(self, ready, run, report):
        self.ready = ready
        self.run = run
        self.out = harness.sections(run.stdout)
        self.report = report

    @property
    def json(self):
        return harness.one_json(self.out.get("json", ""), "json")

    @property
    def memory(self):
        return self.json["memory"]


def look(python, tmp_path, env=None):
    t = harness.Target(python, TARGET, args=(tmp_path / "stats",), env=env)
    try:
        r = harness.pyleaks(t.pid, *harness.commands_with_markers(COMMANDS),
                            env=harness.clean_env(PYLEAKS_STATE_DIR=str(tmp_path / "state")))
        return Look(t.ready, r, t.wake())
    finally:
        t.close()


_looks = {}


@pytest.fixture(scope="module")
def measured(interp, tmp_path_factory):
    if interp.id not in _looks:
        _looks[interp.id] = look(interp.path, tmp_path_factory.mktemp("memory-" + interp.id))
    return _looks[interp.id]


def test_look_succeeded(measured):
    harness.assert_no_traceback(measured.run)
    assert measured.run.returncode == 0, measured.run.describe()
    assert measured.report["arenas"], measured.report["stats"]


def test_arenas_equal_debugmallocstats(measured):
    m, o = measured.memory, measured.report
    assert m["pymalloc_unavailable"] is None
    assert m["pymalloc_arena_count"] == o["arenas"], o["stats"]
    assert m["pymalloc_arenas"] == o["arenas"] * o["arena_size"]


def test_free_space_equals_debugmallocstats(measured):
    """Free pools ("unused pools") and the free blocks of the pools in
    use ("bytes in available blocks"); pymalloc_free is their sum."""
    m, o = measured.memory, measured.report
    assert m["pymalloc_free_pools"] == o["unused_pools"] * o["pool_size"], o["stats"]
    assert abs(m["pymalloc_free_blocks"] - o["available_blocks"]) <= BLOCK_SLACK, o["stats"]
    assert m["pymalloc_free"] == m["pymalloc_free_pools"] + m["pymalloc_free_blocks"]
    assert abs(m["pymalloc_used_blocks"] - o["allocated_blocks"]) <= BLOCK_SLACK, o["stats"]
    # The target freed whole runs of objects: there is free space of both kinds.
    assert m["pymalloc_free_pools"] > 0 and m["pymalloc_free_blocks"] > 0


def test_rss_and_the_rest(measured):
    m, j = measured.memory, measured.json
    assert m["python_objects"] == j["total_bytes"]
    assert m["helper"] == j["helper_mapped_bytes"]
    own = m["rss"] - m["helper"]
    assert abs(own - measured.report["rss"]) <= RSS_SLACK * measured.report["rss"], (
        m["rss"], m["helper"], measured.report["rss"])
    assert m["other"] == max(0, m["rss"] - m["python_objects"] - m["helper"])
    # 16 MB of the target's memory are a bytearray's buffer, 16 MB more
    # its small objects, besides the interpreter itself.
    assert m["rss"] > 32 << 20


def size(text):
    number, unit = text.split()
    return float(number) * {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}[unit]


def test_memory_line(measured):
    text, m = measured.out["text"], measured.memory
    pattern = (r"^memory: (\S+ \S+) RSS; Python objects (\S+ \S+); pymalloc arenas (\S+ \S+) "
               r"\((\S+ \S+) free\); pyleaks' helper (\S+ \S+); other (\S+ \S+) "
               r"\(C extensions, allocator fragmentation\)$")
    lines = [ln for ln in text.splitlines() if ln.startswith("memory:")]
    assert len(lines) == 1, text
    found = re.match(pattern, lines[0])
    assert found, lines[0]
    # The text is a second look of the same stopped process: the same
    # figures but for the helper's memory, within a rounding.
    for shown, key in zip(found.groups()[1:4], ("python_objects", "pymalloc_arenas", "pymalloc_free")):
        assert abs(size(shown) - m[key]) <= 0.051 * m[key] + 1, (shown, key, m[key])


def test_pythonmalloc_malloc(interp, tmp_path):
    """Objects from malloc: no pymalloc figures, and the line says why."""
    seen = look(interp.path, tmp_path, env=harness.clean_env(PYTHONMALLOC="malloc"))
    assert seen.ready["pythonmalloc"] == "malloc"
    harness.assert_no_traceback(seen.run)
    assert seen.run.returncode == 0, seen.run.describe()
    m = seen.memory
    for key in ("pymalloc_arenas", "pymalloc_free", "pymalloc_arena_count",
                "pymalloc_free_pools", "pymalloc_free_blocks", "pymalloc_used_blocks"):
        assert m[key] is None, (key, m)
    assert "PYTHONMALLOC=malloc" in m["pymalloc_unavailable"], m
    assert m["rss"] and m["other"] is not None
    assert "pymalloc arenas unknown (PYTHONMALLOC=malloc" in seen.out["text"], seen.out["text"]


def test_pymalloc_under_debug_hooks(primary, tmp_path):
    """PYTHONMALLOC=pymalloc_debug wraps pymalloc: still pymalloc."""
    seen = look(primary.path, tmp_path, env=harness.clean_env(PYTHONMALLOC="pymalloc_debug"))
    m, o = seen.memory, seen.report
    assert m["pymalloc_unavailable"] is None, m
    assert m["pymalloc_arena_count"] == o["arenas"], o["stats"]
    assert m["pymalloc_free_pools"] == o["unused_pools"] * o["pool_size"], o["stats"]
