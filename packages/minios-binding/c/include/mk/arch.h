/*
 * What the arch layer (PV or PVH) hands the common kernel, and the few services the common
 * kernel asks of it. Everything above this header is the same for both targets.
 */
#ifndef MK_ARCH_H
#define MK_ARCH_H
#include <mk/xen.h>

struct mk_boot_info {
	const char *target;		/* "xen-pv" or "xen-pvh" */
	unsigned long nr_pages;		/* pseudo-physical pages 0..nr_pages-1 are RAM */
	unsigned long first_free_pfn;	/* first page not used by image or boot data */
	unsigned long low_reserved_pfns; /* pages [0, this) are never allocated */
	bool is_dom0;
	struct xen_shared_info *shared_info;
	char cmdline[1024];
	uint64_t store_pfn;		/* 0 when there is no xenstore */
	uint32_t store_evtchn;
	uint64_t console_pfn;		/* 0 when the console is console_io */
	uint32_t console_evtchn;
	uint16_t domid_hint;		/* unknown (0) until xenstore says */
};

extern struct mk_boot_info mk_boot;

/* Common kernel entry from the arch boot code, on the boot stack. */
MK_NORETURN void mk_kernel_main(void);

/* Frame number Xen knows a pseudo-physical page by (PV: p2m; PVH: the same number). */
unsigned long mk_arch_pfn_to_mfn(unsigned long pfn);
/* Machine frame back to the pseudo-physical page (PV: m2p; PVH: identity). */
unsigned long mk_arch_mfn_to_pfn(unsigned long mfn);
/* Makes the RAM page at va unmapped (guard page) or maps it back read-write. */
int mk_arch_unmap_page(unsigned long va);
int mk_arch_remap_page(unsigned long va);
/* Maps machine frame mfn (foreign or special) read-write at va; va must be an unused slot. */
int mk_arch_map_mfn(unsigned long va, unsigned long mfn);
/*
 * Blocks the vcpu until an event is pending or deadline_ns (Xen system time) passes.
 * PV: set_timer_op + SCHEDOP_block. PVH: SCHEDOP_poll on the bound ports with the deadline.
 */
void mk_arch_block(uint64_t deadline_ns);
/*
 * Called once before the first thread runs. PV: threads run in guest user mode so that
 * faults (a stack overflow into a guard page) are delivered on a separate fault stack.
 * PVH: nothing (the IDT's IST stacks do that).
 */
void mk_arch_enter_thread_mode(void);
/*
 * Thread pointers (fs base). mk_arch_tls_attach is called once per thread with its thread
 * pointer and returns a token for mk_arch_set_tls (PV: an LDT selector whose descriptor has
 * that base, so a thread switch loads %fs without a hypercall; 0 if none is free, then the
 * base is set by hypercall; PVH: always 0). mk_arch_tls_detach frees the token.
 */
unsigned long mk_arch_tls_attach(unsigned long base);
void mk_arch_tls_detach(unsigned long token);
/* Makes base the fs base of the current CPU. */
void mk_arch_set_tls(unsigned long base, unsigned long token);
/* Address of the last page fault (cr2). */
unsigned long mk_arch_fault_address(void);
/* Virtual address range of free virtual space for special mappings [start, end). */
extern unsigned long mk_arch_mapping_area_start, mk_arch_mapping_area_end;

/* Shutdown with a SHUTDOWN_* reason; does not return. */
MK_NORETURN void mk_shutdown(unsigned reason);

static inline uint64_t mk_rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline void mk_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ __volatile__("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
		: "a"(leaf), "c"(sub));
}

#endif
