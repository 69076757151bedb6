/*
 * Xen ELF notes for assembly sources: the XEN_ELFNOTE_* type numbers of Xen's public
 * xen/elfnote.h and XENFEAT_dom0 of xen/features.h (the same names and values, for code built
 * with -nostdinc, which cannot reach Xen's headers; @rumpxen/protocol's tests hold them equal
 * to Xen's headers and to src/xen-notes.ts), and XEN_NOTE, which emits one note.
 *
 * Xen's domain builder reads the notes named "Xen" from the image's PT_NOTE segments (or, when
 * those have none, its SHT_NOTE sections). In a .S file:
 *	XEN_NOTE(XEN_ELFNOTE_ENTRY, .quad start)
 *	XEN_NOTE(XEN_ELFNOTE_GUEST_OS, .asciz "name")
 */
#ifndef RUMPXEN_XEN_NOTE_H
#define RUMPXEN_XEN_NOTE_H

#define XEN_ELFNOTE_INFO                    0
#define XEN_ELFNOTE_ENTRY                   1
#define XEN_ELFNOTE_HYPERCALL_PAGE          2
#define XEN_ELFNOTE_VIRT_BASE               3
#define XEN_ELFNOTE_PADDR_OFFSET            4
#define XEN_ELFNOTE_XEN_VERSION             5
#define XEN_ELFNOTE_GUEST_OS                6
#define XEN_ELFNOTE_GUEST_VERSION           7
#define XEN_ELFNOTE_LOADER                  8
#define XEN_ELFNOTE_PAE_MODE                9
#define XEN_ELFNOTE_FEATURES                10
#define XEN_ELFNOTE_BSD_SYMTAB              11
#define XEN_ELFNOTE_HV_START_LOW            12
#define XEN_ELFNOTE_L1_MFN_VALID            13
#define XEN_ELFNOTE_SUSPEND_CANCEL          14
#define XEN_ELFNOTE_INIT_P2M                15
#define XEN_ELFNOTE_MOD_START_PFN           16
#define XEN_ELFNOTE_SUPPORTED_FEATURES      17
#define XEN_ELFNOTE_PHYS32_ENTRY            18
#define XEN_ELFNOTE_CRASH_INFO              0x1000001
#define XEN_ELFNOTE_CRASH_REGS              0x1000002
#define XEN_ELFNOTE_DUMPCORE_NONE           0x2000000
#define XEN_ELFNOTE_DUMPCORE_HEADER         0x2000001
#define XEN_ELFNOTE_DUMPCORE_XEN_VERSION    0x2000002
#define XEN_ELFNOTE_DUMPCORE_FORMAT_VERSION 0x2000003

/* The kernel can run as dom0: Xen 4.17 refuses a PV dom0 whose SUPPORTED_FEATURES lack it. */
#define XENFEAT_dom0                        11

/*
 * One note of type `type` named "Xen" in section .note.Xen; `desc` is the descriptor's
 * directive and value. Name and descriptor are padded to 4 bytes (the ELF note layout).
 */
#define XEN_NOTE(type, desc...)               \
	.pushsection .note.Xen, "a", @note;   \
	.p2align 2;                           \
	.long 4;                              \
	.long 8002f - 8001f;                  \
	.long type;                           \
	.asciz "Xen";                         \
	.p2align 2;                           \
8001:	desc;                                 \
8002:	.p2align 2;                           \
	.popsection

#endif
