/* Kernel memory from the host: malloc for the allocator, anonymous mappings for pages. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "posix_int.h"

/* glibc's malloc already returns memory aligned to this on x86-64 and aarch64. */
#define POSIX_MALLOC_ALIGN 16

/*
 * Freed blocks, per thread, by size class. rumpuser_free is told the size it frees (the
 * kernel's kmem_free passes it), so a freed block goes on this thread's list for its class and
 * the next rumpuser_malloc of that class takes it back: no header to read, no lock, no call
 * into libc on either path. The classes: 16 small ones, 16 bytes apart up to 256, aligned as
 * glibc's malloc aligns; and one page class, (256, 4096] bytes at page alignment, which is what
 * the kernel's page allocator asks for (a page, page-aligned). Every block is glibc's own,
 * allocated at its class's full size and alignment, so any request of the class fits it, and
 * one freed with size 0 (NetBSD's legacy free(9) passes 0) or by another thread is still just
 * free()d or cached there. Each list holds a bounded number of blocks; a thread's lists go back
 * to glibc when it exits (a pthread key's destructor).
 */
#define SMALL_STEP 16
#define SMALL_MAX 256
#define SMALL_CLASSES (SMALL_MAX / SMALL_STEP)
#define SMALL_DEPTH 32
#define PAGE_CLASS SMALL_CLASSES	/* index of the page class */
#define PAGE_CLASS_SIZE 4096
#define PAGE_DEPTH 16
#define CLASSES (SMALL_CLASSES + 1)

struct small_cache {
	void *head[CLASSES];	/* each free block's first word points to the next */
	uint8_t count[CLASSES];
	uint8_t registered;	/* the key's destructor will empty it */
};

static __thread struct small_cache small
    __attribute__((tls_model("initial-exec")));
static pthread_key_t small_key;
static pthread_once_t small_once = PTHREAD_ONCE_INIT;

static void small_drain(void *arg)
{
	struct small_cache *c = arg;
	for (unsigned i = 0; i < CLASSES; i++) {
		while (c->head[i]) {
			void *b = c->head[i];
			c->head[i] = *(void **)b;
			free(b);
		}
		c->count[i] = 0;
	}
}

static void small_key_init(void)
{
	if (pthread_key_create(&small_key, small_drain) != 0)
		small_key = (pthread_key_t)-1;
}

/* The first free of a cached block on this thread: arrange for its lists to be emptied. */
static int small_register(void)
{
	pthread_once(&small_once, small_key_init);
	if (small_key == (pthread_key_t)-1 || pthread_setspecific(small_key, &small) != 0)
		return 0;
	small.registered = 1;
	return 1;
}

/* 0 for sizes the cache does not keep, else the class index + 1. */
static inline unsigned small_class(size_t len)
{
	if (len - 1 < SMALL_MAX)
		return (unsigned)((len - 1) / SMALL_STEP) + 1;
	return len - 1 < PAGE_CLASS_SIZE ? PAGE_CLASS + 1 : 0;
}

static inline size_t class_size(unsigned k)
{
	return k - 1 == PAGE_CLASS ? PAGE_CLASS_SIZE : (size_t)k * SMALL_STEP;
}

static inline int class_align(unsigned k)
{
	return k - 1 == PAGE_CLASS ? PAGE_CLASS_SIZE : POSIX_MALLOC_ALIGN;
}

static inline unsigned class_depth(unsigned k)
{
	return k - 1 == PAGE_CLASS ? PAGE_DEPTH : SMALL_DEPTH;
}

int rumpuser_malloc(size_t len, int alignment, void **memp)
{
	void *mem;
	int rv;
	unsigned k = small_class(len);

	if (k) {
		if (alignment <= class_align(k) && small.head[k - 1]) {
			mem = small.head[k - 1];
			small.head[k - 1] = *(void **)mem;
			small.count[k - 1]--;
			*memp = mem;
			return 0;
		}
		/* The class's full size and alignment: any request of the class fits the block. */
		len = class_size(k);
		if (alignment < class_align(k))
			alignment = class_align(k);
	}
	if (alignment <= POSIX_MALLOC_ALIGN) {
		mem = malloc(len);
		if (mem == NULL)
			return posix_errtrans(ENOMEM);
		*memp = mem;
		return 0;
	}
	if ((alignment & (alignment - 1)) != 0)
		return posix_errtrans(EINVAL);
	rv = posix_memalign(&mem, (size_t)alignment, len);
	if (rv != 0)
		return posix_errtrans(rv);
	*memp = mem;
	return 0;
}

void rumpuser_free(void *mem, size_t len)
{
	unsigned k = small_class(len);

	if (k && mem && small.count[k - 1] < class_depth(k) &&
	    (small.registered || small_register())) {
		*(void **)mem = small.head[k - 1];
		small.head[k - 1] = mem;
		small.count[k - 1]++;
		return;
	}
	free(mem);
}

/*
 * `alignbit` asks for an address aligned to 1 << alignbit. mmap only promises page
 * alignment, so map the size plus one alignment unit and give the slack back.
 */
int rumpuser_anonmmap(void *prefaddr, size_t size, int alignbit, int exec, void **memp)
{
	int prot = PROT_READ | PROT_WRITE | (exec ? PROT_EXEC : 0);
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t align = alignbit > 0 ? (size_t)1 << alignbit : page;
	size_t maplen;
	uintptr_t start, aligned;
	void *map;

	if (size == 0 || alignbit < 0 || alignbit >= 48)
		return posix_errtrans(EINVAL);
	if (align < page)
		align = page;
	maplen = size + (align > page ? align : 0);
	map = mmap(prefaddr, maplen, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		return posix_errtrans(errno);
	start = (uintptr_t)map;
	aligned = (start + align - 1) & ~(uintptr_t)(align - 1);
	if (aligned > start)
		munmap(map, aligned - start);
	if (aligned + size < start + maplen) {
		uintptr_t tail = (aligned + size + page - 1) & ~(uintptr_t)(page - 1);
		if (tail < start + maplen)
			munmap((void *)tail, start + maplen - tail);
	}
	*memp = (void *)aligned;
	return 0;
}

void rumpuser_unmap(void *addr, size_t len)
{
	munmap(addr, len);
}
