/*
 * bus_space(9) and bus_dma(9). Memory space handles are virtual addresses of uncached
 * DOMID_IO mappings (rumpcomp_pci_map); I/O space handles are port numbers (dom0 only).
 * DMA memory is machine-contiguous per segment (pcix_dma_alloc); loads translate each page
 * with virt_to_mach and fail rather than bounce when the tag's address range is not met.
 */
#include <mk/mm.h>
#include <pcix/bus.h>
#include "pcix_int.h"
#include "pci_user.h"

struct pcix_dma_tag {
	bus_addr_t min_addr, max_addr;
	bool dynamic;
};
struct pcix_dma_tag pcix_dma_tag_default = { 0, ~0ULL, false };

int bus_space_map(bus_space_tag_t t, bus_addr_t addr, bus_size_t size, int flags,
	bus_space_handle_t *bshp)
{
	(void)flags;
	if (t == X86_BUS_SPACE_IO) {
		if (addr + size > 0x10000 || addr + size < addr) {
			pcix_fail(XEN_EINVAL, "pcix: I/O ports %#lx+%#lx are beyond 0xffff",
				(unsigned long)addr, (unsigned long)size);
			return 22;
		}
		int err = rumpcomp_pci_iospace_init();
		if (err)
			return err;
		*bshp = addr;
		return 0;
	}
	if (t != X86_BUS_SPACE_MEM) {
		pcix_fail(XEN_EINVAL, "pcix: bus space tag %d is neither I/O (0) nor memory (1)", t);
		return 22;
	}
	int err;
	void *va = pcix_map_mmio(addr, size, &err);
	if (!va)
		return pcix_netbsd_errno(err);
	*bshp = (bus_space_handle_t)va;
	return 0;
}

void bus_space_unmap(bus_space_tag_t t, bus_space_handle_t bsh, bus_size_t size)
{
	if (t == X86_BUS_SPACE_MEM)
		pcix_unmap_mmio((void *)bsh, size);
}

int bus_space_subregion(bus_space_tag_t t, bus_space_handle_t bsh, bus_size_t offset,
	bus_size_t size, bus_space_handle_t *nbshp)
{
	(void)t;
	(void)size;
	*nbshp = bsh + offset;
	return 0;
}

#define MMIO(type, h, o) (*(volatile type *)((h) + (o)))

uint8_t bus_space_read_1(bus_space_tag_t t, bus_space_handle_t h, bus_size_t o)
{
	if (t == X86_BUS_SPACE_IO) {
		uint8_t v;
		__asm__ __volatile__("inb %w1, %0" : "=a"(v) : "Nd"((uint16_t)(h + o)));
		return v;
	}
	return MMIO(uint8_t, h, o);
}

uint16_t bus_space_read_2(bus_space_tag_t t, bus_space_handle_t h, bus_size_t o)
{
	if (t == X86_BUS_SPACE_IO) {
		uint16_t v;
		__asm__ __volatile__("inw %w1, %0" : "=a"(v) : "Nd"((uint16_t)(h + o)));
		return v;
	}
	return MMIO(uint16_t, h, o);
}

uint32_t bus_space_read_4(bus_space_tag_t t, bus_space_handle_t h, bus_size_t o)
{
	if (t == X86_BUS_SPACE_IO)
		return pcix_inl((uint16_t)(h + o));
	return MMIO(uint32_t, h, o);
}

uint64_t bus_space_read_8(bus_space_tag_t t, bus_space_handle_t h, bus_size_t o)
{
	if (t == X86_BUS_SPACE_IO)
		return pcix_inl((uint16_t)(h + o)) | ((uint64_t)pcix_inl((uint16_t)(h + o + 4)) << 32);
	return MMIO(uint64_t, h, o);
}

void bus_space_write_1(bus_space_tag_t t, bus_space_handle_t h, bus_size_t o, uint8_t v)
{
	if (t == X86_BUS_SPACE_IO)
		__asm__ __volatile__("outb %0, %w1" : : "a"(v), "Nd"((uint16_t)(h + o)));
	else
		MMIO(uint8_t, h, o) = v;
}

