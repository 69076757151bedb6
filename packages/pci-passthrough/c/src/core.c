/*
 * Config space: as dom0 through the 0xCF8/0xCFC ports (I/O privilege from PHYSDEVOP_set_iopl),
 * as a DomU through pcifront. Also the shared last-error message.
 */
#include "pcix_int.h"

#define PCI_CONF_ADDR 0xcf8
#define PCI_CONF_DATA 0xcfc

enum mechanism { MECH_NONE, MECH_PORTS, MECH_FRONT };
static enum mechanism mech;
static char last_error[256];

int pcix_fail(int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	mk_vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	return err;
}

const char *pcix_last_error(void)
{
	return last_error;
}

int pcix_iospace_init(void)
{
	static bool done;
	if (done)
		return 0;
	/*
	 * The virtual IOPL lets a PV kernel's in/out reach Xen's emulation; Xen then passes
	 * through only the ports in the domain's I/O permissions (dom0: all; a DomU: the I/O
	 * BARs xl granted with its PCI devices) and reads others as all ones.
	 */
	struct pcix_physdev_set_iopl iopl = { .iopl = 3 };
	long rc = pcix_physdev_op(PCIX_PHYSDEVOP_set_iopl, &iopl);
	if (rc)
		return pcix_fail((int)-rc, "pcix: PHYSDEVOP_set_iopl refused (Xen error %ld): no "
			"port I/O for this %s; use the device's memory BARs", rc,
			mk_boot.is_dom0 ? "dom0" : "DomU");
	done = true;
	return 0;
}

int pcix_init(void)
{
	if (mech != MECH_NONE)
		return 0;
	if (mk_boot.is_dom0) {
		int err = pcix_iospace_init();
		if (err)
			return err;
		mech = MECH_PORTS;
		return 0;
	}
	int err = pcix_front_init();
	if (err)
		return err;
	mech = MECH_FRONT;
	return 0;
}

bool pcix_is_dom0(void)
{
	return mk_boot.is_dom0;
}

const char *pcix_config_mechanism(void)
{
	return mech == MECH_PORTS ? "dom0 port I/O" : mech == MECH_FRONT ? "pcifront" : "none";
}

static int check_address(unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
	if (bus > 255 || dev > 31 || fn > 7 || reg > 252 || (reg & 3))
		return pcix_fail(XEN_EINVAL, "pcix: config access %02x:%02x.%x register %#x is out "
			"of range (bus < 256, device < 32, function < 8, register 4-aligned < 256)",
			bus, dev, fn, reg);
	if (mech == MECH_NONE)
		return pcix_fail(XEN_EIO, "pcix: config space used before pcix_init succeeded");
	return 0;
}

static uint32_t port_address(unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
	return 0x80000000u | (bus << 16) | (dev << 11) | (fn << 8) | reg;
}

int pcix_conf_read(unsigned bus, unsigned dev, unsigned fn, unsigned reg, uint32_t *val)
{
	int err = check_address(bus, dev, fn, reg);
	if (err) {
		*val = 0xffffffffu;
		return err;
	}
	if (mech == MECH_FRONT)
		return pcix_front_conf(false, bus, dev, fn, reg, val);
	pcix_outl(PCI_CONF_ADDR, port_address(bus, dev, fn, reg));
	*val = pcix_inl(PCI_CONF_DATA);
	return 0;
}

int pcix_conf_write(unsigned bus, unsigned dev, unsigned fn, unsigned reg, uint32_t val)
{
	int err = check_address(bus, dev, fn, reg);
	if (err)
		return err;
	if (mech == MECH_FRONT)
		return pcix_front_conf(true, bus, dev, fn, reg, &val);
	pcix_outl(PCI_CONF_ADDR, port_address(bus, dev, fn, reg));
	pcix_outl(PCI_CONF_DATA, val);
	return 0;
}
