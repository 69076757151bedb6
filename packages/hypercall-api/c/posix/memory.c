/* Kernel memory from the host: malloc for the allocator, anonymous mappings for pages. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "posix_int.h"

/* glibc's malloc already returns memory aligned to this on x86-64 and aarch64. */
#define POSIX_MALLOC_ALIGN 16

int rumpuser_malloc(size_t len, int alignment, void **memp)
{
	void *mem;
	int rv;

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
	(void)len;
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