void bus_space_write_2(bus_space_tag_t t, bus_space_handle_t h, bus_size_t o, uint16_t v)
{
	if (t == X86_BUS_SPACE_IO)
		__asm__ __volatile__("outw %0, %w1" : : "a"(v), "Nd"((uint16_t)(h + o)));
	else
		MMIO(uint16_t, h, o) = v;
}

void bus_space_write_4(bus_space_tag_t t, bus_space_handle_t h, bus_size_t o, uint32_t v)
{
	if (t == X86_BUS_SPACE_IO)
		pcix_outl((uint16_t)(h + o), v);
	else
		MMIO(uint32_t, h, o) = v;
}

void bus_space_write_8(bus_space_tag_t t, bus_space_handle_t h, bus_size_t o, uint64_t v)
{
	if (t == X86_BUS_SPACE_IO) {
		pcix_outl((uint16_t)(h + o), (uint32_t)v);
		pcix_outl((uint16_t)(h + o + 4), (uint32_t)(v >> 32));
	} else {
		MMIO(uint64_t, h, o) = v;
	}
}

/* multi: the same register count times; region: consecutive registers. */
#define DEFINE_MULTI_REGION(n, type) \
	void bus_space_read_multi_##n(bus_space_tag_t t, bus_space_handle_t h, bus_size_t o, \
		type *buf, bus_size_t count) \
	{ \
		for (bus_size_t i = 0; i < count; i++) \
			buf[i] = bus_space_read_##n(t, h, o); \
	} \
	void bus_space_write_multi_##n(bus_space_tag_t t, bus_space_handle_t h, bus_size_t o, \
		const type *buf, bus_size_t count) \
	{ \
		for (bus_size_t i = 0; i < count; i++) \
			bus_space_write_##n(t, h, o, buf[i]); \
	} \
	void bus_space_read_region_##n(bus_space_tag_t t, bus_space_handle_t h, bus_size_t o, \
		type *buf, bus_size_t count) \
	{ \
		for (bus_size_t i = 0; i < count; i++) \
			buf[i] = bus_space_read_##n(t, h, o + i * n); \
	} \
	void bus_space_write_region_##n(bus_space_tag_t t, bus_space_handle_t h, bus_size_t o, \
		const type *buf, bus_size_t count) \
	{ \
		for (bus_size_t i = 0; i < count; i++) \
			bus_space_write_##n(t, h, o + i * n, buf[i]); \
	}
DEFINE_MULTI_REGION(1, uint8_t)
DEFINE_MULTI_REGION(2, uint16_t)
DEFINE_MULTI_REGION(4, uint32_t)
DEFINE_MULTI_REGION(8, uint64_t)

void bus_space_barrier(bus_space_tag_t t, bus_space_handle_t h, bus_size_t offset,
	bus_size_t len, int flags)
{
	(void)t; (void)h; (void)offset; (void)len; (void)flags;
	mk_mb();
}

int bus_dmatag_subregion(bus_dma_tag_t tag, bus_addr_t min_addr, bus_addr_t max_addr,
	bus_dma_tag_t *newtag, int flags)
{
	(void)flags;
	if (min_addr > max_addr) {
		pcix_fail(XEN_EINVAL, "pcix: DMA tag range %#lx..%#lx is empty",
			(unsigned long)min_addr, (unsigned long)max_addr);
		return 22;
	}
	struct pcix_dma_tag *t = mk_zalloc(sizeof(*t), 0);
	if (!t)
		return 12;
	t->min_addr = min_addr > tag->min_addr ? min_addr : tag->min_addr;
	t->max_addr = max_addr < tag->max_addr ? max_addr : tag->max_addr;
	t->dynamic = true;
	*newtag = t;
	return 0;
}

