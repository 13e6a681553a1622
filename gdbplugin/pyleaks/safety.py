"""Is it safe to touch the target now?  (See docs/safety.md.)

Two questions:
- before the dlopen: is any thread inside malloc or the dynamic loader?
  dlopen takes the loader lock and calls malloc; with only our thread
  running, a lock held by a stopped thread would never be released.
- before a heap walk: are the objects consistent?  A thread that holds the
  GIL and is executing may be half-way through an update.  Nobody holding
  the GIL, or the holder blocked in a system call, is safe; otherwise that
  one thread is let run to the point where it releases the GIL."""

import os
import re
import time

import gdb

from . import interrupts, nspid, ptrace, rawcall
from .errors import PyleaksError, exited_error, translate

MAX_FRAMES = 20

_MALLOC_RE = re.compile(
    r"^(?:__GI_)?(?:__libc_)?(?:malloc|free|cfree|realloc|reallocarray|calloc"
    r"|memalign|posix_memalign|aligned_alloc|valloc|pvalloc|sysmalloc|systrim"
    r"|mtrim|ptmalloc_init|malloc_\w+|_int_\w+|__malloc_\w+|tcache_\w+"
    r"|arena_get2|arena_get_retry|arena_thread_freeres|reused_arena"
    r"|get_free_list|detach_arena|remove_from_free_list|new_heap|heap_trim"
    r"|shrink_heap|unlink_chunk|int_mallinfo)$")
_LOADER_RE = re.compile(
    r"^(?:__GI_)?(?:_dl_\w+|dl_\w+|__dl\w*|_?_?dlerror_run|__libc_dl\w+"
    r"|___?dl(?:open|mopen|close|sym|vsym|addr|info)\w*"
    r"|dl(?:open|mopen|close|sym|vsym|addr|info)\w*"
    r"|do_dl\w+|dl\w+_doit|openaux|call_init|__libc_early_init)$")


# Code of the dynamic loader that takes none of its locks: the fast path
# of a thread-local variable's address, which a busy Python 3.13 thread is
# found in often.  Its slow path (_dl_update_slotinfo...) is still refused.
_LOCK_FREE_LOADER = ("__tls_get_addr", "___tls_get_addr")


def _frame_names(thread):
    """(level, function name, objfile) of the first frames of a thread."""
    thread.switch()
    out = []
    try:
        frame = gdb.newest_frame()
        level = 0
        while frame is not None and level < MAX_FRAMES:
            pc = frame.pc()
            out.append((level, frame.name() or "", gdb.solib_name(pc) or ""))
            frame = frame.older()
            level += 1
    except gdb.error:
        pass            # a stack gdb cannot unwind further: keep what we have
    return out


def _describe(thread):
    return "thread %d (LWP %d)" % (thread.num, thread.ptid[1])


def _danger(thread):
    """(frame level, function, what) when the thread is inside malloc or
    the dynamic loader, else None."""
    for level, name, objfile in _frame_names(thread):
        if _MALLOC_RE.match(name):
            return level, name, "malloc/free"
        if name in _LOCK_FREE_LOADER:
            continue
        if _LOADER_RE.match(name) or "/ld-linux" in objfile \
                or "/ld-" in objfile:
            return level, name, "the dynamic loader"
    return None


def check_injection(may_move=False, timeout=2.0):
    """Raise PyleaksError when a thread is inside malloc or the loader.
    Not even with --force: the dlopen would wait forever on a lock that
    thread holds, and an interrupted dlopen leaves the loader lock held
    for good.  With may_move (nobody but pyleaks has resumed the target
    since the attach, so no thread was stopped there on purpose), such a
    thread is first let run alone, in short slices, until it is out."""
    inferior = gdb.selected_inferior()
    selected = gdb.selected_thread()
    notes = []
    try:
        for thread in inferior.threads():
            if not thread.is_valid() or thread.is_exited():
                continue
            found = _danger(thread)
            if found and may_move:
                start = time.monotonic()
                if _run_in_slices(inferior.pid, thread,
                                  lambda t=thread: _danger(t) is None,
                                  timeout):
                    notes.append("let %s run %.3f s to leave %s"
                                 % (_describe(thread),
                                    time.monotonic() - start, found[2]))
                    continue
                found = _danger(thread) or found
            if found:
                level, name, what = found
                raise PyleaksError(
                    "%s is inside %s (frame #%d %s); loading the helper "
                    "now could deadlock the target"
                    % (_describe(thread), what, level, name or "??"),
                    "Let the target run a moment ('continue', then "
                    "Ctrl-C) and retry (--force does not override this)")
    finally:
        if selected is not None and selected.is_valid():
            selected.switch()
    return notes


