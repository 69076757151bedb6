/*
 * Device memory: BAR frames mapped uncached into the special-mapping area with mmu_update
 * and foreigndom DOMID_IO, which Xen only allows for I/O frames the domain was given. RAM is refused here first: our own frames always, and as dom0 anything the
 * machine memory map calls RAM.
 */
#include "pcix_int.h"

#define PTE_P 0x001UL
#define PTE_RW 0x002UL
#define PTE_U 0x004UL
#define PTE_PWT 0x008UL
#define PTE_PCD 0x010UL
#define PTE_A 0x020UL
#define PTE_D 0x040UL
#define PTE_UNCACHED (PTE_P | PTE_RW | PTE_U | PTE_PWT | PTE_PCD | PTE_A | PTE_D)
#define XENMEM_maximum_ram_page 2
#define E820_RAM 1

static struct pcix_e820_entry machine_map[128];
/* Image pages are RAM at virtual == pseudo-physical. */
static char scratch_page[4096] __attribute__((aligned(4096)));
static unsigned machine_map_entries;
static bool machine_map_read;

static void read_machine_map(void)
{
	if (machine_map_read || !mk_boot.is_dom0)
		return;
	struct pcix_memory_map m = { .nr_entries = MK_ARRAY_SIZE(machine_map),
		.buffer = machine_map };
	if (mk_hc_memory_op(PCIX_XENMEM_machine_memory_map, &m) == 0)
		machine_map_entries = m.nr_entries <= MK_ARRAY_SIZE(machine_map) ? m.nr_entries : 0;
	machine_map_read = true;
}

static bool own_frame(unsigned long mfn)
{
	long max = mk_hc_memory_op(XENMEM_maximum_ram_page, NULL);
	if (max <= 0 || mfn >= (unsigned long)max)
		return false;
	unsigned long pfn = mk_arch_mfn_to_pfn(mfn);
	if (pfn < mk_boot.nr_pages && mk_arch_pfn_to_mfn(pfn) == mfn)
		return true;
	return pfn < mk_boot.nr_pages && pcix_dma_mfn_of(pfn) == mfn;
}

bool pcix_range_is_ram(uint64_t maddr, uint64_t len)
{
	read_machine_map();
	uint64_t end = maddr + len;
	for (unsigned i = 0; i < machine_map_entries; i++) {
		const struct pcix_e820_entry *e = &machine_map[i];
		if (e->type == E820_RAM && maddr < e->addr + e->size && e->addr < end)
			return true;
	}
	for (uint64_t a = MK_ALIGN_DOWN(maddr, 4096UL); a < end; a += 4096)
		if (own_frame(a >> 12))
			return true;
	return false;
}

/*
 * Machine address of the L1 entry that maps va, from a walk starting at cr3 (a PV kernel's
 * read of cr3 is emulated and gives the machine frame of its L4). Page-table pages are RAM
 * mapped read-only at virtual == pseudo-physical. 0 when a level is missing or a superpage.
 */
static uint64_t l1_entry_maddr(unsigned long va)
{
	unsigned long cr3;
	__asm__ __volatile__("mov %%cr3, %0" : "=r"(cr3));
	unsigned long mfn = cr3 >> 12;
	for (int shift = 39; shift > 12; shift -= 9) {
		const uint64_t *table = (const uint64_t *)(mk_arch_mfn_to_pfn(mfn) << 12);
		uint64_t e = MK_READ_ONCE(table[(va >> shift) & 511]);
		if (!(e & PTE_P) || (shift < 39 && (e & 0x80)))
			return 0;
		mfn = (e & 0x000ffffffffff000UL) >> 12;
	}
	return ((uint64_t)mfn << 12) + ((va >> 12) & 511) * 8;
}

void *pcix_map_mmio(uint64_t maddr, uint64_t len, int *err)
{
	if (len == 0 || maddr + len < maddr || ((maddr + len - 1) >> 52)) {
		*err = pcix_fail(XEN_EINVAL, "pcix: device memory range %#lx+%#lx is empty or beyond "
			"the 52-bit machine address space; pass the BAR's address and size",
			(unsigned long)maddr, (unsigned long)len);
		return NULL;
	}
	if (pcix_range_is_ram(maddr, len)) {
		*err = pcix_fail(XEN_EINVAL, "pcix: refusing to map %#lx+%#lx as device memory: it "
			"is RAM, not a BAR (check the BAR address read from config space)",
			(unsigned long)maddr, (unsigned long)len);
		return NULL;
	}
	uint64_t first = MK_ALIGN_DOWN(maddr, 4096UL);
	uint64_t npages = (MK_ALIGN_UP(maddr + len, 4096UL) - first) >> 12;
	unsigned long base = mk_arch_mapping_area_start;
	if (base + (npages << 12) > mk_arch_mapping_area_end || npages > (1UL << 20)) {
		*err = pcix_fail(XEN_ENOMEM, "pcix: no virtual space left to map %lu pages of device "
			"memory at %#lx", (unsigned long)npages, (unsigned long)maddr);
		return NULL;
	}
	mk_arch_mapping_area_start += (npages + 1) << 12; /* one unmapped page between mappings */
	/* A scratch RAM page makes the kernel build the page-table levels for each slot. */
	unsigned long scratch_mfn = mk_arch_pfn_to_mfn((unsigned long)scratch_page >> 12);
	for (uint64_t i = 0; i < npages; i++) {
		unsigned long va = base + (i << 12);
		mk_arch_map_mfn(va, scratch_mfn);
		/*
		 * mmu_update with foreigndom DOMID_IO: Xen accepts only I/O frames the domain was
		 * given (update_va_mapping_otherdomain would be refused to a DomU by XSM).
		 */
		struct xen_mmu_update u = { l1_entry_maddr(va), (first + (i << 12)) | PTE_UNCACHED };
		long rc = u.ptr ? mk_hypercall(XEN_HC_mmu_update, &u, 1, 0, PCIX_DOMID_IO, 0) : -XEN_EINVAL;
		if (rc == 0) {
			struct xen_mmuext_op op = { .cmd = XEN_MMUEXT_INVLPG_LOCAL, .arg1.linear_addr = va };
			mk_hc_mmuext_op(&op, 1);
		}
		if (rc) {
			for (uint64_t j = 0; j <= i; j++)
				mk_arch_unmap_page(base + (j << 12));
			*err = pcix_fail((int)-rc, "pcix: Xen refused to map device frame %#lx (error "
				"%ld): the domain has no access to it (as a DomU, pass the device with "
				"xl pci=[...] so Xen grants its BARs)", (unsigned long)((first >> 12) + i), rc);
			return NULL;
		}
	}
	*err = 0;
	return (void *)(base + (maddr - first));
}

void pcix_unmap_mmio(void *va, uint64_t len)
{
	unsigned long start = MK_ALIGN_DOWN((unsigned long)va, 4096UL);
	unsigned long end = MK_ALIGN_UP((unsigned long)va + len, 4096UL);
	for (unsigned long a = start; a < end; a += 4096)
		mk_arch_unmap_page(a);
}
