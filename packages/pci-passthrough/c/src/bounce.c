/*
 * Bounce buffers: a DMA map whose device reaches only machine addresses below 2^addr_bits,
 * loaded with memory that lies (partly) above, is given instead a machine-contiguous area
 * below the limit (pcix_dma_alloc, on the map's first such load; kept until the map is
 * destroyed), and syncs copy between the area and the loaded memory. The loaded memory is
 * described as a list of (virtual address, length) pieces, packed one after another from the
 * area's first byte, so a sync's offset and length mean the same in both.
 */
#include <mk/mm.h>
#include "pcix_int.h"

struct bounce_piece {
	uint8_t *va;
	size_t len;
};

struct pcix_bounce {
	unsigned addr_bits;
	size_t maxsize;
	/* Below 2^addr_bits, maxsize rounded up to pages; NULL until a load needs it. */
	uint8_t *area;
	size_t area_size;
	struct bounce_piece *pieces;
	unsigned npieces, cap;
	/* Bytes in pieces (<= maxsize). */
	size_t total;
	/* The map's current load is the one described (set by pcix_bounce_start). */
	bool active;
};

static struct pcix_bounce_stats stats;

int pcix_bounce_create(unsigned addr_bits, size_t maxsize, struct pcix_bounce **out)
{
	*out = NULL;
	if (addr_bits < 12 || addr_bits >= 64 || maxsize == 0)
		return pcix_fail(XEN_EINVAL, "pcix: bounce buffer for a %u-bit device and loads of up "
			"to %zu bytes: the limit must be 12..63 bits and the size > 0", addr_bits, maxsize);
	struct pcix_bounce *b = mk_zalloc(sizeof(*b), 0);
	if (!b)
		return pcix_fail(XEN_ENOMEM, "pcix: out of heap for a DMA map's bounce state");
	b->addr_bits = addr_bits;
	b->maxsize = maxsize;
	*out = b;
	__atomic_fetch_add(&stats.maps, 1, __ATOMIC_RELAXED);
	return 0;
}

void pcix_bounce_destroy(struct pcix_bounce *b)
{
	if (!b)
		return;
	if (b->area)
		pcix_dma_free(b->area, b->area_size);
	mk_free(b->pieces);
	mk_free(b);
}

bool pcix_bounce_beyond(const struct pcix_bounce *b, uint64_t maddr, uint64_t len)
{
	uint64_t limit = 1ULL << b->addr_bits;
	return maddr >= limit || len > limit - maddr;
}

void pcix_bounce_reset(struct pcix_bounce *b)
{
	b->npieces = 0;
	b->total = 0;
	b->active = false;
}

int pcix_bounce_add(struct pcix_bounce *b, void *va, size_t len)
{
	if (len == 0)
		return 0;
	if (len > b->maxsize - b->total)
		return pcix_fail(PCIX_EFBIG, "pcix: a bounced DMA load of more than %zu bytes into a "
			"map made for %zu; create the map with a larger size", b->total + len,
			b->maxsize);
	if (b->npieces == b->cap) {
		unsigned cap = b->cap ? 2 * b->cap : 8;
		struct bounce_piece *p = mk_malloc(cap * sizeof(*p), 0);
		if (!p)
			return pcix_fail(XEN_ENOMEM, "pcix: out of heap for a bounced DMA load of %u "
				"pieces", cap);
		if (b->npieces)
			mk_memcpy(p, b->pieces, b->npieces * sizeof(*p));
		mk_free(b->pieces);
		b->pieces = p;
		b->cap = cap;
	}
	b->pieces[b->npieces++] = (struct bounce_piece){ va, len };
	b->total += len;
	return 0;
}

int pcix_bounce_start(struct pcix_bounce *b, void **va, size_t *len)
{
	if (!b->area) {
		size_t size = MK_ALIGN_UP(b->maxsize, 4096UL);
		void *area;
		uint64_t maddr;
		int err = pcix_dma_alloc(size, 0, 0, b->addr_bits, &area, &maddr);
		if (err)
			return err;
		b->area = area;
		b->area_size = size;
		__atomic_fetch_add(&stats.area_bytes, size, __ATOMIC_RELAXED);
	}
	b->active = true;
	*va = b->area;
	*len = b->total;
	__atomic_fetch_add(&stats.loads, 1, __ATOMIC_RELAXED);
	return 0;
}

void pcix_bounce_sync(struct pcix_bounce *b, size_t off, size_t len, bool to_area)
{
	if (!b->active || off >= b->total)
		return;
	if (len > b->total - off)
		len = b->total - off;
	size_t end = off + len, at = 0;
	for (unsigned i = 0; i < b->npieces && at < end; at += b->pieces[i++].len) {
		const struct bounce_piece *p = &b->pieces[i];
		size_t lo = off > at ? off : at, hi = end < at + p->len ? end : at + p->len;
		if (lo >= hi)
			continue;
		if (to_area)
			mk_memcpy(b->area + lo, p->va + (lo - at), hi - lo);
		else
			mk_memcpy(p->va + (lo - at), b->area + lo, hi - lo);
	}
	__atomic_fetch_add(to_area ? &stats.bytes_to_area : &stats.bytes_from_area, len,
		__ATOMIC_RELAXED);
	/* The device is told to start (or the CPU reads) only after the copy is complete. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

void pcix_bounce_get_stats(struct pcix_bounce_stats *out)
{
	out->maps = __atomic_load_n(&stats.maps, __ATOMIC_RELAXED);
	out->loads = __atomic_load_n(&stats.loads, __ATOMIC_RELAXED);
	out->bytes_to_area = __atomic_load_n(&stats.bytes_to_area, __ATOMIC_RELAXED);
	out->bytes_from_area = __atomic_load_n(&stats.bytes_from_area, __ATOMIC_RELAXED);
	out->area_bytes = __atomic_load_n(&stats.area_bytes, __ATOMIC_RELAXED);
}
