/*
 * PV upcalls. Events are handled synchronously by the scheduler, so the event upcall only
 * ends the SCHEDOP_block it interrupts: it clears IF in the saved flags (HYPERVISOR_iret
 * then leaves events masked) and returns. Frame on entry: rcx, r11, rip, cs, rflags, rsp, ss.
 */
	.text
	.code64

/* Pushes the general registers in the order of struct mk_trap_frame (rax highest). */
.macro SAVE_GPRS
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
.endm

	.globl mk_pv_event_callback
mk_pv_event_callback:
	andq $~0x200, 32(%rsp)
	popq %rcx
	popq %r11
	pushq $0
	jmp mk_hypercall_page + 23 * 32

/*
 * Xen could not load the guest's segment registers on return: report and crash. Frame on
 * entry: rcx, r11, ds, es, fs, gs, rip, cs, rflags, rsp, ss; the other registers are the
 * interrupted context's. Saved as struct pv_failsafe_frame (traps.c).
 */
	.globl mk_pv_failsafe_callback
mk_pv_failsafe_callback:
	popq %rcx
	popq %r11
	SAVE_GPRS
	movq %rsp, %rdi
	andq $-16, %rsp
	call mk_pv_failsafe
1:	hlt
	jmp 1b

/*
 * Threads run in PV user mode (traps.c, mk_arch_enter_thread_mode), where the hypercall
 * page's syscall is not a hypercall: Xen switches to kernel mode and enters here, on the
 * fault stack, with the hypercall number in rax (the stub loaded it) and the arguments still
 * in rdi, rsi, rdx, r10, r8. Frame: rcx, r11, rip, cs, rflags, rsp, ss. The call is made again
 * from kernel mode, then HYPERVISOR_iret goes back to user mode with the result in rax.
 * Only the hypercall page's own stubs may come here (the frame's rip must be the stub for
 * rax): any other syscall instruction is a program expecting an OS kernel, and a crash.
 * rcx and r11 are free: syscall itself overwrote them.
 */
	.globl mk_pv_syscall_callback
mk_pv_syscall_callback:
	popq %rcx
	popq %r11
	movq (%rsp), %r11		/* rip after the syscall */
	leaq mk_hypercall_page(%rip), %rcx
	subq %rcx, %r11
	cmpq $4096, %r11
	jae 1f
	shrq $5, %r11
	cmpq %r11, %rax
	jne 1f
	cmpq $23, %rax			/* iret is only for kernel mode */
	je 1f
	shlq $5, %rax
	addq %rcx, %rax
	call *%rax
	pushq $0			/* iret flags */
	jmp mk_hypercall_page + 23 * 32
1:	pushq $0			/* error code */
	pushq $0			/* vector */
	SAVE_GPRS
	movq %rsp, %rdi
	andq $-16, %rsp
	call mk_pv_bad_syscall
2:	hlt
	jmp 2b

/*
 * mk_pv_enter_user_mode(): called in kernel mode, returns to its caller in user mode on the
 * same stack (HYPERVISOR_iret to a frame with CS RPL 3). IF stays clear, so event upcalls
 * stay masked.
 */
	.globl mk_pv_enter_user_mode
mk_pv_enter_user_mode:
	popq %rcx			/* return address */
	movq %rsp, %rdx			/* the caller's stack after the return */
	pushq $0xe02b			/* ss */
	pushq %rdx			/* rsp */
	pushq $0x2			/* rflags */
	pushq $0xe033			/* cs */
	pushq %rcx			/* rip */
	pushq $0			/* iret flags */
	jmp mk_hypercall_page + 23 * 32

	.section .note.GNU-stack, "", @progbits
