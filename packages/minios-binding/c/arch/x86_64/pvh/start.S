/*
 * x86-64 PVH entry. Xen starts us at mk_pvh_start (XEN_ELFNOTE_PHYS32_ENTRY) in 32-bit
 * protected mode, paging off, %ebx = physical address of hvm_start_info. We identity-map
 * the first 4 GiB with 2 MiB pages, enter long mode and call mk_pvh_setup(start_info).
 */
#include <mk/elfnote.h>

MK_COMMON_ELFNOTES
ELFNOTE(XEN_ELFNOTE_PHYS32_ENTRY, .long, mk_pvh_start)

#define PTE_P 0x001
#define PTE_RW 0x002
#define PTE_PS 0x080

	.section .text.boot, "ax"
	.code32
	.globl mk_pvh_start
mk_pvh_start:
	cld
	cli
	movl %ebx, %esi
	movl $mk_boot_stack_top, %esp

	/* PML4[0] -> PDPT; PDPT[0..3] -> four page directories of 2 MiB pages. */
	movl $mk_pvh_pdpt, %eax
	orl $(PTE_P | PTE_RW), %eax
	movl %eax, mk_pvh_pml4
	xorl %ecx, %ecx
1:	movl %ecx, %eax
	shll $12, %eax
	addl $mk_pvh_pd, %eax
	orl $(PTE_P | PTE_RW), %eax
	movl %eax, mk_pvh_pdpt(, %ecx, 8)
	incl %ecx
	cmpl $4, %ecx
	jb 1b
	xorl %ecx, %ecx
2:	movl %ecx, %eax
	shll $21, %eax
	orl $(PTE_P | PTE_RW | PTE_PS), %eax
	movl %eax, mk_pvh_pd(, %ecx, 8)
	movl %ecx, %eax
	shrl $11, %eax
	movl %eax, mk_pvh_pd + 4(, %ecx, 8)
	incl %ecx
	cmpl $2048, %ecx
	jb 2b

	/* PAE, SSE (OSFXSR, OSXMMEXCPT); long mode; paging with WP; FPU native (NE, MP). */
	movl %cr4, %eax
	orl $0x620, %eax
	movl %eax, %cr4
	movl $mk_pvh_pml4, %eax
	movl %eax, %cr3
	movl $0xc0000080, %ecx
	rdmsr
	orl $0x100, %eax
	wrmsr
	movl %cr0, %eax
	andl $~0xc, %eax
	orl $0x80010023, %eax
	movl %eax, %cr0
	lgdt mk_pvh_gdt_desc
	ljmp $0x08, $3f

	.code64
3:	movl $0x10, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	xorl %eax, %eax
	movl %eax, %fs
	movl %eax, %gs
	leaq mk_boot_stack_top(%rip), %rsp
	xorl %ebp, %ebp
	/*
	 * The x87 unit comes out of reset with its exceptions unmasked (FCW 0x40) and CR0.NE
	 * makes them trap (#MF): put it in the state programs expect (FCW 0x37f, all masked), as
	 * Xen does for a PV guest. Seen: libm's fmod (x87 fprem) trapped with vector 16.
	 */
	fninit
	movl %esi, %edi
	call mk_pvh_setup
4:	hlt
	jmp 4b

	.section .text.hypercall_page, "ax"
	.balign 4096
	.globl mk_hypercall_page
	.type mk_hypercall_page, @function	/* named in backtraces: +0x20*N is hypercall N */
mk_hypercall_page:
	.fill 4096, 1, 0xc3
	.size mk_hypercall_page, 4096

	.data
	.balign 16
	.globl mk_pvh_gdt
mk_pvh_gdt:
	.quad 0
	.quad 0x00af9a000000ffff	/* 0x08: 64-bit code */
	.quad 0x00cf92000000ffff	/* 0x10: data */
	.quad 0, 0			/* 0x18: TSS, filled in by mk_pvh_setup */
mk_pvh_gdt_end:
	.globl mk_pvh_gdt_desc
mk_pvh_gdt_desc:
	.word mk_pvh_gdt_end - mk_pvh_gdt - 1
	.quad mk_pvh_gdt

	.section .bss.pvh_tables, "aw", @nobits
	.balign 4096
	.globl mk_pvh_pml4
mk_pvh_pml4:
	.skip 4096
	.globl mk_pvh_pdpt
mk_pvh_pdpt:
	.skip 4096
	.globl mk_pvh_pd
mk_pvh_pd:
	.skip 4 * 4096

	.section .bss.boot_stack, "aw", @nobits
	.balign 16
	.globl mk_boot_stack
mk_boot_stack:
	.skip 16384
	.globl mk_boot_stack_top
mk_boot_stack_top:

	.section .note.GNU-stack, "", @progbits
