/*
 * rumpcomp_pci_* (pci_user.h) on Xen over the pcix services. Errors are NetBSD errno
 * values. Interrupt handlers established here enter the rump kernel (they come from one).
 */
#include <mk/console.h>
#include <mk/mm.h>
#include <mk/sched.h>
#include "pcix_int.h"
#include "pci_user.h"

/* Xen/Linux errno -> NetBSD errno (the few that differ). */
int pcix_netbsd_errno(int err)
{
	switch (err) {
	case XEN_EAGAIN: return 35;
	case XEN_ENOSYS: return 78;
	default: return err;
	}
}

static int ensure_init(void)
{
	return pcix_netbsd_errno(pcix_init());
}

void *rumpcomp_pci_map(unsigned long addr, unsigned long len)
{
	int err;
	void *va = pcix_map_mmio(addr, len, &err);
	if (!va)
		mk_printk("%s\n", pcix_last_error());
	return va;
}

int rumpcomp_pci_confread(unsigned bus, unsigned dev, unsigned fun, int reg, unsigned int *valp)
{
	int err = ensure_init();
	if (err) {
		*valp = 0xffffffffu;
		return err;
	}
	uint32_t v;
	err = pcix_conf_read(bus, dev, fun, (unsigned)reg, &v);
	*valp = v;
	return pcix_netbsd_errno(err);
}

int rumpcomp_pci_confwrite(unsigned bus, unsigned dev, unsigned fun, int reg, unsigned int val)
{
	int err = ensure_init();
	return err ? err : pcix_netbsd_errno(pcix_conf_write(bus, dev, fun, (unsigned)reg, val));
}

/* cookie -> device and line, from rumpcomp_pci_irq_map; any number of them. */
struct irq_route {
	unsigned cookie, bus, dev, fun;
	int line;
	struct irq_route *next;
};
static struct irq_route *routes;

int rumpcomp_pci_irq_map(unsigned bus, unsigned dev, unsigned fun, int intrline, unsigned cookie)
{
	struct irq_route *r = mk_zalloc(sizeof(*r), 0);
	if (!r)
		return 12;
	*r = (struct irq_route){ cookie, bus, dev, fun, intrline, routes };
	routes = r;
	return 0;
}

void *rumpcomp_pci_irq_establish(unsigned cookie, int (*handler)(void *), void *arg)
{
	struct irq_route *r = routes;
	while (r && r->cookie != cookie)
		r = r->next;
	if (!r) {
		mk_printk("pcix: rumpcomp_pci_irq_establish: cookie %u was never mapped with "
			"rumpcomp_pci_irq_map\n", cookie);
		return NULL;
	}
	int pirq, err = pcix_intr_map_intx(r->bus, r->dev, r->fun, (unsigned)r->line, &pirq);
	struct pcix_intr *ih = err ? NULL :
		pcix_intr_establish(pirq, true, handler, arg, true, "rump-pci-intr", &err);
	if (!ih)
		mk_printk("%s\n", pcix_last_error());
	return ih;
}

/*
 * NetBSD's bus_dmamem_alloc passes neither the tag's address limit nor a boundary: allocate
 * below 4 GiB, which every device reaches (32-bit descriptors and DMA engines are common).
 */
#define RUMPCOMP_DMA_ADDR_BITS 32

int rumpcomp_pci_dmalloc(size_t size, size_t align, unsigned long *pap, unsigned long *vap)
{
	void *va;
	uint64_t ma;
	int err = pcix_dma_alloc(size, align, 0, RUMPCOMP_DMA_ADDR_BITS, &va, &ma);
	if (err)
		return pcix_netbsd_errno(err);
	*pap = ma;
	*vap = (unsigned long)va;
	return 0;
}

void rumpcomp_pci_dmafree(unsigned long va, size_t size)
{
	pcix_dma_free((void *)va, size);
}

int rumpcomp_pci_dmamem_map(struct rumpcomp_pci_dmaseg *dss, size_t nseg, size_t totlen, void **vap)
{
	if (nseg == 1 && dss[0].ds_len >= totlen) {
		*vap = (void *)dss[0].ds_vacookie;
		return 0;
	}
	/* Several segments: map their frames one after another in the special-mapping area. */
	unsigned long pages = 0;
	for (size_t i = 0; i < nseg; i++) {
		if ((dss[i].ds_pa | dss[i].ds_len) & 4095)
			return 22;
		pages += dss[i].ds_len >> 12;
	}
	if (pages << 12 < totlen)
		return 22;
	unsigned long *mfns = mk_malloc(pages * sizeof(unsigned long), 0);
	if (!mfns)
		return 12;
	unsigned long n = 0;
	for (size_t i = 0; i < nseg; i++)
		for (unsigned long off = 0; off < dss[i].ds_len; off += 4096)
			mfns[n++] = (dss[i].ds_pa + off) >> 12;
	*vap = pcix_map_frames(mfns, pages);
	mk_free(mfns);
	return *vap ? 0 : 12;
}

