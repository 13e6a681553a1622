/*
 * stub.S — the call stub gdb maps into a live target (see pyleaks_ctl.h).
 *
 * Position-independent and self-contained: it is copied as raw bytes to
 * the first page of the stub mapping, and finds its control block, save
 * area and stack at fixed offsets from itself.  It touches no register of
 * the interrupted code before gdb saved them, and restores every one of
 * them (including the extended state) before giving the thread back.
 */
#include "pyleaks_ctl.h"

#define CTL(off) (PYL_STUB_CTL_OFF + (off))
#define REG(r) PYL_CTL_REG(PYL_REG_##r)
#define XAREA (PYL_STUB_XSAVE_OFF - PYL_STUB_CTL_OFF)

#define SYS_tgkill 234
#define SYS_restart_syscall 219
#define ERESTARTSYS 512
#define ERESTARTNOINTR 513
#define ERESTARTNOHAND 514
#define ERESTART_RESTARTBLOCK 516

	.text
	.globl pyl_stub_entry
	.type pyl_stub_entry, @function
/* gdb starts the thread here with rsp at the top of the stub's stack. */
pyl_stub_entry:
.Lbase:
	lea .Lbase+PYL_STUB_CTL_OFF(%rip), %rbx
	movq $PYL_STATE_RUNNING, PYL_CTL_STATE(%rbx)

	/* The interrupted code may have live vector registers: the callee
	 * may clobber them, so keep them all. */
	cmpq $0, PYL_CTL_XSAVE(%rbx)
	je 1f
	xor %ecx, %ecx
	xgetbv
	xsave64 XAREA(%rbx)
	jmp 2f
1:	fxsave64 XAREA(%rbx)
2:
	mov PYL_CTL_ARGS+0(%rbx), %rdi
	mov PYL_CTL_ARGS+8(%rbx), %rsi
	mov PYL_CTL_ARGS+16(%rbx), %rdx
	mov PYL_CTL_ARGS+24(%rbx), %rcx
	mov PYL_CTL_ARGS+32(%rbx), %r8
	mov PYL_CTL_ARGS+40(%rbx), %r9
	xor %eax, %eax
	call *PYL_CTL_FN(%rbx)
	/* rbx is callee-saved: still the control block. */
	mov %rax, PYL_CTL_RET(%rbx)

	cmpq $0, PYL_CTL_XSAVE(%rbx)
	je 3f
	xor %ecx, %ecx
	xgetbv
	xrstor64 XAREA(%rbx)
	jmp 4f
3:	fxrstor64 XAREA(%rbx)
4:
	movq $PYL_STATE_DONE, PYL_CTL_STATE(%rbx)

	.globl pyl_stub_stop
/* The stop signal: gdb takes the thread back here (and never lets it run
 * the next instruction); without gdb the signal is ignored. */
pyl_stub_stop:
	mov $SYS_tgkill, %eax
	mov PYL_CTL_TGID(%rbx), %rdi
	mov PYL_CTL_TID(%rbx), %rsi
	mov PYL_CTL_SIG(%rbx), %rdx
	syscall

	/* Nobody took the thread back: resume the interrupted code ourselves.
	 * A system call it was stopped in is restarted the way the kernel
	 * would have restarted it had no signal handler run. */
	mov REG(ORIG_RAX)(%rbx), %rax
	test %rax, %rax
	js 6f
	mov REG(RAX)(%rbx), %rcx
	cmp $-ERESTARTSYS, %rcx
	je 5f
	cmp $-ERESTARTNOINTR, %rcx
	je 5f
	cmp $-ERESTARTNOHAND, %rcx
	je 5f
	cmp $-ERESTART_RESTARTBLOCK, %rcx
	jne 6f
	mov $SYS_restart_syscall, %eax
5:	mov %rax, REG(RAX)(%rbx)
	subq $2, REG(RIP)(%rbx)
6:
	pushq REG(EFLAGS)(%rbx)
	popfq
	mov REG(R15)(%rbx), %r15
	mov REG(R14)(%rbx), %r14
	mov REG(R13)(%rbx), %r13
	mov REG(R12)(%rbx), %r12
	mov REG(RBP)(%rbx), %rbp
	mov REG(R11)(%rbx), %r11
	mov REG(R10)(%rbx), %r10
	mov REG(R9)(%rbx), %r9
	mov REG(R8)(%rbx), %r8
	mov REG(RAX)(%rbx), %rax
	mov REG(RCX)(%rbx), %rcx
	mov REG(RDX)(%rbx), %rdx
	mov REG(RSI)(%rbx), %rsi
	mov REG(RDI)(%rbx), %rdi
	mov REG(RSP)(%rbx), %rsp
	mov REG(RBX)(%rbx), %rbx
	jmp *.Lbase+CTL(REG(RIP))(%rip)

/* A function that does nothing: gdb calls it through the stub to leave a
 * thread parked at the stop signal (which a dying gdb leaves harmless)
 * rather than at a single-step trap (which would kill the target). */
	.org PYL_STUB_NOOP_OFF
	.globl pyl_stub_noop
pyl_stub_noop:
	ret
	.size pyl_stub_entry, .-pyl_stub_entry

	.section .note.GNU-stack,"",@progbits
