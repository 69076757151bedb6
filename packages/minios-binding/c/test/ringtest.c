/*
 * Robustness of the xenstore client against a misbehaving peer: argv[1] "length" puts a
 * response header claiming 5000 payload bytes (> XENSTORE_PAYLOAD_MAX) in the ring,
 * "index" moves the response producer 5000 bytes past the consumer. Either way the client
 * must refuse the ring (EIO, then ENOSYS) instead of reading out of bounds or hanging.
 * "console" moves the console ring's consumer index 5000 bytes ahead of the producer: the
 * kernel must stop using that ring (its output is then lost, so the verdict is the
 * shutdown reason: poweroff when the ring was dropped, crash otherwise).
 * "rewind" moves the console ring's producer index (the guest's own) behind the consumer:
 * the kernel keeps its own copy, so output must go on and the ring stay in use.
 * "xsrewind" moves the xenstore response consumer index (the guest's own) 16 bytes back, as
 * a misbehaving xenstored could: the client keeps its own copy, so the next read still works.
 */
#include <mk/arch.h>
#include <mk/types.h>
#include <mk/console.h>
#include <mk/lib.h>
#include <mk/xen.h>
#include <mk/xenbus.h>

#include "case.h"

int main(int argc, char **argv)
{
	const char *how = argc > 1 ? argv[1] : "length";
	if (!mk_strcmp(how, "console")) {
		struct xen_cons_ring *cons = (struct xen_cons_ring *)(mk_boot.console_pfn << 12);
		mk_printk("ringtest: corrupting the console ring\n");
		mk_console_flush();
		cons->out_cons = cons->out_prod + 5000;
		mk_printk("ringtest: this line must not be written into the ring\n");
		return mk_console_ring_active() ? CASE_RESULT_FAILURE : CASE_RESULT_SUCCESS;
	}
	if (!mk_strcmp(how, "rewind")) {
		/* The console backend rewinds our producer index: the kernel must not believe it. */
		struct xen_cons_ring *cons = (struct xen_cons_ring *)(mk_boot.console_pfn << 12);
		mk_printk("ringtest: rewinding the console producer index\n");
		mk_console_flush();
		cons->out_prod = cons->out_cons - 100;
		mk_printk("ringtest: this line reached the console after the rewind\n");
		mk_console_flush();
		return mk_console_ring_active() ? CASE_RESULT_SUCCESS : CASE_RESULT_FAILURE;
	}
	struct xen_xs_ring *ring = (struct xen_xs_ring *)(mk_boot.store_pfn << 12);
	char *v;
	int rc = mk_xs_read(0, "name", &v, NULL);
	mk_printk("ringtest: read before corruption: %d\n", rc);
	if (rc)
		return 1;
	if (!mk_strcmp(how, "xsrewind")) {
		ring->rsp_cons -= 16;
		mk_wmb();
		rc = mk_xs_read(0, "name", &v, NULL);
		mk_printk("ringtest: read after the rewind: %d\n", rc);
		return case_print_result(rc == 0 && mk_xenbus_available() ?
			CASE_RESULT_SUCCESS : CASE_RESULT_FAILURE);
	}
	uint32_t prod = ring->rsp_prod;
	if (!mk_strcmp(how, "length")) {
		struct xen_xs_msg fake = { .type = XEN_XS_READ, .req_id = 0, .tx_id = 0, .len = 5000 };
		for (size_t i = 0; i < sizeof(fake); i++)
			ring->rsp[(prod + i) % XEN_XS_RING_SIZE] = ((char *)&fake)[i];
		mk_wmb();
		ring->rsp_prod = prod + sizeof(fake);
	} else {
		ring->rsp_prod = ring->rsp_cons + 5000;
	}
	rc = mk_xs_read(0, "name", &v, NULL);
	mk_printk("ringtest: read after corruption: %d\n", rc);
	int rc2 = mk_xs_read(0, "name", &v, NULL);
	mk_printk("ringtest: read after that: %d\n", rc2);
	return case_print_result(rc == XEN_EIO && rc2 == XEN_ENOSYS && !mk_xenbus_available() ?
		CASE_RESULT_SUCCESS : CASE_RESULT_FAILURE);
}