unsigned long rumpcomp_pci_virt_to_mach(void *va)
{
	return pcix_virt_to_mach(va);
}

/*
 * Extensions of the rumpcomp_pci hypercalls (not in rumpuser v17's pci_user.h), called by the
 * patched librumpdev_pci of @rumpxen/netbsd-build (patches/libpci-intr-disestablish.patch,
 * libpci-bus-space-unmap.patch) so that a NetBSD driver can detach.
 */
void rumpcomp_pci_irq_disestablish(void *cookie);
void rumpcomp_pci_unmap(void *va, unsigned long size);

/*
 * Takes down an interrupt from rumpcomp_pci_irq_establish: its event channel closed, its
 * thread joined. Called holding a rump CPU, which the handler thread may be waiting for: give
 * it up around the join.
 */
void rumpcomp_pci_irq_disestablish(void *cookie)
{
	void *cpu = rumpuser_component_unschedule();
	pcix_intr_disestablish(cookie);
	rumpuser_component_schedule(cpu);
}

/* Unmaps device memory from rumpcomp_pci_map. */
void rumpcomp_pci_unmap(void *va, unsigned long size)
{
	pcix_unmap_mmio(va, size);
}

/*
 * Bounce buffers for NetBSD's bus_dma maps, extensions called by the patched
 * librumpdev_pci (patches/libpci-bus-dma-machine-contiguous.patch of @rumpxen/netbsd-build);
 * the cookie lives in the map's _dm_cookie. NetBSD's rump pci bus (pci_at_mainbus.c) gives
 * drivers two DMA tags: pa_dmat, the cookie 0x20, and on LP64 pa_dmat64, 0x40, which drivers
 * take when their device addresses 64 bits (pci_dma64_available). Maps on pa_dmat64 get no
 * cookie (never bounce); every other tag is taken to address 32 bits, rumpcomp_pci_dmalloc's
 * limit. Op bits are bus_dma(9)'s BUS_DMASYNC_*.
 */
#define RUMPCOMP_PCI_DMAT64 ((void *)0x40)
#define RUMPCOMP_DMASYNC_POSTREAD 0x02
#define RUMPCOMP_DMASYNC_PREWRITE 0x04
int rumpcomp_pci_bounce_create(void *tag, unsigned long maxsize, void **cookiep);
void rumpcomp_pci_bounce_destroy(void *cookie);
int rumpcomp_pci_bounce_beyond(void *cookie, unsigned long maddr, unsigned long len);
void rumpcomp_pci_bounce_reset(void *cookie);
int rumpcomp_pci_bounce_add(void *cookie, void *va, unsigned long len);
int rumpcomp_pci_bounce_start(void *cookie, void **vap, unsigned long *lenp);
void rumpcomp_pci_bounce_sync(void *cookie, unsigned long off, unsigned long len, int ops);

int rumpcomp_pci_bounce_create(void *tag, unsigned long maxsize, void **cookiep)
{
	*cookiep = NULL;
	if (tag == RUMPCOMP_PCI_DMAT64)
		return 0;
	struct pcix_bounce *b;
	int err = pcix_bounce_create(RUMPCOMP_DMA_ADDR_BITS, maxsize, &b);
	if (err) {
		mk_printk("%s\n", pcix_last_error());
		return pcix_netbsd_errno(err);
	}
	*cookiep = b;
	return 0;
}

void rumpcomp_pci_bounce_destroy(void *cookie)
{
	pcix_bounce_destroy(cookie);
}

int rumpcomp_pci_bounce_beyond(void *cookie, unsigned long maddr, unsigned long len)
{
	return pcix_bounce_beyond(cookie, maddr, len);
}

void rumpcomp_pci_bounce_reset(void *cookie)
{
	pcix_bounce_reset(cookie);
}

int rumpcomp_pci_bounce_add(void *cookie, void *va, unsigned long len)
{
	int err = pcix_bounce_add(cookie, va, len);
	if (err)
		mk_printk("%s\n", pcix_last_error());
	return pcix_netbsd_errno(err);
}

int rumpcomp_pci_bounce_start(void *cookie, void **vap, unsigned long *lenp)
{
	size_t len = 0;
	int err = pcix_bounce_start(cookie, vap, &len);
	if (err)
		mk_printk("%s\n", pcix_last_error());
	*lenp = len;
	return pcix_netbsd_errno(err);
}

/* A read ends before a write starts when one sync names both. */
void rumpcomp_pci_bounce_sync(void *cookie, unsigned long off, unsigned long len, int ops)
{
	if (ops & RUMPCOMP_DMASYNC_POSTREAD)
		pcix_bounce_sync(cookie, off, len, false);
	if (ops & RUMPCOMP_DMASYNC_PREWRITE)
		pcix_bounce_sync(cookie, off, len, true);
}

int rumpcomp_pci_iospace_init(void)
{
	return pcix_netbsd_errno(pcix_iospace_init());
}
