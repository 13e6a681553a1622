"""Loading the helper into the target, and unloading it.

The helper .so is copied where the target can read and map it (its own
mount namespace, seen through /proc/PID/root: placement.py), then
dlopen()ed from inside the target through the call stub (infcall.py).
Strings (the path, the entry points' names) are written into the stub's
scratch area, never passed as literals: gdb would call the target's malloc
to place one.  The copy is removed as soon as dlopen() returned; the
mapping keeps it alive."""

import os

import gdb

from . import abi, infcall, placement, rawcall, session
from .errors import PyleaksError

RTLD_NOW = 2
RTLD_NOLOAD = 4
SCRATCH_SIZE = 0xc00

# Helper calls whose work grows with the heap: they get the stopped-target
# budget, heartbeats and progress lines.
LONG_CALLS = ("pyl_census", "pyl_objects", "pyl_roots_list", "pyl_chain",
              "pyl_refs", "pyl_backrefs", "pyl_analyze", "pyl_patterns",
              "pyl_ids", "pyl_ids_new")


class Helper:
    """The helper as loaded in one process: its dlopen handle and the
    addresses of its entry points."""

    def __init__(self, pid, handle, entries):
        self.pid = pid
        self.handle = handle
        self.entries = entries
        self.layout_addr = self.call("pyl_layout_addr")
        self.arg_addr = self.call("pyl_arg_addr")
        self.arg_size = self.call("pyl_arg_size")

    def call(self, name, *args):
        return infcall.call(self.entries[name], args, name=name,
                            long=name in LONG_CALLS)

    def write(self, address, data):
        gdb.selected_inferior().write_memory(address, data)


def _scratch(text):
    """The address of a NUL-terminated copy of text in the stub's scratch
    area (valid until the next _scratch)."""
    data = text.encode() + b"\0"
    if len(data) > SCRATCH_SIZE:
        raise PyleaksError("path too long for the target (%d bytes): %s"
                           % (len(data), text))
    the_stub = infcall.stub()
    address = the_stub.base + rawcall.STUB_NAME_OFF
    the_stub.memory.write(address, data)
    return address


def _read_c_string(address, limit=1024):
    memory = infcall.stub().memory
    data = b""
    while len(data) < limit:
        try:
            chunk = memory.read(address + len(data), 64)
        except OSError:
            break
        end = chunk.find(b"\0")
        if end >= 0:
            return (data + chunk[:end]).decode("utf-8", "replace")
        data += chunk
    return data.decode("utf-8", "replace")


def dlopen(target_path, flags=RTLD_NOW):
    """dlopen() in the target; (handle, error text)."""
    handle = infcall.call("dlopen", (_scratch(target_path), flags),
                          ret="void *", name="dlopen")
    if handle:
        return handle, None
    err = infcall.call("dlerror", (), ret="char *", name="dlerror")
    return 0, _read_c_string(err) if err else "no error text"


def dlsym(handle, name):
    return infcall.call("dlsym", (handle, _scratch(name)), ret="void *",
                        name="dlsym")


def dlclose(handle):
    return infcall.call("dlclose", (handle,), ret="int", name="dlclose")


def _dlsym_all(handle):
    entries = {}
    for name in abi.ENTRY_POINTS:
        address = dlsym(handle, name)
        if not address:
            raise PyleaksError("the helper library has no entry point %s"
                               % name,
                               "The plugin and the helper come from "
                               "different pyleaks versions; rebuild both")
        entries[name] = address
    return entries


def _check_readable(helper_path):
    if not helper_path:
        raise PyleaksError("no helper library is configured",
                           "Load pyleaks with its pyleaks.gdb script")
    if not os.path.exists(helper_path):
        raise PyleaksError("the helper library is missing (%s)"
                           % helper_path,
                           "Build it with 'make' (in the build tree) or "
                           "reinstall pyleaks")
    if not os.access(helper_path, os.R_OK):
        raise PyleaksError("the helper library %s exists but cannot be "
                           "read by this user" % helper_path,
                           "Fix its permissions, or run pyleaks as a user "
                           "who may read it")


def load(pid):
    """dlopen the helper in process `pid` and connect it to the call
    stub; returns a Helper."""
    helper_path = session.config["helper_path"]
    _check_readable(helper_path)
    infcall.stub(pid)
    host_path, target_path = placement.place(pid, helper_path)
    handle = 0
    try:
        handle, error = dlopen(target_path)
        if not handle:
            _unmap_leftovers(pid, target_path)
            raise PyleaksError("the helper failed to load in the target: %s"
                               % error,
                               "Check that %s was built for this machine, "
                               "and that the target may read and map %s"
                               % (helper_path, target_path))
        entries = _dlsym_all(handle)
        helper = Helper(pid, handle, entries)
        helper.call("pyl_control_attach", infcall.stub(pid).ctl)
        return helper
    except BaseException:
        if handle:
            _dlclose_quietly(handle)
        # A failed load leaves nothing of pyleaks in the target.
        infcall.remove_stub(pid)
        raise
    finally:
        try:
            os.unlink(host_path)
        except OSError:
            pass


def _unmap_leftovers(pid, target_path):
    """A dlopen() that failed half-way (a file system that refuses to map
    it executable, a security policy) may leave a mapping of the file."""
    ranges = []
    try:
        with open("/proc/%d/maps" % pid) as f:
            for line in f:
                fields = line.split(None, 5)
                if len(fields) == 6 and fields[5].rstrip("\n").split(
                        " (deleted)")[0] == target_path:
                    start, end = (int(x, 16) for x in fields[0].split("-"))
                    ranges.append((start, end))
    except OSError:
        return
    the_stub = infcall.stub(pid)
    for start, end in ranges:
        the_stub.unmap(infcall.calling_thread(), start, end - start)


def _dlclose_quietly(handle):
    try:
        dlclose(handle)
    except (PyleaksError, gdb.error):
        pass


def unload(helper):
    """pyl_release() then dlclose(), then the stub goes: the target holds
    no pyleaks memory afterwards."""
    try:
        helper.call("pyl_release")
    finally:
        try:
            dlclose(helper.handle)
        finally:
            infcall.remove_stub(helper.pid)
