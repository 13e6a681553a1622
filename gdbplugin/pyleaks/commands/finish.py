"""pyleaks-finish: the last command of the `pyleaks` wrapper's gdb run."""

import gdb

from .. import api, interrupts, session
from ..errors import PyleaksError
from . import ArgumentParser, command

parser = ArgumentParser(
    prog="pyleaks-finish",
    description="Unload the helper from the target, detach, and quit gdb "
                "with status 1 if any pyleaks command failed in this "
                "session, else 0.",
    epilog="Used by the pyleaks command-line wrapper as its last command.")


@command(parser, guards=())
def pyleaks_finish(args):
    for inferior in gdb.inferiors():
        if not inferior.pid:
            continue
        if gdb.selected_inferior().num != inferior.num:
            gdb.execute("inferior %d" % inferior.num, to_string=True)
        try:
            api.release(inferior.pid, quiet=False)
        except PyleaksError as exc:
            session.failed = True
            gdb.write("%s\n" % exc, gdb.STDERR)
        gdb.execute("detach", to_string=True)
    # A signal that came while finishing: everything is released, but the
    # run was interrupted all the same.  After a command that failed, its
    # line already says what went wrong and the status is 1: one line.
    sig = interrupts.pending()
    if sig is not None and not interrupts.reported and not session.failed:
        interrupts.mark_reported()
        session.failed = True
        gdb.write("pyleaks: interrupted by %s while finishing (the helper "
                  "was unloaded and the process detached)\n"
                  % interrupts.name(sig), gdb.STDERR)
    gdb.execute("quit %d" % (1 if session.failed else 0))
