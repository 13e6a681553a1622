/*
 * pyleaks_ctl.h — the call stub and its control block, shared by the gdb
 * plugin (gdbplugin/pyleaks/rawcall.py), the stub (helper/stub/stub.S) and
 * the helper (helper/backend/control.c).
 *
 * Every function pyleaks runs in a live target (dlopen, the helper's entry
 * points, dlclose) runs through a small stub that gdb maps into the target
 * first.  gdb does not use its own inferior-call machinery, which leaves a
 * breakpoint at the return address: if gdb died during such a call, the
 * target would return into that breakpoint and be killed.  Instead:
 *
 *  - gdb saves the thread's registers into the control block, points the
 *    thread at the stub's entry and resumes only that thread with a raw
 *    PTRACE_CONT (no gdb breakpoint is inserted anywhere);
 *  - the stub saves the extended (FPU/SSE/AVX) state, calls ctl[FN] with
 *    ctl[ARGS], stores the result, restores the extended state, and sends
 *    its own thread the "stop signal": a signal the target ignores (its
 *    disposition is SIG_IGN or ignore-by-default, and the thread does not
 *    block it), chosen by gdb;
 *  - with gdb alive, that signal stops the thread in gdb's hands: gdb reads
 *    the result and restores the registers it saved;
 *  - with gdb gone (killed, even by SIGKILL) the signal is ignored, the
 *    stub carries on and restores the saved registers itself (a system
 *    call the thread was interrupted in is restarted as the kernel would):
 *    the target continues exactly where it was.
 *
 * Long calls send the same signal now and then (a heartbeat): gdb answers
 * by incrementing ctl[ACK] before it resumes the thread, and may set
 * ctl[ABORT] meanwhile.  A heartbeat nobody answered means gdb is gone:
 * the helper stops its work at once and returns.
 *
 * All slots are little-endian 64-bit words at byte offsets from the
 * control page.  This header holds only #defines so that the assembler
 * stub can include it.
 */
#ifndef PYLEAKS_CTL_H
#define PYLEAKS_CTL_H

/* The stub mapping, from its base. */
#define PYL_STUB_CODE_OFF 0x0000  /* the stub's code (read-execute) */
#define PYL_STUB_NOOP_OFF 0x0800  /* a function that returns at once */
#define PYL_STUB_CTL_OFF 0x1000   /* the control block */
#define PYL_STUB_NAME_OFF 0x1200  /* scratch for strings gdb passes */
#define PYL_STUB_XSAVE_OFF 0x2000 /* extended state save area (64-aligned) */
#define PYL_STUB_XSAVE_SIZE 0x4000
#define PYL_STUB_GUARD_OFF 0x6000 /* one inaccessible page under the stack */
#define PYL_STUB_STACK_OFF 0x7000
#define PYL_STUB_STACK_SIZE 0x100000
#define PYL_STUB_SIZE (PYL_STUB_STACK_OFF + PYL_STUB_STACK_SIZE)

#define PYL_CTL_MAGIC 0x3142545343594c50 /* "PLYCSTB1" */

/* Control block slots (byte offsets). */
#define PYL_CTL_MAGIC_OFF 0
/* The interrupted thread's registers, in the order of the kernel's
 * struct user_regs_struct (27 words), written by gdb before the call. */
#define PYL_CTL_REGS 8
#define PYL_REG_R15 0
#define PYL_REG_R14 1
#define PYL_REG_R13 2
#define PYL_REG_R12 3
#define PYL_REG_RBP 4
#define PYL_REG_RBX 5
#define PYL_REG_R11 6
#define PYL_REG_R10 7
#define PYL_REG_R9 8
#define PYL_REG_R8 9
#define PYL_REG_RAX 10
#define PYL_REG_RCX 11
#define PYL_REG_RDX 12
#define PYL_REG_RSI 13
#define PYL_REG_RDI 14
#define PYL_REG_ORIG_RAX 15
#define PYL_REG_RIP 16
#define PYL_REG_CS 17
#define PYL_REG_EFLAGS 18
#define PYL_REG_RSP 19
#define PYL_REG_SS 20
#define PYL_REG_COUNT 27
#define PYL_CTL_REG(r) (PYL_CTL_REGS + 8 * (r))

#define PYL_CTL_FN 232       /* gdb: the function to call */
#define PYL_CTL_ARGS 240     /* gdb: its six integer arguments */
#define PYL_CTL_RET 288      /* stub: what it returned */
#define PYL_CTL_TGID 296     /* gdb: the target's process id */
#define PYL_CTL_TID 304      /* gdb: the calling thread's id */
#define PYL_CTL_SIG 312      /* gdb: the stop signal (ignored by the target) */
#define PYL_CTL_STATE 320    /* stub: PYL_STATE_* */
#define PYL_CTL_ACK 328      /* gdb: +1 at every heartbeat it answers */
#define PYL_CTL_ABORT 336    /* gdb: non-zero = stop now (PYL_ABORT_*) */
#define PYL_CTL_XSAVE 344    /* gdb: 1 = xsave/xrstor, 0 = fxsave/fxrstor */
#define PYL_CTL_PROGRESS 352 /* helper: units of work done */
#define PYL_CTL_TOTAL 360    /* helper: about how many units there are */
#define PYL_CTL_GUARD 368    /* helper: non-zero while a fault is recoverable */
#define PYL_CTL_LAND 376     /* helper: where gdb sends a faulting thread */
#define PYL_CTL_FAULTS 384   /* gdb: faults it sent to PYL_CTL_LAND */
#define PYL_CTL_BEAT_NS 392  /* gdb: heartbeat interval, ns (0 = none) */
#define PYL_CTL_SIZE 400

#define PYL_STATE_IDLE 0
#define PYL_STATE_RUNNING 1
#define PYL_STATE_DONE 2

#define PYL_ABORT_NONE 0
#define PYL_ABORT_USER 1   /* the user interrupted pyleaks (or a signal) */
#define PYL_ABORT_BUDGET 2 /* the stopped-target time budget ran out */
#define PYL_ABORT_GONE 3   /* set by the helper: nobody answered */

#endif /* PYLEAKS_CTL_H */
