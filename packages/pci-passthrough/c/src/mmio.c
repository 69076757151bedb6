/*
 * Device memory: BAR frames mapped uncached into the special-mapping area with DOMID_IO as
 * the frames' owner (mmu_update through the kernel's mk_arch_map_foreign; a DomU falls back
 * to its own update_va_mapping if DOMID_IO is refused); Xen only allows I/O frames the
 * domain was given. RAM is refused here first: our own frames always, and as dom0 anything
 * the machine memory map calls RAM.
 */
#include <mk/mm.h>
#include "pcix_int.h"

#define PTE_UNCACHED 0x07fUL /* P RW U PWT PCD A D */
#define E820_RAM 1

static struct pcix_e820_entry machine_map[128];
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

/*
 * Whether any of the domain's own frames lies in [lo, hi): its p2m names them all, exchanged
 * DMA pages included. The M2P table is not read for the range: Xen leaves its pages for holes
 * in the machine's memory (where device BARs sit, below 4 GiB on a host with more memory)
 * unmapped, and a read there faults.
 */
static bool own_frames_in(unsigned long lo, unsigned long hi)
{
	for (unsigned long pfn = 0; pfn < mk_boot.nr_pages; pfn++) {
		unsigned long mfn = mk_arch_pfn_to_mfn(pfn);
		if (mfn >= lo && mfn < hi)
			return true;
	}
	return false;
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
	return own_frames_in(maddr >> 12, (end + 4095) >> 12);
}

/*
 * Special mappings this layer made (device memory, multi-segment DMA mappings) with the
 * machine frame of each page, for virt_to_mach. The kernel keeps its page tables private and
 * threads run in PV user mode, where cr3 cannot be read to walk them.
 */
struct special_mapping {
	unsigned long va;
	unsigned long npages;
	struct special_mapping *next;
	unsigned long mfns[];
};
static struct special_mapping *mappings;

static struct special_mapping *note_mapping(unsigned long va, unsigned long npages)
{
	struct special_mapping *m = mk_malloc(sizeof(*m) + npages * sizeof(unsigned long), 0);
	if (!m)
		return NULL;
	m->va = va;
	m->npages = npages;
	m->next = mappings;
	mappings = m;
	return m;
}

static void forget_mapping(unsigned long va)
{
	for (struct special_mapping **pp = &mappings; *pp; pp = &(*pp)->next)
		if ((*pp)->va == va) {
			struct special_mapping *m = *pp;
			*pp = m->next;
			mk_free(m);
			return;
		}
}

uint64_t pcix_mapped_maddr(unsigned long va)
{
	for (struct special_mapping *m = mappings; m; m = m->next)
		if (va >= m->va && va < m->va + (m->npages << 12))
			return ((uint64_t)m->mfns[(va - m->va) >> 12] << 12) | (va & 4095);
	return ~0ULL;
}

/*
 * Removes every special mapping that maps one of the RAM frames [mfn, mfn+n): DMA memory
 * going back to the kernel must not stay mapped anywhere else (Xen would refuse to exchange
 * or to make a page table of a frame with a stray mapping, and a stale alias would see the
 * kernel's later use of the page). rumpcomp_pci has no dmamem_unmap, so the free does it.
 */
void pcix_unmap_frames_of(unsigned long mfn, unsigned long n)
{
	for (struct special_mapping **pp = &mappings; *pp;) {
		struct special_mapping *m = *pp;
		bool hit = false;
		for (unsigned long i = 0; i < m->npages && !hit; i++)
			hit = m->mfns[i] >= mfn && m->mfns[i] - mfn < n;
		if (!hit) {
			pp = &m->next;
			continue;
		}
		for (unsigned long i = 0; i < m->npages; i++)
			mk_arch_unmap_page(m->va + (i << 12));
		*pp = m->next;
		mk_free(m);
	}
}

/* Unmaps a mapping made by pcix_map_frames (false when va starts none). */
bool pcix_unmap_frames(void *va)
{
	for (struct special_mapping *m = mappings; m; m = m->next)
		if (m->va == (unsigned long)va) {
			for (unsigned long i = 0; i < m->npages; i++)
				mk_arch_unmap_page(m->va + (i << 12));
			forget_mapping(m->va);
			return true;
		}
	return false;
}

/* Takes npages (+1 unmapped guard page) of the kernel's special-mapping area. */
/* The most pages one special mapping may take (4 GiB). */
#define PCIX_MAP_MAX_PAGES (1UL << 20)

static unsigned long take_virtual(unsigned long npages)
{
	unsigned long base = mk_arch_mapping_area_start;
	if (npages > PCIX_MAP_MAX_PAGES || base + ((npages + 1) << 12) > mk_arch_mapping_area_end)
		return 0;
	mk_arch_mapping_area_start += (npages + 1) << 12;
	return base;
}

