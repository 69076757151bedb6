/*
 * DMA memory: pages from the kernel's allocator traded with Xen (XENMEM_exchange) for one
 * machine-contiguous extent of 2^order frames below the requested address limit. The kernel's
 * mk_arch_set_p2m_range records the new frames in its p2m and Xen's M2P and maps the pages
 * back at the same virtual addresses, so every later user of these pages (virt_to_mach,
 * grants, the kernel itself) sees the new frames, and freeing gives the pages straight back
 * to the kernel's allocator (they keep the exchanged frames; no exchange back is needed).
 * An extent is naturally aligned, which gives alignment and boundary for free.
 */
#include <mk/console.h>
#include <mk/mm.h>
#include "pcix_int.h"

/* Live allocations, so a free returns exactly the pages the allocation took. */
struct dma_region {
	unsigned long va;
	unsigned order;
	struct dma_region *next;
};
static struct dma_region *regions;

/*
 * RAM at virtual == pseudo-physical: the kernel's p2m (exchanged pages included). Anything
 * else (special mappings of DMA segments, device memory): this layer's table of mappings.
 */
uint64_t pcix_virt_to_mach(const void *p)
{
	unsigned long va = (unsigned long)p;
	unsigned long pfn = va >> 12;
	if (pfn >= mk_boot.nr_pages)
		return pcix_mapped_maddr(va);
	return ((uint64_t)mk_arch_pfn_to_mfn(pfn) << 12) | (va & 4095);
}

static bool pow2(size_t x)
{
	return (x & (x - 1)) == 0;
}

static unsigned ceil_log2(size_t x)
{
	unsigned o = 0;
	while ((1UL << o) < x)
		o++;
	return o;
}

static int exchange(unsigned order, unsigned addr_bits, struct dma_region **out,
	unsigned long *mfn)
{
	unsigned long n = 1UL << order;
	unsigned long va = (unsigned long)mk_page_alloc(n, n);
	if (!va)
		return pcix_fail(XEN_ENOMEM, "pcix: DMA allocation of %lu pages: the guest has no %lu "
			"free contiguous pages; give the domain more memory", n, n);
	unsigned long *in_frames = mk_malloc(n * sizeof(unsigned long), 0);
	struct dma_region *r = mk_zalloc(sizeof(*r), 0);
	if (!in_frames || !r) {
		mk_free(in_frames);
		mk_free(r);
		mk_page_free((void *)va, n);
		return pcix_fail(XEN_ENOMEM, "pcix: out of heap for a DMA allocation");
	}
	for (unsigned long i = 0; i < n; i++) {
		in_frames[i] = mk_arch_pfn_to_mfn((va >> 12) + i);
		mk_arch_unmap_page(va + (i << 12));
	}
	unsigned long out_frame = va >> 12;
	struct pcix_memory_exchange ex = {
		.in = { .extent_start = in_frames, .nr_extents = n, .extent_order = 0,
			.domid = XEN_DOMID_SELF },
		.out = { .extent_start = &out_frame, .nr_extents = 1, .extent_order = order,
			.mem_flags = addr_bits, .domid = XEN_DOMID_SELF },
	};
	long rc = mk_hc_memory_op(PCIX_XENMEM_exchange, &ex);
	if (rc || ex.nr_exchanged != n) {
		/* One output extent: Xen exchanged nothing, the old frames are still ours. */
		for (unsigned long i = 0; i < n; i++)
			mk_arch_remap_page(va + (i << 12));
		mk_free(in_frames);
		mk_free(r);
		mk_page_free((void *)va, n);
		char limit[32] = "";
		if (addr_bits)
			mk_snprintf(limit, sizeof(limit), " below 2^%u", addr_bits);
		return pcix_fail(rc ? (int)-rc : XEN_ENOMEM, "pcix: Xen has no machine-contiguous "
			"extent of %lu KiB%s (XENMEM_exchange: %ld); ask for less, or relax the "
			"device's DMA address limit", n * 4, limit, rc);
	}
	mk_free(in_frames);
	/*
	 * Xen took the old frames: the pages must name the new ones before anything touches
	 * them. If that fails the pages are not returned (their p2m entries may be stale).
	 */
	int err = mk_arch_set_p2m_range(va >> 12, out_frame, n);
	if (err) {
		mk_free(r);
		return pcix_fail(-err, "pcix: recording the exchanged frames %#lx+%lu of the DMA "
			"pages at %#lx failed (mmu_update: %d); %lu pages are lost to this domain",
			out_frame, n, va, err, n);
	}
	r->va = va;
	r->order = order;
	r->next = regions;
	regions = r;
	*out = r;
	*mfn = out_frame;
	return 0;
}

int pcix_dma_alloc(size_t size, size_t align, size_t boundary, unsigned addr_bits,
	void **va, uint64_t *maddr)
{
	if (size == 0 || !pow2(align) || !pow2(boundary) || addr_bits > 64)
		return pcix_fail(XEN_EINVAL, "pcix: DMA allocation size %zu align %#zx boundary %#zx: "
			"size must be > 0 and align/boundary powers of two (or 0)", size, align, boundary);
	if (boundary && size > boundary)
		return pcix_fail(XEN_EINVAL, "pcix: DMA allocation of %zu bytes cannot fit in one "
			"segment that does not cross a %#zx boundary; allocate less or use several "
			"segments", size, boundary);
	if (addr_bits && addr_bits < 52 && size > (1UL << addr_bits))
		return pcix_fail(XEN_EINVAL, "pcix: DMA allocation of %zu bytes cannot lie below the "
			"device's %u-bit address limit", size, addr_bits);
	unsigned order = ceil_log2(MK_ALIGN_UP(size, 4096UL) >> 12);
	if (align > 4096 && ceil_log2(align >> 12) > order)
		order = ceil_log2(align >> 12);
	if (order > 10)
		return pcix_fail(XEN_EINVAL, "pcix: DMA allocation of %zu bytes (align %#zx) needs a "
			"machine-contiguous extent of 2^%u pages; the limit is 4 MiB", size, align, order);
	struct dma_region *r = NULL;
	unsigned long mfn = 0;
	int err = exchange(order, addr_bits, &r, &mfn);
	if (err)
		return err;
	mk_memset((void *)r->va, 0, 4096UL << order);
	*va = (void *)r->va;
	*maddr = (uint64_t)mfn << 12;
	return 0;
}

/* Back to the kernel's page allocator; the pages keep their exchanged frames. */
void pcix_dma_free(void *va, size_t size)
{
	for (struct dma_region **pp = &regions; *pp; pp = &(*pp)->next)
		if ((*pp)->va == (unsigned long)va) {
			struct dma_region *r = *pp;
			*pp = r->next;
			unsigned long n = 1UL << r->order;
			pcix_unmap_frames_of(mk_arch_pfn_to_mfn(r->va >> 12), n);
			mk_page_free(va, n);
			mk_free(r);
			return;
		}
	mk_printk("pcix: DMA free of %p (%zu bytes): not DMA memory allocated here (or freed "
		"twice); ignored\n", va, size);
}
