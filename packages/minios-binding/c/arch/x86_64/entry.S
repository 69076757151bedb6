/*
 * Exception entry and cooperative context switch, shared by PV and PVH. A trap stub leaves
 * the native frame [vector, error code, rip, cs, rflags, rsp, ss]; on PV, Xen also pushes
 * rcx and r11 above it, which the stub pops first (MK_PV_FRAME).
 */
	.text
	.code64

.macro TRAP_STUB vec, has_err
	.globl mk_trap_stub_\vec
mk_trap_stub_\vec:
#ifdef MK_PV_FRAME
	popq %rcx
	popq %r11
#endif
	.if \has_err == 0
	pushq $0
	.endif
	pushq $\vec
	jmp mk_trap_common
.endm

TRAP_STUB 0, 0
TRAP_STUB 1, 0
TRAP_STUB 2, 0
TRAP_STUB 3, 0
TRAP_STUB 4, 0
TRAP_STUB 5, 0
TRAP_STUB 6, 0
TRAP_STUB 7, 0
TRAP_STUB 8, 1
TRAP_STUB 9, 0
TRAP_STUB 10, 1
TRAP_STUB 11, 1
TRAP_STUB 12, 1
TRAP_STUB 13, 1
TRAP_STUB 14, 1
TRAP_STUB 15, 0
TRAP_STUB 16, 0
TRAP_STUB 17, 1
TRAP_STUB 18, 0
TRAP_STUB 19, 0
TRAP_STUB 20, 0
TRAP_STUB 21, 1

	.section .rodata
	.balign 8
	.globl mk_trap_stubs
mk_trap_stubs:
	.quad mk_trap_stub_0, mk_trap_stub_1, mk_trap_stub_2, mk_trap_stub_3
	.quad mk_trap_stub_4, mk_trap_stub_5, mk_trap_stub_6, mk_trap_stub_7
	.quad mk_trap_stub_8, mk_trap_stub_9, mk_trap_stub_10, mk_trap_stub_11
	.quad mk_trap_stub_12, mk_trap_stub_13, mk_trap_stub_14, mk_trap_stub_15
	.quad mk_trap_stub_16, mk_trap_stub_17, mk_trap_stub_18, mk_trap_stub_19
	.quad mk_trap_stub_20, mk_trap_stub_21
	.text

/* Saves the registers as struct mk_trap_frame and reports; traps are fatal here. */
mk_trap_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, %rdi
	andq $-16, %rsp
	call mk_trap_handle
1:	hlt
	jmp 1b

/*
 * mk_context_switch(old_sp_slot, new_sp): saves callee-saved registers on the current
 * stack, stores %rsp in *old_sp_slot, and resumes the thread whose saved %rsp is new_sp.
 * The callee-saved state includes the SSE and x87 control words (MXCSR in the low half of
 * the last slot, the x87 control word above it): a thread's rounding mode and exception
 * masks (fesetround, fesetenv) stay its own.
 */
	.globl mk_context_switch
mk_context_switch:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	subq $8, %rsp
	stmxcsr (%rsp)
	fnstcw 4(%rsp)
	movq %rsp, (%rdi)
	movq %rsi, %rsp
	ldmxcsr (%rsp)
	fldcw 4(%rsp)
	addq $8, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret

/* First return target of a new thread: r12 = function, r13 = argument. */
	.globl mk_thread_trampoline
	.type mk_thread_trampoline, @function
mk_thread_trampoline:
	movq %r13, %rdi
	call *%r12
	movq %rax, %rdi
	call mk_thread_exit_from_trampoline
1:	hlt
	jmp 1b
	.size mk_thread_trampoline, . - mk_thread_trampoline

	.section .note.GNU-stack, "", @progbits
