"""Calling functions inside the target, the careful way.

Every call goes through the stub of rawcall.py: only the calling thread
runs, no breakpoint is planted, a fault in the callee gives the thread
back as it was, the program's own signals reach it, and a gdb that dies
meanwhile (however it dies) leaves the target running as before.  The
stub is mapped on the first call of a session and removed on release.
Arguments are integers only."""

import os

import gdb

from . import interrupts, ptrace, rawcall, session
from .errors import PyleaksError, exited_error, process_alive


def _read_stub_code():
    path = session.config.get("stub_path")
    try:
        with open(path, "rb") as f:
            return f.read()
    except (OSError, TypeError) as exc:
        raise PyleaksError("cannot read pyleaks' call stub %s (%s)"
                           % (path, getattr(exc, "strerror", exc)),
                           "Build it with 'make', or reinstall pyleaks")


def calling_thread():
    thread = gdb.selected_thread()
    if thread is None or not thread.is_valid():
        raise PyleaksError("no thread of the target is selected")
    return thread.ptid[1]


def stub(pid=None):
    """The stub of the selected process, mapped on first use."""
    if pid is None:
        pid = gdb.selected_inferior().pid
    pstate = session.state(pid)
    if pstate.stub is None or not pstate.stub.base:
        code = _read_stub_code()
        try:
            new = rawcall.Stub(pid)
        except OSError as exc:
            raise PyleaksError("cannot open the memory of process %d (%s)"
                               % (pid, exc.strerror),
                               "Is gdb attached to it?") from None
        try:
            new.install(code, calling_thread())
        except ptrace.PtraceError:
            new.close()
            raise exited_error() from None
        except BaseException:
            new.close()
            raise
        pstate.stub = new
    return pstate.stub


def remove_stub(pid):
    pstate = session.state(pid)
    if pstate.stub is None:
        return
    the_stub, pstate.stub = pstate.stub, None
    try:
        if process_alive(pid):
            the_stub.remove(calling_thread())
    except (ptrace.PtraceError, OSError):
        pass
    finally:
        the_stub.close()


def address_of(function):
    if not isinstance(function, str):
        return function
    try:
        return int(gdb.parse_and_eval("(unsigned long)&%s" % function))
    except gdb.error:
        raise PyleaksError("the target has no function %s" % function,
                           "Is its C library loaded?") from None


def _convert(value, ret):
    if ret == "int":
        value &= 0xffffffff
        return value - (1 << 32) if value >= 1 << 31 else value
    if ret == "long":
        return value - (1 << 64) if value >= 1 << 63 else value
    return value


def _progress(done, total, seconds):
    """A line on stderr now and then for a long call, so that it never
    looks like a hang (not a "pyleaks:" line: those are errors and
    notes)."""
    if total:
        text = ", %d of about %d objects" % (done, total)
    elif done:
        text = ", %d objects" % done
    else:
        text = ""
    os.write(2, ("(pyleaks: still working, %.0f s%s so far; Ctrl-C stops "
                 "it)\n" % (seconds, text)).encode())


def budget():
    try:
        value = gdb.parameter("pyleaks-budget")
    except (gdb.error, RuntimeError):
        return 30.0
    return float(value) if value else None


def call(function, args=(), ret="unsigned long", name=None, long=False):
    """Call `function` (an address, or a symbol of the target) with
    integer arguments; its result as `ret` says (int, long, unsigned
    long, or a pointer).  `long` marks a helper call whose work grows with
    the heap: it gets the stopped-target budget and progress lines."""
    pid = gdb.selected_inferior().pid
    if not pid:
        raise exited_error()
    callee = name or (function if isinstance(function, str)
                      else "%#x" % function)
    address = address_of(function)
    the_stub = stub(pid)
    try:
        with session.own_call():
            value, aborted = the_stub.call(
                calling_thread(), address, args, name=callee,
                budget=budget() if long else None,
                progress=_progress if long else None,
                limit=(rawcall.GRACE if budget() else None) if long
                else rawcall.SHORT_LIMIT)
    except ptrace.PtraceError:
        raise exited_error() from None
    sig = interrupts.pending()
    if sig is not None and long:
        interrupts.mark_reported()
        raise PyleaksError("interrupted by %s while %s ran in the target; "
                           "pyleaks stopped the call and the target carries "
                           "on as before" % (interrupts.name(sig), callee))
    if aborted == rawcall.ABORT_BUDGET:
        raise PyleaksError("%s ran out of the stopped-target budget (%.0f s)"
                           " and stopped; the target carries on as before"
                           % (callee, budget()),
                           "Raise it with 'set pyleaks-budget SECONDS' (0: "
                           "no limit)")
    return _convert(value, ret)
