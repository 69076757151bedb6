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

/* Xen could not load the guest's segment state on return: report and crash. */
	.globl mk_pv_failsafe_callback
mk_pv_failsafe_callback:
	movq %rsp, %rdi
	andq $-16, %rsp
	call mk_pv_failsafe
1:	hlt
	jmp 1b

	.section .note.GNU-stack, "", @progbits
