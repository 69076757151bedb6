/*
 * Interrupts as pirqs: the source (a GSI for INTx, an MSI vector) becomes a pirq, the pirq
 * is bound to an event channel, and each established interrupt has a kernel thread that
 * the event wakes. The port stays masked from the event until the handler has run and the
 * pirq is EOIed, so a level-triggered line cannot storm and handlers never run in the upcall.
 */
#include <mk/crash.h>
#include <mk/evtchn.h>
#include <mk/mm.h>
#include <mk/sched.h>
#include "pcix_int.h"


#define PCI_COMMAND 0x04
#define PCI_COMMAND_INTX_DISABLE (1u << 10)
#define PCI_COMMAND_MASTER (1u << 2)
#define PCI_CAP_PTR 0x34
#define PCI_CAP_MSI 0x05
#define MSI_ENABLE (1u << 16)

struct pcix_intr {
	int pirq;
	uint32_t port;
	int (*handler)(void *);
	void *arg;
	bool take_rump_cpu;
	bool needs_eoi;
	bool pending;
	bool stopping;
	bool idle; /* the thread waits for an event (not inside the handler) */
	uint64_t event_tsc;
	uint64_t count;
	struct mk_thread *thread;
	char name[32];
};

int pcix_intr_map_intx(unsigned bus, unsigned dev, unsigned fn, unsigned gsi, int *pirq)
{
	if (gsi == 0 || gsi >= 255)
		return pcix_fail(XEN_EINVAL, "pcix: %02x:%02x.%x has interrupt line %u, which is no "
			"routable GSI (firmware left it unassigned); use MSI", bus, dev, fn, gsi);
	if (!mk_boot.is_dom0) {
		/* The toolstack mapped the device's GSI into this domain as the pirq of the same number. */
		*pirq = (int)gsi;
		return 0;
	}
	struct pcix_physdev_setup_gsi setup = { .gsi = (int)gsi, .triggering = 1, .polarity = 0 };
	long rc = pcix_physdev_op(PCIX_PHYSDEVOP_setup_gsi, &setup);
	if (rc && rc != -PCIX_EEXIST)
		return pcix_fail((int)-rc, "pcix: PHYSDEVOP_setup_gsi for GSI %u of %02x:%02x.%x failed "
			"(Xen error %ld)", gsi, bus, dev, fn, rc);
	struct pcix_physdev_map_pirq map = { .domid = XEN_DOMID_SELF,
		.type = PCIX_MAP_PIRQ_TYPE_GSI, .index = (int)gsi, .pirq = (int)gsi };
	rc = pcix_physdev_op(PCIX_PHYSDEVOP_map_pirq, &map);
	if (rc)
		return pcix_fail((int)-rc, "pcix: PHYSDEVOP_map_pirq for GSI %u of %02x:%02x.%x failed "
			"(Xen error %ld)", gsi, bus, dev, fn, rc);
	*pirq = map.pirq;
	return 0;
}

static int find_msi_cap(unsigned bus, unsigned dev, unsigned fn, unsigned *off)
{
	uint32_t v;
	int err = pcix_conf_read(bus, dev, fn, PCI_CAP_PTR, &v);
	unsigned ptr = v & 0xfc;
	for (int n = 0; !err && ptr >= 0x40 && n < 48; n++) {
		err = pcix_conf_read(bus, dev, fn, ptr, &v);
		if (!err && (v & 0xff) == PCI_CAP_MSI) {
			*off = ptr;
			return 0;
		}
		ptr = (v >> 8) & 0xfc;
	}
	return err ? err : pcix_fail(PCIX_ENODEV, "pcix: %02x:%02x.%x has no MSI capability; use "
		"its INTx interrupt", bus, dev, fn);
}

static int set_command_bits(unsigned bus, unsigned dev, unsigned fn, uint32_t set, uint32_t clear)
{
	uint32_t v;
	int err = pcix_conf_read(bus, dev, fn, PCI_COMMAND, &v);
	if (err)
		return err;
	v = (v & 0xffffu & ~clear) | set; /* don't write status bits back (write-1-to-clear) */
	return pcix_conf_write(bus, dev, fn, PCI_COMMAND, v);
}

int pcix_intr_map_msi(unsigned bus, unsigned dev, unsigned fn, int *pirq)
{
	unsigned cap;
	int err = find_msi_cap(bus, dev, fn, &cap);
	if (err)
		return err;
	if (!mk_boot.is_dom0) {
		err = pcix_front_enable_msi(bus, dev, fn, pirq);
		if (err)
			return err;
	} else {
		struct pcix_physdev_pci_device_add add = { .bus = (uint8_t)bus,
			.devfn = (uint8_t)((dev << 3) | fn) };
		long rc = pcix_physdev_op(PCIX_PHYSDEVOP_pci_device_add, &add);
		if (rc && rc != -PCIX_EEXIST)
			return pcix_fail((int)-rc, "pcix: PHYSDEVOP_pci_device_add for %02x:%02x.%x failed "
				"(Xen error %ld): Xen cannot give the device MSI", bus, dev, fn, rc);
		struct pcix_physdev_map_pirq map = { .domid = XEN_DOMID_SELF,
			.type = PCIX_MAP_PIRQ_TYPE_MSI, .index = -1, .pirq = -1, .bus = (int)bus,
			.devfn = (int)((dev << 3) | fn) };
		rc = pcix_physdev_op(PCIX_PHYSDEVOP_map_pirq, &map);
		if (rc)
			return pcix_fail((int)-rc, "pcix: PHYSDEVOP_map_pirq (MSI) for %02x:%02x.%x failed "
				"(Xen error %ld)", bus, dev, fn, rc);
		*pirq = map.pirq;
		/* Xen wrote the message address and data; enabling is the owner's job. */
		uint32_t ctl;
		err = pcix_conf_read(bus, dev, fn, cap, &ctl);
		if (!err && !(ctl & MSI_ENABLE))
			err = pcix_conf_write(bus, dev, fn, cap, ctl | MSI_ENABLE);
		if (err)
			return err;
	}
	/* pciback may refuse command writes of a DomU (non-permissive): best effort there. */
	err = set_command_bits(bus, dev, fn, PCI_COMMAND_INTX_DISABLE, 0);
	return mk_boot.is_dom0 ? err : 0;
}

