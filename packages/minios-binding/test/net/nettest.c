/*
 * netfront on its own, with no rump kernel: a DomU with five vifs on the testbed's bridge
 * (dom0 10.77.0.1/24).
 *
 * "arp": vif 4 asks for dom0's Ethernet address (an ARP request from 10.77.0.9, sent
 * through mk_netfront_send) and must receive dom0's ARP reply through its receiver, with
 * the MAC xenstore gave it as the target.
 * "inject" (then): vifs 0..3 each play a backend that breaks the protocol once; each must be
 * refused with a message, its vif goes out of service (sending fails with EIO), and vif 4
 * and the rest of the guest go on (another ARP exchange on vif 4).
 */
#include <mk/console.h>
#include <mk/lib.h>
#include <mk/mm.h>
#include <mk/netfront.h>
#include <mk/sched.h>
#include <mk/time.h>

#include "../../c/test/case.h"


static const uint8_t OUR_IP[4] = { 10, 77, 0, 9 };
static const uint8_t DOM0_IP[4] = { 10, 77, 0, 1 };

static struct mk_netdev *vif(uint32_t id)
{
	struct mk_netdev *d;
	if (mk_netfront_lookup(id, &d) || mk_netfront_connect(d))
		return NULL;
	return d;
}

struct arp_wait {
	struct mk_thread *waiter;
	const uint8_t *mac;
	bool got;
	uint8_t dom0_mac[6];
	unsigned frames;
};

/* On the event path: is this dom0's ARP reply to us? */
static void on_frame(void *arg, const void *frame, size_t len)
{
	struct arp_wait *w = arg;
	const uint8_t *f = frame;
	w->frames++;
	if (len < 42 || f[12] != 0x08 || f[13] != 0x06 || f[20] != 0 || f[21] != 2)
		return;
	if (mk_memcmp(f + 28, DOM0_IP, 4) || mk_memcmp(f + 38, OUR_IP, 4) || mk_memcmp(f + 32, w->mac, 6) ||
	    mk_memcmp(f, w->mac, 6))
		return;
	mk_memcpy(w->dom0_mac, f + 22, 6);
	w->got = true;
	mk_thread_wake(w->waiter);
}

static bool arp_exchange(struct mk_netdev *d)
{
	const uint8_t *mac = mk_netfront_mac(d);
	struct arp_wait w = { .waiter = mk_thread_self(), .mac = mac };
	mk_netfront_set_receiver(d, on_frame, &w);
	uint8_t f[42];
	mk_memset(f, 0xff, 6);			/* broadcast */
	mk_memcpy(f + 6, mac, 6);
	f[12] = 0x08; f[13] = 0x06;		/* ARP */
	f[14] = 0; f[15] = 1;			/* Ethernet */
	f[16] = 0x08; f[17] = 0x00;		/* IPv4 */
	f[18] = 6; f[19] = 4;
	f[20] = 0; f[21] = 1;			/* request */
	mk_memcpy(f + 22, mac, 6);
	mk_memcpy(f + 28, OUR_IP, 4);
	mk_memset(f + 32, 0, 6);
	mk_memcpy(f + 38, DOM0_IP, 4);
	/* Split in two buffers: the frame is gathered. */
	struct mk_netfront_iov iov[2] = { { f, 14 }, { f + 14, 28 } };
	for (int tries = 0; tries < 20 && !w.got; tries++) {
		int err = mk_netfront_send(d, iov, 2);
		CHECK(err == 0, "%s: send: %d", mk_netfront_name(d), err);
		mk_thread_block_until(mk_time_monotonic_ns() + 1000000000ULL);
	}
	mk_netfront_set_receiver(d, NULL, NULL);
	CHECK(w.got, "%s: no ARP reply from 10.77.0.1 in 20 s (%u frames received)",
		mk_netfront_name(d), w.frames);
	struct mk_netfront_stats st;
	mk_netfront_stats(d, &st);
	mk_printk("nettest: %s: dom0 is %02x:%02x:%02x:%02x:%02x:%02x; %lu frames sent, %lu "
		"received\n", mk_netfront_name(d), w.dom0_mac[0], w.dom0_mac[1], w.dom0_mac[2],
		w.dom0_mac[3], w.dom0_mac[4], w.dom0_mac[5], (unsigned long)st.tx_packets,
		(unsigned long)st.rx_packets);
	return true;
}

static bool case_arp(void)
{
	struct mk_netdev *d = vif(4);
	CHECK(d, "vif4 did not connect");
	return arp_exchange(d);
}

/* After a refused value: out of service, sending fails with EIO. */
static bool refused(struct mk_netdev *d, bool broken)
{
	CHECK(broken && mk_netfront_broken(d), "%s accepted the bad value", mk_netfront_name(d));
	uint8_t f[60] = { 0 };
	struct mk_netfront_iov iov = { f, sizeof(f) };
	int err = mk_netfront_send(d, &iov, 1);
	CHECK(err == XEN_EIO, "a send on %s after: %d, expected EIO", mk_netfront_name(d), err);
	return true;
}

static bool case_rx_prod_ahead(void)
{
	struct mk_netdev *d = vif(0);
	CHECK(d, "vif0 did not connect");
	struct mk_netif_rx_response rsp = { 0 };
	return refused(d, mk_netfront_test_inject_rx(d, &rsp, 1000));
}

static bool case_rx_bounds(void)
{
	struct mk_netdev *d = vif(1);
	CHECK(d, "vif1 did not connect");
	uint16_t id = mk_netfront_test_rx_id(d);
	CHECK(id != 0xffff, "no receive request outstanding");
	struct mk_netif_rx_response rsp = { .id = id, .offset = 4000, .flags = 0, .status = 200 };
	return refused(d, mk_netfront_test_inject_rx(d, &rsp, 1));
}

static bool case_rx_flags(void)
{
	struct mk_netdev *d = vif(2);
	CHECK(d, "vif2 did not connect");
	uint16_t id = mk_netfront_test_rx_id(d);
	CHECK(id != 0xffff, "no receive request outstanding");
	struct mk_netif_rx_response rsp = { .id = id, .offset = 0, .flags = MK_NETRXF_MORE_DATA,
		.status = 60 };
	return refused(d, mk_netfront_test_inject_rx(d, &rsp, 1));
}

static bool case_tx_stale_id(void)
{
	struct mk_netdev *d = vif(3);
	CHECK(d, "vif3 did not connect");
	uint16_t id = mk_netfront_test_hold_tx(d);
	CHECK(id != 0xffff, "no transmit slot to hold");
	struct mk_netif_tx_response rsp = { .id = (uint16_t)(id ^ 0x100), .status = 0 };
	return refused(d, mk_netfront_test_inject_tx(d, &rsp, 1));
}

static bool case_others_unharmed(void)
{
	struct mk_netdev *d = vif(4);
	CHECK(d && !mk_netfront_broken(d), "vif4 is out of service");
	void *p = mk_page_alloc(4, 1);
	CHECK(p, "no pages after");
	mk_page_free(p, 4);
	return arp_exchange(d);
}

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	case_run("arp", case_arp);
	case_run("rx_prod_ahead", case_rx_prod_ahead);
	case_run("rx_bounds", case_rx_bounds);
	case_run("rx_flags", case_rx_flags);
	case_run("tx_stale_id", case_tx_stale_id);
	case_run("others_unharmed", case_others_unharmed);
	return case_finish();
}
