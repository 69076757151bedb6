/* pci(9) and pci_intr(9) over rumpcomp_pci config access and the pcix interrupt services. */
#include <mk/mm.h>
#include <mk/console.h>
#include <mk/rumpattach.h>
#include <pcix/bus.h>
#include "pcix_int.h"
#include "pci_user.h"

pcitag_t pci_make_tag(pci_chipset_tag_t pc, int bus, int device, int function)
{
	(void)pc;
	return ((unsigned long)(bus & 0xff) << 16) | ((unsigned long)(device & 0x1f) << 11) |
		((unsigned long)(function & 7) << 8);
}

void pci_decompose_tag(pci_chipset_tag_t pc, pcitag_t tag, int *busp, int *devicep, int *functionp)
{
	(void)pc;
	if (busp)
		*busp = (int)((tag >> 16) & 0xff);
	if (devicep)
		*devicep = (int)((tag >> 11) & 0x1f);
	if (functionp)
		*functionp = (int)((tag >> 8) & 7);
}

pcireg_t pci_conf_read(pci_chipset_tag_t pc, pcitag_t tag, int reg)
{
	int b, d, f;
	unsigned int v;
	pci_decompose_tag(pc, tag, &b, &d, &f);
	if (rumpcomp_pci_confread((unsigned)b, (unsigned)d, (unsigned)f, reg, &v))
		return 0xffffffffu;
	return v;
}

void pci_conf_write(pci_chipset_tag_t pc, pcitag_t tag, int reg, pcireg_t val)
{
	int b, d, f;
	pci_decompose_tag(pc, tag, &b, &d, &f);
	rumpcomp_pci_confwrite((unsigned)b, (unsigned)d, (unsigned)f, reg, val);
}

int pci_bus_maxdevs(pci_chipset_tag_t pc, int busno)
{
	(void)pc;
	(void)busno;
	return 32;
}

extern struct pcix_dma_tag pcix_dma_tag_default;

int pcix_pci_find(int maxbus, unsigned vendor, unsigned product, int nth,
	struct pci_attach_args *pa)
{
	int seen = 0;
	int err = pcix_init();
	if (err)
		return pcix_netbsd_errno(err);
	for (int bus = 0; bus <= maxbus; bus++) {
		for (int dev = 0; dev < pci_bus_maxdevs(NULL, bus); dev++) {
			for (int fn = 0; fn < 8; fn++) {
				pcitag_t tag = pci_make_tag(NULL, bus, dev, fn);
				pcireg_t id = pci_conf_read(NULL, tag, PCI_ID_REG);
				if (PCI_VENDOR(id) == 0xffff) {
					if (fn == 0)
						break;
					continue;
				}
				if (PCI_VENDOR(id) == vendor && PCI_PRODUCT(id) == product && seen++ == nth) {
					pcireg_t intr = pci_conf_read(NULL, tag, PCI_INTERRUPT_REG);
					*pa = (struct pci_attach_args){ .pa_pc = NULL, .pa_tag = tag,
						.pa_bus = bus, .pa_device = dev, .pa_function = fn,
						.pa_id = id, .pa_class = pci_conf_read(NULL, tag, PCI_CLASS_REG),
						.pa_intrpin = (int)((intr >> 8) & 0xff),
						.pa_intrline = (int)(intr & 0xff),
						.pa_iot = X86_BUS_SPACE_IO, .pa_memt = X86_BUS_SPACE_MEM,
						.pa_dmat = &pcix_dma_tag_default,
						.pa_dmat64 = &pcix_dma_tag_default };
					return 0;
				}
				pcireg_t bhlc = pci_conf_read(NULL, tag, PCI_BHLC_REG);
				if (fn == 0 && !(bhlc & 0x00800000u))
					break; /* single-function device */
			}
		}
	}
	if (seen)
		pcix_fail(PCIX_ENODEV, "pcix: only %d PCI device(s) %04x:%04x on buses 0..%d, no "
			"number %d", seen, vendor, product, maxbus, nth);
	else
		pcix_fail(PCIX_ENODEV, "pcix: no PCI device %04x:%04x on buses 0..%d (config space "
			"via %s); pass the device to the domain (xl pci=[...]) or check the ids",
			vendor, product, maxbus, pcix_config_mechanism());
	return PCIX_ENODEV;
}

