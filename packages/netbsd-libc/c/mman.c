/*
 * mmap and munmap for anonymous memory, from the guest kernel's page allocator (libc's
 * RUMPRUN mode has no system call stubs; the rump kernel has no VM for the program).
 * Mappings are remembered as page runs so that munmap frees only pages mmap handed out,
 * also when it unmaps part of a run. File mappings are refused with ENODEV. mprotect with
 * PROT_NONE unmaps pages of a run (libpthread's stack guard pages: an overflow faults), any
 * other protection maps them back read-write.
 */
#include <mk/arch.h>
#include <mk/lib.h>
#include <mk/mm.h>

#include "nblibc.h"

#define PAGE 4096UL
#define NB_PROT_NONE 0
#define NB_MAP_FIXED 0x0010
#define NB_MAP_ANON 0x1000
#define NB_MAP_ALIGNMENT_SHIFT 24
#define MAP_FAILED ((void *)-1)


struct run {
	struct run *next;
	unsigned long start;	/* page aligned */
	size_t pages;
	bool guarded;	/* some page was made inaccessible by mprotect */
};

static struct run *runs;

static void *fail(int error)
{
	*__errno() = error;
	return MAP_FAILED;
}

void *_mmap(void *addr, size_t len, int prot, int flags, int fd, long long pos)
{
	(void)addr;
	(void)prot;
	if (len == 0)
		return fail(RUMPXEN_NETBSD_EINVAL);
	if (!(flags & NB_MAP_ANON) || fd != -1 || pos != 0)
		return fail(RUMPXEN_NETBSD_ENODEV);
	if (flags & NB_MAP_FIXED)
		return fail(RUMPXEN_NETBSD_EINVAL);
	size_t pages = (len + PAGE - 1) / PAGE;
	unsigned shift = (unsigned)(flags >> NB_MAP_ALIGNMENT_SHIFT) & 0xff;
	size_t align = shift > 12 ? (size_t)1 << (shift - 12) : 1;
	struct run *r = mk_malloc(sizeof(*r), 0);
	if (r == NULL)
		return fail(RUMPXEN_NETBSD_ENOMEM);
	void *p = mk_page_alloc(pages, align);
	if (p == NULL) {
		mk_free(r);
		return fail(RUMPXEN_NETBSD_ENOMEM);
	}
	mk_memset(p, 0, pages * PAGE);
	r->start = (unsigned long)p;
	r->pages = pages;
	r->guarded = false;
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
		*__errno() = RUMPXEN_NETBSD_EINVAL;
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
				*__errno() = RUMPXEN_NETBSD_ENOMEM;
				return -1;
			}
			tail->start = ce;
			tail->pages = (re - ce) / PAGE;
			tail->guarded = r->guarded;
			tail->next = r->next;
			r->next = tail;
		}
		if (r->guarded)
			for (unsigned long va = cs; va < ce; va += PAGE)
				mk_arch_remap_page(va);
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

static struct run *run_of(unsigned long va)
{
	for (struct run *r = runs; r != NULL; r = r->next)
		if (va >= r->start && va < r->start + r->pages * PAGE)
			return r;
	return NULL;
}

int mprotect(void *addr, size_t len, int prot)
{
	unsigned long lo = (unsigned long)addr;
	if ((lo & (PAGE - 1)) != 0) {
		*__errno() = RUMPXEN_NETBSD_EINVAL;
		return -1;
	}
	unsigned long hi = lo + ((len + PAGE - 1) & ~(PAGE - 1));
	/* Every page must be mmap's (NetBSD answers ENOMEM for unmapped ones); check first. */
	for (unsigned long va = lo; va < hi; va += PAGE) {
		if (run_of(va) == NULL) {
			*__errno() = RUMPXEN_NETBSD_ENOMEM;
			return -1;
		}
	}
	for (unsigned long va = lo; va < hi; va += PAGE) {
		if (prot == NB_PROT_NONE) {
			run_of(va)->guarded = true;
			mk_arch_unmap_page(va);
		} else {
			mk_arch_remap_page(va);
		}
	}
	return 0;
}
