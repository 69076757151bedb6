/*
 * What the PV arch files share (setup.c: boot; mm.c: page tables, p2m, machine frames;
 * traps.c: traps, callbacks, idle; tls.c: thread pointers). Not for code outside pv/.
 */
#ifndef MK_ARCH_PV_H
#define MK_ARCH_PV_H
#include <mk/types.h>
#include <mk/xen.h>

#define PTE_P 0x001UL
#define PTE_RW 0x002UL
#define PTE_U 0x004UL
#define PTE_A 0x020UL
#define PTE_D 0x040UL
#define PTE_ADDR 0x000ffffffffff000UL
#define PTE_TABLE (PTE_P | PTE_RW | PTE_U | PTE_A)
#define PTE_PAGE (PTE_P | PTE_RW | PTE_U | PTE_A | PTE_D)

/*
 * A boot step failed before the kernel's console and crash report work: one line through
 * console_io naming the step and Xen's error, then the domain crashes.
 */
MK_NORETURN void mk_pv_early_fail(const char *what, long rc);

/*
 * Takes the p2m and Xen's bootstrap page tables from start_info, and the pages after the
 * boot elements as where new page tables come from until the page allocator runs.
 */
void mk_pv_mm_init(const struct xen_start_info *si);
/*
 * Maps every RAM page at virtual == pseudo-physical; returns the first page the boot
 * elements and the new page tables left free, where the page allocator starts.
 */
unsigned long mk_pv_map_all_ram(void);
/* Machine frame of the kernel's L4 page table. */
unsigned long mk_pv_l4_mfn(void);

/* Registers the event, failsafe and syscall callbacks (callback.S) with Xen. */
void mk_pv_register_callbacks(void);

#endif
