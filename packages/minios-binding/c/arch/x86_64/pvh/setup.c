/*
 * PVH boot: hvm_start_info, the hypercall page through Xen's CPUID leaf and MSR, IDT and
 * TSS (IST stack for faults, so a stack overflow still gets a crash report), shared_info
 * placed in the physmap, console and xenstore from HVM params. Memory is identity-mapped
 * (start.S: 0..4 GiB in 2 MiB pages); a 2 MiB page is split when a guard page is needed.
 */
#include <mk/arch.h>
#include <mk/console.h>
#include <mk/crash.h>
#include <mk/evtchn.h>
#include <mk/hypercall.h>
#include <mk/lib.h>
#include <mk/mm.h>

#define PTE_P 0x001UL
#define PTE_RW 0x002UL
#define PTE_PS 0x080UL
#define PTE_ADDR 0x000ffffffffff000UL

#define HVM_START_MAGIC 0x336ec578u
#define HVMOP_get_param 1
#define HVM_PARAM_STORE_PFN 1
#define HVM_PARAM_STORE_EVTCHN 2
#define HVM_PARAM_CONSOLE_PFN 17
#define HVM_PARAM_CONSOLE_EVTCHN 18
#define XENMEM_add_to_physmap 7
#define XENMAPSPACE_shared_info 0
#define XENMAPSPACE_grant_table 1
#define XENVER_get_features 6
#define XENFEAT_dom0 11

struct hvm_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
	uint32_t memmap_entries, reserved;
};
struct hvm_memmap_entry {
	uint64_t addr, size;
	uint32_t type, reserved;
};
struct xen_hvm_param {
	uint16_t domid, pad;
	uint32_t index;
	uint64_t value;
};
struct xen_add_to_physmap {
	uint16_t domid, size;
	unsigned int space;
	unsigned long idx, gpfn;
};
struct xen_feature_info {
	unsigned int submap_idx;
	uint32_t submap;
};

struct idt_gate {
	uint16_t offset_lo, selector;
	uint8_t ist, type_attr;
	uint16_t offset_mid;
	uint32_t offset_hi, zero;
};
struct tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3, iomap_base;
} __attribute__((packed));

struct mk_boot_info mk_boot;
unsigned long mk_arch_mapping_area_start;
unsigned long mk_arch_mapping_area_end;

extern uint64_t mk_pvh_pd[4 * 512];
extern uint64_t mk_pvh_gdt[5];
extern const unsigned long mk_trap_stubs[22];
extern char mk_image_end[];

static struct idt_gate idt[256] __attribute__((aligned(16)));
static struct tss64 tss __attribute__((aligned(16)));
static char fault_stack[16384] __attribute__((aligned(16)));
static char shared_info_page[4096] __attribute__((aligned(4096)));

unsigned long mk_arch_pfn_to_mfn(unsigned long pfn)
{
	return pfn;
}

unsigned long mk_arch_mfn_to_pfn(unsigned long mfn)
{
	return mfn;
}

