"""Calls into a live target that survive anything happening to gdb.

The design is in helper/include/pyleaks_ctl.h.  In short: a stub mapped
into the target runs each call and ends it by sending its own thread a
signal the target ignores.  gdb, alive, takes the thread back at that
signal and restores its registers; gdb, dead (even by SIGKILL), never
needed: the signal is ignored and the stub restores the registers itself.
No breakpoint is ever planted in the target's code, and gdb's own
inferior-call machinery (whose return breakpoint kills a target left
alone) is not used.

gdb does not see these resumptions: only the calling thread moves, its
registers are the same before and after, and every other thread stays
stopped where gdb stopped it."""

import errno
import os
import signal
import threading
import time

import gdb

from . import interrupts, nspid, ptrace
from .errors import PyleaksError, exited_error

# helper/include/pyleaks_ctl.h (tests/test_ctl_abi.py keeps them equal).
STUB_NOOP_OFF = 0x0800
STUB_CTL_OFF = 0x1000
STUB_NAME_OFF = 0x1200
STUB_GUARD_OFF = 0x6000
STUB_STACK_OFF = 0x7000
STUB_STACK_SIZE = 0x100000
STUB_SIZE = STUB_STACK_OFF + STUB_STACK_SIZE
CTL_MAGIC = 0x3142545343594c50
CTL_REGS = 8
CTL_FN = 232
CTL_ARGS = 240
CTL_RET = 288
CTL_TGID = 296
CTL_TID = 304
CTL_SIG = 312
CTL_STATE = 320
CTL_ACK = 328
CTL_ABORT = 336
CTL_XSAVE = 344
CTL_PROGRESS = 352
CTL_TOTAL = 360
CTL_GUARD = 368
CTL_LAND = 376
CTL_FAULTS = 384
CTL_BEAT_NS = 392
CTL_SIZE = 400
STATE_DONE = 2
ABORT_USER = 1
ABORT_BUDGET = 2

# struct user_regs_struct indices
R10, R9, R8, RAX, RDX, RSI, RDI = 7, 8, 9, 10, 12, 13, 14
ORIG_RAX, RIP, EFLAGS, RSP = 15, 16, 18, 19
EFLAGS_TF = 0x100
EFLAGS_DF = 0x400

# Interrupted system calls (the kernel's internal return values).
ERESTARTSYS, ERESTARTNOINTR, ERESTARTNOHAND = 512, 513, 514
ERESTART_RESTARTBLOCK = 516
EINTR = 4

SYS_MMAP, SYS_MPROTECT, SYS_MUNMAP, SYS_PRCTL = 9, 10, 11, 157
PROT_NONE, PROT_READ, PROT_WRITE, PROT_EXEC = 0, 1, 2, 4
MAP_PRIVATE_ANONYMOUS = 0x22
PR_SET_VMA, PR_SET_VMA_ANON_NAME = 0x53564D41, 0
STUB_NAME = b"pyleaks-stub"

FAULTS = (signal.SIGSEGV, signal.SIGBUS, signal.SIGILL, signal.SIGFPE,
          signal.SIGTRAP, signal.SIGSYS)
# Delivered to the program now would stop it (job control): sent again
# when pyleaks is done with the thread.
JOB_STOPS = (signal.SIGSTOP, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU)
# Ignored unless the program has a handler; tried first as stop signals.
_DEFAULT_IGNORED = (signal.SIGURG, signal.SIGWINCH, signal.SIGCHLD)

BEAT_NS = 20_000_000
PROGRESS_EVERY = 2.0
# How long a call may run past its budget (a short call: at all) before
# its thread is taken back by force.
SHORT_LIMIT = 30.0
GRACE = 5.0


def _mask(pid, tid, field):
    path = "/proc/%d/task/%d/status" % (pid, tid)
    with open(path) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1], 16)
    return 0


def _bit(sig):
    return 1 << (sig - 1)


