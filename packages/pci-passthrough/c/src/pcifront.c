/*
 * pcifront: config space and MSI of passed-through devices as a DomU, through pciback in
 * dom0. Handshake on xenbus device/pci/0: grant one page (the op page) to the backend,
 * allocate an event channel, publish pci-op-ref / event-channel / magic, go Initialised,
 * wait for the backend to be Connected, go Connected. Each operation: copy it into the
 * page, set the active flag, notify, wait for the backend to clear the flag, copy the result
 * out (the page is shared: everything read back is checked before use).
 */
#include <mk/console.h>
#include <mk/evtchn.h>
#include <mk/gnttab.h>
#include <mk/mm.h>
#include <mk/sched.h>
#include <mk/time.h>
#include <mk/xenbus.h>
#include "pcix_int.h"

#define FRONT "device/pci/0"
#define XENBUS_STATE_INITIALISED 3
#define XENBUS_STATE_CONNECTED 4
#define XEN_PCI_MAGIC "7"
#define OP_TIMEOUT_NS 10000000000ULL
#define CONNECT_TIMEOUT_NS 30000000000ULL

struct front {
	struct pcix_xen_pci_sharedinfo *page;
	uint16_t backend_id;
	char backend[128];
	uint32_t port;
	mk_grant_ref_t ref;
	struct mk_thread *waiter;
	bool busy;
};
static struct front front;

static void on_backend_event(uint32_t port, void *arg)
{
	(void)port;
	struct front *f = arg;
	if (f->waiter)
		mk_thread_wake(f->waiter);
}

static int read_state(const char *dir, int *state)
{
	char path[160], *v;
	mk_snprintf(path, sizeof(path), "%s/state", dir);
	int err = mk_xs_read(0, path, &v, NULL);
	if (err)
		return err;
	*state = (int)mk_strtoul(v, NULL, 10);
	mk_free(v);
	return 0;
}

static int write_front(const char *key, const char *value)
{
	char path[96];
	mk_snprintf(path, sizeof(path), FRONT "/%s", key);
	return mk_xs_write(0, path, value);
}

int pcix_front_init(void)
{
	if (!mk_xenbus_available())
		return pcix_fail(PCIX_ENODEV, "pcix: no xenstore, so no pcifront: as a DomU the "
			"domain needs its xenstore ring (start it with xl)");
	char *v;
	size_t len;
	if (mk_xs_read(0, FRONT "/backend", &v, &len) != 0)
		return pcix_fail(PCIX_ENODEV, "pcix: xenstore has no " FRONT "/backend: no PCI device "
			"was passed to this domain; add pci = [ 'BDF' ] to its xl config (device bound "
			"to xen-pciback in dom0)");
	mk_strlcpy(front.backend, v, sizeof(front.backend));
	mk_free(v);
	if (len >= sizeof(front.backend))
		return pcix_fail(XEN_EINVAL, "pcix: backend path in " FRONT "/backend is too long");
	if (mk_xs_read(0, FRONT "/backend-id", &v, NULL) != 0)
		return pcix_fail(XEN_EIO, "pcix: xenstore has no " FRONT "/backend-id");
	unsigned long id = mk_strtoul(v, NULL, 10);
	mk_free(v);
	if (id >= 0x7ff0)
		return pcix_fail(XEN_EINVAL, "pcix: backend-id %lu is not a domain id", id);
	front.backend_id = (uint16_t)id;

	front.page = mk_page_alloc(1, 1);
	if (!front.page)
		return pcix_fail(XEN_ENOMEM, "pcix: no page for the pcifront op page");
	mk_memset(front.page, 0, 4096);
	long ref = mk_gnttab_grant_access(front.backend_id, front.page, false);
	if (ref < 0)
		return pcix_fail(XEN_ENOMEM, "pcix: no free grant entry for the pcifront op page");
	front.ref = (mk_grant_ref_t)ref;
	long port = mk_evtchn_alloc_unbound(front.backend_id, on_backend_event, &front);
	if (port < 0)
		return pcix_fail((int)-port, "pcix: allocating the pcifront event channel failed "
			"(Xen error %ld)", port);
	front.port = (uint32_t)port;

	char num[24];
	int err;
	mk_snprintf(num, sizeof(num), "%u", front.ref);
	err = write_front("pci-op-ref", num);
	mk_snprintf(num, sizeof(num), "%u", front.port);
	if (!err)
		err = write_front("event-channel", num);
	if (!err)
		err = write_front("magic", XEN_PCI_MAGIC);
	mk_snprintf(num, sizeof(num), "%d", XENBUS_STATE_INITIALISED);
	if (!err)
		err = write_front("state", num);
	if (err)
		return pcix_fail(err, "pcix: publishing the pcifront details in xenstore failed (%d)", err);

	uint64_t deadline = mk_time_monotonic_ns() + CONNECT_TIMEOUT_NS;
	int state = 0;
	while (mk_time_monotonic_ns() < deadline) {
		if (read_state(front.backend, &state) == 0 && state == XENBUS_STATE_CONNECTED)
			break;
		mk_thread_sleep_until(mk_time_monotonic_ns() + 20000000ULL);
	}
	if (state != XENBUS_STATE_CONNECTED)
		return pcix_fail(XEN_EIO, "pcix: pciback at %s did not connect within 30 s (state %d); "
			"check that xen-pciback is loaded in dom0 and the device is assignable",
			front.backend, state);
	mk_snprintf(num, sizeof(num), "%d", XENBUS_STATE_CONNECTED);
	err = write_front("state", num);
	if (err)
		return pcix_fail(err, "pcix: setting the pcifront state to Connected failed");
	return 0;
}

