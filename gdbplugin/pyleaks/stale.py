"""What an earlier pyleaks left in the target when it was killed.

A pyleaks (or gdb) killed during a session cannot unload its helper: the
target carries on, but keeps the helper library and the call stub mapped
(a few hundred KiB and the helper's own arenas).  The next attach finds
them by name in /proc/PID/maps and unloads them, with a note."""

import os

from . import infcall, inject, ptrace, rawcall
from .errors import PyleaksError

HELPER_MARK = "/pyleaks-helper-"
STUB_MARK = "[anon:" + rawcall.STUB_NAME.decode() + "]"


def _is_stub(memory, start, end, perms, path):
    """A stub's first page: its code, read-execute, anonymous (or named
    by the kernel when it could), with the control block's magic
    after it."""
    if path not in ("", STUB_MARK) or not perms.startswith("r-x") or \
            end - start != rawcall.STUB_CTL_OFF:
        return False
    try:
        return memory.u64(start + rawcall.STUB_CTL_OFF) == rawcall.CTL_MAGIC
    except OSError:
        return False


def _leftovers(pid, memory, own_stub):
    """([helper paths], [stub bases], [address ranges of both])."""
    helpers, stubs, ranges = [], [], []
    with open("/proc/%d/maps" % pid) as f:
        for line in f:
            fields = line.split(None, 5)
            if len(fields) < 5:
                continue
            path = fields[5].rstrip("\n") if len(fields) == 6 else ""
            start, end = (int(x, 16) for x in fields[0].split("-"))
            if HELPER_MARK in path:
                path = path[:-len(" (deleted)")] \
                    if path.endswith(" (deleted)") else path
                if path not in helpers:
                    helpers.append(path)
                ranges.append((start, end))
            elif start != own_stub and \
                    _is_stub(memory, start, end, fields[1], path):
                stubs.append(start)
                ranges.append((start, start + rawcall.STUB_SIZE))
    return helpers, stubs, ranges


def _thread_inside(pid, ranges):
    for tid in sorted(int(t) for t in os.listdir("/proc/%d/task" % pid)):
        try:
            rip = ptrace.get_regs(tid)[rawcall.RIP]
        except ptrace.PtraceError:
            continue
        if any(start <= rip < end for start, end in ranges):
            return tid
    return None


def _remove_copy(pid, path):
    """The copy of the helper that pyleaks removes right after dlopen,
    when it was killed before."""
    if os.path.basename(path).startswith(HELPER_MARK[1:]):
        try:
            os.unlink("/proc/%d/root%s" % (pid, path))
        except OSError:
            pass


def clean(pid):
    """Unload every helper and stub an earlier pyleaks left in process
    pid; notes for the user."""
    the_stub = infcall.stub(pid)
    try:
        helpers, stubs, ranges = _leftovers(pid, the_stub.memory,
                                            the_stub.base)
    except OSError:
        return []
    if not helpers and not stubs:
        return []
    busy = _thread_inside(pid, ranges)
    if busy is not None:
        raise PyleaksError(
            "thread %d is still running the helper an earlier pyleaks left "
            "in process %d (that pyleaks was killed); it stops by itself "
            "once nobody answers it" % (busy, pid),
            "Detach ('detach', or let pyleaks exit) and retry in a second")
    for path in helpers:
        handle, _ = inject.dlopen(path, inject.RTLD_NOW | inject.RTLD_NOLOAD)
        if not handle:
            continue
        release = inject.dlsym(handle, "pyl_release")
        if release:
            infcall.call(release, name="pyl_release (left over)")
        # Once for our RTLD_NOLOAD reference, once for the lost one.
        inject.dlclose(handle)
        inject.dlclose(handle)
        _remove_copy(pid, path)
    tid = infcall.calling_thread()
    for start in stubs:
        the_stub.unmap(tid, start, rawcall.STUB_SIZE)
    what = []
    if helpers:
        what.append("%d helper%s" % (len(helpers),
                                     "s" if len(helpers) > 1 else ""))
    if stubs:
        what.append("%d call stub%s" % (len(stubs),
                                        "s" if len(stubs) > 1 else ""))
    return ["unloaded %s left in process %d by an earlier pyleaks that was "
            "killed" % (" and ".join(what), pid)]
