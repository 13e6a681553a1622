"""Command registration, pwndbg-style: each command module builds a
module-level argparse parser and decorates its function with @command.
The decorator turns the parser into gdb's `help` text, runs the guards,
and makes sure the user sees a one-line "pyleaks: ..." message for every
failure, never a Python traceback."""

import argparse

import gdb

from .. import fmt, session, target
from ..errors import PyleaksError, translate


class _HelpShown(Exception):
    """argparse printed the help (--help): not an error."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse that reports through gdb instead of exiting gdb."""

    def error(self, message):
        raise PyleaksError("%s: %s" % (self.prog, message),
                           "Usage: " + self.format_usage().split(":", 1)[1]
                           .strip())

    def exit(self, status=0, message=None):
        if message:
            gdb.write(message)
        raise _HelpShown()

    def print_help(self, file=None):
        gdb.write(self.format_help())

    def print_usage(self, file=None):
        gdb.write(self.format_usage())


def positive_int(text):
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not a number" % text)
    if value <= 0:
        raise argparse.ArgumentTypeError("%r must be at least 1" % text)
    return value


# How many objects py-refs, py-backrefs and py-objects list by default: a
# container of a million entries must not stop the target (or flood the
# terminal) for a list nobody reads; the total is always given.
DEFAULT_MAX = 100


def add_max_option(parser, what, order, *aliases):
    """--max N (and any older spelling in aliases): list at most N of
    `what`, the first in `order`."""
    parser.add_argument("--max", *aliases, dest="max", type=positive_int,
                        metavar="N", default=DEFAULT_MAX,
                        help="list at most N %s, the first %s (default %d); "
                             "the total is always shown"
                             % (what, order, DEFAULT_MAX))


def add_address_argument(parser, optional=False):
    """ADDR, the object a command is about."""
    parser.add_argument("address", metavar="ADDR", nargs="?" if optional
                        else None, type=fmt.parse_address,
                        help="the object's address: hex as py-objects "
                             "prints it, decimal as id() returns it, or a "
                             "gdb value ($1)")


def add_common_options(parser, dot_what=None):
    """--json and --force, which every heap command takes, and --dot for
    the commands that draw a graph of dot_what."""
    parser.add_argument("--json", action="store_true",
                        help="print one line of JSON (see docs/json.md)")
    if dot_what:
        parser.add_argument("--dot", metavar="FILE",
                            help="also write %s as a graphviz graph; a name "
                                 "ending in .svg or .png is rendered with dot "
                                 "(the source goes next to it, as .dot)"
                                 % dot_what)
    parser.add_argument("--force", action="store_true",
                        help="walk the heap even when it may be inconsistent "
                             "(a collection running, a thread holding the "
                             "GIL not at a safe point); never past a thread "
                             "inside malloc or the loader")


def only_live_process():
    """Guard: a live process is attached."""
    target.require_live_process()


registered = {}


def _fail(message):
    session.failed = True
    raise gdb.GdbError(message)


def command(parser, guards=(only_live_process,)):
    """Register the decorated function as the gdb command parser.prog."""

    def decorate(func):
        name = parser.prog

        def invoke(self, argument, from_tty):
            self.dont_repeat()
            try:
                args = parser.parse_args(gdb.string_to_argv(argument))
                for guard in guards:
                    guard()
                func(args)
            except _HelpShown:
                return
            except PyleaksError as exc:
                _fail(str(exc))
            except gdb.GdbError as exc:
                _fail(str(exc) if str(exc).startswith("pyleaks: ")
                      else "pyleaks: " + str(exc))
            except (gdb.error, gdb.MemoryError) as exc:
                _fail(str(translate(exc)))
            except KeyboardInterrupt:
                _fail("pyleaks: interrupted")
            except Exception as exc:        # never show a traceback
                _fail("pyleaks: internal error in %s: %s: %s. Please report "
                      "this" % (name, type(exc).__name__, exc))

        # gdb's help: the description as the summary line, then the usage
        # and options argparse would print (without the description twice).
        description, parser.description = parser.description, None
        doc = description.strip() + "\n\n" + parser.format_help()
        parser.description = description
        cls = type("Cmd_" + name.replace("-", "_"), (gdb.Command,),
                   {"__doc__": doc, "invoke": invoke})
        registered[name] = cls(name, gdb.COMMAND_DATA)
        return func

    return decorate
