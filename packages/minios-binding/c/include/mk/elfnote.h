/*
 * Xen ELF notes for the start files (assembler only). Xen's domain builder reads them from
 * the image's .note.Xen section; numbers are XEN_ELFNOTE_* of xen/elfnote.h. The notes every
 * target carries are here; each start file adds its own entry and layout notes.
 */
#ifndef MK_ELFNOTE_H
#define MK_ELFNOTE_H

#define ELFNOTE(type, desc_directive, desc...) \
	.pushsection .note.Xen, "a", @note; \
	.balign 4; \
	.long 4; \
	.long 2f - 1f; \
	.long type; \
	.asciz "Xen"; \
	.balign 4; \
1:	desc_directive desc; \
2:	.balign 4; \
	.popsection

#define MK_COMMON_ELFNOTES \
	ELFNOTE(6, .asciz, "rumpxen")		/* GUEST_OS */; \
	ELFNOTE(7, .asciz, "0.1")		/* GUEST_VERSION */; \
	ELFNOTE(5, .asciz, "xen-3.0")		/* XEN_VERSION */; \
	ELFNOTE(8, .asciz, "generic")		/* LOADER */; \
	ELFNOTE(11, .asciz, "yes")		/* BSD_SYMTAB: load symbols for backtraces */; \
	ELFNOTE(17, .long, (1 << 11))		/* SUPPORTED_FEATURES: XENFEAT_dom0 */

#endif
