/*
 * The virtif hypercalls on Xen (NetBSD's librumpnet_virtif, VIRTIF_BASE virt): interface
 * virtN is the domain's vif N (device/vif/N), served by netfront.
 *
 * - VIFHYPER_CREATE connects the vif (the rump CPU is given back meanwhile) and gives NetBSD
 *   the MAC the toolstack chose (xenstore's device/vif/N/mac).
 * - VIFHYPER_SEND copies the frame into a transmit buffer and returns; with every buffer
 *   in flight it gives the rump CPU back and waits for one (up to 1 s, polling every
 *   0.1 ms), and only then drops the frame (the contract: drop silently) and counts it.
 * - Received frames arrive on the event path, which must not enter the rump kernel: it
 *   copies the frame into a queue and wakes the "rumpuser_virtif" thread, an lwp of its
 *   own that hands each frame to VIF_DELIVERPKT holding the rump CPU. The queue holds at
 *   most RX_QUEUE_MAX frames; more are dropped (counted) until the thread catches up.
 * - VIFHYPER_DYING stops delivery (queued frames for that interface are dropped) and
 *   VIFHYPER_DESTROY lets go of it; the vif itself stays connected, so a later
 *   VIFHYPER_CREATE of the same interface number takes it again.
 */
#include "xen_int.h"
#include "virtif_user.h"
#include <mk/console.h>
#include <mk/lib.h>
#include <mk/mm.h>
#include <mk/netfront.h>
#include <mk/rumpattach.h>
#include <mk/sched.h>
#include <mk/time.h>

/* NetBSD's struct iovec, as VIFHYPER_SEND and VIF_DELIVERPKT pass it (rumpuser_iovec's layout). */
struct iovec {
	void *iov_base;
	size_t iov_len;
};
_Static_assert(sizeof(struct iovec) == sizeof(struct mk_netfront_iov), "iovec layout");

#define RX_QUEUE_MAX 256u
/* A send finding every transmit buffer in flight polls this often, this long, then drops. */
#define TX_POLL_NS 100000ULL
#define TX_WAIT_NS 1000000000ULL
#define MAX_IFACES 16u

struct virtif_user {
	struct mk_netdev *dev;
	struct virtif_sc *sc;
	bool in_use;
	bool dying;
	uint64_t rx_queue_drops;
	uint64_t tx_drops;
	uint64_t tx_waits;	/* sends that waited for a transmit buffer */
};

struct rx_frame {
	struct rx_frame *next;
	struct virtif_user *viu;
	size_t len;
	uint8_t data[];
};

static struct virtif_user ifaces[MAX_IFACES];	/* by vif id; never freed */
static struct rx_frame *rx_head, *rx_tail;
static unsigned rx_queued;
static struct mk_thread *rx_thread;
static bool rx_thread_idle;

/* On the event path: copy and queue. */
static void on_frame(void *arg, const void *frame, size_t len)
{
	struct virtif_user *viu = arg;
	if (viu->dying || rx_queued >= RX_QUEUE_MAX) {
		viu->rx_queue_drops++;
		return;
	}
	struct rx_frame *f = mk_malloc(sizeof(*f) + len, 0);
	if (!f) {
		viu->rx_queue_drops++;
		return;
	}
	f->next = NULL;
	f->viu = viu;
	f->len = len;
	mk_memcpy(f->data, frame, len);
	if (rx_tail)
		rx_tail->next = f;
	else
		rx_head = f;
	rx_tail = f;
	rx_queued++;
	if (rx_thread_idle)
		mk_thread_wake(rx_thread);
}

static void *rx_main(void *arg)
{
	(void)arg;
	rx_hyp.hyp_schedule();
	rx_hyp.hyp_lwproc_newlwp(0);
	rx_hyp.hyp_unschedule();
	for (;;) {
		while (!rx_head) {
			rx_thread_idle = true;
			mk_thread_block();
			rx_thread_idle = false;
		}
		/* Everything queued so far, delivered under one hold of the rump CPU. */
		struct rx_frame *list = rx_head;
		rx_head = rx_tail = NULL;
		rx_queued = 0;
		rx_cpu_retake(0, NULL);
		while (list) {
			struct rx_frame *f = list;
			list = f->next;
			if (!f->viu->dying && f->viu->sc) {
				struct iovec iov = { .iov_base = f->data, .iov_len = f->len };
				VIF_DELIVERPKT(f->viu->sc, &iov, 1);
			}
			mk_free(f);
		}
		rx_cpu_release(NULL);
	}
	return NULL;
}

