/*
 * Console output: HYPERVISOR_console_io first (Xen prints it as dom0; a release Xen drops
 * it from a DomU), then the shared console ring once a DomU attaches it.
 */
#include <mk/console.h>
#include <mk/evtchn.h>
#include <mk/hypercall.h>
#include <mk/lib.h>

static struct xen_cons_ring *cons_ring;
static uint32_t cons_port;
/*
 * Our producer index for the output ring. This is the truth: it is written to the shared
 * page, never read back from it (the backend could rewind it). From the page only the
 * backend's consumer index is read, once per use, and checked against this.
 * The input ring (in_cons/in_prod) is not used: the guest reads no console input.
 */
static uint32_t out_prod;

/* One read of the backend's out_cons; false when it is out of range for out_prod. */
static bool read_out_cons(struct xen_cons_ring *r, uint32_t *cons)
{
	uint32_t c = MK_READ_ONCE(r->out_cons);
	if (out_prod - c > sizeof(r->out))
		return false;
	*cons = c;
	return true;
}

void mk_console_ring_attach(void *ring, uint32_t port)
{
	struct xen_cons_ring *r = ring;
	/*
	 * The ring may already hold output (from the domain builder): take over its producer
	 * index once, if it is in range of the consumer's; otherwise start with an empty ring
	 * at the consumer index (nothing of ours is in it yet).
	 */
	uint32_t prod = MK_READ_ONCE(r->out_prod);
	uint32_t cons = MK_READ_ONCE(r->out_cons);
	out_prod = prod - cons <= sizeof(r->out) ? prod : cons;
	r->out_prod = out_prod;
	cons_port = port;
	cons_ring = r;
}

static void ring_write(const char *buf, size_t len)
{
	struct xen_cons_ring *r = cons_ring;
	size_t spins = 0;
	while (len) {
		uint32_t cons;
		if (!read_out_cons(r, &cons)) {
			/* The backend moved out_cons somewhere impossible: stop using the ring. */
			cons_ring = NULL;
			return;
		}
		/* out_cons is read before the slots it frees are written. */
		mk_mb();
		uint32_t prod = out_prod;
		if (prod - cons == sizeof(r->out)) {
			if (++spins > 2000)
				return; /* backend gone for seconds: drop output rather than hang */
			/* Clear first, so the poll sleeps until the backend's next notification. */
			mk_evtchn_test_and_clear(cons_port);
			mk_evtchn_notify(cons_port);
			mk_evtchn_poll_once(cons_port, 1000000);
			continue;
		}
		while (len && prod - cons < sizeof(r->out)) {
			r->out[prod % sizeof(r->out)] = *buf;
			prod++;
			buf++;
			len--;
		}
		out_prod = prod;
		mk_wmb();
		r->out_prod = prod;
		mk_evtchn_notify(cons_port);
	}
}

bool mk_console_ring_active(void)
{
	return cons_ring != NULL;
}

void mk_console_write(const char *buf, size_t len)
{
	if (cons_ring) {
		ring_write(buf, len);
		return;
	}
	mk_hc_console_write(buf, len);
}

void mk_console_flush(void)
{
	struct xen_cons_ring *r = cons_ring;
	if (!r)
		return;
	for (int i = 0; i < 200; i++) {
		uint32_t cons;
		if (!read_out_cons(r, &cons)) {
			cons_ring = NULL;
			return;
		}
		if (cons == out_prod)
			return;
		mk_evtchn_test_and_clear(cons_port);
		mk_evtchn_notify(cons_port);
		mk_evtchn_poll_once(cons_port, 10000000);
	}
}

int mk_vprintk(const char *fmt, va_list ap)
{
	char buf[512];
	int n = mk_vsnprintf(buf, sizeof(buf), fmt, ap);
	size_t len = n < (int)sizeof(buf) ? (size_t)n : sizeof(buf) - 1;
	mk_console_write(buf, len);
	return n;
}

int mk_printk(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = mk_vprintk(fmt, ap);
	va_end(ap);
	return n;
}