def stop_signal(pid, tid):
    """A signal that, sent to this thread, the target ignores: SIG_IGN,
    or ignored by default with no handler, and not blocked by the
    thread (a blocked one would never stop it)."""
    ignored = _mask(pid, tid, "SigIgn")
    caught = _mask(pid, tid, "SigCgt")
    blocked = _mask(pid, tid, "SigBlk")
    for sig in _DEFAULT_IGNORED:
        if not (blocked | caught) & _bit(sig):
            return int(sig)
    for sig in range(1, 65):
        if ignored & _bit(sig) and not blocked & _bit(sig) and \
                sig not in (signal.SIGKILL, signal.SIGSTOP):
            return sig
    raise PyleaksError("thread %d of process %d handles or blocks every "
                       "signal pyleaks could stop it with" % (tid, pid),
                       "Select another thread ('thread N') and retry")


def _has_handler(pid, tid, sig):
    try:
        return bool(_mask(pid, tid, "SigCgt") & _bit(sig))
    except OSError:
        return False


def _signed(value):
    return value - (1 << 64) if value >= 1 << 63 else value


class _Watchdog:
    """Stops a thread at a deadline with a signal the target ignores, so
    that a blocked waitpid returns."""

    def __init__(self, pid, tid, deadline):
        self.sig = stop_signal(pid, tid)
        self.fired = False
        self.timer = threading.Timer(max(0.0, deadline - time.monotonic()),
                                     self._fire, (pid, tid))
        self.timer.daemon = True
        self.timer.start()

    def _fire(self, pid, tid):
        self.fired = True
        ptrace.tgkill(pid, tid, self.sig)

    def cancel(self):
        self.timer.cancel()


def _libc_function(name):
    try:
        return int(gdb.parse_and_eval("(unsigned long)&%s" % name))
    except (gdb.error, RuntimeError):
        raise PyleaksError("the target has no function %s" % name,
                           "Is this a glibc-based process?") from None


def _syscall_gadget(memory):
    """The address of a `syscall` instruction in the target's libc."""
    for name in ("getpid", "syscall", "__getpid"):
        try:
            address = int(gdb.parse_and_eval("(unsigned long)&%s" % name))
            code = memory.read(address, 64)
        except (gdb.error, OSError, RuntimeError):
            continue
        at = code.find(b"\x0f\x05")
        if at >= 0:
            return address + at
    raise PyleaksError("cannot find a system call instruction in the "
                       "target's C library",
                       "Is this a glibc-based process?")


def _check_syscall(result, what):
    if -4096 < _signed(result) < 0:
        raise PyleaksError("the target could not map pyleaks' call stub "
                           "(%s: %s)" % (what, os.strerror(-_signed(result))),
                           "The process may be out of memory or address "
                           "space, or forbid executable memory (seccomp, "
                           "SELinux)")


class CallFailed(PyleaksError):
    pass