int pcix_intr_unmap_msi(unsigned bus, unsigned dev, unsigned fn, int pirq)
{
	unsigned cap;
	uint32_t ctl;
	if (!mk_boot.is_dom0)
		return pcix_front_disable_msi(bus, dev, fn);
	if (find_msi_cap(bus, dev, fn, &cap) == 0 && pcix_conf_read(bus, dev, fn, cap, &ctl) == 0)
		pcix_conf_write(bus, dev, fn, cap, ctl & ~MSI_ENABLE);
	struct pcix_physdev_unmap_pirq un = { .domid = XEN_DOMID_SELF, .pirq = pirq };
	long rc = pcix_physdev_op(PCIX_PHYSDEVOP_unmap_pirq, &un);
	set_command_bits(bus, dev, fn, 0, PCI_COMMAND_INTX_DISABLE);
	return rc ? pcix_fail((int)-rc, "pcix: PHYSDEVOP_unmap_pirq %d failed (Xen error %ld)",
		pirq, rc) : 0;
}

static void on_event(uint32_t port, void *arg)
{
	struct pcix_intr *ih = arg;
	(void)port;
	ih->event_tsc = mk_rdtsc();
	mk_evtchn_mask(ih->port);
	ih->pending = true;
	if (ih->idle)
		mk_thread_wake(ih->thread);
}

static void *intr_thread(void *arg)
{
	struct pcix_intr *ih = arg;
	if (ih->take_rump_cpu)
		rumpuser_component_kthread();
	for (;;) {
		ih->idle = true;
		while (!ih->pending && !ih->stopping)
			mk_thread_block();
		ih->idle = false;
		if (ih->stopping)
			break;
		ih->pending = false;
		if (ih->take_rump_cpu)
			rumpuser_component_schedule(NULL);
		ih->handler(ih->arg);
		if (ih->take_rump_cpu)
			rumpuser_component_unschedule();
		ih->count++;
		if (ih->needs_eoi) {
			struct pcix_physdev_eoi eoi = { .irq = (uint32_t)ih->pirq };
			pcix_physdev_op(PCIX_PHYSDEVOP_eoi, &eoi);
		}
		mk_evtchn_unmask(ih->port);
	}
	if (ih->take_rump_cpu)
		rumpuser_component_kthread_release();
	return NULL;
}

struct pcix_intr *pcix_intr_establish(int pirq, bool shareable, int (*handler)(void *),
	void *arg, bool take_rump_cpu, const char *name, int *err)
{
	struct pcix_intr *ih = mk_zalloc(sizeof(*ih), 0);
	if (!ih) {
		*err = pcix_fail(XEN_ENOMEM, "pcix: out of memory establishing pirq %d", pirq);
		return NULL;
	}
	ih->pirq = pirq;
	ih->handler = handler;
	ih->arg = arg;
	ih->take_rump_cpu = take_rump_cpu;
	mk_strlcpy(ih->name, name ? name : "pci-intr", sizeof(ih->name));
	struct pcix_physdev_irq_status_query q = { .irq = (uint32_t)pirq };
	if (pcix_physdev_op(PCIX_PHYSDEVOP_irq_status_query, &q) == 0)
		ih->needs_eoi = (q.flags & PCIX_XENIRQSTAT_needs_eoi) != 0;
	ih->thread = mk_thread_create(ih->name, intr_thread, ih, 0, true);
	if (!ih->thread) {
		mk_free(ih);
		*err = pcix_fail(XEN_ENOMEM, "pcix: out of memory for the thread of pirq %d", pirq);
		return NULL;
	}
	struct pcix_evtchn_bind_pirq bind = { .pirq = (uint32_t)pirq,
		.flags = shareable ? PCIX_BIND_PIRQ_WILL_SHARE : 0 };
	long rc = mk_hc_event_channel_op(PCIX_EVTCHNOP_bind_pirq, &bind);
	if (rc) {
		ih->stopping = true;
		mk_thread_join(ih->thread);
		mk_free(ih);
		*err = pcix_fail((int)-rc, "pcix: EVTCHNOP_bind_pirq for pirq %d failed (Xen error %ld)%s",
			pirq, rc, rc == -XEN_EPERM ? ": the domain was not given this interrupt" : "");
		return NULL;
	}
	ih->port = bind.port;
	mk_evtchn_set_handler(ih->port, on_event, ih);
	*err = 0;
	return ih;
}

void pcix_intr_disestablish(struct pcix_intr *ih)
{
	if (!ih)
		return;
	mk_evtchn_close(ih->port);
	ih->stopping = true;
	/* A handler that blocked inside must not be woken early: it finds stopping when it returns. */
	if (ih->idle)
		mk_thread_wake(ih->thread);
	mk_thread_join(ih->thread);
	mk_free(ih);
}

uint64_t pcix_intr_last_event_tsc(const struct pcix_intr *ih)
{
	return ih->event_tsc;
}

uint64_t pcix_intr_count(const struct pcix_intr *ih)
{
	return ih->count;
}
