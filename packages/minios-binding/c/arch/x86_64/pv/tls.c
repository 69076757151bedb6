/*
 * PV thread pointers through the LDT: each thread gets a data-segment descriptor whose base
 * is its thread pointer (RAM is below 4 GiB, and loading %fs in 64-bit mode takes the base
 * from a descriptor's 32 bits), so a thread switch is one `mov` to %fs instead of a
 * set_segment_base hypercall, which from PV user mode (see mk_arch_enter_thread_mode) would
 * cost two guest mode switches more. Xen validates and writes the entries
 * (update_descriptor): the LDT pages are read-only to us. Without a free slot the base is
 * set by hypercall.
 */
#include <mk/arch.h>
#include <mk/hypercall.h>
#include <mk/lib.h>
#include <mk/mm.h>
#include "pv.h"

#define LDT_PAGES 1
#define LDT_ENTRIES (LDT_PAGES * 512)
static uint64_t *ldt;
static bool ldt_unavailable;
static uint8_t ldt_used[LDT_ENTRIES / 8];

static bool ldt_init(void)
{
	void *p = mk_page_alloc(LDT_PAGES, 1);
	if (!p)
		return false;
	mk_memset(p, 0, LDT_PAGES * 4096);
	for (unsigned i = 0; i < LDT_PAGES; i++) {
		unsigned long va = (unsigned long)p + i * 4096UL;
		if (mk_hc_update_va_mapping(va, (mk_arch_pfn_to_mfn(va >> 12) << 12) | PTE_P |
				PTE_U | PTE_A, XEN_UVMF_INVLPG))
			return false;
	}
	struct xen_mmuext_op op = { .cmd = XEN_MMUEXT_SET_LDT,
		.arg1.linear_addr = (unsigned long)p, .arg2.nr_ents = LDT_ENTRIES };
	if (mk_hc_mmuext_op(&op, 1))
		return false;
	ldt = p;
	ldt_used[0] = 1; /* entry 0 stays empty */
	return true;
}

static long ldt_write(unsigned idx, uint64_t desc)
{
	unsigned long va = (unsigned long)&ldt[idx];
	uint64_t maddr = (mk_arch_pfn_to_mfn(va >> 12) << 12) | (va & 4095);
	return mk_hypercall(XEN_HC_update_descriptor, maddr, desc, 0, 0, 0);
}

unsigned long mk_arch_tls_attach(unsigned long base)
{
	if (base >> 32 || ldt_unavailable)
		return 0;
	if (!ldt && !ldt_init()) {
		ldt_unavailable = true;
		return 0;
	}
	for (unsigned i = 1; i < LDT_ENTRIES; i++) {
		if (ldt_used[i / 8] & (1 << (i % 8)))
			continue;
		/* Present, DPL 3, read/write data; limit 4 GiB (ignored in 64-bit mode). */
		uint64_t desc = 0xffffUL | ((base & 0xffffffUL) << 16) | (0xf2UL << 40) |
			(0xcfUL << 48) | ((base >> 24) << 56);
		if (ldt_write(i, desc))
			return 0;
		ldt_used[i / 8] |= (uint8_t)(1 << (i % 8));
		return (i << 3) | 4 | 3; /* LDT selector, RPL 3 */
	}
	return 0;
}

void mk_arch_tls_detach(unsigned long token)
{
	if (!token)
		return;
	unsigned i = (unsigned)(token >> 3);
	ldt_write(i, 0);
	ldt_used[i / 8] &= (uint8_t)~(1 << (i % 8));
}

void mk_arch_set_tls(unsigned long base, unsigned long token)
{
	__asm__ __volatile__("movw %w0, %%fs" :: "r"(token) : "memory");
	if (!token)
		mk_hypercall(XEN_HC_set_segment_base, XEN_SEGBASE_FS, base, 0, 0, 0);
}