def _run_in_slices(pid, thread, done, timeout, hint=None):
    """Let one thread run alone, in short slices each ended by a signal
    the target ignores (rawcall.stop_signal: no breakpoint, so a gdb that
    dies meanwhile leaves the program running), until done() or the
    timeout.  hint(), if given, is read while the thread runs (from its
    memory, without stopping it): when it says the moment may have come,
    the slice ends at once, so that a short window (a GIL released for
    half a millisecond) is caught, not only sampled.  The program's own
    signals that arrive meanwhile are delivered to it.  True when
    done."""
    tid = thread.ptid[1]
    sig = rawcall.stop_signal(pid, tid)
    start = time.monotonic()
    slice_ = FIRST_SLICE
    try:
        with interrupts.catching():
            while True:
                ptrace.cont(tid)
                if hint is None:
                    time.sleep(slice_)
                else:
                    end = time.monotonic() + slice_
                    while time.monotonic() < end and not hint():
                        time.sleep(HINT_POLL)
                _stop(pid, tid, sig)
                # The thread moved behind gdb's back: forget what gdb
                # cached before asking it about the thread.
                gdb.execute("maintenance flush register-cache",
                            to_string=True)
                if done():
                    return True
                if interrupts.pending() is not None:
                    interrupts.mark_reported()
                    raise PyleaksError(
                        "interrupted by %s while letting %s run to a safe "
                        "point; the target carries on"
                        % (interrupts.name(interrupts.pending()),
                           _describe(thread)))
                if time.monotonic() - start > timeout:
                    return False
                slice_ = min(slice_ * 2, MAX_SLICE)
    except ptrace.PtraceError:
        raise exited_error() from None


FIRST_SLICE = 0.0005
MAX_SLICE = 0.02
HINT_POLL = 0.00005


def _stop(pid, tid, sig):
    ptrace.tgkill(pid, tid, sig)
    while True:
        got = _wait(tid)
        if got == sig:
            return
        if got in rawcall.JOB_STOPS:
            ptrace.tgkill(pid, tid, got)    # after we are done
            ptrace.cont(tid)
            continue
        # The program's own signal (or fault): it gets it, as it would
        # have without pyleaks.
        ptrace.cont(tid, got)


# --- the GIL ----------------------------------------------------------------

def _scalar(value):
    """The number in an _Py_atomic_int/_Py_atomic_address or plain field."""
    t = value.type.strip_typedefs()
    if t.code == gdb.TYPE_CODE_STRUCT:
        value = value["_value"]
    return int(value)


def _gil(target):
    if target.version <= (3, 11):
        return gdb.parse_and_eval("&_PyRuntime.ceval.gil").dereference()
    return gdb.parse_and_eval(
        "_PyRuntime.interpreters.main->ceval.gil").dereference()


def gil_locked_address(target):
    """(address, size) of the GIL's `locked` word, to watch it from
    outside while a thread runs."""
    locked = _gil(target)["locked"]
    return int(locked.address), min(locked.type.sizeof, 8)


def gil_state(target):
    """(locked, address of the last holder's PyThreadState)."""
    gil = _gil(target)
    return _scalar(gil["locked"]), _scalar(gil["last_holder"])


def _thread_of(tstate_addr, target):
    """The gdb thread whose PyThreadState is at tstate_addr, or None."""
    tstate = gdb.parse_and_eval("(PyThreadState *)%#x" % tstate_addr)
    tstate = tstate.dereference()
    threads = gdb.selected_inferior().threads()
    if target.version >= (3, 11):
        # native_thread_id is the id in the target's PID namespace; gdb
        # knows threads by their ids in its own.
        native = nspid.host_tid(target.pid, int(tstate["native_thread_id"]))
        for thread in threads:
            if thread.ptid[1] == native:
                return thread
        return None
    # 3.8-3.10 only know the pthread_t, which is the thread's TCB: $fs_base.
    ident = int(tstate["thread_id"])
    selected = gdb.selected_thread()
    try:
        for thread in threads:
            thread.switch()
            if int(gdb.parse_and_eval("$fs_base")) == ident:
                return thread
    finally:
        selected.switch()
    return None