/* Runs one operation; *op is both the request and (validated) the reply. */
static int do_op(struct pcix_xen_pci_op *op)
{
	if (!front.page)
		return pcix_fail(XEN_EIO, "pcix: pcifront used before it connected");
	while (front.busy) /* one op page: serialise callers */
		mk_thread_yield();
	front.busy = true;
	struct pcix_xen_pci_sharedinfo *sh = front.page;
	uint32_t cmd = op->cmd;
	mk_memcpy(&sh->op, op, sizeof(*op));
	mk_wmb();
	__atomic_or_fetch(&sh->flags, 1u << PCIX_PCIFRONT_OP_ACTIVE_BIT, __ATOMIC_SEQ_CST);
	mk_evtchn_notify(front.port);
	uint64_t deadline = mk_time_monotonic_ns() + OP_TIMEOUT_NS;
	front.waiter = mk_thread_self();
	while ((MK_READ_ONCE(sh->flags) & (1u << PCIX_PCIFRONT_OP_ACTIVE_BIT)) &&
		mk_time_monotonic_ns() < deadline)
		mk_thread_block_until(mk_time_monotonic_ns() + 1000000ULL);
	front.waiter = NULL;
	bool done = !(MK_READ_ONCE(sh->flags) & (1u << PCIX_PCIFRONT_OP_ACTIVE_BIT));
	mk_rmb();
	if (done)
		mk_memcpy(op, &sh->op, sizeof(*op));
	front.busy = false;
	if (!done)
		return pcix_fail(XEN_EIO, "pcix: pciback did not answer pcifront op %u within 10 s", cmd);
	if (op->cmd != cmd)
		return pcix_fail(XEN_EIO, "pcix: pciback changed op %u to %u", cmd, op->cmd);
	return 0;
}

int pcix_front_conf(bool write, unsigned bus, unsigned dev, unsigned fn, unsigned reg,
	uint32_t *val)
{
	struct pcix_xen_pci_op op = { .cmd = write ? PCIX_XEN_PCI_OP_conf_write :
		PCIX_XEN_PCI_OP_conf_read, .domain = 0, .bus = bus, .devfn = (dev << 3) | fn,
		.offset = (int32_t)reg, .size = 4, .value = write ? *val : 0 };
	int err = do_op(&op);
	if (err)
		return err;
	if (op.err == PCIX_XEN_PCI_ERR_dev_not_found) {
		if (!write)
			*val = 0xffffffffu;
		return 0;
	}
	if (op.err != PCIX_XEN_PCI_ERR_success)
		return pcix_fail(op.err == PCIX_XEN_PCI_ERR_access_denied ? XEN_EPERM : XEN_EIO,
			"pcix: pciback refused config %s of %02x:%02x.%x register %#x (error %d)",
			write ? "write" : "read", bus, dev, fn, reg, op.err);
	if (!write)
		*val = op.value;
	return 0;
}

int pcix_front_enable_msi(unsigned bus, unsigned dev, unsigned fn, int *pirq)
{
	struct pcix_xen_pci_op op = { .cmd = PCIX_XEN_PCI_OP_enable_msi, .bus = bus,
		.devfn = (dev << 3) | fn };
	int err = do_op(&op);
	if (err)
		return err;
	if (op.err != PCIX_XEN_PCI_ERR_success || op.value == 0 || op.value >= 0x10000)
		return pcix_fail(XEN_EIO, "pcix: pciback could not enable MSI for %02x:%02x.%x "
			"(error %d, pirq %u)", bus, dev, fn, op.err, op.value);
	*pirq = (int)op.value;
	return 0;
}

int pcix_front_disable_msi(unsigned bus, unsigned dev, unsigned fn)
{
	struct pcix_xen_pci_op op = { .cmd = PCIX_XEN_PCI_OP_disable_msi, .bus = bus,
		.devfn = (dev << 3) | fn };
	int err = do_op(&op);
	if (err)
		return err;
	return op.err == PCIX_XEN_PCI_ERR_success ? 0 : pcix_fail(XEN_EIO, "pcix: pciback could "
		"not disable MSI for %02x:%02x.%x (error %d)", bus, dev, fn, op.err);
}
