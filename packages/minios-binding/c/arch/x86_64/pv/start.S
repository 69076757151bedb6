/*
 * x86-64 PV entry. Xen's domain builder reads the notes below, loads the image at its link
 * address (virt base 0, so virtual == pseudo-physical), builds bootstrap page tables and
 * enters mk_start with %rsi = start_info (virtual) on a small stack of its own.
 */
#include <mk/elfnote.h>

MK_COMMON_ELFNOTES
ELFNOTE(XEN_ELFNOTE_VIRT_BASE, .quad, 0)
ELFNOTE(XEN_ELFNOTE_PADDR_OFFSET, .quad, 0)
ELFNOTE(XEN_ELFNOTE_ENTRY, .quad, mk_start)
ELFNOTE(XEN_ELFNOTE_HYPERCALL_PAGE, .quad, mk_hypercall_page)
ELFNOTE(XEN_ELFNOTE_PAE_MODE, .asciz, "yes")
ELFNOTE(XEN_ELFNOTE_FEATURES, .asciz, "!writable_page_tables")

	.section .text.boot, "ax"
	.code64
	.globl mk_start
mk_start:
	cld
	leaq mk_boot_stack_top(%rip), %rsp
	xorl %ebp, %ebp
	movq %rsi, %rdi
	call mk_pv_setup
1:	hlt
	jmp 1b

	.section .text.hypercall_page, "ax"
	.balign 4096
	.globl mk_hypercall_page
	.type mk_hypercall_page, @function	/* named in backtraces: +0x20*N is hypercall N */
mk_hypercall_page:
	.fill 4096, 1, 0xcc
	.size mk_hypercall_page, 4096

	.section .bss.boot_stack, "aw", @nobits
	.balign 16
	.globl mk_boot_stack
mk_boot_stack:
	.skip 16384
	.globl mk_boot_stack_top
mk_boot_stack_top:

	.section .note.GNU-stack, "", @progbits
