"""Calling functions inside the target, the careful way.

Every call runs with only the calling thread resumed (scheduler-locking
on), unwinds if a signal arrives inside the call (unwindonsignal, and
unwind-on-terminating-exception), and with the user's breakpoints disabled
so none of them can stop the target half-way through one of our calls.
The user's settings are restored afterwards.  Arguments are integers only:
a string literal in an expression would make gdb call the target's malloc
to place it."""

import os

import gdb

from . import session
from .errors import PyleaksError, translate

_SETTINGS = (
    ("scheduler-locking", "on"),
    ("unwindonsignal", "on"),
    ("unwind-on-terminating-exception", "on"),
)


def _as_setting(value):
    if value is True:
        return "on"
    if value is False:
        return "off"
    return str(value)


class isolated:
    """Context manager: the settings above, user breakpoints disabled."""

    def __init__(self, disable_breakpoints=True, extra=()):
        self.disable_breakpoints = disable_breakpoints
        self.settings = _SETTINGS + tuple(extra)
        self.saved = []
        self.disabled = []

    def __enter__(self):
        for name, wanted in self.settings:
            old = _as_setting(gdb.parameter(name))
            if old != wanted:
                gdb.execute("set %s %s" % (name, wanted), to_string=True)
                self.saved.append((name, old))
        if self.disable_breakpoints:
            for bp in gdb.breakpoints() or ():
                # Negative numbers are internal breakpoints (ours).
                if bp.is_valid() and bp.enabled and bp.number > 0:
                    bp.enabled = False
                    self.disabled.append(bp)
        return self

    def __exit__(self, *exc):
        for bp in self.disabled:
            if bp.is_valid():
                bp.enabled = True
        for name, old in reversed(self.saved):
            try:
                gdb.execute("set %s %s" % (name, old), to_string=True)
            except gdb.error:
                pass
        return False


class quiet_stdout:
    """gdb reports every stop (and the source line it cannot find) on its
    stdout and stderr, even inside a captured gdb.execute(); around our own
    calls and waits those reports would only confuse, and break --json's
    one line, so fds 1 and 2 point to /dev/null meanwhile.  What matters
    comes back as an exception and becomes our own message."""

    def __enter__(self):
        gdb.flush()
        self.saved = [(fd, os.dup(fd)) for fd in (1, 2)]
        null = os.open(os.devnull, os.O_WRONLY)
        for fd, _ in self.saved:
            os.dup2(null, fd)
        os.close(null)

    def __exit__(self, *exc):
        gdb.flush()
        for fd, saved in self.saved:
            os.dup2(saved, fd)
            os.close(saved)
        return False


class _signal_watch:
    """Remembers the signal and function when a call is interrupted by a
    signal, for the error message (gdb's own text names neither)."""

    def __init__(self):
        self.signal = None
        self.function = None

    def _on_stop(self, event):
        if isinstance(event, gdb.SignalEvent):
            self.signal = event.stop_signal
            try:
                self.function = gdb.newest_frame().name()
            except gdb.error:
                pass

    def __enter__(self):
        gdb.events.stop.connect(self._on_stop)
        return self

    def __exit__(self, *exc):
        gdb.events.stop.disconnect(self._on_stop)
        return False


def _literal(value):
    return "%#x" % value if value >= 0 else "%d" % value


def call(function, args=(), signature=None, ret="unsigned long",
         settings=(), name=None):
    """Call `function` (an address, or a symbol name in the target) with
    integer arguments; returns the integer result.  `signature` gives the C
    parameter types (default: one unsigned long per argument); `settings`
    are more (gdb setting, value) pairs to hold during the call; `name`
    names the callee in error messages."""
    if signature is None:
        signature = ["unsigned long"] * len(args)
    params = ", ".join(signature) if signature else "void"
    callee = function if isinstance(function, str) else "%#x" % function
    expr = "((%s (*)(%s))%s)(%s)" % (ret, params, callee,
                                     ", ".join(_literal(a) for a in args))
    callee = name or callee
    pid = gdb.selected_inferior().pid
    watch = _signal_watch()
    try:
        with session.own_call(), isolated(extra=settings), watch, \
                quiet_stdout():
            value = gdb.parse_and_eval(expr)
            return int(value) if ret != "void" else 0
    except gdb.error as exc:
        if watch.signal == "SIGINT":
            raise PyleaksError(
                "interrupted while %s ran in the target; gdb unwound the "
                "call and the target carries on as before" % callee,
                "Retry, or detach") from None
        if watch.signal and "signaled while in a function called" in \
                str(exc):
            raise PyleaksError(
                "the call of %s in the target got %s in %s; gdb unwound the "
                "call and the target carries on as before"
                % (callee, watch.signal, watch.function or "??"),
                "Please report this, with the output of 'py-bt'") from None
        raise translate(exc, pid) from None
