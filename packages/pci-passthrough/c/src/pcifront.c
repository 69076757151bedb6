/*
 * pcifront: config space and MSI of passed-through devices as a DomU, through pciback in
 * dom0 (xenbus device/pci/0, one shared op page granted to the backend, an event channel).
 */
#include "pcix_int.h"

int pcix_front_init(void)
{
	return pcix_fail(PCIX_ENODEV, "pcix: pcifront is not implemented yet: as a DomU this "
		"kernel has no PCI config space access");
}

int pcix_front_conf(bool write, unsigned bus, unsigned dev, unsigned fn, unsigned reg,
	uint32_t *val)
{
	(void)write; (void)bus; (void)dev; (void)fn; (void)reg; (void)val;
	return PCIX_ENODEV;
}

int pcix_front_enable_msi(unsigned bus, unsigned dev, unsigned fn, int *pirq)
{
	(void)bus; (void)dev; (void)fn; (void)pirq;
	return PCIX_ENODEV;
}

int pcix_front_disable_msi(unsigned bus, unsigned dev, unsigned fn)
{
	(void)bus; (void)dev; (void)fn;
	return PCIX_ENODEV;
}
