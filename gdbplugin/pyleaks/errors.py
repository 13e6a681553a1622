"""One exception type for every failure a user can see, and the translation
of gdb's own exceptions into it.

Every message is one line: "pyleaks: <cause>. <what to do>".  Commands never
let a Python traceback reach the user (see commands/__init__.py)."""

import time

import gdb


class PyleaksError(Exception):
    """A failure with a message meant for the user."""

    def __init__(self, cause, hint=None):
        text = cause if cause.startswith("pyleaks: ") else "pyleaks: " + cause
        if hint:
            text = text.rstrip(".") + ". " + hint
        super().__init__(text)


def process_alive(pid):
    """True while /proc still has the process and it is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            stat = f.read()
    except OSError:
        return False
    # The state letter follows the ")" that closes the command name.
    state = stat[stat.rfind(b")") + 2:stat.rfind(b")") + 3]
    return state not in (b"Z", b"X")


def dead_soon(pid, wait=0.3):
    """True when the process is gone or becomes a zombie within `wait`
    seconds: a SIGKILLed process takes a moment to be reaped by the kernel,
    and reads of its memory fail meanwhile."""
    deadline = time.monotonic() + wait
    while process_alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)
    return True


def exited_error():
    return PyleaksError("the target process exited (or was killed)",
                        "Attach to a running process")


def translate(exc, pid=None):
    """Turn a gdb exception raised while talking to the target into a
    PyleaksError with a cause the user can act on."""
    if isinstance(exc, PyleaksError):
        return exc
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    inferior = gdb.selected_inferior()
    if pid is None:
        pid = inferior.pid
    if "exited while in a function called from GDB" in str(exc) or \
            (pid and inferior.pid == 0) or (pid and dead_soon(pid)):
        return exited_error()
    if isinstance(exc, gdb.MemoryError):
        return PyleaksError("cannot read the target's memory (%s)" % text,
                            "The process may be exiting, or ptrace access "
                            "is restricted (see /proc/sys/kernel/yama/"
                            "ptrace_scope)")
    if "signaled while in a function called from GDB" in str(exc):
        return PyleaksError(
            "the helper received a signal inside the target (%s); gdb "
            "unwound the call and the target carries on as before" % text,
            "Please report this with the output of 'py-bt' and 'info "
            "sharedlibrary'")
    if "stopped while in a function called from GDB" in str(exc):
        return PyleaksError(
            "a call into the target stopped early (%s)" % text,
            "Run 'return' or 'finish' to get out of it, then retry")
    return PyleaksError("gdb failed: %s" % (text or type(exc).__name__))
