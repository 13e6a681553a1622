"""pyleaks: find memory leaks in a running CPython process from gdb.

gdb sources pyleaks.gdb, which puts this package on sys.path and calls
setup() with the paths of the helper library and of layout_fields.def."""

import importlib

import gdb

from . import api, session

# One module per command; importing one registers its command.
COMMAND_MODULES = ("leaks", "objects", "chain", "refs", "backrefs", "finish",
                   "layout_cmd", "watch")

_ready = False


class SafePointTimeout(gdb.Parameter):
    """How long pyleaks lets a thread that holds the GIL run to reach a
    safe point before it gives up, in milliseconds."""

    set_doc = "Set how long pyleaks waits for a safe point (ms)."
    show_doc = "Show how long pyleaks waits for a safe point (ms)."

    def __init__(self):
        super().__init__("pyleaks-safe-point-timeout", gdb.COMMAND_DATA,
                         gdb.PARAM_ZUINTEGER)
        self.value = 2000

    def get_show_string(self, value):
        return "pyleaks waits at most %s ms for a safe point." % value


class Budget(gdb.Parameter):
    """How long one pyleaks call may keep the target stopped, in seconds
    (0: no limit).  A call that reaches it stops cleanly and says so."""

    set_doc = "Set the stopped-target budget of one pyleaks call (s)."
    show_doc = "Show the stopped-target budget of one pyleaks call (s)."

    def __init__(self):
        super().__init__("pyleaks-budget", gdb.COMMAND_DATA,
                         gdb.PARAM_ZUINTEGER)
        self.value = 30

    def get_show_string(self, value):
        if not value:
            return "pyleaks calls may keep the target stopped without limit."
        return "One pyleaks call keeps the target stopped at most %s s." \
            % value


def _on_gdb_exiting(event):
    release_all()


def setup(helper_path, layout_def, stub_path=None):
    """Configure the paths and register the commands (idempotent)."""
    global _ready
    session.config["helper_path"] = helper_path
    session.config["layout_def"] = layout_def
    session.config["stub_path"] = stub_path
    if _ready:
        return
    SafePointTimeout()
    Budget()
    for name in COMMAND_MODULES:
        importlib.import_module(".commands." + name, __name__)
    session.connect_events(_on_gdb_exiting)
    _ready = True


def release_helper():
    """Unload the helper from the selected process (detach/quit hooks):
    prints a warning on failure, never raises."""
    try:
        api.release(quiet=True)
    except Exception as exc:        # a hook that raises aborts the detach
        gdb.write("warning: pyleaks: %s\n" % exc, gdb.STDERR)


def release_all():
    """Unload the helper from every process that has it (gdb exiting)."""
    try:
        for inferior in gdb.inferiors():
            if inferior.pid and session.state(inferior.pid).helper:
                if gdb.selected_inferior().num != inferior.num:
                    gdb.execute("inferior %d" % inferior.num, to_string=True)
                api.release(inferior.pid, quiet=True)
    except Exception as exc:
        gdb.write("warning: pyleaks: %s\n" % exc, gdb.STDERR)
