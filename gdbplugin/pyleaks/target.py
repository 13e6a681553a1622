"""Which process gdb is attached to, and which CPython runs in it.

identify() answers once per (pid, interpreter objfile) and raises a
PyleaksError naming the exact problem otherwise: no process, not a Python
process, no debug symbols, unsupported version."""

import os
import re

import gdb

from .errors import (PyleaksError, dead_soon, exited_error, process_alive,
                     translate)

SUPPORTED_MIN = (3, 8)
SUPPORTED_MAX = (3, 13)

_LEVELS = {0xA: "a", 0xB: "b", 0xC: "rc", 0xF: ""}


class Target:
    """A live CPython process with debug symbols, version checked."""

    def __init__(self, pid, exe, objfile, version_hex):
        self.pid = pid
        self.exe = exe
        self.objfile = objfile          # file holding _PyRuntime
        self.version_hex = version_hex
        self.version = (version_hex >> 24 & 0xFF, version_hex >> 16 & 0xFF)
        self.version_str = version_string(version_hex)

    @property
    def key(self):
        return (self.pid, self.objfile)


def version_string(hexv):
    major, minor = hexv >> 24 & 0xFF, hexv >> 16 & 0xFF
    micro = hexv >> 8 & 0xFF
    level, serial = hexv >> 4 & 0xF, hexv & 0xF
    text = "%d.%d.%d" % (major, minor, micro)
    if level != 0xF:
        text += "%s%d" % (_LEVELS.get(level, "?"), serial)
    return text


def version_hex_from_string(text):
    """'3.10.13 (main, ...)' -> 0x030a0df0 (PY_VERSION_HEX)."""
    m = re.match(r"(\d+)\.(\d+)\.(\d+)(?:(a|b|rc)(\d+))?", text)
    if not m:
        return None
    level = {"a": 0xA, "b": 0xB, "rc": 0xC, None: 0xF}[m.group(4)]
    serial = int(m.group(5) or 0)
    return (int(m.group(1)) << 24 | int(m.group(2)) << 16
            | int(m.group(3)) << 8 | level << 4 | serial)


def require_live_process():
    """The selected inferior, if it is a live process; else PyleaksError."""
    inferior = gdb.selected_inferior()
    if inferior.pid == 0 or not inferior.threads():
        raise PyleaksError("no process",
                           "Attach to a running Python process first: "
                           "'gdb -p PID', or 'attach PID' in gdb (if that "
                           "said 'ptrace: Operation not permitted', run as "
                           "the target's user or root, and see /proc/sys/"
                           "kernel/yama/ptrace_scope)")
    if not process_alive(inferior.pid):
        raise exited_error()
    conn = getattr(inferior, "connection", None)
    if conn is not None and conn.type == "core":
        raise PyleaksError("this command needs a live process, and gdb is "
                           "looking at a core file",
                           "Attach to the running process with 'gdb -p PID'")
    return inferior


def symbol_address(name):
    """Address of a global or minimal symbol, or None when there is none."""
    try:
        return int(gdb.parse_and_eval("(unsigned long)&%s" % name))
    except gdb.error:
        return None


def objfile_of(address):
    name = gdb.solib_name(address)
    if name:
        return name
    return gdb.selected_inferior().progspace.filename or "the executable"


def exe_path(pid):
    try:
        return os.readlink("/proc/%d/exe" % pid)
    except OSError:
        return gdb.selected_inferior().progspace.filename or "?"


def _read_version_hex():
    """PY_VERSION_HEX of the target: Py_Version (3.11+, needs no DWARF) or
    the string Py_GetVersion() formats into its static buffer."""
    try:
        return int(gdb.parse_and_eval("*(unsigned int *)&Py_Version"))
    except gdb.error:
        pass
    try:
        buf = gdb.parse_and_eval("'Py_GetVersion'::version")
        text = buf.string(length=buf.type.sizeof).split("\0")[0]
    except (gdb.error, UnicodeDecodeError):
        return None
    return version_hex_from_string(text)


