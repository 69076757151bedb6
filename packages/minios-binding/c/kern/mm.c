/*
 * Page allocator: a bitmap over pseudo-physical pages, first fit. Heap: power-of-two size
 * classes 16..2048 carved from pages (blocks are aligned to their size), larger requests
 * take whole pages. A per-page word records what each allocated page holds, so mk_free
 * needs no header and page-aligned blocks stay page-aligned.
 */
#include <mk/arch.h>
#include <mk/crash.h>
#include <mk/lib.h>
#include <mk/mm.h>

#define META_SMALL 0x40000000u
#define META_LARGE 0x80000000u
#define NR_CLASSES 8 /* 16 .. 2048 */

extern char mk_image_start[];

static unsigned long *bitmap;
static uint32_t *page_meta;
static unsigned long nr_pages;
static unsigned long free_pages;
static unsigned long search_hint;
static unsigned long low_water;
static unsigned long boot_pages;

struct free_block {
	struct free_block *next;
};
static struct free_block *class_free[NR_CLASSES];

static inline bool page_used(unsigned long pfn)
{
	return (bitmap[pfn / 64] >> (pfn % 64)) & 1;
}
static inline void mark(unsigned long pfn, bool used)
{
	if (used)
		bitmap[pfn / 64] |= 1UL << (pfn % 64);
	else
		bitmap[pfn / 64] &= ~(1UL << (pfn % 64));
}

void mk_mm_init(void)
{
	nr_pages = mk_boot.nr_pages;
	unsigned long first = mk_boot.first_free_pfn;
	size_t bitmap_bytes = MK_ALIGN_UP((nr_pages + 63) / 64 * 8, 4096UL);
	size_t meta_bytes = MK_ALIGN_UP(nr_pages * sizeof(uint32_t), 4096UL);
	bitmap = (unsigned long *)(first << 12);
	page_meta = (uint32_t *)((first << 12) + bitmap_bytes);
	first += (bitmap_bytes + meta_bytes) >> 12;
	if (first >= nr_pages)
		mk_out_of_memory("no page is left after the image and boot data (%lu KiB of %lu KiB)",
			first << 2, nr_pages << 2);
	mk_memset(bitmap, 0, bitmap_bytes);
	mk_memset(page_meta, 0, meta_bytes);
	unsigned long image_pfn = (unsigned long)mk_image_start >> 12;
	for (unsigned long pfn = 0; pfn < nr_pages; pfn++) {
		bool used = pfn == 0 || pfn < mk_boot.low_reserved_pfns ||
			(pfn >= image_pfn && pfn < first);
		mark(pfn, used);
		if (!used)
			free_pages++;
	}
	/* Bits past nr_pages count as used so the search never returns them. */
	for (unsigned long pfn = nr_pages; pfn < bitmap_bytes * 8; pfn++)
		mark(pfn, true);
	search_hint = first;
	low_water = free_pages;
	boot_pages = nr_pages - free_pages;
}

void *mk_page_alloc(size_t npages, size_t align_pages)
{
	if (npages == 0 || npages > free_pages)
		return NULL;
	if (align_pages == 0)
		align_pages = 1;
	for (int pass = 0; pass < 2; pass++) {
		unsigned long start = pass ? 1 : search_hint;
		start = MK_ALIGN_UP(start, align_pages);
		while (start + npages <= nr_pages) {
			unsigned long i;
			for (i = 0; i < npages; i++)
				if (page_used(start + i))
					break;
			if (i == npages) {
				for (i = 0; i < npages; i++)
					mark(start + i, true);
				free_pages -= npages;
				if (free_pages < low_water)
					low_water = free_pages;
				if (align_pages == 1)
					search_hint = start + npages;
				return (void *)(start << 12);
			}
			start = MK_ALIGN_UP(start + i + 1, align_pages);
		}
	}
	return NULL;
}

void mk_page_free(void *va, size_t npages)
{
	unsigned long pfn = (unsigned long)va >> 12;
	for (size_t i = 0; i < npages; i++) {
		if (!page_used(pfn + i))
			mk_panic("page %#lx freed twice", (pfn + i) << 12);
		mark(pfn + i, false);
		page_meta[pfn + i] = 0;
	}
	free_pages += npages;
	if (pfn < search_hint)
		search_hint = pfn;
}

size_t mk_malloc_footprint(size_t size, size_t align)
{
	if (align < 16)
		align = 16;
	if (size < align)
		size = align;
	if (size > 2048 || align > 2048)
		return MK_ALIGN_UP(size, 4096UL);
	size_t s = 16;
	while (s < size)
		s <<= 1;
	return s;
}

static int size_class(size_t size)
{
	int c = 0;
	size_t s = 16;
	while (s < size) {
		s <<= 1;
		c++;
	}
	return c;
}

void *mk_malloc(size_t size, size_t align)
{
	if (align < 16)
		align = 16;
	if (size < align)
		size = align;
	if (size > 2048 || align > 2048) {
		if (size > (nr_pages << 12))
			return NULL;
		size_t np = MK_ALIGN_UP(size, 4096UL) >> 12;
		size_t ap = align > 4096 ? align >> 12 : 1;
		void *p = mk_page_alloc(np, ap);
		if (p)
			page_meta[(unsigned long)p >> 12] = META_LARGE | (uint32_t)np;
		return p;
	}
	int c = size_class(size);
	if (!class_free[c]) {
		char *page = mk_page_alloc(1, 1);
		if (!page)
			return NULL;
		page_meta[(unsigned long)page >> 12] = META_SMALL | (uint32_t)c;
		size_t bs = 16UL << c;
		for (size_t off = 0; off < 4096; off += bs) {
			struct free_block *b = (struct free_block *)(page + off);
			b->next = class_free[c];
			class_free[c] = b;
		}
	}
	struct free_block *b = class_free[c];
	class_free[c] = b->next;
	return b;
}

void *mk_zalloc(size_t size, size_t align)
{
	void *p = mk_malloc(size, align);
	if (p)
		mk_memset(p, 0, size);
	return p;
}

void mk_free(void *p)
{
	if (!p)
		return;
	unsigned long pfn = (unsigned long)p >> 12;
	uint32_t meta = pfn < nr_pages ? page_meta[pfn] : 0;
	if (meta & META_LARGE) {
		if ((unsigned long)p & 4095)
			mk_panic("mk_free(%p): not the start of a page allocation", p);
		mk_page_free(p, meta & 0xffffff);
	} else if (meta & META_SMALL) {
		int c = (int)(meta & 0xff);
		struct free_block *b = p;
		b->next = class_free[c];
		class_free[c] = b;
	} else {
		mk_panic("mk_free(%p): not allocated by mk_malloc", p);
	}
}

size_t mk_mm_free_pages(void)
{
	return free_pages;
}

size_t mk_mm_total_pages(void)
{
	return nr_pages;
}

size_t mk_mm_low_water_pages(void)
{
	return low_water;
}

size_t mk_mm_boot_pages(void)
{
	return boot_pages;
}

size_t mk_mm_largest_free_run(void)
{
	size_t best = 0, run = 0;
	for (unsigned long pfn = 1; pfn < nr_pages; pfn++) {
		if (page_used(pfn)) {
			run = 0;
			continue;
		}
		if (++run > best)
			best = run;
	}
	return best;
}