void bus_dmatag_destroy(bus_dma_tag_t tag)
{
	if (tag && tag->dynamic)
		mk_free(tag);
}

/* Address bits Xen must allocate below for the tag (0: any). */
static unsigned tag_addr_bits(bus_dma_tag_t tag)
{
	if (tag->max_addr == ~0ULL)
		return 0;
	unsigned bits = 64 - (unsigned)__builtin_clzll(tag->max_addr + 1) - 1;
	/* max_addr + 1 may not be a power of two: round the limit down. */
	return bits < 12 ? 12 : bits;
}

int bus_dmamap_create(bus_dma_tag_t tag, bus_size_t size, int nsegments, bus_size_t maxsegsz,
	bus_size_t boundary, int flags, bus_dmamap_t *dmamp)
{
	(void)tag;
	if (size == 0 || nsegments < 1 || maxsegsz == 0 || (boundary & (boundary - 1))) {
		pcix_fail(XEN_EINVAL, "pcix: bus_dmamap_create size %#lx nsegments %d maxsegsz %#lx "
			"boundary %#lx: size, nsegments, maxsegsz must be > 0 and boundary a power of 2",
			(unsigned long)size, nsegments, (unsigned long)maxsegsz, (unsigned long)boundary);
		return 22;
	}
	struct bus_dmamap *m = mk_zalloc(sizeof(*m) + (size_t)nsegments * sizeof(bus_dma_segment_t), 0);
	if (!m)
		return 12;
	m->_dm_size = size;
	m->_dm_segcnt = nsegments;
	m->_dm_maxsegsz = maxsegsz;
	m->_dm_boundary = boundary;
	m->_dm_flags = flags;
	m->dm_maxsegsz = maxsegsz;
	*dmamp = m;
	return 0;
}

void bus_dmamap_destroy(bus_dma_tag_t tag, bus_dmamap_t dmam)
{
	(void)tag;
	mk_free(dmam);
}

int bus_dmamap_load(bus_dma_tag_t tag, bus_dmamap_t m, void *buf, bus_size_t buflen,
	struct proc *p, int flags)
{
	(void)p;
	(void)flags;
	m->dm_nsegs = 0;
	m->dm_mapsize = 0;
	if (buflen > m->_dm_size) {
		pcix_fail(PCIX_EFBIG, "pcix: bus_dmamap_load of %#lx bytes into a map made for %#lx",
			(unsigned long)buflen, (unsigned long)m->_dm_size);
		return 27;
	}
	unsigned long va = (unsigned long)buf;
	bus_size_t left = buflen;
	int n = 0;
	while (left) {
		bus_addr_t ma = pcix_virt_to_mach((void *)va);
		bus_size_t chunk = 4096 - (va & 4095);
		if (chunk > left)
			chunk = left;
		if (ma == ~0ULL || ma < tag->min_addr || ma + chunk - 1 > tag->max_addr) {
			pcix_fail(XEN_EINVAL, "pcix: buffer %p+%#lx has machine address %#lx outside "
				"the DMA tag's range %#lx..%#lx and this layer does not bounce; allocate "
				"it with bus_dmamem_alloc on that tag", buf, (unsigned long)buflen,
				(unsigned long)ma, (unsigned long)tag->min_addr,
				(unsigned long)tag->max_addr);
			return 22;
		}
		while (chunk) {
			bus_size_t piece = chunk;
			if (m->_dm_boundary) {
				bus_addr_t bmask = m->_dm_boundary - 1;
				if (piece > m->_dm_boundary - (ma & bmask))
					piece = m->_dm_boundary - (ma & bmask);
			}
			bus_dma_segment_t *last = n ? &m->dm_segs[n - 1] : NULL;
			bool joins = last && last->ds_addr + last->ds_len == ma &&
				last->ds_len + piece <= m->_dm_maxsegsz &&
				(!m->_dm_boundary || (last->ds_addr & ~(m->_dm_boundary - 1)) ==
					(ma & ~(m->_dm_boundary - 1)));
			if (joins) {
				last->ds_len += piece;
			} else {
				if (piece > m->_dm_maxsegsz)
					piece = m->_dm_maxsegsz;
				if (n == m->_dm_segcnt) {
					pcix_fail(PCIX_EFBIG, "pcix: buffer %p+%#lx needs more than the map's "
						"%d segments (max segment %#lx, boundary %#lx)", buf,
						(unsigned long)buflen, m->_dm_segcnt,
						(unsigned long)m->_dm_maxsegsz, (unsigned long)m->_dm_boundary);
					m->dm_nsegs = 0;
					return 27;
				}
				m->dm_segs[n].ds_addr = ma;
				m->dm_segs[n].ds_len = piece;
				m->dm_segs[n]._ds_va = (void *)va;
				n++;
			}
			ma += piece;
			va += piece;
			chunk -= piece;
			left -= piece;
		}
	}
	m->dm_nsegs = n;
	m->dm_mapsize = buflen;
	return 0;
}

