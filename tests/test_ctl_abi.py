"""The gdb side's copies of the helper's binary contracts must equal the C
headers they mirror: pyleaks_ctl.h (the call stub and its control block,
read by rawcall.py) and pyleaks_abi.h (status codes, entry points, struct
formats and field lists, read by abi.py).  A drift would make gdb and the target disagree silently."""

import ast
import importlib.util
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


# --- struct layouts: abi.py's formats and field lists against the C structs ---

ABI_H = SRC / "helper" / "include" / "pyleaks_abi.h"

# abi.py's name prefix -> the C struct its *_STRUCT and *_FIELDS mirror.
STRUCTS = {
    "RESULT": "pyl_result",
    "CENSUS_ROW": "pyl_census_row",
    "OBJECT_ROW": "pyl_object_row",
    "ROOT_ROW": "pyl_root_row",
    "EDGE_ROW": "pyl_edge_row",
    "CHAIN_ROW": "pyl_chain_row",
    "TARGET_INFO": "pyl_target_info",
    "ANALYSIS_ROW": "pyl_analysis_row",
    "ANALYSIS_INFO": "pyl_analysis_info",
    "PATTERN_ROW": "pyl_pattern_row",
    "ID_ROW": "pyl_id_row",
    "IDS_INFO": "pyl_ids_info",
}

_C_CODES = {"uint64_t": "Q", "int64_t": "q"}


def load_abi():
    """abi.py itself (it needs only the struct module, not gdb)."""
    spec = importlib.util.spec_from_file_location("pyleaks_abi", SRC / "gdbplugin" / "pyleaks" / "abi.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def c_structs(text):
    """struct name -> [(struct module code, member name)] of every struct
    of the header whose members are plain declarations."""
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    out = {}
    for name, body in re.findall(r"\bstruct\s+(\w+)\s*\{(.*?)\};", text, re.S):
        members = []
        for decl in filter(None, (d.strip() for d in body.split(";"))):
            m = re.fullmatch(r"(\w+)\s+(\w+)\s*(?:\[(\d+)\])?", " ".join(decl.split()))
            if m is None:
                members = None  # macros (struct pyl_layout): not a row
                break
            ctype, member, count = m.groups()
            if ctype == "char" and count:
                members.append(("%ss" % count, member))
            elif ctype in _C_CODES and not count:
                members.append((_C_CODES[ctype], member))
            else:
                raise AssertionError("struct %s: member %r of a type abi.py cannot mirror" % (name, decl))
        if members is not None:
            out[name] = members
    return out


def py_codes(fmt):
    """'<Qq18Q256s5Q' -> ['Q', 'q', 'Q' x 18, '256s', 'Q' x 5]."""
    assert fmt[0] == "<", "%s: not little-endian standard sizes" % fmt
    codes = []
    for count, code in re.findall(r"(\d*)([a-zA-Z])", fmt[1:]):
        if code == "s":
            codes.append(count + "s")
        else:
            codes.extend([code] * int(count or 1))
    return codes


def struct_mismatches(abi, structs):
    """What differs between abi.py and the C structs, one line each."""
    problems = []
    for prefix, c_name in STRUCTS.items():
        members = structs.get(c_name)
        if members is None:
            problems.append("pyleaks_abi.h has no struct %s" % c_name)
            continue
        fields = list(getattr(abi, prefix + "_FIELDS"))
        codes = py_codes(getattr(abi, prefix + "_STRUCT").format)
        if fields != [m for _, m in members]:
            problems.append("%s_FIELDS %s != struct %s %s" % (prefix, fields, c_name, [m for _, m in members]))
        if codes != [c for c, _ in members]:
            problems.append("%s_STRUCT %s != struct %s %s" % (prefix, codes, c_name, [c for c, _ in members]))
    return problems


def test_abi_structs_mirror_abi_header():
    abi = load_abi()
    structs = c_structs(ABI_H.read_text())
    assert not struct_mismatches(abi, structs)
    # Every format abi.py has is one of those checked.
    mirrored = {name[: -len("_STRUCT")] for name in vars(abi) if name.endswith("_STRUCT")}
    assert mirrored == set(STRUCTS), "abi.py formats not checked here: %s" % (mirrored - set(STRUCTS))


def test_abi_struct_check_sees_a_drift():
    """The check above fails when the two differ: a member renamed,
    moved, signed differently or added on one side only."""
    abi = load_abi()
    text = ABI_H.read_text()
    assert not struct_mismatches(abi, c_structs(text))
    drifts = [
        text.replace("uint64_t n_type_objects;", "uint64_t n_type_objects;\n  uint64_t spare;"),
        text.replace("int64_t refcnt;", "uint64_t refcnt;"),
        text.replace("uint64_t first_hop;\n  uint64_t n_hops;", "uint64_t n_hops;\n  uint64_t first_hop;"),
        text.replace("char message[256];", "char message[128];"),
        text.replace("uint64_t root_desc_off;\n  uint64_t chain;", "uint64_t root_desc_off;"),
    ]
    for i, drifted in enumerate(drifts):
        assert drifted != text, "drift %d no longer applies to the header" % i
        assert struct_mismatches(abi, c_structs(drifted)), "drift %d not seen" % i


def test_abi_constants_mirror_abi_header():
    """Magics, result kinds, sort keys and flags."""
    abi = load_abi()
    text = re.sub(r"/\*.*?\*/", " ", ABI_H.read_text(), flags=re.S)
    text = text.replace("\\\n", " ")
    defines = {n: v for n, v in re.findall(r"^#define (PYL_\w+) +(\w+?)(?:ull)?\s*$", text, re.M)}
    enums = dict(re.findall(r"^\s*PYL_(\w+) = (-?\d+),", text, re.M))
    assert abi.LAYOUT_MAGIC == int(defines["PYL_LAYOUT_MAGIC"], 0)
    assert abi.RESULT_MAGIC == int(defines["PYL_RESULT_MAGIC"], 0)
    assert abi.CENSUS_FORCE == int(defines["PYL_CENSUS_FORCE"], 0)
    assert abi.CHAIN_ALL_ROOTS == int(defines["PYL_CHAIN_ALL_ROOTS"], 0)
    assert abi.CHAIN_BY_TYPE == int(re.search(r"#define PYL_CHAIN_BY_TYPE\s+(\d+)ull", text).group(1))
    assert abi.CHAIN_FORCE == abi.CENSUS_FORCE
    kinds = {k: int(v) for k, v in enums.items() if k.startswith("RESULT_")}
    assert kinds, "no result kinds found in pyleaks_abi.h"
    for name, value in kinds.items():
        assert getattr(abi, name) == value, name
    assert abi.SORT_KEYS == {"count": int(enums["SORT_COUNT"]), "bytes": int(enums["SORT_BYTES"])}
    sections = {k: int(v) for k, v in enums.items() if k.startswith("SECTION_")}
    assert sections, "no analysis sections found in pyleaks_abi.h"
    for name, value in sections.items():
        assert getattr(abi, name) == value, name
    finds = {int(v): k[len("FIND_"):].lower() for k, v in enums.items() if k.startswith("FIND_")}
    assert set(finds) == set(abi.FINDING_KINDS), (finds, abi.FINDING_KINDS)
