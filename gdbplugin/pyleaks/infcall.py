"""Calling functions inside the target, the careful way.

Every call runs with only the calling thread resumed (scheduler-locking
on), unwinds if a signal arrives inside the call (unwindonsignal, and
unwind-on-terminating-exception), and with the user's breakpoints disabled
so none of them can stop the target half-way through one of our calls.
The user's settings are restored afterwards.  Arguments are integers only:
a string literal in an expression would make gdb call the target's malloc
to place it."""

import gdb

from . import session
from .errors import translate

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

    def __init__(self, disable_breakpoints=True):
        self.disable_breakpoints = disable_breakpoints
        self.saved = []
        self.disabled = []

    def __enter__(self):
        for name, wanted in _SETTINGS:
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


def _literal(value):
    return "%#x" % value if value >= 0 else "%d" % value


def call(function, args=(), signature=None, ret="unsigned long"):
    """Call `function` (an address, or a symbol name in the target) with
    integer arguments; returns the integer result.  `signature` gives the C
    parameter types (default: one unsigned long per argument)."""
    if signature is None:
        signature = ["unsigned long"] * len(args)
    params = ", ".join(signature) if signature else "void"
    callee = function if isinstance(function, str) else "%#x" % function
    expr = "((%s (*)(%s))%s)(%s)" % (ret, params, callee,
                                     ", ".join(_literal(a) for a in args))
    pid = gdb.selected_inferior().pid
    try:
        with session.own_call(), isolated():
            value = gdb.parse_and_eval(expr)
            return int(value) if ret != "void" else 0
    except gdb.error as exc:
        raise translate(exc, pid) from None