/* devstr: the interface's number as NetBSD writes it ("0" for virt0), the vif's id. */
static int parse_id(const char *s, uint32_t *id)
{
	uint64_t v;
	if (!s || mk_netif_parse_uint(s, mk_strlen(s), MAX_IFACES - 1, &v))
		return -1;
	*id = (uint32_t)v;
	return 0;
}

int VIFHYPER_CREATE(const char *devstr, struct virtif_sc *vif_sc, uint8_t *enaddr,
    struct virtif_user **viup)
{
	uint32_t id;
	if (parse_id(devstr, &id)) {
		mk_printk("virtif: interface \"%s\": only vifs 0 to %u are served (virt0 is "
			"device/vif/0)\n", devstr ? devstr : "(null)", MAX_IFACES - 1);
		return RUMPXEN_NETBSD_ENXIO;
	}
	struct virtif_user *viu = &ifaces[id];
	if (viu->in_use)
		return RUMPXEN_NETBSD_EBUSY;
	if (!rx_thread) {
		rx_thread = mk_thread_create("rumpuser_virtif", rx_main, NULL, RX_THREAD_STACK, false);
		if (!rx_thread)
			return RUMPXEN_NETBSD_ENOMEM;
	}
	int nlocks = rx_cpu_release(NULL);
	struct mk_netdev *dev;
	int err = mk_netfront_lookup(id, &dev);
	if (!err)
		err = mk_netfront_connect(dev);
	rx_cpu_retake(nlocks, NULL);
	if (err == MK_NET_ENXIO) {
		mk_printk("virtif: virt%u: this domain has no vifs (give it one in the toolstack: "
			"vif = [...])\n", id);
		return RUMPXEN_NETBSD_ENXIO;
	}
	if (err == XEN_ENOENT) {
		mk_printk("virtif: virt%u: this domain has no device/vif/%u\n", id, id);
		return RUMPXEN_NETBSD_ENOENT;
	}
	if (err)
		return RUMPXEN_NETBSD_EIO;
	*viu = (struct virtif_user){ .dev = dev, .sc = vif_sc, .in_use = true };
	mk_memcpy(enaddr, mk_netfront_mac(dev), 6);
	mk_netfront_set_receiver(dev, on_frame, viu);
	*viup = viu;
	return 0;
}

int VIFHYPER_DYING(struct virtif_user *viu)
{
	viu->dying = true;
	mk_netfront_set_receiver(viu->dev, NULL, NULL);
	return 0;
}

void VIFHYPER_DESTROY(struct virtif_user *viu)
{
	/* Queued frames for it are dropped by rx_main (dying); the slot stays for a later create. */
	viu->sc = NULL;
	viu->in_use = false;
}

void VIFHYPER_SEND(struct virtif_user *viu, struct iovec *iov, size_t iovlen)
{
	if (viu->dying)
		return;
	int err = mk_netfront_send(viu->dev, (const struct mk_netfront_iov *)iov, iovlen);
	if (err == XEN_EAGAIN) {
		/*
		 * Every transmit buffer is in flight: wait (the rump CPU given back) for the
		 * backend to answer some, rather than drop. A burst of IP fragments or a TCP
		 * window larger than the buffers would otherwise lose its tail every time.
		 */
		int nlocks = rx_cpu_release(NULL);
		uint64_t end = mk_time_monotonic_ns() + TX_WAIT_NS;
		do {
			mk_thread_sleep_until(mk_time_monotonic_ns() + TX_POLL_NS);
			err = mk_netfront_send(viu->dev, (const struct mk_netfront_iov *)iov, iovlen);
		} while (err == XEN_EAGAIN && !viu->dying && mk_time_monotonic_ns() < end);
		rx_cpu_retake(nlocks, NULL);
		if (err == 0)
			viu->tx_waits++;
	}
	if (err)
		viu->tx_drops++;
}
