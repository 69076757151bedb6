/*
 * mmap and munmap for anonymous memory, from the guest kernel's page allocator (libc's
 * RUMPRUN mode has no system call stubs; the rump kernel has no VM for the program).
 * Mappings are remembered as page runs so that munmap frees only pages mmap handed out,
 * also when it unmaps part of a run. File mappings are refused with ENODEV.
 */
#include <mk/lib.h>
#include <mk/mm.h>

#include "nblibc.h"

#define PAGE 4096UL
#define NB_MAP_FIXED 0x0010
#define NB_MAP_ANON 0x1000
#define NB_MAP_ALIGNMENT_SHIFT 24
#define NB_EINVAL 22
#define NB_ENOMEM 12
#define NB_ENODEV 19
#define MAP_FAILED ((void *)-1)

extern int errno;

struct run {
	struct run *next;
	unsigned long start;	/* page aligned */
	size_t pages;
};

static struct run *runs;

static void *fail(int error)
{
	errno = error;
	return MAP_FAILED;
}

void *_mmap(void *addr, size_t len, int prot, int flags, int fd, long long pos)
{
	(void)addr;
	(void)prot;
	if (len == 0)
		return fail(NB_EINVAL);
	if (!(flags & NB_MAP_ANON) || fd != -1 || pos != 0)
		return fail(NB_ENODEV);
	if (flags & NB_MAP_FIXED)
		return fail(NB_EINVAL);
	size_t pages = (len + PAGE - 1) / PAGE;
	unsigned shift = (unsigned)(flags >> NB_MAP_ALIGNMENT_SHIFT) & 0xff;
	size_t align = shift > 12 ? (size_t)1 << (shift - 12) : 1;
	struct run *r = mk_malloc(sizeof(*r), 0);
	if (r == NULL)
		return fail(NB_ENOMEM);
	void *p = mk_page_alloc(pages, align);
	if (p == NULL) {
		mk_free(r);
		return fail(NB_ENOMEM);
	}
	mk_memset(p, 0, pages * PAGE);
	r->start = (unsigned long)p;
	r->pages = pages;
	r->next = runs;
	runs = r;
	return p;
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, long long pos)
	__attribute__((alias("_mmap")));

/* Frees the pages of [lo, hi) that runs cover, splitting runs where needed. */
int munmap(void *addr, size_t len)
{
	unsigned long lo = (unsigned long)addr;
	if ((lo & (PAGE - 1)) != 0 || len == 0) {
		errno = NB_EINVAL;
		return -1;
	}
	unsigned long hi = lo + ((len + PAGE - 1) & ~(PAGE - 1));
	for (struct run **link = &runs; *link != NULL;) {
		struct run *r = *link;
		unsigned long rs = r->start, re = r->start + r->pages * PAGE;
		unsigned long cs = lo > rs ? lo : rs, ce = hi < re ? hi : re;
		if (cs >= ce) {
			link = &r->next;
			continue;
		}
		if (cs > rs && ce < re) {
			/* A hole in the middle: the run's tail becomes a run of its own. */
			struct run *tail = mk_malloc(sizeof(*tail), 0);
			if (tail == NULL) {
				errno = NB_ENOMEM;
				return -1;
			}
			tail->start = ce;
			tail->pages = (re - ce) / PAGE;
			tail->next = r->next;
			r->next = tail;
		}
		mk_page_free((void *)cs, (ce - cs) / PAGE);
		if (cs == rs && ce == re) {
			*link = r->next;
			mk_free(r);
			continue;
		}
		if (cs == rs) {
			r->start = ce;
			r->pages = (re - ce) / PAGE;
		} else {
			r->pages = (cs - rs) / PAGE;
		}
		link = &r->next;
	}
	return 0;
}
