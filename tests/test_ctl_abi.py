"""The gdb side's copies of the helper's binary contracts must equal the C
headers they mirror: pyleaks_ctl.h (the call stub and its control block,
read by rawcall.py) and pyleaks_abi.h (status codes and entry points, read
by abi.py).  A drift would make gdb and the target disagree silently."""

import ast
import re
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent


def header_defines(name):
    """#define NAME VALUE of a header, with simple expressions evaluated."""
    text = (SRC / "helper" / "include" / name).read_text()
    values = {}
    for m in re.finditer(r"^#define (PYL_\w+)(?:\(\w+\))? +(.+?)\s*(?:/\*.*)?$", text, re.M):
        expr = m.group(2)
        if "(" in m.group(0).split()[1]:
            continue  # function-like macro
        try:
            values[m.group(1)] = eval(expr, {}, dict(values))
        except (NameError, SyntaxError):
            pass
    return values


def module_constants(path):
    """Module-level NAME = <int expression> assignments of a plugin file
    (parsed, not imported: the plugin needs gdb)."""
    tree = ast.parse(path.read_text())
    values = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and all(isinstance(t, (ast.Name, ast.Tuple)) for t in node.targets):
            target = node.targets[0]
            try:
                value = eval(compile(ast.Expression(node.value), str(path), "eval"), {}, dict(values))
            except Exception:
                continue
            if isinstance(target, ast.Name):
                values[target.id] = value
            elif isinstance(value, tuple) and len(value) == len(target.elts):
                for elt, v in zip(target.elts, value):
                    values[elt.id] = v
    return values


def test_rawcall_mirrors_ctl_header():
    c = header_defines("pyleaks_ctl.h")
    py = module_constants(SRC / "gdbplugin" / "pyleaks" / "rawcall.py")
    pairs = {name[len("PYL_"):]: value for name, value in c.items()}
    checked = 0
    for key, value in pairs.items():
        # PYL_CTL_MAGIC_OFF etc. are not needed on the gdb side.
        if key in py:
            assert py[key] == value, "%s: rawcall.py %r, pyleaks_ctl.h %r" % (key, py[key], value)
            checked += 1
        elif key.startswith("STATE_") or key.startswith("ABORT_"):
            continue
    # Every slot the gdb side uses is checked.
    for key in py:
        if key.startswith(("CTL_", "STUB_")) and key != "STUB_NAME":
            assert key in pairs, "rawcall.py has %s, pyleaks_ctl.h does not" % key
    assert checked >= 25
    regs = {k[len("PYL_REG_"):]: v for k, v in c.items() if k.startswith("PYL_REG_")}
    for name in ("RAX", "ORIG_RAX", "RIP", "EFLAGS", "RSP", "RDI", "RSI", "RDX", "R10", "R8", "R9"):
        assert py[name] == regs[name], name


def test_abi_mirrors_abi_header():
    text = (SRC / "helper" / "include" / "pyleaks_abi.h").read_text()
    py = module_constants(SRC / "gdbplugin" / "pyleaks" / "abi.py")
    statuses = dict(re.findall(r"^\s+PYL_(E\w+|OK) = (-?\d+),", text, re.M))
    assert statuses, "no status codes found in pyleaks_abi.h"
    for name, value in statuses.items():
        assert py[name] == int(value), name
    exported = re.findall(r"PYL_EXPORT uint64_t (pyl_\w+)\(([^)]*)\)", text)
    tree = ast.parse((SRC / "gdbplugin" / "pyleaks" / "abi.py").read_text())
    entry = None
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "ENTRY_POINTS":
            entry = ast.literal_eval(node.value)
    assert entry is not None
    assert set(entry) == {name for name, _ in exported}
    for name, params in exported:
        n = 0 if params.strip() in ("", "void") else len(params.split(","))
        assert entry[name] == n, "%s takes %d arguments in the header, %d in abi.py" % (name, n, entry[name])
