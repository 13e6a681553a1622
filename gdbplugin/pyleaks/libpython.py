"""Load the target interpreter's own gdb extension (libpython.py, shipped as
python3.X-gdb.py), so py-bt, py-list and py-print work in the same session.
gdb declines to auto-load it outside its safe path; sourcing it explicitly
is what a user would do by hand."""

import os

import gdb

_tried = set()


def _defined(command):
    try:
        gdb.execute("help " + command, to_string=True)
        return True
    except gdb.error:
        return False


def candidates(target):
    """Where python3.X-gdb.py may be, most specific first."""
    minor = "python%d.%d" % target.version
    paths = []
    for exe in (target.exe, os.path.realpath(target.exe)):
        paths.append(exe + "-gdb.py")
        paths.append(os.path.join(os.path.dirname(exe), minor + "-gdb.py"))
        paths.append("/usr/share/gdb/auto-load" + exe + "-gdb.py")
    for lib in (target.objfile, os.path.realpath(target.objfile)):
        paths.append(lib + "-gdb.py")
        paths.append("/usr/share/gdb/auto-load" + lib + "-gdb.py")
        # pyenv: lib/libpython3.X.so -> bin/python3.X-gdb.py
        paths.append(os.path.join(os.path.dirname(os.path.dirname(lib)),
                                  "bin", minor + "-gdb.py"))
    seen = []
    for path in paths:
        if path not in seen:
            seen.append(path)
    return seen


def ensure_loaded(target):
    """Source the extension once per interpreter; returns a note for the
    user, or None when nothing had to be said."""
    if target.key in _tried:
        return None
    _tried.add(target.key)
    if _defined("py-bt"):
        return None
    for path in candidates(target):
        if os.path.isfile(path):
            try:
                gdb.execute("source " + path, to_string=True)
            except gdb.error as exc:
                return ("could not load %s (%s); py-bt and py-list are not "
                        "available" % (path, str(exc).splitlines()[0]))
            return None
    return ("the interpreter's gdb extension (python%d.%d-gdb.py) was not "
            "found; py-bt and py-list are not available" % target.version)