int pci_mapreg_map(const struct pci_attach_args *pa, int reg, pcireg_t type, int busflags,
	bus_space_tag_t *tagp, bus_space_handle_t *handlep, bus_addr_t *basep, bus_size_t *sizep)
{
	if (reg < PCI_MAPREG_START || reg >= PCI_MAPREG_END || (reg & 3)) {
		pcix_fail(XEN_EINVAL, "pcix: pci_mapreg_map: register %#x is no BAR (0x10..0x24)", reg);
		return 22;
	}
	pcireg_t cmd = pci_conf_read(pa->pa_pc, pa->pa_tag, PCI_COMMAND_STATUS_REG) & 0xffff;
	pcireg_t bar = pci_conf_read(pa->pa_pc, pa->pa_tag, reg);
	bool io = bar & PCI_MAPREG_TYPE_IO;
	bool is64 = !io && ((bar >> 1) & 3) == 2;
	if (io != ((type & PCI_MAPREG_TYPE_IO) != 0)) {
		pcix_fail(XEN_EINVAL, "pcix: BAR %#x is %s space, the driver asked for %s", reg,
			io ? "I/O" : "memory", (type & PCI_MAPREG_TYPE_IO) ? "I/O" : "memory");
		return 22;
	}
	/* Size: decode off, write all-ones, read the mask back, restore. */
	pci_conf_write(pa->pa_pc, pa->pa_tag, PCI_COMMAND_STATUS_REG,
		cmd & ~(pcireg_t)(PCI_COMMAND_IO_ENABLE | PCI_COMMAND_MEM_ENABLE));
	pci_conf_write(pa->pa_pc, pa->pa_tag, reg, 0xffffffffu);
	uint64_t mask = pci_conf_read(pa->pa_pc, pa->pa_tag, reg);
	pci_conf_write(pa->pa_pc, pa->pa_tag, reg, bar);
	uint64_t base, hi = 0;
	if (is64) {
		hi = pci_conf_read(pa->pa_pc, pa->pa_tag, reg + 4);
		pci_conf_write(pa->pa_pc, pa->pa_tag, reg + 4, 0xffffffffu);
		mask |= (uint64_t)pci_conf_read(pa->pa_pc, pa->pa_tag, reg + 4) << 32;
		pci_conf_write(pa->pa_pc, pa->pa_tag, reg + 4, (pcireg_t)hi);
	} else if (!io) {
		mask |= 0xffffffff00000000ULL;
	} else {
		mask |= 0xffffffffffff0000ULL;
	}
	pci_conf_write(pa->pa_pc, pa->pa_tag, PCI_COMMAND_STATUS_REG,
		cmd | (io ? PCI_COMMAND_IO_ENABLE : PCI_COMMAND_MEM_ENABLE));
	mask &= io ? ~3ULL : ~15ULL;
	base = ((uint64_t)hi << 32) | (bar & (io ? ~3u : ~15u));
	bus_size_t size = ~mask + 1;
	if (mask == 0 || size == 0 || base == 0) {
		pcix_fail(XEN_EINVAL, "pcix: BAR %#x of %02x:%02x.%x is unimplemented or unassigned "
			"(value %#x); the firmware must assign it", reg, pa->pa_bus, pa->pa_device,
			pa->pa_function, bar);
		return 22;
	}
	bus_space_tag_t t = io ? X86_BUS_SPACE_IO : X86_BUS_SPACE_MEM;
	bus_space_handle_t h;
	int err = bus_space_map(t, base, size, busflags, &h);
	if (err)
		return err;
	if (tagp)
		*tagp = t;
	if (handlep)
		*handlep = h;
	if (basep)
		*basep = base;
	if (sizep)
		*sizep = size;
	return 0;
}

#define IH_VALID (1ULL << 63)
#define IH_MSI (1ULL << 62)

static pci_intr_handle_t make_ih(const struct pci_attach_args *pa, bool msi, unsigned n)
{
	return IH_VALID | (msi ? IH_MSI : 0) | ((uint64_t)(pa->pa_tag >> 8) << 32) | n;
}

static void ih_bdf(pci_intr_handle_t ih, unsigned *b, unsigned *d, unsigned *f)
{
	unsigned long tag = (unsigned long)((ih >> 32) & 0xffff) << 8;
	*b = (tag >> 16) & 0xff;
	*d = (tag >> 11) & 0x1f;
	*f = (tag >> 8) & 7;
}

