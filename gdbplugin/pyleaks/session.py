"""State that lives as long as the gdb session: where the helper and the
layout field list are, which processes have the helper loaded, whether
each target ran since pyleaks last looked, and whether a command failed."""

import gdb

from . import layout, target

config = {"helper_path": None, "layout_def": None, "stub_path": None}

# Set when any pyleaks command failed; pyleaks-finish turns it into gdb's
# exit status.
failed = False


def start_time(pid):
    """The process's start time (/proc/PID/stat field 22, clock ticks since
    boot): tells a reused pid from the process pyleaks knew; None when it
    is gone."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            stat = f.read()
        return int(stat[stat.rfind(b")") + 2:].split()[19])
    except (OSError, ValueError, IndexError):
        return None


class ProcessState:
    """What pyleaks knows about one live process."""

    def __init__(self, pid):
        self.pid = pid
        self.start_time = start_time(pid)
        self.helper = None          # inject.Helper once dlopen'd
        self.stub = None            # rawcall.Stub once mapped
        self.user_resumed = False   # resumed by the user since the attach
        self.graph_stale = False    # the target ran since the last call
        self.at_safe_point = False  # no resume since the safe point check


_states = {}
_own_calls = 0


def state(pid):
    known = _states.get(pid)
    if known is None or known.start_time != start_time(pid):
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
    if pid:
        # Also before pyleaks' first command: a thread the user let run and
        # stop (at a breakpoint in malloc, say) stays where it stopped.
        state(pid)
    for pstate in _states.values():
        if pstate.pid == pid or event.inferior_thread is None:
            pstate.graph_stale = True
            pstate.at_safe_point = False
            pstate.user_resumed = True


def _on_inferior_call(event):
    # gdb 13 reports a user's `call f()` only here, not as a cont event, and
    # the function may have changed the heap.
    if _own_calls or not isinstance(event, gdb.InferiorCallPreEvent):
        return
    pid = gdb.selected_inferior().pid
    for pstate in _states.values():
        if pstate.pid == pid:
            pstate.graph_stale = True
            pstate.at_safe_point = False


def _on_new_objfile(event):
    # gdb (re)attached or the target loaded a library: either way it ran
    # since pyleaks last looked.  (The helper's own dlopen adds no objfile:
    # it is done with auto-solib-add off.)
    for pstate in _states.values():
        pstate.graph_stale = True
        pstate.at_safe_point = False


def _on_exited(event):
    # gdb reports a detach as an exit too.  A process that is still alive
    # keeps its state (the helper stays loaded if no hook released it, and
    # a later attach reuses it), but it will have run meanwhile.
    from .errors import process_alive
    for known in list(_states):
        if process_alive(known):
            _states[known].graph_stale = True
            _states[known].at_safe_point = False
        else:
            drop(known)


_connected = False


def connect_events(on_exiting):
    global _connected
    if _connected:
        return
    gdb.events.cont.connect(_on_cont)
    gdb.events.exited.connect(_on_exited)
    if hasattr(gdb.events, "inferior_call"):
        gdb.events.inferior_call.connect(_on_inferior_call)
    gdb.events.new_objfile.connect(_on_new_objfile)
    if hasattr(gdb.events, "gdb_exiting"):
        gdb.events.gdb_exiting.connect(on_exiting)
    _connected = True
