"""State that lives as long as the gdb session: where the helper and the
layout field list are, which processes have the helper loaded, whether
each target ran since pyleaks last looked, and whether a command failed."""

import gdb

from . import layout, target

config = {"helper_path": None, "layout_def": None}

# Set when any pyleaks command failed; pyleaks-finish turns it into gdb's
# exit status.
failed = False


class ProcessState:
    """What pyleaks knows about one live process."""

    def __init__(self, pid):
        self.pid = pid
        self.helper = None          # inject.Helper once dlopen'd
        self.graph_stale = False    # the target ran since the last call
        self.at_safe_point = False  # no resume since the safe point check
        self.injection_checked = False


_states = {}
_own_calls = 0


def state(pid):
    if pid not in _states:
        _states[pid] = ProcessState(pid)
    return _states[pid]


def states():
    return list(_states.values())


def drop(pid):
    _states.pop(pid, None)
    target.forget(pid)
    layout.forget(pid)


class own_call:
    """Marks resumptions caused by pyleaks' own helper calls, which read
    the heap but change nothing, so they do not make the graph stale."""

    def __enter__(self):
        global _own_calls
        _own_calls += 1

    def __exit__(self, *exc):
        global _own_calls
        _own_calls -= 1


def _on_cont(event):
    if _own_calls:
        return
    pid = event.inferior_thread.inferior.pid if event.inferior_thread \
        else gdb.selected_inferior().pid
    for pstate in _states.values():
        if pstate.pid == pid or event.inferior_thread is None:
            pstate.graph_stale = True
            pstate.at_safe_point = False


def _on_exited(event):
    pid = getattr(event, "inferior", None)
    pid = pid.pid if pid is not None else None
    # The inferior's pid is already 0 here; drop processes that are gone.
    from .errors import process_alive
    for known in list(_states):
        if known == pid or not process_alive(known):
            drop(known)


_connected = False


def connect_events(on_exiting):
    global _connected
    if _connected:
        return
    gdb.events.cont.connect(_on_cont)
    gdb.events.exited.connect(_on_exited)
    if hasattr(gdb.events, "gdb_exiting"):
        gdb.events.gdb_exiting.connect(on_exiting)
    _connected = True