def _debug_hint(objfile, minor):
    real = os.path.realpath(objfile)
    if os.path.exists("/etc/debian_version") and real.startswith("/usr/"):
        if minor is None:
            m = re.search(r"python3\.(\d+)", real)
            minor = int(m.group(1)) if m else None
        pkg = "python3.%d-dbg" % minor if minor is not None else \
            "the matching python3.X-dbg"
        return "Install its debug symbols: apt-get install %s" % pkg
    return ("Use a Python built with -g, or install the distribution's "
            "debug symbols package (-dbg, -dbgsym or debuginfo)")


def _defines_with_dwarf(path, symbol):
    """True when the objfile at `path` (or its separate debug file) has
    DWARF for `symbol`.  Extension modules declare _PyRuntime too, so a
    global lookup alone would accept a libpython stripped of its own."""
    real = os.path.realpath(path)
    for objfile in gdb.objfiles():
        owner = objfile.owner or objfile
        if not owner.filename or os.path.realpath(owner.filename) != real:
            continue
        try:
            if objfile.lookup_global_symbol(symbol) is not None:
                return True
        except (gdb.error, AttributeError):
            continue
    return False


def _check_supported(hexv):
    ver = (hexv >> 24 & 0xFF, hexv >> 16 & 0xFF)
    if not SUPPORTED_MIN <= ver <= SUPPORTED_MAX:
        raise PyleaksError(
            "CPython %s is not supported" % version_string(hexv),
            "pyleaks supports CPython %d.%d to %d.%d"
            % (SUPPORTED_MIN + SUPPORTED_MAX))


_cache = {}


def identify():
    """The Target for the selected live process (cached per pid and
    interpreter objfile)."""
    inferior = require_live_process()
    pid = inferior.pid
    try:
        return _identify(pid)
    except PyleaksError:
        if dead_soon(pid):
            raise exited_error() from None
        raise
    except gdb.error as exc:
        raise translate(exc, pid) from None


def _identify(pid):
    runtime = symbol_address("_PyRuntime")
    exe = exe_path(pid)
    if runtime is None:
        # 2.7 and 3.6 have no _PyRuntime but are still Pythons: say so.
        if symbol_address("Py_GetVersion") is not None:
            hexv = _read_version_hex()
            if hexv is not None:
                _check_supported(hexv)
            raise PyleaksError(
                "process %d (%s) runs a CPython older than 3.8" % (pid, exe),
                "pyleaks supports CPython 3.8 to 3.13")
        raise PyleaksError(
            "process %d (%s) is not a CPython process (no _PyRuntime symbol "
            "in it or its libraries)" % (pid, exe),
            "Attach to a python3.8 to python3.13 process")
    objfile = objfile_of(runtime)
    try:
        gdb.selected_inferior().read_memory(runtime, 8)
    except gdb.MemoryError:
        if dead_soon(pid):
            raise exited_error() from None
        raise PyleaksError("cannot read the memory of process %d" % pid,
                           "Check ptrace permissions (/proc/sys/kernel/yama/"
                           "ptrace_scope) and that the process is running")
    key = (pid, objfile, runtime)
    if key in _cache:
        return _cache[key]
    hexv = _read_version_hex()
    if hexv is not None:
        _check_supported(hexv)
    try:
        gdb.lookup_type("PyTypeObject")
        has_types = True
    except gdb.error:
        has_types = False
    if not has_types or not _defines_with_dwarf(objfile, "_PyRuntime"):
        minor = hexv >> 16 & 0xFF if hexv is not None else None
        raise PyleaksError(
            "no debug symbols for the interpreter: %s has no DWARF "
            "(gdb knows the symbol _PyRuntime but not its type)" % objfile,
            _debug_hint(objfile, minor))
    if hexv is None:
        raise PyleaksError(
            "cannot tell which CPython version runs in process %d (neither "
            "Py_Version nor Py_GetVersion's buffer is readable)" % pid,
            "pyleaks supports CPython 3.8 to 3.13")
    target = Target(pid, exe, objfile, hexv)
    _cache[key] = target
    return target


def forget(pid=None):
    """Drop cached answers (for one pid, or all) when processes go away."""
    for key in list(_cache):
        if pid is None or key[0] == pid:
            del _cache[key]