int pci_intr_map(const struct pci_attach_args *pa, pci_intr_handle_t *ihp)
{
	if (pa->pa_intrpin < 1 || pa->pa_intrpin > 4) {
		pcix_fail(XEN_EINVAL, "pcix: %02x:%02x.%x has no interrupt pin", pa->pa_bus,
			pa->pa_device, pa->pa_function);
		return 22;
	}
	if (pa->pa_intrline == 0 || pa->pa_intrline == 0xff) {
		pcix_fail(XEN_EINVAL, "pcix: %02x:%02x.%x has no interrupt line assigned; use MSI",
			pa->pa_bus, pa->pa_device, pa->pa_function);
		return 22;
	}
	*ihp = make_ih(pa, false, (unsigned)pa->pa_intrline);
	return 0;
}

pci_intr_type_t pci_intr_type(pci_chipset_tag_t pc, pci_intr_handle_t ih)
{
	(void)pc;
	return (ih & IH_MSI) ? PCI_INTR_TYPE_MSI : PCI_INTR_TYPE_INTX;
}

const char *pci_intr_string(pci_chipset_tag_t pc, pci_intr_handle_t ih, char *buf, size_t len)
{
	(void)pc;
	if (!(ih & IH_VALID))
		mk_snprintf(buf, len, "invalid interrupt handle");
	else if (ih & IH_MSI)
		mk_snprintf(buf, len, "msi pirq %u", (unsigned)ih);
	else
		mk_snprintf(buf, len, "gsi %u", (unsigned)ih);
	return buf;
}

struct md_intr {
	struct pcix_intr *ih;
};

void *pci_intr_establish_xname(pci_chipset_tag_t pc, pci_intr_handle_t ih, int level,
	int (*func)(void *), void *arg, const char *xname)
{
	(void)pc;
	(void)level;
	unsigned b, d, f;
	int pirq, err = 0;
	if (!(ih & IH_VALID)) {
		pcix_fail(XEN_EINVAL, "pcix: pci_intr_establish with an invalid handle");
		return NULL;
	}
	ih_bdf(ih, &b, &d, &f);
	if (ih & IH_MSI)
		pirq = (int)(uint32_t)ih;
	else
		err = pcix_intr_map_intx(b, d, f, (unsigned)ih, &pirq);
	if (err)
		return NULL;
	struct md_intr *c = mk_zalloc(sizeof(*c), 0);
	if (!c)
		return NULL;
	/*
	 * A driver inside a rump kernel runs its handler with the rump CPU taken, as the
	 * rumpcomp path does; before any rump kernel attached there is no CPU to take.
	 */
	c->ih = pcix_intr_establish(pirq, !(ih & IH_MSI), func, arg, mk_rumpuser_attached(), xname, &err);
	if (!c->ih) {
		mk_free(c);
		return NULL;
	}
	return c;
}

void *pci_intr_establish(pci_chipset_tag_t pc, pci_intr_handle_t ih, int level,
	int (*func)(void *), void *arg)
{
	return pci_intr_establish_xname(pc, ih, level, func, arg, "pci-intr");
}

void pci_intr_disestablish(pci_chipset_tag_t pc, void *cookie)
{
	(void)pc;
	struct md_intr *c = cookie;
	if (!c)
		return;
	pcix_intr_disestablish(c->ih);
	mk_free(c);
}

uint64_t pcix_intr_cookie_event_tsc(void *cookie)
{
	return pcix_intr_last_event_tsc(((struct md_intr *)cookie)->ih);
}

int pci_msi_alloc_exact(const struct pci_attach_args *pa, pci_intr_handle_t **ihps, int count)
{
	if (count != 1) {
		pcix_fail(XEN_EINVAL, "pcix: %d MSI vectors requested for %02x:%02x.%x; Xen maps one "
			"MSI vector per device here: ask for 1", count, pa->pa_bus, pa->pa_device,
			pa->pa_function);
		return 22;
	}
	pci_intr_handle_t *ihs = mk_zalloc(sizeof(*ihs), 0);
	if (!ihs)
		return 12;
	int pirq;
	int err = pcix_intr_map_msi((unsigned)pa->pa_bus, (unsigned)pa->pa_device,
		(unsigned)pa->pa_function, &pirq);
	if (err) {
		mk_free(ihs);
		return pcix_netbsd_errno(err);
	}
	ihs[0] = make_ih(pa, true, (unsigned)pirq);
	*ihps = ihs;
	return 0;
}

void pci_intr_release(pci_chipset_tag_t pc, pci_intr_handle_t *ihs, int count)
{
	(void)pc;
	for (int i = 0; i < count; i++) {
		unsigned b, d, f;
		ih_bdf(ihs[i], &b, &d, &f);
		if (ihs[i] & IH_MSI)
			pcix_intr_unmap_msi(b, d, f, (int)(uint32_t)ihs[i]);
	}
	mk_free(ihs);
}
