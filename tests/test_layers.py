"""The helper's folders are layers: a file may include headers of its own
layer or of a lower one, never of a higher one, so that the engines built
on the helper (live, core, leak analysis) can take a layer and what lies
below it without dragging in the entry points.  Within a layer, headers
may not include each other in a circle either.

The order, lowest first, is LAYERS below; docs/architecture.md describes
what each holds.  Includes are by basename (every layer's folder is on the
include path), so a header's layer is the folder that holds it."""

import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent
HELPER = SRC / "helper"

# Lowest first.  include/ is the ABI gdb shares: it sits with common/ at
# the bottom and includes nothing of the helper but layout_fields.def.
NOT_LAYERS = {"tests", "stub"}  # the unit tests sit above every layer
LAYERS = ["include", "common", "backend", "pyobj", "graph", "roots", "query"]
RANK = {name: i for i, name in enumerate(LAYERS)}
# Data files read by the preprocessor, not headers of a layer.
DATA = {"layout_fields.def"}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def layer_files():
    """(layer, path) of every C source and header of the layers."""
    for layer in LAYERS:
        for path in sorted((HELPER / layer).glob("*.[ch]")):
            yield layer, path


def header_layers():
    """Basename of every layer header -> its layer (names are unique)."""
    where = {}
    for layer, path in layer_files():
        if path.suffix == ".h":
            assert path.name not in where, f"{path.name} in two layers"
            where[path.name] = layer
    return where


def includes(path):
    return [Path(name).name for name in INCLUDE.findall(path.read_text())]


def shown(path):
    return str(path.relative_to(SRC)) if path.is_relative_to(SRC) else str(path)


def violations(where, files):
    """Upward includes and includes of unknown headers, as messages."""
    found = []
    for layer, path in files:
        for name in includes(path):
            if name in DATA:
                continue
            if name not in where:
                found.append(f"{shown(path)}: unknown header {name}")
            elif RANK[where[name]] > RANK[layer]:
                found.append(f"{shown(path)} ({layer}) includes "
                             f"{name} ({where[name]})")
    return found


def cycles(where):
    """Circles among the headers (a header that reaches itself)."""
    graph = {}
    for layer, path in layer_files():
        if path.suffix == ".h":
            graph[path.name] = [n for n in includes(path) if n in where]
    found = []
    state = {}

    def visit(node, stack):
        state[node] = "open"
        for nxt in graph.get(node, []):
            if state.get(nxt) == "open":
                found.append(" -> ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return found


def test_every_folder_is_a_layer():
    folders = {p.name for p in HELPER.iterdir()
               if p.is_dir() and p.name not in NOT_LAYERS and any(p.glob("*.[ch]"))}
    assert folders <= set(LAYERS), f"folders without a layer: {folders - set(LAYERS)}"


def test_no_upward_include():
    assert violations(header_layers(), layer_files()) == []


def test_no_header_cycle():
    assert cycles(header_layers()) == []


def test_check_can_fail(tmp_path):
    """The check itself: an upward include is caught."""
    low = tmp_path / "low.c"
    low.write_text('#include "engine.h"\n#include "util.h"\n')
    where = header_layers()
    assert violations(where, [("common", low)]) == [
        f"{low} (common) includes engine.h (query)"]


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q"]))