void bus_dmamap_unload(bus_dma_tag_t tag, bus_dmamap_t m)
{
	(void)tag;
	m->dm_nsegs = 0;
	m->dm_mapsize = 0;
}

void bus_dmamap_sync(bus_dma_tag_t tag, bus_dmamap_t m, bus_addr_t offset, bus_size_t len, int ops)
{
	(void)tag; (void)m; (void)offset; (void)len; (void)ops;
	/* x86 DMA is cache-coherent: order the CPU's accesses against the device's. */
	mk_mb();
}

int bus_dmamem_alloc(bus_dma_tag_t tag, bus_size_t size, bus_size_t alignment,
	bus_size_t boundary, bus_dma_segment_t *segs, int nsegs, int *rsegs, int flags)
{
	(void)flags;
	if (nsegs < 1)
		return 22;
	void *va;
	uint64_t ma;
	int err = pcix_dma_alloc(size, alignment, boundary, tag_addr_bits(tag), &va, &ma);
	if (err)
		return pcix_netbsd_errno(err);
	if (ma < tag->min_addr || ma + size - 1 > tag->max_addr) {
		pcix_dma_free(va, size);
		pcix_fail(XEN_ENOMEM, "pcix: DMA memory at %#lx+%#lx is outside the tag's range "
			"%#lx..%#lx", (unsigned long)ma, (unsigned long)size,
			(unsigned long)tag->min_addr, (unsigned long)tag->max_addr);
		return 12;
	}
	segs[0].ds_addr = ma;
	segs[0].ds_len = size;
	segs[0]._ds_va = va;
	*rsegs = 1;
	return 0;
}

void bus_dmamem_free(bus_dma_tag_t tag, bus_dma_segment_t *segs, int nsegs)
{
	(void)tag;
	for (int i = 0; i < nsegs; i++)
		pcix_dma_free(segs[i]._ds_va, segs[i].ds_len);
}

int bus_dmamem_map(bus_dma_tag_t tag, bus_dma_segment_t *segs, int nsegs, size_t size,
	void **kvap, int flags)
{
	(void)tag;
	(void)flags;
	if (nsegs == 1 && segs[0]._ds_va && segs[0].ds_len >= size) {
		*kvap = segs[0]._ds_va;
		return 0;
	}
	struct rumpcomp_pci_dmaseg ds[16];
	if (nsegs > 16)
		return 22;
	for (int i = 0; i < nsegs; i++)
		ds[i] = (struct rumpcomp_pci_dmaseg){ segs[i].ds_addr, segs[i].ds_len,
			(unsigned long)segs[i]._ds_va };
	return rumpcomp_pci_dmamem_map(ds, (size_t)nsegs, size, kvap);
}

/* A single segment is used where it lies; a multi-segment mapping is taken down. */
void bus_dmamem_unmap(bus_dma_tag_t tag, void *kva, size_t size)
{
	(void)tag;
	(void)size;
	pcix_unmap_frames(kva);
}
