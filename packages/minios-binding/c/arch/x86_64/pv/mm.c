/*
 * PV memory: RAM mapped at virtual == pseudo-physical by extending Xen's bootstrap page
 * tables with mmu_update (PV page-table pages must stay read-only to the guest), the p2m and
 * M2P, frames remapped (set_p2m) and foreign frames mapped, the grant table's frames.
 */
#include <mk/arch.h>
#include <mk/crash.h>
#include <mk/hypercall.h>
#include <mk/lib.h>
#include <mk/mm.h>
#include "pv.h"

unsigned long mk_arch_mapping_area_start = 0x4000000000UL;
unsigned long mk_arch_mapping_area_end = 0x8000000000UL;

static unsigned long *p2m;
static uint64_t *l4_table;
static unsigned long bump_pfn;
static unsigned long mapped_limit_pfn; /* pages below this are mapped */

extern char mk_image_end[];

unsigned long mk_arch_pfn_to_mfn(unsigned long pfn)
{
	return p2m[pfn];
}

unsigned long mk_arch_mfn_to_pfn(unsigned long mfn)
{
	return ((const unsigned long *)XEN_MACH2PHYS_VIRT_START)[mfn];
}

unsigned long mk_pv_l4_mfn(void)
{
	return p2m[(unsigned long)l4_table >> 12];
}

static uint64_t *table_of(uint64_t entry)
{
	return (uint64_t *)(mk_arch_mfn_to_pfn((entry & PTE_ADDR) >> 12) << 12);
}

/* How l1_entry_maddr treats missing page tables. */
enum table_create {
	TABLES_CREATE,		/* made; running out of memory is fatal */
	TABLES_CREATE_OR_FAIL,	/* made; 0 when out of memory (the caller reports ENOMEM) */
};

/*
 * Takes a page for a new page table and makes it read-only: from the mapped boot area during
 * boot, from the page allocator after. 0 when the allocator is out of pages and can_fail.
 */
static unsigned long new_table_page(bool can_fail)
{
	unsigned long pfn;
	if (mk_boot.first_free_pfn) {
		void *p = mk_page_alloc(1, 1);
		if (!p && can_fail)
			return 0;
		if (!p)
			mk_out_of_memory("a page table (4 KiB) for a new mapping");
		pfn = (unsigned long)p >> 12;
	} else {
		pfn = bump_pfn++;
		if (pfn >= mapped_limit_pfn)
			mk_pv_early_fail("no mapped page left for a page table", 0);
	}
	mk_memset((void *)(pfn << 12), 0, 4096);
	long rc = mk_hc_update_va_mapping(pfn << 12, (p2m[pfn] << 12) | PTE_P | PTE_U | PTE_A,
		XEN_UVMF_INVLPG);
	if (rc && mk_boot.first_free_pfn)
		mk_panic("making page %#lx a read-only page table failed: %ld", pfn << 12, rc);
	if (rc)
		mk_pv_early_fail("making a page table read-only", rc);
	return pfn;
}

/* Machine address of the L1 entry for va, missing tables made as `create` says (0: none). */
static uint64_t l1_entry_maddr(unsigned long va, enum table_create create, uint64_t **entry_va)
{
	uint64_t *table = l4_table;
	unsigned long table_mfn = p2m[((unsigned long)l4_table) >> 12];
	for (int shift = 39; shift > 12; shift -= 9) {
		unsigned idx = (va >> shift) & 511;
		uint64_t e = table[idx];
		if (!(e & PTE_P)) {
			unsigned long pfn = new_table_page(create == TABLES_CREATE_OR_FAIL);
			if (!pfn)
				return 0;
			struct xen_mmu_update u = { (table_mfn << 12) + idx * 8,
				(p2m[pfn] << 12) | PTE_TABLE };
			long rc = mk_hc_mmu_update(&u, 1);
			if (rc && mk_boot.first_free_pfn)
				mk_panic("linking a new page table for va %#lx failed: %ld", va, rc);
			if (rc)
				mk_pv_early_fail("linking a new page table", rc);
			e = table[idx];
		}
		table_mfn = (e & PTE_ADDR) >> 12;
		table = table_of(e);
	}
	unsigned idx = (va >> 12) & 511;
	if (entry_va)
		*entry_va = &table[idx];
	return (table_mfn << 12) + idx * 8;
}

