/* Kernel memory from the guest kernel's heap and page allocator. */
#include "xen_int.h"
#include <mk/lib.h>
#include <mk/mm.h>

int rumpuser_malloc(size_t len, int alignment, void **memp)
{
	if (alignment < 0 || (alignment & (alignment - 1)) != 0)
		return RUMPXEN_NETBSD_EINVAL;
	void *p = mk_malloc(len ? len : 1, (size_t)alignment);
	if (!p)
		return RUMPXEN_NETBSD_ENOMEM;
	*memp = p;
	return 0;
}

void rumpuser_free(void *mem, size_t len)
{
	(void)len;
	mk_free(mem);
}

/* All RAM is mapped read-write-execute already: prefaddr and exec need nothing more. */
int rumpuser_anonmmap(void *prefaddr, size_t size, int alignbit, int exec, void **memp)
{
	(void)prefaddr;
	(void)exec;
	if (size == 0 || alignbit < 0 || alignbit >= 40)
		return RUMPXEN_NETBSD_EINVAL;
	size_t align_pages = alignbit > 12 ? (size_t)1 << (alignbit - 12) : 1;
	void *p = mk_page_alloc(MK_ALIGN_UP(size, 4096UL) >> 12, align_pages);
	if (!p)
		return RUMPXEN_NETBSD_ENOMEM;
	/* Anonymous memory reads as zero, as a fresh mapping does on posix. */
	mk_memset(p, 0, MK_ALIGN_UP(size, 4096UL));
	*memp = p;
	return 0;
}

void rumpuser_unmap(void *addr, size_t len)
{
	mk_page_free(addr, MK_ALIGN_UP(len, 4096UL) >> 12);
}
