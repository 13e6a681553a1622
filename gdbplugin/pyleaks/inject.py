"""Loading the helper into the target, and unloading it.

The helper .so is copied where the target can read it (its own mount
namespace, seen through /proc/PID/root), then dlopen()ed from inside the
target.  gdb passes the path in a page the target mmap()s for us, never in
a string literal: gdb would call the target's malloc to place one.  The
copy is removed as soon as dlopen() returned; the mapping keeps it alive."""

import os

import gdb

from . import abi, infcall, placement, session
from .errors import PyleaksError

PAGE = 4096
RTLD_NOW = 2
PROT_READ_WRITE = 3
MAP_PRIVATE_ANONYMOUS = 0x22
MAP_FAILED = (1 << 64) - 1

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
        return infcall.call(self.entries[name], args, name=name)

    def write(self, address, data):
        gdb.selected_inferior().write_memory(address, data)


def _read_c_string(address, limit=1024):
    inferior = gdb.selected_inferior()
    data = b""
    while len(data) < limit:
        try:
            chunk = bytes(inferior.read_memory(address + len(data), 64))
        except gdb.MemoryError:
            break
        end = chunk.find(b"\0")
        if end >= 0:
            return (data + chunk[:end]).decode("utf-8", "replace")
        data += chunk
    return data.decode("utf-8", "replace")


def _mmap_page():
    page = infcall.call("mmap", (0, PAGE, PROT_READ_WRITE,
                                 MAP_PRIVATE_ANONYMOUS, -1, 0),
                        signature=["void *", "unsigned long", "int", "int",
                                   "int", "long"], ret="void *")
    if page in (0, MAP_FAILED):
        raise PyleaksError("the target could not map a scratch page "
                           "(mmap failed)",
                           "The process may be out of memory or address "
                           "space")
    return page


def _munmap(page):
    infcall.call("munmap", (page, PAGE), signature=["void *",
                                                    "unsigned long"],
                 ret="int")


def _dlopen(page, target_path):
    inferior = gdb.selected_inferior()
    inferior.write_memory(page, target_path.encode() + b"\0")
    # auto-solib-add off: gdb would read the helper's symbols lazily, from
    # a file we are about to delete; the target needs none of them.
    handle = infcall.call("dlopen", (page, RTLD_NOW),
                          signature=["const char *", "int"], ret="void *",
                          settings=(("auto-solib-add", "off"),))
    if handle:
        return handle
    err = infcall.call("dlerror", (), ret="char *")
    text = _read_c_string(err) if err else "no error text"
    raise PyleaksError("the helper failed to load in the target: %s" % text,
                       "Check that %s was built for this machine, and "
                       "that the target may read %s"
                       % (session.config["helper_path"], target_path))


def _dlsym_all(page, handle):
    inferior = gdb.selected_inferior()
    entries = {}
    for name in abi.ENTRY_POINTS:
        inferior.write_memory(page, name.encode() + b"\0")
        address = infcall.call("dlsym", (handle, page),
                               signature=["void *", "const char *"],
                               ret="void *")
        if not address:
            raise PyleaksError("the helper library has no entry point %s"
                               % name,
                               "The plugin and the helper come from "
                               "different pyleaks versions; rebuild both")
        entries[name] = address
    return entries


def load(pid):
    """dlopen the helper in process `pid`; returns a Helper."""
    helper_path = session.config["helper_path"]
    if not helper_path or not os.path.isfile(helper_path):
        raise PyleaksError("the helper library is missing (%s)"
                           % (helper_path or "no path configured"),
                           "Build it with 'make' (in the build tree) or "
                           "reinstall pyleaks")
    host_path, target_path = placement.place(pid, helper_path)
    handle = None
    try:
        page = _mmap_page()
        try:
            handle = _dlopen(page, target_path)
            entries = _dlsym_all(page, handle)
        finally:
            _munmap(page)
    except BaseException:
        if handle:
            _dlclose_quietly(handle)
        raise
    finally:
        try:
            os.unlink(host_path)
        except OSError:
            pass
    try:
        return Helper(pid, handle, entries)
    except BaseException:
        _dlclose_quietly(handle)
        raise


def _dlclose_quietly(handle):
    try:
        infcall.call("dlclose", (handle,), signature=["void *"], ret="int")
    except (PyleaksError, gdb.error):
        pass


def unload(helper):
    """pyl_release() then dlclose(): the target holds no pyleaks memory
    afterwards."""
    try:
        helper.call("pyl_release")
    finally:
        infcall.call("dlclose", (helper.handle,), signature=["void *"],
                     ret="int")
