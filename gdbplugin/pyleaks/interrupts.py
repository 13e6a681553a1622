"""Signals to gdb while pyleaks runs a call in the target.

gdb's own handlers quit or interrupt at once: in the middle of a call into
the target that would leave the target running pyleaks' code with nobody
to take it back.  While a call runs, SIGINT, SIGTERM, SIGHUP and SIGQUIT
only note that they came; the call then stops at its next heartbeat and
gives the thread back, and the command fails with one line saying so.
gdb's handlers are put back exactly (raw sigaction) afterwards, and the
signals that mean "go away" are raised again for gdb to act on once the
target is safe."""

import ctypes
import os
import signal

import gdb

CAUGHT = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
# What gdb does with these (quit, detaching the target) is right once
# pyleaks has given the target back; SIGINT only interrupts the command.
REPLAYED = (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)

_SIGACTION_SIZE = 256       # more than glibc's struct sigaction (152)
_libc = ctypes.CDLL(None, use_errno=True)
_sigaction = _libc.sigaction
_sigaction.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p]

received = []               # signal numbers, in order, for this session
_depth = 0
_saved = {}
_replay_posted = False


def name(sig):
    return signal.Signals(sig).name


def _note(sig, frame):
    received.append(sig)


def pending():
    """The first signal received since the last clear(), or None."""
    return received[0] if received else None


def clear():
    del received[:]


class catching:
    """While a call runs: note the signals above instead of acting."""

    def __enter__(self):
        global _depth
        _depth += 1
        if _depth == 1:
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


def replay_later():
    """Raise again, for gdb's own handler, a signal that asked gdb to go
    away; posted so that it arrives after the failing command has
    returned (and its cleanup ran)."""
    global _replay_posted
    sig = next((s for s in received if s in REPLAYED), None)
    if sig is None or _replay_posted:
        return
    _replay_posted = True

    def replay():
        global _replay_posted
        _replay_posted = False
        os.kill(os.getpid(), sig)

    gdb.post_event(replay)