static void set_pte(unsigned long va, uint64_t val)
{
	uint64_t maddr = l1_entry_maddr(va, TABLES_CREATE, NULL);
	struct xen_mmu_update u = { maddr, val };
	long rc = mk_hc_mmu_update(&u, 1);
	if (rc)
		mk_panic("mmu_update of va %#lx to %#lx failed: %ld", va, (unsigned long)val, rc);
	struct xen_mmuext_op op = { .cmd = XEN_MMUEXT_INVLPG_LOCAL, .arg1.linear_addr = va };
	mk_hc_mmuext_op(&op, 1);
}

int mk_arch_unmap_page(unsigned long va)
{
	return (int)mk_hc_update_va_mapping(va, 0, XEN_UVMF_INVLPG);
}

int mk_arch_remap_page(unsigned long va)
{
	return (int)mk_hc_update_va_mapping(va, (p2m[va >> 12] << 12) | PTE_PAGE,
		XEN_UVMF_INVLPG);
}

int mk_arch_map_mfn(unsigned long va, unsigned long mfn)
{
	set_pte(va, (mfn << 12) | PTE_PAGE);
	return 0;
}

#define MMU_MACHPHYS_UPDATE 1
#define MMUEXT_TLB_FLUSH_LOCAL 6
#define PTE_PWT 0x008UL
#define PTE_PCD 0x010UL
#define PTE_PAT 0x080UL

/*
 * Batches of 32 pages: one mmu_update with the M2P entries and the L1 entries of the pages'
 * virtual == pseudo-physical addresses, then one local TLB flush.
 */
int mk_arch_set_p2m_range(unsigned long pfn, unsigned long mfn, unsigned long n)
{
	if (pfn + n < pfn || pfn + n > mk_boot.nr_pages || pfn < mk_boot.low_reserved_pfns)
		return -XEN_EINVAL;
	struct xen_mmu_update batch[64];
	for (unsigned long done = 0; done < n;) {
		unsigned k = n - done < 32 ? (unsigned)(n - done) : 32;
		for (unsigned i = 0; i < k; i++) {
			unsigned long p = pfn + done + i, m = mfn + done + i;
			batch[2 * i].ptr = (m << 12) | MMU_MACHPHYS_UPDATE;
			batch[2 * i].val = p;
			batch[2 * i + 1].ptr = l1_entry_maddr(p << 12, TABLES_CREATE, NULL) |
				XEN_MMU_NORMAL_PT_UPDATE;
			batch[2 * i + 1].val = (m << 12) | PTE_PAGE;
		}
		long rc = mk_hc_mmu_update(batch, 2 * k);
		if (rc)
			return (int)rc;
		for (unsigned i = 0; i < k; i++)
			p2m[pfn + done + i] = mfn + done + i;
		struct xen_mmuext_op op = { .cmd = MMUEXT_TLB_FLUSH_LOCAL };
		mk_hc_mmuext_op(&op, 1);
		done += k;
	}
	return 0;
}