void *pcix_map_frames(const unsigned long *mfns, unsigned long npages)
{
	unsigned long base = take_virtual(npages);
	struct special_mapping *m = base ? note_mapping(base, npages) : NULL;
	if (!m)
		return NULL;
	for (unsigned long i = 0; i < npages; i++) {
		m->mfns[i] = mfns[i];
		mk_arch_map_mfn(base + (i << 12), mfns[i]);
	}
	return (void *)base;
}

static const char *mmio_mechanism = "none";
static char mmio_fallback_note[96];

const char *pcix_mmio_mechanism(void)
{
	return mmio_mechanism;
}

/*
 * One device frame, uncached, through the kernel's mk_arch_map_foreign: mmu_update with
 * DOMID_IO as the frame's owner, which Xen allows only for frames in the domain's I/O memory
 * permissions (dom0: all device memory; a DomU: the BARs xl granted for pci=[...]).
 * A DomU whose XSM policy refuses it DOMID_IO (Xen's default policy lets mmu_update name
 * DOMID_IO, but refuses update_va_mapping_otherdomain with it to unprivileged domains; a
 * FLASK policy may refuse both) maps the frame as its own with update_va_mapping: Xen applies
 * the same I/O-permission check to a frame that is not RAM, so only granted BAR frames map.
 * A frame refused with DOMID_IO is not retried that way as dom0, nor when the fallback was
 * refused too.
 */
static long map_device_frame(unsigned long va, unsigned long mfn)
{
	long rc = mk_arch_map_foreign(va, mfn, MK_DOMID_IO, MK_CACHE_UC);
	if (rc == 0) {
		mmio_mechanism = "mmu_update DOMID_IO";
		return 0;
	}
	if (mk_boot.is_dom0 || rc == -XEN_EINVAL || rc == -XEN_ENOMEM)
		return rc;
	/* mk_arch_map_foreign built the page-table levels for va before Xen refused. */
	long rc2 = mk_hc_update_va_mapping(va, ((uint64_t)mfn << 12) | PTE_UNCACHED,
		XEN_UVMF_INVLPG);
	if (rc2 == 0) {
		mk_snprintf(mmio_fallback_note, sizeof(mmio_fallback_note),
			"update_va_mapping (mmu_update DOMID_IO refused: %ld)", rc);
		mmio_mechanism = mmio_fallback_note;
		return 0;
	}
	return rc;
}

void *pcix_map_mmio(uint64_t maddr, uint64_t len, int *err)
{
	if (len == 0 || maddr + len < maddr || ((maddr + len - 1) >> 52)) {
		*err = pcix_fail(XEN_EINVAL, "pcix: device memory range %#lx+%#lx is empty or beyond "
			"the 52-bit machine address space; pass the BAR's address and size",
			(unsigned long)maddr, (unsigned long)len);
		return NULL;
	}
	uint64_t first = MK_ALIGN_DOWN(maddr, 4096UL);
	uint64_t npages = (MK_ALIGN_UP(maddr + len, 4096UL) - first) >> 12;
	/* Before the page-by-page RAM check, which a huge length would make endless. */
	if (npages > PCIX_MAP_MAX_PAGES) {
		*err = pcix_fail(XEN_EINVAL, "pcix: device memory range %#lx+%#lx is larger than "
			"the 4 GiB one mapping may take; map the part of the BAR the driver uses",
			(unsigned long)maddr, (unsigned long)len);
		return NULL;
	}
	if (pcix_range_is_ram(maddr, len)) {
		*err = pcix_fail(XEN_EINVAL, "pcix: refusing to map %#lx+%#lx as device memory: it "
			"is RAM, not a BAR (check the BAR address read from config space)",
			(unsigned long)maddr, (unsigned long)len);
		return NULL;
	}
	unsigned long base = take_virtual(npages);
	struct special_mapping *m = base ? note_mapping(base, npages) : NULL;
	if (!m) {
		*err = pcix_fail(XEN_ENOMEM, "pcix: no virtual space left to map %lu pages of device "
			"memory at %#lx", (unsigned long)npages, (unsigned long)maddr);
		return NULL;
	}
	for (uint64_t i = 0; i < npages; i++) {
		unsigned long va = base + (i << 12);
		unsigned long mfn = (unsigned long)(first >> 12) + i;
		m->mfns[i] = mfn;
		long rc = map_device_frame(va, mfn);
		if (rc) {
			for (uint64_t j = 0; j <= i; j++)
				mk_arch_unmap_page(base + (j << 12));
			forget_mapping(base);
			if (rc == -XEN_ENOMEM)
				*err = pcix_fail(XEN_ENOMEM, "pcix: out of memory for the page tables "
					"mapping device frame %#lx; give the domain more memory", mfn);
			else
				*err = pcix_fail((int)-rc, "pcix: Xen refused to map device frame %#lx "
					"(error %ld): the domain has no access to it (as a DomU, pass the "
					"device with xl pci=[...] so Xen grants its BARs)", mfn, rc);
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
	forget_mapping(start);
}