class Stub:
    """The stub mapped into one process, and the calls made through it."""

    def __init__(self, pid):
        self.pid = pid
        self.base = 0
        self.memory = ptrace.Memory(pid)
        self.ack = 0
        self.xsave = 0
        self.resend = []            # job-control stops to send afterwards
        self.faults = []            # (rip, address) of recovered faults
        self.prepared = None        # stop signal and ids, for park()
        self.land_ok = True

    @property
    def ctl(self):
        return self.base + STUB_CTL_OFF

    # --- mapping it ----------------------------------------------------

    def install(self, code, tid):
        """Map the stub with one injected mmap, and name the mapping so a
        later pyleaks can recognise it if this one dies.

        A single-stepped system call leaves the thread at a SIGTRAP stop,
        which a gdb killed right then would let kill the target: so only
        the mmap is stepped, everything is prepared before it, and the
        thread is parked at the harmless stop signal right after it; the
        rest goes through the stub itself."""
        if len(code) > STUB_CTL_OFF:
            raise PyleaksError("the call stub is too big (%d bytes)"
                               % len(code))
        gadget = _syscall_gadget(self.memory)
        mprotect = _libc_function("mprotect")
        prctl = _libc_function("prctl")
        self.xsave = 1 if ptrace.get_xstate(tid) else 0
        self.prepared = (tid, stop_signal(self.pid, tid),
                         nspid.own_ids(self.pid, tid))
        writable_code = True
        base = self._inject(tid, gadget, SYS_MMAP,
                            (0, STUB_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC,
                             MAP_PRIVATE_ANONYMOUS, (1 << 64) - 1, 0))
        if -_signed(base) in (errno.EACCES, errno.EPERM):
            # A policy against writable executable memory: map it
            # writable, fill it, then make the code executable.
            writable_code = False
            base = self._inject(tid, gadget, SYS_MMAP,
                                (0, STUB_SIZE, PROT_READ | PROT_WRITE,
                                 MAP_PRIVATE_ANONYMOUS, (1 << 64) - 1, 0))
        _check_syscall(base, "mmap")
        self.base = base
        try:
            self.memory.write(base, code)
            self.memory.put_u64(self.ctl, CTL_MAGIC)
            self.memory.write(base + STUB_NAME_OFF, STUB_NAME + b"\0")
            if not writable_code:
                _check_syscall(self._inject(
                    tid, gadget, SYS_MPROTECT,
                    (base, STUB_CTL_OFF, PROT_READ | PROT_EXEC, 0, 0, 0)),
                    "mprotect")
            self.park(tid)
            for start, size, prot in (
                    (base, STUB_CTL_OFF, PROT_READ | PROT_EXEC),
                    (base + STUB_GUARD_OFF, STUB_STACK_OFF - STUB_GUARD_OFF,
                     PROT_NONE)):
                result, _ = self.call(tid, mprotect, (start, size, prot),
                                      name="mprotect")
                if result & 0xffffffff:     # int -1
                    raise PyleaksError("the target could not protect "
                                       "pyleaks' call stub (mprotect failed)")
            # Best effort: kernels without CONFIG_ANON_VMA_NAME refuse;
            # a later pyleaks then recognises the stub by its magic.
            self.call(tid, prctl, (PR_SET_VMA, PR_SET_VMA_ANON_NAME, base,
                                   STUB_SIZE, base + STUB_NAME_OFF),
                      name="prctl")
        except BaseException:
            self.unmap(tid, base, STUB_SIZE)
            self.base = 0
            raise

    def remove(self, tid):
        if not self.base:
            return
        self.unmap(tid, self.base, STUB_SIZE)
        self.base = 0

    def unmap(self, tid, base, size):
        """munmap() a region of the target (this stub, or one left by an
        earlier pyleaks); the thread is left parked harmlessly."""
        gadget = _syscall_gadget(self.memory)
        self._inject(tid, gadget, SYS_MUNMAP, (base, size, 0, 0, 0, 0))
        if self.base and base != self.base:
            self.park(tid)
        else:
            self._park_without_stub(tid)

    def park(self, tid):
        """After a single step the thread sits at a SIGTRAP stop, which a
        gdb that dies now would let kill the target: run a call that does
        nothing, which ends at the harmless stop signal instead (prepared
        before the step, so as to be quick)."""
        prepared = None
        if self.prepared is not None and self.prepared[0] == tid:
            prepared = self.prepared[1:]
        self.call(tid, self.base + STUB_NOOP_OFF, name="the stub's no-op",
                  limit=None, prepared=prepared)

    def _park_without_stub(self, tid):
        """The same without a stub: let the thread run its own code for a
        moment (only at the end of a session, when nothing depends on
        where it is) and stop it with the harmless signal."""
        sig = stop_signal(self.pid, tid)
        ptrace.cont(tid)
        ptrace.tgkill(self.pid, tid, sig)
        while True:
            got = self._wait_stop(tid, deadline=time.monotonic() + 2.0)
            if got is None or got == sig:
                return
            if got in JOB_STOPS:
                self.resend.append(got)
                ptrace.cont(tid)
            else:
                ptrace.cont(tid, got)

    def close(self):
        self.memory.close()

    def _inject(self, tid, gadget, number, args):
        """Run one system call in thread tid by single-stepping a syscall
        instruction; its registers are restored after."""
        saved = ptrace.get_regs(tid)
        regs = list(saved)
        regs[RAX] = number
        regs[RDI], regs[RSI], regs[RDX], regs[R10], regs[R8], regs[R9] = args
        regs[ORIG_RAX] = (1 << 64) - 1
        regs[RIP] = gadget
        regs[EFLAGS] &= ~(EFLAGS_TF | EFLAGS_DF)
        try:
            ptrace.set_regs(tid, regs)
            for _ in range(100):
                ptrace.single_step(tid)
                # No watchdog thread: a step ends at once, and until the
                # thread is parked every millisecond counts (install()).
                sig = self._wait_stop(tid)
                now = ptrace.get_regs(tid)
                if now[RIP] == gadget + 2:
                    return now[RAX]
                if sig not in (0, signal.SIGTRAP):
                    # Arrived before the step: given to the program later.
                    self.resend.append(sig)
                ptrace.set_regs(tid, regs)
            raise PyleaksError("a system call injected into the target did "
                               "not complete")
        finally:
            ptrace.set_regs(tid, saved)
            self.after(tid)

    # --- waiting -------------------------------------------------------

    def _wait_stop(self, tid, deadline=None, watchdog=None):
        """Wait until the thread stops; its signal, or None when it was
        stopped by the watchdog (or the deadline passed).  Raises when the
        target died.  Blocks in waitpid (no polling: the target keeps the
        CPU); a watchdog thread stops the thread at the deadline."""
        own = None
        if watchdog is None and deadline is not None:
            watchdog = own = _Watchdog(self.pid, tid, deadline)
        try:
            while True:
                try:
                    _, status = os.waitpid(tid, ptrace.WALL)
                except ChildProcessError:
                    raise exited_error() from None
                if not os.WIFSTOPPED(status):
                    raise exited_error()
                if status >> 16:
                    # A ptrace event (the program is exiting): let it go on.
                    ptrace.cont(tid)
                    continue
                sig = os.WSTOPSIG(status)
                if watchdog is not None and watchdog.fired and \
                        sig == watchdog.sig:
                    return None
                return sig
        finally:
            if own is not None:
                own.cancel()

    # --- calling -------------------------------------------------------

    def call(self, tid, function, args=(), name=None, budget=None,
             progress=None, limit=SHORT_LIMIT, prepared=None):
        """function(*args) in thread tid; (its return value, why it was
        aborted or None).  `budget` (seconds) bounds a helper call, which
        then stops itself at its next heartbeat; a call still running
        `limit` seconds after that (or after its start, without a budget)
        is taken back by force.  `progress` is called with (done, total,
        seconds) now and then."""
        args = tuple(args) + (0,) * (6 - len(args))
        saved = ptrace.get_regs(tid)
        saved_xstate = ptrace.get_xstate(tid)
        if prepared is not None:
            sig, (own_pid, own_tid) = prepared
        else:
            sig = stop_signal(self.pid, tid)
            own_pid, own_tid = nspid.own_ids(self.pid, tid)
        ctl = self.ctl
        mem = self.memory
        mem.write(ctl + CTL_REGS, b"".join(
            (r & (1 << 64) - 1).to_bytes(8, "little") for r in saved))
        # The stub signals its own thread from inside the target: with the
        # ids the target sees (its PID namespace), not gdb's.
        words = {CTL_FN: function, CTL_TGID: own_pid, CTL_TID: own_tid,
                 CTL_SIG: sig, CTL_STATE: 0, CTL_ACK: self.ack,
                 CTL_ABORT: 0, CTL_XSAVE: self.xsave, CTL_FAULTS: 0,
                 CTL_BEAT_NS: BEAT_NS}
        for i, a in enumerate(args):
            words[CTL_ARGS + 8 * i] = a
        for off, value in words.items():
            mem.put_u64(ctl + off, value)
        regs = list(saved)
        regs[RIP] = self.base
        regs[RSP] = self.base + STUB_SIZE
        regs[ORIG_RAX] = (1 << 64) - 1
        regs[EFLAGS] &= ~(EFLAGS_TF | EFLAGS_DF)
        final = list(saved)
        callee = name or "%#x" % function
        start = time.monotonic()
        last_progress = start
        aborted = None
        watchdog = None
        if limit is not None:
            watchdog = _Watchdog(self.pid, tid,
                                 start + (budget or 0) + limit)
        with interrupts.catching():
            ptrace.set_regs(tid, regs)
            ptrace.cont(tid)
            try:
                while True:
                    got = self._wait_stop(tid, watchdog=watchdog)
                    if got is None:
                        # Stopped by the watchdog, not at a safe place.
                        ptrace.set_regs(tid, saved)
                        ptrace.set_xstate(tid, saved_xstate)
                        raise CallFailed(
                            "%s did not return in time; pyleaks took the "
                            "thread back and the target carries on from "
                            "where it was" % callee,
                            "Detach and retry; if it was dlopen, another "
                            "thread may hold the loader lock")
                    if got == sig:
                        if mem.u64(ctl + CTL_STATE) == STATE_DONE:
                            break
                        self.ack += 1
                        mem.put_u64(ctl + CTL_ACK, self.ack)
                        now = time.monotonic()
                        if aborted is None:
                            if interrupts.pending() is not None:
                                aborted = ABORT_USER
                            elif budget is not None and now - start > budget:
                                aborted = ABORT_BUDGET
                            if aborted is not None:
                                mem.put_u64(ctl + CTL_ABORT, aborted)
                        if progress and now - last_progress >= PROGRESS_EVERY:
                            last_progress = now
                            progress(mem.u64(ctl + CTL_PROGRESS),
                                     mem.u64(ctl + CTL_TOTAL), now - start)
                        ptrace.cont(tid)
                    elif got in FAULTS:
                        self._fault(tid, got, callee, saved, saved_xstate)
                    elif got in JOB_STOPS:
                        self.resend.append(got)
                        ptrace.cont(tid)
                    else:
                        # The program's own signal: its handler runs now,
                        # on this thread (CPython's only sets a flag).
                        if _has_handler(self.pid, tid, got):
                            self._interrupted_syscall_fails(final)
                        ptrace.cont(tid, got)
            except ptrace.PtraceError:
                raise exited_error() from None
            finally:
                if watchdog is not None:
                    watchdog.cancel()
            value = mem.u64(ctl + CTL_RET)
            ptrace.set_regs(tid, final)
        if aborted is None and interrupts.pending() is not None:
            aborted = ABORT_USER
        self.after(tid)
        return value, aborted

    def _interrupted_syscall_fails(self, final):
        """A handler of the program ran while its thread was stopped in a
        system call: as the kernel would, fail that call with EINTR rather
        than restart it, so that the program sees its signal."""
        if _signed(final[ORIG_RAX]) < 0:
            return
        if -_signed(final[RAX]) in (ERESTARTSYS, ERESTARTNOHAND,
                                    ERESTART_RESTARTBLOCK):
            final[RAX] = -EINTR
            final[ORIG_RAX] = (1 << 64) - 1
            self.memory.put_u64(self.ctl + CTL_REGS + 8 * RAX, final[RAX])
            self.memory.put_u64(self.ctl + CTL_REGS + 8 * ORIG_RAX,
                                final[ORIG_RAX])

    def _fault(self, tid, sig, callee, saved, saved_xstate):
        """A fault inside the call: skip the guarded piece of work if the
        helper said it may be skipped, else give the thread back as it was
        before the call."""
        regs = ptrace.get_regs(tid)
        mem = self.memory
        land = mem.u64(self.ctl + CTL_LAND)
        if mem.u64(self.ctl + CTL_GUARD) and land:
            self.faults.append((regs[RIP], ptrace.fault_address(tid)))
            mem.put_u64(self.ctl + CTL_GUARD, 0)
            mem.put_u64(self.ctl + CTL_FAULTS, len(self.faults))
            regs[RIP] = land
            regs[RSP] = ((regs[RSP] - 256) & ~15) - 8
            ptrace.set_regs(tid, regs)
            ptrace.cont(tid)
            return
        where = _symbol(regs[RIP])
        ptrace.set_regs(tid, saved)
        ptrace.set_xstate(tid, saved_xstate)
        raise CallFailed("the call of %s in the target got %s in %s; "
                         "pyleaks gave the thread back as it was and the "
                         "target carries on as before"
                         % (callee, signal.Signals(sig).name, where),
                         "Please report this, with the output of 'py-bt'")

    def after(self, tid):
        """Signals held back meanwhile (job-control stops; any signal that
        came during a single step) go to the program now: it gets them
        once gdb lets it run, as it would have."""
        while self.resend:
            ptrace.tgkill(self.pid, tid, self.resend.pop(0))


def _symbol(pc):
    try:
        block = gdb.block_for_pc(pc)
        if block is not None and block.function is not None:
            return block.function.print_name
    except (gdb.error, RuntimeError):
        pass
    try:
        text = gdb.execute("info symbol %#x" % pc, to_string=True).strip()
        if not text.startswith("No symbol"):
            return text.split(" in section")[0]
    except gdb.error:
        pass
    return "%#x" % pc
