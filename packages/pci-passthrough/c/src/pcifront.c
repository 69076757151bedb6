/*
 * pcifront: config space and MSI of passed-through devices as a DomU, through pciback in
 * dom0. Handshake on xenbus device/pci/0: grant one page (the op page) to the backend,
 * allocate an event channel, publish pci-op-ref / event-channel / magic, go Initialised,
 * wait for the backend to be Connected, go Connected. Each operation: copy it into the
 * page, set the active flag, notify, wait for the backend to clear the flag, copy the result
 * out once (the page is shared: only that private copy is used, and it is checked first). An
 * op that times out leaves the page with pciback: pcifront refuses further ops until pciback
 * clears the active flag.
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
	bool stuck; /* an op timed out: pciback may own the op page until it clears the flag */
	uint32_t stuck_cmd;
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

static const char *op_name(uint32_t cmd)
{
	switch (cmd) {
	case PCIX_XEN_PCI_OP_conf_read: return "conf_read";
	case PCIX_XEN_PCI_OP_conf_write: return "conf_write";
	case PCIX_XEN_PCI_OP_enable_msi: return "enable_msi";
	case PCIX_XEN_PCI_OP_disable_msi: return "disable_msi";
	default: return "unknown";
	}
}

/* Whether pciback still owns the op page (one read of the shared flags). */
static bool backend_owns_page(void)
{
	uint32_t flags = MK_READ_ONCE(front.page->flags);
	return (flags & (1u << PCIX_PCIFRONT_OP_ACTIVE_BIT)) != 0;
}

/*
 * Runs one operation; *op is the request, and on return 0 the reply: the op is copied out of
 * the shared page exactly once, and only that private copy is looked at (cmd checked here, err
 * and value by the caller). After an op times out the page stays pciback's: every later op
 * fails (naming the stuck op) until pciback clears the active flag, and the page is never
 * written while that flag is set.
 */
static int do_op(struct pcix_xen_pci_op *op)
{
	if (!front.page)
		return pcix_fail(XEN_EIO, "pcix: pcifront used before it connected");
	while (front.busy) /* one op page: serialise callers */
		mk_thread_yield();
	if (front.stuck) {
		if (backend_owns_page())
			return pcix_fail(XEN_EIO, "pcix: pcifront is out of service: pciback did not "
				"answer op %u (%s) within 10 s and still owns the op page, so op %u (%s) was "
				"not sent; check xen-pciback in dom0 (dmesg) and restart this domain",
				front.stuck_cmd, op_name(front.stuck_cmd), op->cmd, op_name(op->cmd));
		/* pciback finished the late op and handed the page back: usable again. */
		front.stuck = false;
	}
	if (backend_owns_page())
		return pcix_fail(XEN_EIO, "pcix: the pcifront op page is marked active although no op "
			"is outstanding, so op %u (%s) was not sent; the page is pciback's until it clears "
			"the flag: restart this domain", op->cmd, op_name(op->cmd));
	front.busy = true;
	struct pcix_xen_pci_sharedinfo *sh = front.page;
	uint32_t cmd = op->cmd;
	mk_memcpy(&sh->op, op, sizeof(*op));
	mk_wmb();
	__atomic_or_fetch(&sh->flags, 1u << PCIX_PCIFRONT_OP_ACTIVE_BIT, __ATOMIC_SEQ_CST);
	mk_evtchn_notify(front.port);
	uint64_t deadline = mk_time_monotonic_ns() + OP_TIMEOUT_NS;
	front.waiter = mk_thread_self();
	bool done;
	while (!(done = !backend_owns_page()) && mk_time_monotonic_ns() < deadline)
		mk_thread_block_until(mk_time_monotonic_ns() + 1000000ULL);
	front.waiter = NULL;
	if (!done) {
		/* pciback may still be working on the page: keep it its own (see above). */
		front.stuck = true;
		front.stuck_cmd = cmd;
		front.busy = false;
		return pcix_fail(XEN_EIO, "pcix: pciback did not answer pcifront op %u (%s) within "
			"10 s; pcifront is out of service until it does (check xen-pciback in dom0)",
			cmd, op_name(cmd));
	}
	mk_rmb();
	/* The one read of the reply; the header only (no MSI-X entries are used). */
	struct pcix_xen_pci_op reply;
	mk_memcpy(&reply, &sh->op, offsetof(struct pcix_xen_pci_op, msix_entries));
	front.busy = false;
	if (reply.cmd != cmd)
		return pcix_fail(XEN_EIO, "pcix: pciback changed op %u (%s) to %u in its reply", cmd,
			op_name(cmd), reply.cmd);
	op->err = reply.err;
	op->value = reply.value;
	return 0;
}

/*
 * For c/test/pcistuck.c only (which declares it itself): the op page and our event channel,
 * so that the test can play a backend that never answers or answers late.
 */
struct pcix_xen_pci_sharedinfo *pcix_front_test_page(uint32_t *port);
struct pcix_xen_pci_sharedinfo *pcix_front_test_page(uint32_t *port)
{
	*port = front.port;
	return front.page;
}

static const char *err_name(int32_t err)
{
	switch (err) {
	case PCIX_XEN_PCI_ERR_success: return "success";
	case PCIX_XEN_PCI_ERR_dev_not_found: return "device not found";
	case PCIX_XEN_PCI_ERR_invalid_offset: return "invalid offset";
	case PCIX_XEN_PCI_ERR_access_denied: return "access denied";
	case PCIX_XEN_PCI_ERR_not_implemented: return "not implemented";
	case PCIX_XEN_PCI_ERR_op_failed: return "operation failed";
	default: return "not a XEN_PCI_ERR_* value";
	}
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
			"pcix: pciback refused config %s of %02x:%02x.%x register %#x (error %d, %s)",
			write ? "write" : "read", bus, dev, fn, reg, (int)op.err, err_name(op.err));
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
	if (op.err != PCIX_XEN_PCI_ERR_success)
		return pcix_fail(XEN_EIO, "pcix: pciback could not enable MSI for %02x:%02x.%x "
			"(error %d, %s)", bus, dev, fn, (int)op.err, err_name(op.err));
	/* A pirq is a positive int below Xen's nr_pirqs; anything else is not one. */
	if (op.value == 0 || op.value >= 0x10000)
		return pcix_fail(XEN_EIO, "pcix: pciback enabled MSI for %02x:%02x.%x but returned "
			"pirq %u, which is no pirq (1..65535); pciback is misbehaving", bus, dev, fn,
			op.value);
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
		"not disable MSI for %02x:%02x.%x (error %d, %s)", bus, dev, fn, (int)op.err,
		err_name(op.err));
}