SAFE_POINTS = ("PyEval_SaveThread", "drop_gil")


def _already_safe(thread):
    """True when the thread is stopped in the kernel (its pc is right after
    a `syscall` instruction, 0f 05), or already at one of the safe points
    (e.g. the user stopped it there)."""
    selected = gdb.selected_thread()
    try:
        thread.switch()
        frame = gdb.newest_frame()
        if frame.name() in SAFE_POINTS:
            return True
        pc = frame.pc()
        return bytes(gdb.selected_inferior().read_memory(pc - 2, 2)) \
            == b"\x0f\x05"
    except gdb.error:
        return False
    finally:
        selected.switch()


class _Waiter:
    """Lets the GIL holder run alone (_run_in_slices) until it has given
    the GIL up, and, before the helper's first load, is not inside malloc
    or the loader either."""

    def __init__(self, target, thread, holder, timeout, need_dlopen):
        self.target = target
        self.thread = thread
        self.holder = holder
        self.timeout = timeout
        self.need_dlopen = need_dlopen

    def _safe(self):
        locked, holder = gil_state(self.target)
        if locked and holder == self.holder:
            return False
        if not self.need_dlopen:
            return True
        selected = gdb.selected_thread()
        try:
            return _danger(self.thread) is None
        finally:
            selected.switch()

    def run(self):
        start = time.monotonic()
        memory = ptrace.Memory(self.target.pid)
        locked_addr, size = gil_locked_address(self.target)

        def released():
            try:
                return not int.from_bytes(memory.read(locked_addr, size),
                                          "little")
            except OSError:
                return True
        try:
            reached = _run_in_slices(self.target.pid, self.thread,
                                     self._safe, self.timeout, released)
        finally:
            memory.close()
        return ("the GIL released" if reached else None,
                time.monotonic() - start)


def _wait(tid):
    while True:
        got = ptrace.poll_stop(tid)
        if got is not None:
            _, status = got
            if not os.WIFSTOPPED(status):
                raise exited_error()
            if status >> 16:
                ptrace.cont(tid)
                continue
            return os.WSTOPSIG(status)
        time.sleep(0.0001)


def ensure_safe_point(target, timeout, force, need_dlopen):
    """Make sure no thread is half-way through changing objects (and,
    with need_dlopen, that the thread let run did not stop inside malloc
    or the loader).  Returns notes for the user; raises PyleaksError when
    it cannot (unless force)."""
    pid = target.pid
    try:
        locked, holder = gil_state(target)
        if not locked:
            return []
        thread = _thread_of(holder, target) if holder else None
        if thread is None:
            if force:
                return ["the GIL is held by a thread gdb cannot identify; "
                        "walking anyway (--force)"]
            raise PyleaksError(
                "the GIL is held by a thread gdb cannot identify "
                "(PyThreadState %#x), so the heap may be changing" % holder,
                "Retry, or use --force")
        if _already_safe(thread):
            return []
        reached, elapsed = _Waiter(target, thread, holder, timeout,
                                   need_dlopen).run()
    except PyleaksError:
        raise
    except gdb.error as exc:
        raise translate(exc, pid) from None
    if reached:
        return ["waited %.3f s for thread %d to reach a safe point (%s)"
                % (elapsed, thread.num, reached)]
    if force:
        return ["thread %d holds the GIL and did not reach a safe point in "
                "%.1f s; walking anyway (--force)" % (thread.num, timeout)]
    raise PyleaksError(
        "thread %d holds the GIL and did not reach a safe point within "
        "%.1f s (it is running Python or C code that does not release the "
        "GIL), so its objects may be half-updated" % (thread.num, timeout),
        "Retry, raise 'set pyleaks-safe-point-timeout', or use --force")
