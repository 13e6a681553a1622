"""Is it safe to touch the target now?  (See docs/safety.md.)

Two questions:
- before the dlopen: is any thread inside malloc or the dynamic loader?
  dlopen takes the loader lock and calls malloc; with only our thread
  running, a lock held by a stopped thread would never be released.
- before a heap walk: are the objects consistent?  A thread that holds the
  GIL and is executing may be half-way through an update.  Nobody holding
  the GIL, or the holder blocked in a system call, is safe; otherwise that
  one thread is let run to the point where it releases the GIL."""

import re
import threading
import time

import gdb

from . import infcall, nspid
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


def check_injection():
    """Raise PyleaksError when a thread is inside malloc or the loader."""
    inferior = gdb.selected_inferior()
    selected = gdb.selected_thread()
    try:
        for thread in inferior.threads():
            if not thread.is_valid() or thread.is_exited():
                continue
            for level, name, objfile in _frame_names(thread):
                what = None
                if _MALLOC_RE.match(name):
                    what = "malloc/free"
                elif _LOADER_RE.match(name) or "/ld-linux" in objfile \
                        or "/ld-" in objfile:
                    what = "the dynamic loader"
                if what:
                    raise PyleaksError(
                        "%s is inside %s (frame #%d %s); loading the helper "
                        "now could deadlock the target"
                        % (_describe(thread), what, level, name or "??"),
                        "Let the target run a moment ('continue', then "
                        "Ctrl-C) and retry, or use --force")
    finally:
        if selected is not None and selected.is_valid():
            selected.switch()


# --- the GIL ----------------------------------------------------------------

def _scalar(value):
    """The number in an _Py_atomic_int/_Py_atomic_address or plain field."""
    t = value.type.strip_typedefs()
    if t.code == gdb.TYPE_CODE_STRUCT:
        value = value["_value"]
    return int(value)


def gil_state(target):
    """(locked, address of the last holder's PyThreadState)."""
    if target.version <= (3, 11):
        gil = gdb.parse_and_eval("&_PyRuntime.ceval.gil").dereference()
    else:
        gil = gdb.parse_and_eval(
            "_PyRuntime.interpreters.main->ceval.gil").dereference()
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


def _sigint_pending(pid, tid):
    for path in ("/proc/%d/task/%d/status" % (pid, tid),
                 "/proc/%d/status" % pid):
        try:
            with open(path) as f:
                for line in f:
                    if line.startswith(("SigPnd:", "ShdPnd:")) and \
                            int(line.split()[1], 16) & 2:
                        return True
        except OSError:
            pass
    return False


class _sigint_not_passed:
    """The watchdog interrupts with SIGINT, which gdb must keep for itself
    (its default): never let it reach the program's handlers."""

    def __enter__(self):
        self.restore = False
        try:
            table = gdb.execute("info signals SIGINT", to_string=True)
            row = [ln.split() for ln in table.splitlines()
                   if ln.startswith("SIGINT")][0]
            if row[3] == "Yes":
                _handle_sigint("nopass")
                self.restore = True
        except (gdb.error, IndexError):
            pass
        return self

    def __exit__(self, *exc):
        if self.restore:
            _handle_sigint("pass")
        return False


def _handle_sigint(how):
    # gdb asks for confirmation when SIGINT's handling changes.
    confirm = gdb.parameter("confirm")
    gdb.execute("set confirm off", to_string=True)
    try:
        gdb.execute("handle SIGINT " + how, to_string=True)
    finally:
        gdb.execute("set confirm %s" % ("on" if confirm else "off"),
                    to_string=True)


class _Waiter:
    """Lets one thread run (scheduler-locking on) until it reaches a safe
    point breakpoint, or until a watchdog interrupts it."""

    def __init__(self, thread, timeout):
        self.thread = thread
        self.timeout = timeout
        self.stop = None
        self.bps = []
        self.reached = None
        self.interrupted = False
        self.lock = threading.Lock()
        self.finished = False

    def _on_stop(self, event):
        self.stop = event
        if isinstance(event, gdb.BreakpointEvent):
            for bp in event.breakpoints:
                if bp in self.bps:
                    self.reached = bp.location

    def _interrupt(self):
        # Runs in gdb's main thread (posted event): only while still running.
        with self.lock:
            if self.finished:
                return
            self.interrupted = True
        # Not to_string: a nested capture would end the capture of the
        # `continue` in progress, and gdb's stop report would leak out.
        try:
            gdb.execute("interrupt")
        except gdb.error:
            pass

    def run(self):
        bps = self.bps
        for location in SAFE_POINTS:
            try:
                # Not temporary: we delete them ourselves, and need them
                # valid to tell which one was hit.
                bps.append(gdb.Breakpoint(location, internal=True))
            except (gdb.error, RuntimeError):
                pass
        if not bps:
            raise PyleaksError("cannot set a breakpoint on PyEval_SaveThread "
                               "to reach a safe point",
                               "Use --force to walk the heap anyway")
        timer = threading.Timer(self.timeout,
                                lambda: gdb.post_event(self._interrupt))
        gdb.events.stop.connect(self._on_stop)
        start = time.monotonic()
        try:
            self.thread.switch()
            with infcall.isolated(), infcall.quiet_stdout(), \
                    _sigint_not_passed():
                timer.start()
                gdb.execute("continue", to_string=True)
        finally:
            timer.cancel()
            timer.join(1.0)
            with self.lock:
                self.finished = True
            gdb.events.stop.disconnect(self._on_stop)
            for bp in bps:
                if bp.is_valid():
                    bp.delete()
        elapsed = time.monotonic() - start
        if self.interrupted and self.reached is not None:
            self._drain_sigint()
        if self.reached is None and isinstance(self.stop, gdb.SignalEvent) \
                and self.stop.stop_signal != "SIGINT":
            raise PyleaksError(
                "thread %d received %s while pyleaks let it run to a safe "
                "point; it stopped there, and the program gets the signal "
                "when it continues" % (self.thread.num,
                                       self.stop.stop_signal),
                "Look at it with 'bt' and 'py-bt' before going on")
        return self.reached, elapsed

    def _drain_sigint(self):
        """The watchdog fired just as the breakpoint was hit: the SIGINT it
        sent is pending in the kernel.  Let gdb take it now (it is not
        passed to the program) rather than leave it for the target."""
        inferior = gdb.selected_inferior()
        for _ in range(3):
            if not _sigint_pending(inferior.pid, self.thread.ptid[1]):
                return
            with infcall.isolated(), infcall.quiet_stdout(), \
                    _sigint_not_passed():
                gdb.execute("stepi", to_string=True)


def ensure_safe_point(target, timeout, force):
    """Make sure no thread is half-way through changing objects.  Returns
    notes for the user; raises PyleaksError when it cannot (unless
    force)."""
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
        selected = gdb.selected_thread()
        reached, elapsed = _Waiter(thread, timeout).run()
        if not gdb.selected_inferior().pid:
            raise exited_error()
        if selected.is_valid():
            selected.switch()
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
