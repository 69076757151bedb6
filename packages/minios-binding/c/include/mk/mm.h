/*
 * Physical pages (all RAM is mapped at virtual == pseudo-physical) and the kernel heap.
 * Allocation failure returns NULL; nothing here panics on exhaustion. A caller that cannot
 * go on without the memory ends the guest with mk_out_of_memory (<mk/crash.h>).
 */
#ifndef MK_MM_H
#define MK_MM_H
#include <mk/types.h>

void mk_mm_init(void);
/* npages contiguous pages aligned to align_pages (a power of two), or NULL. */
void *mk_page_alloc(size_t npages, size_t align_pages);
void mk_page_free(void *va, size_t npages);
/* Heap: size bytes aligned to align (power of two, 0 = 16); NULL when out of memory. */
void *mk_malloc(size_t size, size_t align);
void *mk_zalloc(size_t size, size_t align);
void mk_free(void *p);
/* Pages the page allocator has free right now, and all pages it manages. */
size_t mk_mm_free_pages(void);
size_t mk_mm_total_pages(void);
/* The fewest pages that were free at any time since boot. */
size_t mk_mm_low_water_pages(void);
/* Pages taken before the first allocation: page 0, the image, boot data, the allocator's maps. */
size_t mk_mm_boot_pages(void);
/* The longest run of free pages (what the largest page allocation could get now). */
size_t mk_mm_largest_free_run(void);
/* Bytes the heap really takes for mk_malloc(size, align): size classes round up, pages above. */
size_t mk_malloc_footprint(size_t size, size_t align);

/*
 * Machine frames behind pseudo-physical pages, for code that trades frames with Xen
 * (XENMEM_exchange, populate_physmap after decrease_reservation, ...).
 *
 * mk_arch_set_p2m_range(pfn, mfn, n): pages pfn..pfn+n-1 are now backed by machine frames
 * mfn..mfn+n-1, which the domain owns. PV: records them in the kernel's p2m (so
 * mk_arch_pfn_to_mfn, grants and every later user of the pages see the new frames), in Xen's
 * M2P (mmu_update MMU_MACHPHYS_UPDATE) and maps each page read-write again at its address
 * virtual == pseudo-physical (the caller unmapped it before giving the old frame away).
 * After that the pages can go back to mk_page_free like any other. PVH: the p2m is Xen's and
 * the guest sees pseudo-physical == machine, so only mfn == pfn is accepted (nothing to do).
 * Returns 0, or -XEN_EINVAL (a page outside RAM, PVH with mfn != pfn) or Xen's error; on an
 * error from Xen the pages before the failing batch of 32 are updated, the rest untouched.
 */
int mk_arch_set_p2m_range(unsigned long pfn, unsigned long mfn, unsigned long n);
static inline int mk_arch_set_p2m(unsigned long pfn, unsigned long mfn)
{
	return mk_arch_set_p2m_range(pfn, mfn, 1);
}

/* Owner of I/O frames (device memory) in mk_arch_map_foreign. */
#define MK_DOMID_IO 0x7FF1U
/* Cache attributes for mk_arch_map_foreign (x86 PAT as Xen programs it for PV guests). */
enum mk_cache_attr {
	MK_CACHE_WB = 0,	/* write-back (RAM) */
	MK_CACHE_WT = 1,	/* write-through (PWT) */
	MK_CACHE_UC_MINUS = 2,	/* uncached, MTRR may make it WC (PCD) */
	MK_CACHE_UC = 3,	/* uncached (PCD|PWT): device registers */
	MK_CACHE_WC = 4,	/* write-combining (PAT bit; PV only) */
};

/*
 * mk_arch_map_foreign(va, mfn, domid, cache): maps machine frame mfn, owned by domid
 * (MK_DOMID_IO for device memory; XEN_DOMID_SELF for our own frames), read-write at va with
 * the cache attribute. va must be page aligned and outside RAM (in the special-mapping area,
 * see mk_arch_mapping_area_start in <mk/arch.h>); missing page-table levels are built. PV:
 * one mmu_update naming domid as the frames' owner, so Xen checks the mapping against that
 * domain (for DOMID_IO: the caller's I/O memory permissions; XSM may refuse other domains).
 * Undo with mk_arch_unmap_page(va). Returns 0, -XEN_EINVAL for a bad va or cache attribute,
 * -XEN_ENOMEM when no page is left for a missing page-table level, -XEN_ENOSYS on PVH (no foreign mappings through its own page tables), or Xen's error
 * (e.g. -XEN_EPERM: the domain may not map that frame).
 */
int mk_arch_map_foreign(unsigned long va, unsigned long mfn, uint16_t domid,
	enum mk_cache_attr cache);

#endif
