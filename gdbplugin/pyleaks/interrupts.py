"""Signals to gdb while pyleaks runs a call in the target.

gdb's own handlers quit or interrupt at once: in the middle of a call into
the target that would leave the target running pyleaks' code with nobody
to take it back.  While a call runs, SIGINT, SIGTERM, SIGHUP and SIGQUIT
only note that they came; the call then stops at its next heartbeat and
gives the thread back, and the command fails with one line saying so.
gdb's handlers are put back exactly (raw sigaction) afterwards, and the
signals that mean "go away" make pyleaks unload its helper and detach,
so that whatever gdb does next (or its death) cannot touch the target.
(They are not raised again for gdb: its quit from inside Python crashes
gdb 13.)

The `pyleaks` wrapper goes further: its gdb blocks these signals for the
whole session, from before the attach (pyleaks.gdb, when
PYLEAKS_SESSION_SIGNALS is set), and pyleaks collects them whenever it
looks (each heartbeat, each command): gdb never quits half-way through an
attach (which can leave the target stopped) nor passes a Ctrl-C on to the
target, whatever handler it installs meanwhile.  The wrapper then runs no
further command but the final unload and detach."""

import ctypes
import signal
import sys

CAUGHT = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
# These ask gdb to go away; SIGINT only interrupts the command.
GO_AWAY = (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)

_SIGACTION_SIZE = 256       # more than glibc's struct sigaction (152)
_libc = ctypes.CDLL(None, use_errno=True)
_sigaction = _libc.sigaction
_sigaction.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p]

# Signal numbers, in order.  The session-wide list when pyleaks.gdb made
# one before anything else was loaded.
received = getattr(sys, "_pyleaks_signals", None)
SESSION = received is not None
if received is None:
    received = []
_depth = 0
_saved = {}


def name(sig):
    return signal.Signals(sig).name


def _note(sig, frame):
    received.append(sig)


def _collect():
    """Session mode: take the blocked signals that are waiting."""
    waiting = signal.sigpending() & set(CAUGHT)
    for sig in sorted(waiting):
        if signal.sigtimedwait([sig], 0) is not None:
            received.append(int(sig))


def pending():
    """The first signal received since the last clear(), or None."""
    if SESSION:
        _collect()
    return received[0] if received else None


def clear():
    """Forget the signals of an earlier command (interactive gdb: a Ctrl-C
    stops one command, not the next).  Under the wrapper a signal stops
    the whole run."""
    if not SESSION:
        del received[:]


class catching:
    """While a call runs: note the signals above instead of acting."""

    def __enter__(self):
        global _depth
        _depth += 1
        if _depth == 1 and not SESSION:
            for sig in CAUGHT:
                old = ctypes.create_string_buffer(_SIGACTION_SIZE)
                if _sigaction(sig, None, old) == 0:
                    _saved[sig] = old
                    signal.signal(sig, _note)
        return self

    def __exit__(self, *exc):
        global _depth
        _depth -= 1
        if _depth == 0:
            for sig, old in _saved.items():
                _sigaction(sig, old, None)
            _saved.clear()
        return False


reported = False


def mark_reported():
    """A 'pyleaks:' line has said that a signal interrupted the run: say
    it once."""
    global reported
    reported = True


def wants_out():
    """The signal that asked gdb to go away (SIGTERM, SIGHUP, SIGQUIT), if
    one came: pyleaks then gives the target back entirely."""
    pending()
    return next((s for s in received if s in GO_AWAY), None)
