/*
 * malloc and friends for NetBSD's libc (its RUMPRUN mode leaves malloc out), on the guest
 * kernel's heap. Each block carries a 16-byte header just below the pointer handed out: the
 * heap block it lives in and the size asked for (realloc copies that much).
 */
#include <mk/mm.h>
#include <mk/lib.h>

#include "nblibc.h"


struct header {
	void *block;
	size_t size;
};

_Static_assert(sizeof(struct header) == 16, "the header keeps 16-byte alignment");

static void *alloc_aligned(size_t size, size_t align)
{
	if (align < sizeof(struct header))
		align = sizeof(struct header);
	if (size > (size_t)-1 / 2 - align) {
		*__errno() = RUMPXEN_NETBSD_ENOMEM;
		return NULL;
	}
	char *block = mk_malloc(size + align, align);
	if (block == NULL) {
		*__errno() = RUMPXEN_NETBSD_ENOMEM;
		return NULL;
	}
	char *p = block + align;
	struct header *h = (struct header *)p - 1;
	h->block = block;
	h->size = size;
	return p;
}

void *malloc(size_t size)
{
	return alloc_aligned(size, 16);
}

void free(void *p)
{
	if (p == NULL)
		return;
	mk_free(((struct header *)p - 1)->block);
}

void *calloc(size_t n, size_t size)
{
	if (size != 0 && n > (size_t)-1 / size) {
		*__errno() = RUMPXEN_NETBSD_ENOMEM;
		return NULL;
	}
	void *p = malloc(n * size);
	if (p != NULL)
		mk_memset(p, 0, n * size);
	return p;
}

void *realloc(void *old, size_t size)
{
	if (old == NULL)
		return malloc(size);
	size_t had = ((struct header *)old - 1)->size;
	if (size <= had && size >= had / 2) {
		((struct header *)old - 1)->size = size;
		return old;
	}
	void *p = malloc(size);
	if (p == NULL)
		return NULL;
	mk_memcpy(p, old, had < size ? had : size);
	free(old);
	return p;
}

int posix_memalign(void **out, size_t align, size_t size)
{
	if (align < sizeof(void *) || (align & (align - 1)) != 0)
		return RUMPXEN_NETBSD_EINVAL;
	void *p = alloc_aligned(size, align);
	if (p == NULL)
		return RUMPXEN_NETBSD_ENOMEM;
	*out = p;
	return 0;
}

void *aligned_alloc(size_t align, size_t size)
{
	void *p;
	int error = posix_memalign(&p, align, size);
	if (error != 0) {
		*__errno() = error;
		return NULL;
	}
	return p;
}
