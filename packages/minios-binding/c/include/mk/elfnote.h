/*
 * Xen ELF notes for the start files (assembler only). Xen's domain builder reads them from
 * the image's .note.Xen section. The note numbers (XEN_ELFNOTE_*, XENFEAT_dom0) and the note
 * layout are @rumpxen/protocol's rumpxen/xen_note.h (c/build.sh passes its include dir). The
 * notes every target carries are here; each start file adds its own entry and layout notes.
 */
#ifndef MK_ELFNOTE_H
#define MK_ELFNOTE_H

#include <rumpxen/xen_note.h>

/* One note: ELFNOTE(XEN_ELFNOTE_ENTRY, .quad, mk_start). */
#define ELFNOTE(type, desc_directive, desc...) XEN_NOTE(type, desc_directive desc)

#define MK_COMMON_ELFNOTES \
	ELFNOTE(XEN_ELFNOTE_GUEST_OS, .asciz, "rumpxen"); \
	ELFNOTE(XEN_ELFNOTE_GUEST_VERSION, .asciz, "0.1"); \
	ELFNOTE(XEN_ELFNOTE_XEN_VERSION, .asciz, "xen-3.0"); \
	ELFNOTE(XEN_ELFNOTE_LOADER, .asciz, "generic"); \
	/* load symbols for backtraces */ \
	ELFNOTE(XEN_ELFNOTE_BSD_SYMTAB, .asciz, "yes"); \
	ELFNOTE(XEN_ELFNOTE_SUPPORTED_FEATURES, .long, (1 << XENFEAT_dom0))

#endif
