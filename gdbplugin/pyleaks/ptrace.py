"""The few ptrace requests pyleaks makes itself (see rawcall.py).

gdb is the tracer of the target, and gdb's Python runs in the gdb thread
that attached it, so these requests are gdb's own; the kernel does not
care whether gdb's C code or its Python makes them.  Nothing here knows
about gdb: registers are lists of 27 integers in the order of the kernel's
struct user_regs_struct, memory goes through /proc/PID/mem."""

import ctypes
import errno
import os

PTRACE_CONT = 7
PTRACE_SINGLESTEP = 9
PTRACE_GETREGS = 12
PTRACE_SETREGS = 13
PTRACE_GETSIGINFO = 0x4202
PTRACE_GETREGSET = 0x4204
PTRACE_SETREGSET = 0x4205
NT_X86_XSTATE = 0x202

WALL = 0x40000000
N_REGS = 27
XSTATE_MAX = 0x4000

_libc = ctypes.CDLL(None, use_errno=True)
_ptrace = _libc.ptrace
_ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p,
                    ctypes.c_void_p]
_ptrace.restype = ctypes.c_long
_tgkill = _libc.syscall
_tgkill.restype = ctypes.c_long


class PtraceError(OSError):
    pass


class _Iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


def _check(result, what, tid):
    if result == -1:
        err = ctypes.get_errno()
        if err:
            raise PtraceError(err, "%s(%d): %s" % (what, tid,
                                                  os.strerror(err)))
    return result


def _request(request, tid, addr, data, what):
    ctypes.set_errno(0)
    return _check(_ptrace(request, tid, addr, data), what, tid)


def get_regs(tid):
    buf = (ctypes.c_uint64 * N_REGS)()
    _request(PTRACE_GETREGS, tid, None, ctypes.byref(buf), "GETREGS")
    return list(buf)


def set_regs(tid, regs):
    buf = (ctypes.c_uint64 * N_REGS)(*[r & (1 << 64) - 1 for r in regs])
    _request(PTRACE_SETREGS, tid, None, ctypes.byref(buf), "SETREGS")


def get_xstate(tid):
    """The thread's extended (x87/SSE/AVX...) state, as the kernel's
    XSAVE image; b"" where the kernel has no such register set."""
    buf = ctypes.create_string_buffer(XSTATE_MAX)
    iov = _Iovec(ctypes.cast(buf, ctypes.c_void_p), XSTATE_MAX)
    try:
        _request(PTRACE_GETREGSET, tid, NT_X86_XSTATE, ctypes.byref(iov),
                 "GETREGSET")
    except PtraceError as exc:
        if exc.errno in (errno.EINVAL, errno.ENODEV, errno.EIO):
            return b""
        raise
    return buf.raw[:iov.len]


def set_xstate(tid, data):
    if not data:
        return
    buf = ctypes.create_string_buffer(data, len(data))
    iov = _Iovec(ctypes.cast(buf, ctypes.c_void_p), len(data))
    _request(PTRACE_SETREGSET, tid, NT_X86_XSTATE, ctypes.byref(iov),
             "SETREGSET")


def cont(tid, sig=0):
    _request(PTRACE_CONT, tid, None, sig, "CONT")


def single_step(tid, sig=0):
    _request(PTRACE_SINGLESTEP, tid, None, sig, "SINGLESTEP")


def fault_address(tid):
    """si_addr of the signal the thread is stopped with (0 if unknown)."""
    buf = (ctypes.c_uint64 * 16)()
    try:
        _request(PTRACE_GETSIGINFO, tid, None, ctypes.byref(buf),
                 "GETSIGINFO")
    except PtraceError:
        return 0
    return buf[2]


def tgkill(tgid, tid, sig):
    ctypes.set_errno(0)
    return _tgkill(ctypes.c_long(234), ctypes.c_long(tgid),
                   ctypes.c_long(tid), ctypes.c_long(sig))


def poll_stop(tid):
    """(pid, status) when the thread has a new state to report, else
    None; never blocks."""
    try:
        pid, status = os.waitpid(tid, os.WNOHANG | WALL)
    except ChildProcessError:
        raise PtraceError(errno.ECHILD, "thread %d is gone" % tid)
    if pid == 0:
        return None
    return pid, status


class Memory:
    """The target's memory through /proc/PID/mem: no ptrace round trip
    per word, and nothing cached by gdb that our writes would make
    stale."""

    def __init__(self, pid):
        self.fd = os.open("/proc/%d/mem" % pid, os.O_RDWR | os.O_CLOEXEC)

    def read(self, address, size):
        data = os.pread(self.fd, size, address)
        if len(data) != size:
            raise OSError(errno.EIO, "short read at %#x" % address)
        return data

    def write(self, address, data):
        if os.pwrite(self.fd, data, address) != len(data):
            raise OSError(errno.EIO, "short write at %#x" % address)

    def u64(self, address):
        return int.from_bytes(self.read(address, 8), "little")

    def put_u64(self, address, value):
        self.write(address, (value & (1 << 64) - 1).to_bytes(8, "little"))

    def close(self):
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
