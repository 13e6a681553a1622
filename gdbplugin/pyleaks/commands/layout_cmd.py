"""pyleaks-layout: show the struct pyl_layout discovered from DWARF."""

import gdb

from .. import layout, session, target
from . import ArgumentParser, command

parser = ArgumentParser(
    prog="pyleaks-layout",
    description="Print the struct pyl_layout that pyleaks reads from the "
                "interpreter's debug symbols (a diagnostic: nothing runs in "
                "the target).")


@command(parser)
def pyleaks_layout(args):
    tgt = target.identify()
    lay = layout.discover(tgt, session.config["layout_def"])
    gdb.write("pyleaks: CPython %s (%#x), process %d, symbols from %s\n"
              % (tgt.version_str, tgt.version_hex, tgt.pid, tgt.objfile))
    width = max(len(n) for n in lay.names)
    for name in lay.names:
        value = lay[name]
        shown = "%#x" % value if value > 0xffff else "%d" % value
        gdb.write("%s = %s\n" % (name.ljust(width), shown))
    for note in lay.notes:
        gdb.write("pyleaks: note: %s\n" % note)