static void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ __volatile__("wrmsr" :: "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static void early_fail(const char *what, long rc)
{
	char buf[160];
	int n = mk_snprintf(buf, sizeof(buf), "rumpxen: boot failed: %s (Xen error %ld)\n",
		what, rc);
	mk_hc_console_write(buf, (size_t)n);
	struct xen_sched_shutdown sd = { XEN_SHUTDOWN_crash };
	for (;;)
		mk_hc_sched_op(XEN_SCHEDOP_shutdown, &sd);
}

static inline void invlpg(unsigned long va)
{
	__asm__ __volatile__("invlpg (%0)" :: "r"(va) : "memory");
}

/* The L1 entry for va, splitting its 2 MiB page into 4 KiB pages first if needed. */
static uint64_t *l1_entry(unsigned long va)
{
	if (va >= (4UL << 30))
		mk_panic("PVH: %#lx is outside the identity-mapped 4 GiB", va);
	uint64_t *pde = &mk_pvh_pd[va >> 21];
	if (*pde & PTE_PS) {
		uint64_t *pt = mk_page_alloc(1, 1);
		if (!pt)
			mk_out_of_memory("a page table (4 KiB) to split the 2 MiB page at %#lx",
				va & ~((1UL << 21) - 1));
		unsigned long base = va & ~((1UL << 21) - 1);
		for (unsigned i = 0; i < 512; i++)
			pt[i] = (base + i * 4096UL) | PTE_P | PTE_RW;
		*pde = (unsigned long)pt | PTE_P | PTE_RW;
		__asm__ __volatile__("mov %%cr3, %%rax; mov %%rax, %%cr3" ::: "rax", "memory");
	}
	uint64_t *pt = (uint64_t *)(*pde & PTE_ADDR);
	return &pt[(va >> 12) & 511];
}

int mk_arch_unmap_page(unsigned long va)
{
	*l1_entry(va) = 0;
	invlpg(va);
	return 0;
}

int mk_arch_remap_page(unsigned long va)
{
	*l1_entry(va) = (va & PTE_ADDR) | PTE_P | PTE_RW;
	invlpg(va);
	return 0;
}

int mk_arch_map_mfn(unsigned long va, unsigned long mfn)
{
	*l1_entry(va) = (mfn << 12) | PTE_P | PTE_RW;
	invlpg(va);
	return 0;
}

/* PVH: Xen keeps the p2m; the guest's frame numbers are its pseudo-physical ones. */
int mk_arch_set_p2m_range(unsigned long pfn, unsigned long mfn, unsigned long n)
{
	if (pfn + n < pfn || pfn + n > mk_boot.nr_pages || mfn != pfn)
		return -XEN_EINVAL;
	return 0;
}

/* PVH: other domains' frames are mapped into the physmap (XENMEM_add_to_physmap), not here. */
int mk_arch_map_foreign(unsigned long va, unsigned long mfn, uint16_t domid,
	enum mk_cache_attr cache)
{
	(void)va;
	(void)mfn;
	(void)domid;
	(void)cache;
	return -XEN_ENOSYS;
}

unsigned long mk_arch_fault_address(void)
{
	unsigned long cr2;
	__asm__ __volatile__("mov %%cr2, %0" : "=r"(cr2));
	return cr2;
}

static bool have_fsgsbase;

/* Faults already have their own stacks (IST in the TSS); threads run in ring 0. */
void mk_arch_enter_thread_mode(void)
{
}

unsigned long mk_arch_tls_attach(unsigned long base)
{
	(void)base;
	return 0;
}

void mk_arch_tls_detach(unsigned long token)
{
	(void)token;
}

/* wrfsbase when the CPU has FSGSBASE (no exit to Xen); else the FS_BASE MSR. */
void mk_arch_set_tls(unsigned long base, unsigned long token)
{
	(void)token;
	if (have_fsgsbase)
		__asm__ __volatile__("wrfsbase %0" :: "r"(base));
	else
		wrmsr(0xc0000100, base);
}

static void fsgsbase_init(void)
{
	uint32_t r[4];
	mk_cpuid(0, 0, r);
	if (r[0] < 7)
		return;
	mk_cpuid(7, 0, r);
	if (!(r[1] & 1))
		return;
	unsigned long cr4;
	__asm__ __volatile__("mov %%cr4, %0" : "=r"(cr4));
	__asm__ __volatile__("mov %0, %%cr4" :: "r"(cr4 | (1UL << 16)));
	have_fsgsbase = true;
}

/*
 * Interrupts stay off: SCHEDOP_poll sleeps until one of our bound ports is pending or the
 * deadline passes, with no upcall needed (events are dispatched by the scheduler).
 */
void mk_arch_block(uint64_t deadline_ns)
{
	mk_evtchn_poll_bound(deadline_ns);
}

/* PVH: put the grant table frames in the physmap at va's frame (identity-mapped). */
int mk_arch_gnttab_map(void *va, unsigned nr)
{
	for (unsigned i = 0; i < nr; i++) {
		struct xen_add_to_physmap x = { .domid = XEN_DOMID_SELF,
			.space = XENMAPSPACE_grant_table, .idx = i,
			.gpfn = ((unsigned long)va >> 12) + i };
		long rc = mk_hc_memory_op(XENMEM_add_to_physmap, &x);
		if (rc)
			return (int)rc;
	}
	return 0;
}

static void set_gate(unsigned vec, unsigned long addr, uint8_t ist)
{
	idt[vec].offset_lo = (uint16_t)addr;
	idt[vec].selector = 0x08;
	idt[vec].ist = ist;
	idt[vec].type_attr = 0x8e; /* present, DPL 0, 64-bit interrupt gate */
	idt[vec].offset_mid = (uint16_t)(addr >> 16);
	idt[vec].offset_hi = (uint32_t)(addr >> 32);
	idt[vec].zero = 0;
}

void mk_arch_traps_init(void)
{
	for (unsigned v = 0; v < 22; v++) {
		/* Faults that a broken stack causes run on their own stack (IST 1). */
		uint8_t ist = (v == 8 || v == 12 || v == 14) ? 1 : 0;
		set_gate(v, mk_trap_stubs[v], ist);
	}
	tss.ist[0] = (uint64_t)(fault_stack + sizeof(fault_stack));
	tss.iomap_base = sizeof(tss);
	unsigned long base = (unsigned long)&tss, limit = sizeof(tss) - 1;
	mk_pvh_gdt[3] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89UL << 40) |
		(((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	mk_pvh_gdt[4] = base >> 32;
	struct __attribute__((packed)) { uint16_t limit; uint64_t base; } idtr = {
		sizeof(idt) - 1, (uint64_t)idt };
	__asm__ __volatile__("lidt %0" :: "m"(idtr));
	__asm__ __volatile__("ltr %w0" :: "r"(0x18));
}

static void hypercall_page_init(void)
{
	uint32_t r[4], base;
	for (base = 0x40000000; base < 0x40010000; base += 0x100) {
		mk_cpuid(base, 0, r);
		if (r[1] == 0x566e6558 && r[2] == 0x65584d4d && r[3] == 0x4d4d566e &&
				r[0] - base >= 2)
			break; /* "XenVMMXenVMM" */
	}
	if (base >= 0x40010000) {
		/* Not on Xen: without a hypercall page there is no console to say so. */
		for (;;)
			__asm__ __volatile__("cli; hlt");
	}
	mk_cpuid(base + 2, 0, r);
	wrmsr(r[1], (uint64_t)(unsigned long)mk_hypercall_page);
}

static uint64_t hvm_param(uint32_t index)
{
	struct xen_hvm_param p = { .domid = XEN_DOMID_SELF, .index = index };
	if (mk_hc_hvm_op(HVMOP_get_param, &p))
		return 0;
	return p.value;
}

static unsigned long page_end(uint64_t addr)
{
	return (unsigned long)(MK_ALIGN_UP(addr, 4096UL) >> 12);
}

MK_NORETURN void mk_pvh_setup(uint32_t start_info_paddr)
{
	hypercall_page_init();
	mk_arch_traps_init();
	fsgsbase_init();
	const struct hvm_start_info *si = (const void *)(unsigned long)start_info_paddr;
	if (si->magic != HVM_START_MAGIC)
		early_fail("hvm_start_info has the wrong magic", 0);
	mk_boot.target = "xen-pvh";

	unsigned long first_free = page_end((unsigned long)mk_image_end);
	unsigned long e;
	if ((e = page_end(start_info_paddr + sizeof(*si))) > first_free && e < (1UL << 18))
		first_free = e;
	if (si->cmdline_paddr) {
		const char *cmd = (const char *)(unsigned long)si->cmdline_paddr;
		mk_strlcpy(mk_boot.cmdline, cmd, sizeof(mk_boot.cmdline));
		if ((e = page_end(si->cmdline_paddr + mk_strlen(mk_boot.cmdline) + 1)) > first_free &&
				e < (1UL << 18))
			first_free = e;
	}

	/* RAM: the memmap entry holding the image; below 1 GiB so the identity map covers it. */
	unsigned long ram_end = 0;
	if (si->version >= 1 && si->memmap_paddr) {
		const struct hvm_memmap_entry *m = (const void *)(unsigned long)si->memmap_paddr;
		if ((e = page_end(si->memmap_paddr + si->memmap_entries * sizeof(*m))) > first_free &&
				e < (1UL << 18))
			first_free = e;
		for (uint32_t i = 0; i < si->memmap_entries; i++)
			if (m[i].type == 1 && m[i].addr <= 0x100000 &&
					m[i].addr + m[i].size > 0x100000)
				ram_end = m[i].addr + m[i].size;
	}
	if (!ram_end) {
		/* No memory map in start_info (older layouts): ask Xen for the e820. */
		static struct { uint64_t addr, size; uint32_t type; } __attribute__((packed)) e820[64];
		struct { unsigned int nr_entries; void *buffer; } mm = { 64, e820 };
		long rc = mk_hc_memory_op(9 /* XENMEM_memory_map */, &mm);
		if (rc)
			early_fail("no memory map in hvm_start_info and XENMEM_memory_map failed", rc);
		for (unsigned i = 0; i < mm.nr_entries && i < 64; i++)
			if (e820[i].type == 1 && e820[i].addr <= 0x100000 &&
					e820[i].addr + e820[i].size > 0x100000)
				ram_end = e820[i].addr + e820[i].size;
	}
	if (!ram_end) {
		char msg[120];
		mk_snprintf(msg, sizeof(msg), "no RAM region around 1 MiB (start_info v%u, %u "
			"memmap entries)", si->version, si->memmap_entries);
		early_fail(msg, 0);
	}
	if (ram_end > (1UL << 30))
		ram_end = 1UL << 30;
	ram_end &= ~4095UL;
	mk_boot.nr_pages = ram_end >> 12;
	mk_boot.first_free_pfn = first_free;
	mk_boot.low_reserved_pfns = 256; /* below 1 MiB: firmware holes on a real memory map */
	/* Grant frames go in the physmap just above RAM, on their own 2 MiB page. */
	mk_arch_mapping_area_start = MK_ALIGN_UP(ram_end, 1UL << 21);
	mk_arch_mapping_area_end = mk_arch_mapping_area_start + (64UL << 20);
	/*
	 * Unmap what is neither RAM, the mapping area nor the top 64 MiB below 4 GiB (Xen's
	 * special pages, e.g. a DomU's console and xenstore rings): stray pointers fault.
	 */
	for (unsigned long va = mk_arch_mapping_area_end; va < 0xfc000000UL; va += 1UL << 21)
		mk_pvh_pd[va >> 21] = 0;
	__asm__ __volatile__("mov %%cr3, %%rax; mov %%rax, %%cr3" ::: "rax", "memory");

	struct xen_add_to_physmap x = { .domid = XEN_DOMID_SELF, .space = XENMAPSPACE_shared_info,
		.idx = 0, .gpfn = (unsigned long)shared_info_page >> 12 };
	long rc = mk_hc_memory_op(XENMEM_add_to_physmap, &x);
	if (rc)
		early_fail("placing shared_info in the physmap", rc);
	mk_boot.shared_info = (struct xen_shared_info *)shared_info_page;

	struct xen_feature_info fi = { .submap_idx = 0 };
	mk_hypercall(XEN_HC_xen_version, XENVER_get_features, &fi, 0, 0, 0);
	mk_boot.is_dom0 = (fi.submap >> XENFEAT_dom0) & 1;


	if (!mk_boot.is_dom0) {
		mk_boot.store_pfn = hvm_param(HVM_PARAM_STORE_PFN);
		mk_boot.store_evtchn = (uint32_t)hvm_param(HVM_PARAM_STORE_EVTCHN);
		mk_boot.console_pfn = hvm_param(HVM_PARAM_CONSOLE_PFN);
		mk_boot.console_evtchn = (uint32_t)hvm_param(HVM_PARAM_CONSOLE_EVTCHN);
	}
	mk_kernel_main();
}
