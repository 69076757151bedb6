/*
 * PV upcalls. Events are handled synchronously by the scheduler, so the event upcall only
 * ends the SCHEDOP_block it interrupts: it clears IF in the saved flags (HYPERVISOR_iret
 * then leaves events masked) and returns. Frame on entry: rcx, r11, rip, cs, rflags, rsp, ss.
 */
	.text
	.code64
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
 * interrupted context's. Saved as struct pv_failsafe_frame (setup.c).
 */
	.globl mk_pv_failsafe_callback
mk_pv_failsafe_callback:
	popq %rcx
	popq %r11
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
	call mk_pv_failsafe
1:	hlt
	jmp 1b

/*
 * Threads run in PV user mode (setup.c, mk_arch_enter_thread_mode), where the hypercall
 * page's syscall is not a hypercall: Xen switches to kernel mode and enters here, on the
 * fault stack, with the hypercall number in rax (the stub loaded it) and the arguments still
 * in rdi, rsi, rdx, r10, r8. Frame: rcx, r11, rip, cs, rflags, rsp, ss. The call is made again
 * from kernel mode, then HYPERVISOR_iret goes back to user mode with the result in rax.
 */
	.globl mk_pv_syscall_callback
mk_pv_syscall_callback:
	popq %rcx
	popq %r11
	cmpq $128, %rax			/* 4096 / 32 entries */
	jae 1f
	cmpq $23, %rax			/* iret is only for kernel mode */
	je 1f
	shlq $5, %rax
	leaq mk_hypercall_page(%rip), %r11
	addq %r11, %rax
	call *%rax
	jmp 2f
1:	movq $-38, %rax			/* -ENOSYS */
2:	pushq $0			/* iret flags */
	jmp mk_hypercall_page + 23 * 32

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