/* The L1 entry's machine address comes from our own page tables (l4_table), not cr3. */
int mk_arch_map_foreign(unsigned long va, unsigned long mfn, uint16_t domid,
	enum mk_cache_attr cache)
{
	static const unsigned long bits[] = { 0, PTE_PWT, PTE_PCD, PTE_PCD | PTE_PWT, PTE_PAT };
	if ((va & 4095) || va < (mk_boot.nr_pages << 12) || va >= mk_arch_mapping_area_end ||
			(unsigned)cache >= MK_ARRAY_SIZE(bits) || mfn >> 40)
		return -XEN_EINVAL;
	uint64_t l1 = l1_entry_maddr(va, TABLES_CREATE_OR_FAIL, NULL);
	if (!l1)
		return -XEN_ENOMEM;
	struct xen_mmu_update u = { l1 | XEN_MMU_NORMAL_PT_UPDATE,
		(mfn << 12) | PTE_PAGE | bits[cache] };
	long rc = mk_hypercall(XEN_HC_mmu_update, &u, 1, 0, domid, 0);
	if (rc)
		return (int)rc;
	struct xen_mmuext_op op = { .cmd = XEN_MMUEXT_INVLPG_LOCAL, .arg1.linear_addr = va };
	mk_hc_mmuext_op(&op, 1);
	return 0;
}

static unsigned long page_end(unsigned long va)
{
	return MK_ALIGN_UP(va, 4096UL) >> 12;
}

void mk_pv_mm_init(const struct xen_start_info *si)
{
	p2m = (unsigned long *)si->mfn_list;
	l4_table = (uint64_t *)si->pt_base;

	/* Boot elements follow the image: p2m, start_info, store/console, tables, stack. */
	unsigned long end = page_end((unsigned long)mk_image_end);
	unsigned long e;
	if ((e = page_end(si->mfn_list + si->nr_pages * 8)) > end)
		end = e;
	if ((e = page_end((unsigned long)si + sizeof(*si))) > end)
		end = e;
	if ((e = (si->pt_base >> 12) + si->nr_pt_frames) > end)
		end = e;
	end += 4; /* Xen's bootstrap stack */
	/* At least 512 KiB past the last boot element is mapped (Xen's guarantee). */
	mapped_limit_pfn = end + 128;
	if (mapped_limit_pfn > si->nr_pages)
		mapped_limit_pfn = si->nr_pages;
	bump_pfn = end;
}

/* Maps every RAM page not yet in the bootstrap mapping, 512 entries per mmu_update. */
unsigned long mk_pv_map_all_ram(void)
{
	unsigned long nr = mk_boot.nr_pages;
	static struct xen_mmu_update batch[512];
	unsigned long pfn = 0;
	while (pfn < nr) {
		unsigned n = 0;
		unsigned long chunk_end = MK_ALIGN_UP(pfn + 1, 512UL);
		if (chunk_end > nr)
			chunk_end = nr;
		for (; pfn < chunk_end; pfn++) {
			uint64_t *entry;
			uint64_t maddr = l1_entry_maddr(pfn << 12, TABLES_CREATE, &entry);
			if (*entry & PTE_P)
				continue;
			batch[n].ptr = maddr;
			batch[n].val = (p2m[pfn] << 12) | PTE_PAGE;
			n++;
		}
		if (n) {
			long rc = mk_hc_mmu_update(batch, n);
			if (rc)
				mk_pv_early_fail("mapping RAM", rc);
		}
		if (chunk_end > mapped_limit_pfn)
			mapped_limit_pfn = chunk_end;
	}
	return bump_pfn;
}

struct gnttab_setup_table {
	uint16_t dom;
	uint32_t nr_frames;
	int16_t status;
	unsigned long *frame_list;
};

/* PV: Xen hands out the machine frames of the table; map them at va. */
int mk_arch_gnttab_map(void *va, unsigned nr)
{
	unsigned long frames[8];
	struct gnttab_setup_table st = { .dom = XEN_DOMID_SELF, .nr_frames = nr,
		.frame_list = frames };
	if (nr > MK_ARRAY_SIZE(frames))
		return -XEN_EINVAL;
	long rc = mk_hc_grant_table_op(2 /* GNTTABOP_setup_table */, &st, 1);
	if (rc)
		return (int)rc;
	if (st.status)
		return st.status;
	for (unsigned i = 0; i < nr; i++)
		mk_arch_map_mfn((unsigned long)va + i * 4096UL, frames[i]);
	return 0;
}
