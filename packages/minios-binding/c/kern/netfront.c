/*
 * netfront: the Xen network frontend (io/netif.h), one transmit and one receive ring page
 * per vif; see mk/netfront.h. The checks of everything the backend writes live in netring.c
 * (pure, fuzzed on the host); this file does the xenbus handshake, grants, the buffers and
 * both rings.
 *
 * Buffers are pages of ours granted to the backend once, at connect, for the connection's
 * life: MK_NETFRONT_TX_SLOTS read-only pages a frame to send is copied into, and
 * MK_NETFRONT_RX_SLOTS writable pages the backend copies received frames into (request-rx-
 * copy; it never maps them). A slot is busy from its request to its response; request ids
 * carry the slot and a sequence number. Responses are handled on the event path (the
 * scheduler runs event handlers in thread context, never in the middle of another thread's
 * call here): transmit slots are freed, received frames handed to the receiver (which
 * copies them) and their slots posted again at once.
 *
 * A connected vif watches its backend (xenfront's watch of the backend's state node). When
 * the backend leaves (Closing or Closed: xl network-detach; or its node is gone), the vif
 * goes out of service for good: events are ignored, every frame to send is dropped and
 * counted (tx_dropped), none is received; our state Closed is written, so the backend lets
 * go and the toolstack's detach completes; then each page (rings, buffers) whose grant
 * ends is freed, polled for up to RECLAIM_NS; a page the backend still maps is never reused.
 */
#include <mk/console.h>
#include <mk/evtchn.h>
#include <mk/gnttab.h>
#include <mk/lib.h>
#include <mk/mm.h>
#include <mk/netfront.h>
#include <mk/sched.h>
#include <mk/time.h>
#include <mk/xenbus.h>
#include <mk/xenfront.h>

#define POLL_NS 10000000ULL
#define PAGE 4096u
/* How long a backend that left has to give back our pages. */
#define RECLAIM_NS (5ULL * 1000000000ULL)
#define TX_SLOTS MK_NETFRONT_TX_SLOTS
#define RX_SLOTS MK_NETFRONT_RX_SLOTS

_Static_assert(TX_SLOTS <= MK_NETRING_MAX_SLOTS && TX_SLOTS <= MK_NETIF_TX_RING_SIZE, "tx slots");
_Static_assert(RX_SLOTS <= MK_NETRING_MAX_SLOTS && RX_SLOTS <= MK_NETIF_RX_RING_SIZE, "rx slots");

/* DEV_BROKEN: refused a value of its backend; DEV_GONE: its backend left. Both for good. */
enum dev_state { DEV_FOUND, DEV_CONNECTING, DEV_CONNECTED, DEV_BROKEN, DEV_GONE };

struct mk_netdev {
	char name[16];
	struct mk_xenfront xf;	/* xf.id: the vif's handle */
	enum dev_state state;
	uint8_t mac[6];
	struct mk_netif_tx_sring *txs;
	struct mk_netif_rx_sring *rxs;
	mk_grant_ref_t tx_ref, rx_ref;
	bool tx_ref_granted, rx_ref_granted;
	struct mk_netring txr, rxr;
	void *tx_page[TX_SLOTS];
	mk_grant_ref_t tx_gref[TX_SLOTS];
	void *rx_page[RX_SLOTS];
	mk_grant_ref_t rx_gref[RX_SLOTS];
	mk_netfront_rx_fn rx_fn;
	void *rx_arg;
	struct mk_netfront_stats st;
};

static const char *vif_name(void *dev, uint32_t id)
{
	struct mk_netdev *d = dev;
	mk_snprintf(d->name, sizeof(d->name), "vif%u", id);
	return d->name;
}

static struct mk_xenfront_set devices = {
	.driver = "netfront", .kind = "vif", .max_id = 0xffffu,
	.size = sizeof(struct mk_netdev), .xf_offset = offsetof(struct mk_netdev, xf),
	.name = vif_name,
};

const char *mk_netfront_name(const struct mk_netdev *dev)
{
	return dev->name;
}

const uint8_t *mk_netfront_mac(const struct mk_netdev *dev)
{
	return dev->mac;
}

bool mk_netfront_broken(const struct mk_netdev *dev)
{
	return dev->state == DEV_BROKEN || dev->state == DEV_GONE;
}

void mk_netfront_stats(const struct mk_netdev *dev, struct mk_netfront_stats *st)
{
	*st = dev->st;
}

void mk_netfront_set_receiver(struct mk_netdev *dev, mk_netfront_rx_fn fn, void *arg)
{
	dev->rx_fn = fn;
	dev->rx_arg = arg;
}

int mk_netfront_lookup(uint32_t id, struct mk_netdev **dev)
{
	unsigned listed = mk_xenfront_set_scan(&devices);
	struct mk_netdev *d = mk_xenfront_set_find(&devices, id);
	if (d) {
		*dev = d;
		return 0;
	}
	return !listed && !devices.head ? MK_NET_ENXIO : XEN_ENOENT;
}

/* Takes the vif out of service: frames are dropped both ways, events ignored. */
static void dev_break(struct mk_netdev *d)
{
	d->state = DEV_BROKEN;
	mk_xenfront_stop_events(&d->xf);
}

static int connect_failed(struct mk_netdev *d)
{
	d->state = DEV_BROKEN;
	return mk_xenfront_close(&d->xf);
}

static int read_mac(struct mk_netdev *d)
{
	char *v = NULL;
	size_t len = 0;
	mk_xenfront_read(d->xf.front, "mac", &v, &len);
	enum mk_netif_problem p = mk_netif_parse_mac(v, len, d->mac);
	if (p) {
		char shown[48];
		mk_xenfront_show_value(shown, sizeof(shown), v ? v : "", len);
		mk_printk("netfront: %s: refused %s/mac = \"%s\": %s; %s is not used (set the vif's "
			"mac in the toolstack)\n", d->name, d->xf.front, shown, mk_netif_problem_text(p),
			d->name);
	}
	if (v)
		mk_free(v);
	return p ? XEN_EIO : 0;
}

/* The backend must copy received frames into our pages (we never hand pages over). */
static int check_backend_features(struct mk_netdev *d)
{
	char *v = NULL;
	size_t len = 0;
	mk_xenfront_read(d->xf.backend, "feature-rx-copy", &v, &len);
	bool copy;
	enum mk_netif_problem p = mk_netif_parse_bool(v, len, &copy);
	char shown[48];
	mk_xenfront_show_value(shown, sizeof(shown), v ? v : "", len);
	if (v)
		mk_free(v);
	if (p || !copy) {
		mk_printk("netfront: %s: the backend's %s/feature-rx-copy = \"%s\"%s%s: this frontend "
			"needs a backend that copies received frames; %s is not used\n", d->name,
			d->xf.backend, shown, p ? ": " : "", p ? mk_netif_problem_text(p) : "", d->name);
		return XEN_EIO;
	}
	return 0;
}

static void post_rx(struct mk_netdev *d, unsigned slot, uint16_t id)
{
	struct mk_netif_rx_request req = { .id = id, .pad = 0, .gref = d->rx_gref[slot] };
	mk_memcpy((void *)&d->rxs->ring[d->rxr.req_prod_pvt & (MK_NETIF_RX_RING_SIZE - 1)].req,
		&req, sizeof(req));
	d->rxr.req_prod_pvt++;
}

/* Fills every free receive slot; true when a request was added. */
static bool refill_rx(struct mk_netdev *d)
{
	bool added = false;
	uint16_t id;
	int slot;
	while ((slot = mk_netring_take(&d->rxr, &id)) >= 0) {
		post_rx(d, (unsigned)slot, id);
		added = true;
	}
	return added;
}

/* io/ring.h's RING_PUSH_REQUESTS_AND_CHECK_NOTIFY, on our private producer index. */
static bool push_requests(uint32_t *shared_prod, const uint32_t *shared_event, uint32_t prod)
{
	uint32_t old = MK_READ_ONCE(*shared_prod);
	mk_wmb();
	MK_WRITE_ONCE(*shared_prod, prod);
	mk_mb();
	uint32_t event = MK_READ_ONCE(*shared_event);
	return (uint32_t)(prod - event) < (uint32_t)(prod - old);
}

static void refuse_index(struct mk_netdev *d, const char *ring, uint32_t prod,
	const struct mk_netring *r, enum mk_netring_verdict v)
{
	mk_printk("netfront: %s: refused the backend's %s response index rsp_prod %u (ours: "
		"rsp_cons %u, %u requests outstanding): %s; %s is out of service, every frame on it "
		"is dropped\n", d->name, ring, prod, r->rsp_cons, r->busy, mk_netring_verdict_text(v),
		d->name);
	dev_break(d);
}

static void take_tx(struct mk_netdev *d)
{
	for (;;) {
		uint32_t prod = MK_READ_ONCE(d->txs->rsp_prod);
		mk_rmb();
		uint32_t count;
		enum mk_netring_verdict v = mk_netring_pending(&d->txr, prod, &count);
		if (v) {
			refuse_index(d, "transmit", prod, &d->txr, v);
			return;
		}
		while (count--) {
			struct mk_netif_tx_response rsp;
			mk_memcpy(&rsp, (const void *)&d->txs->ring[d->txr.rsp_cons &
				(MK_NETIF_TX_RING_SIZE - 1)].rsp, sizeof(rsp));
			unsigned slot;
			v = mk_netring_check_tx(&d->txr, &rsp, &slot);
			if (v) {
				mk_printk("netfront: %s: refused the backend's transmit response at ring "
					"index %u (id 0x%x, status %d): %s; %s is out of service, every "
					"frame on it is dropped\n", d->name, d->txr.rsp_cons, rsp.id,
					rsp.status, mk_netring_verdict_text(v), d->name);
				dev_break(d);
				return;
			}
			if (rsp.status != MK_NETIF_RSP_OKAY)
				d->st.tx_errors++;
			mk_netring_complete(&d->txr, slot);
		}
		MK_WRITE_ONCE(d->txs->rsp_event, d->txr.rsp_cons + 1);
		mk_mb();
		if (MK_READ_ONCE(d->txs->rsp_prod) == d->txr.rsp_cons)
			break;
	}
}

static void take_rx(struct mk_netdev *d)
{
	bool posted = false;
	for (;;) {
		uint32_t prod = MK_READ_ONCE(d->rxs->rsp_prod);
		mk_rmb();
		uint32_t count;
		enum mk_netring_verdict v = mk_netring_pending(&d->rxr, prod, &count);
		if (v) {
			refuse_index(d, "receive", prod, &d->rxr, v);
			return;
		}
		while (count--) {
			struct mk_netif_rx_response rsp;
			mk_memcpy(&rsp, (const void *)&d->rxs->ring[d->rxr.rsp_cons &
				(MK_NETIF_RX_RING_SIZE - 1)].rsp, sizeof(rsp));
			unsigned slot;
			uint32_t len;
			v = mk_netring_check_rx(&d->rxr, &rsp, PAGE, &slot, &len);
			if (v) {
				mk_printk("netfront: %s: refused the backend's receive response at ring "
					"index %u (id 0x%x, offset %u, flags 0x%x, status %d): %s; %s is "
					"out of service, every frame on it is dropped\n", d->name,
					d->rxr.rsp_cons, rsp.id, rsp.offset, rsp.flags, rsp.status,
					mk_netring_verdict_text(v), d->name);
				dev_break(d);
				return;
			}
			if (len == 0) {
				d->st.rx_errors++;
			} else if (!d->rx_fn) {
				d->st.rx_dropped++;
			} else {
				d->st.rx_packets++;
				d->rx_fn(d->rx_arg, (const char *)d->rx_page[slot] + rsp.offset, len);
			}
			mk_netring_complete(&d->rxr, slot);
			/* The page is ours again (the backend copied into it and let go): post it anew. */
			uint16_t id;
			int s = mk_netring_take(&d->rxr, &id);
			if (s >= 0) {
				post_rx(d, (unsigned)s, id);
				posted = true;
			}
		}
		MK_WRITE_ONCE(d->rxs->rsp_event, d->rxr.rsp_cons + 1);
		mk_mb();
		if (MK_READ_ONCE(d->rxs->rsp_prod) == d->rxr.rsp_cons)
			break;
	}
	if (posted && push_requests(&d->rxs->req_prod, &d->rxs->req_event, d->rxr.req_prod_pvt))
		mk_evtchn_notify(d->xf.port);
}

static void on_event(uint32_t port, void *arg)
{
	(void)port;
	struct mk_netdev *d = arg;
	if (d->state != DEV_CONNECTED && d->state != DEV_CONNECTING)
		return;
	take_tx(d);
	if (d->state == DEV_BROKEN)
		return;
	take_rx(d);
}

int mk_netfront_send(struct mk_netdev *d, const struct mk_netfront_iov *iov, size_t n)
{
	if (d->state != DEV_CONNECTED) {
		if (d->state == DEV_BROKEN || d->state == DEV_GONE)
			d->st.tx_dropped++;
		return XEN_EIO;
	}
	size_t total = 0;
	for (size_t i = 0; i < n; i++) {
		if (iov[i].len > PAGE || total + iov[i].len > PAGE)
			return MK_NET_EMSGSIZE;
		total += iov[i].len;
	}
	if (total == 0)
		return MK_NET_EMSGSIZE;
	uint16_t id;
	int slot = mk_netring_take(&d->txr, &id);
	if (slot < 0) {
		take_tx(d);	/* responses may wait that no event announced yet */
		if (d->state != DEV_CONNECTED)
			return XEN_EIO;
		if ((slot = mk_netring_take(&d->txr, &id)) < 0) {
			d->st.tx_full++;
			return XEN_EAGAIN;
		}
	}
	char *page = d->tx_page[slot];
	size_t off = 0;
	for (size_t i = 0; i < n; i++) {
		mk_memcpy(page + off, iov[i].base, iov[i].len);
		off += iov[i].len;
	}
	struct mk_netif_tx_request req = { .gref = d->tx_gref[slot], .offset = 0, .flags = 0,
		.id = id, .size = (uint16_t)total };
	mk_memcpy((void *)&d->txs->ring[d->txr.req_prod_pvt & (MK_NETIF_TX_RING_SIZE - 1)].req,
		&req, sizeof(req));
	d->txr.req_prod_pvt++;
	d->st.tx_packets++;
	if (push_requests(&d->txs->req_prod, &d->txs->req_event, d->txr.req_prod_pvt))
		mk_evtchn_notify(d->xf.port);
	return 0;
}

/* The frontend's nodes and state Connected, in one transaction. */
static int publish(struct mk_netdev *d)
{
	char tx_ref[24], rx_ref[24], port[24], state[4];
	mk_snprintf(tx_ref, sizeof(tx_ref), "%u", d->tx_ref);
	mk_snprintf(rx_ref, sizeof(rx_ref), "%u", d->rx_ref);
	mk_snprintf(port, sizeof(port), "%u", d->xf.port);
	mk_snprintf(state, sizeof(state), "%u", MK_XENBUS_CONNECTED);
	const struct mk_xenfront_node nodes[] = {
		{ "tx-ring-ref", tx_ref }, { "rx-ring-ref", rx_ref }, { "event-channel", port },
		{ "request-rx-copy", "1" }, { "feature-rx-notify", "1" },
		{ "feature-no-csum-offload", "1" }, { "feature-sg", "0" },
		{ "feature-gso-tcpv4", "0" }, { "state", state },
	};
	return mk_xenfront_publish(&d->xf, nodes, MK_ARRAY_SIZE(nodes),
		"the rings, event channel and state");
}

/* Rings and buffers; on failure what was made stays (the vif is out of service for good). */
static int make_rings(struct mk_netdev *d)
{
	d->txs = mk_page_alloc(1, 1);
	d->rxs = mk_page_alloc(1, 1);
	if (!d->txs || !d->rxs)
		return XEN_ENOMEM;
	mk_memset(d->txs, 0, PAGE);
	mk_memset(d->rxs, 0, PAGE);
	d->txs->req_event = d->txs->rsp_event = 1;
	d->rxs->req_event = d->rxs->rsp_event = 1;
	mk_netring_init(&d->txr, TX_SLOTS);
	mk_netring_init(&d->rxr, RX_SLOTS);
	if (mk_xenfront_grant_page(&d->xf, d->txs, false, &d->tx_ref))
		return XEN_ENOMEM;
	d->tx_ref_granted = true;
	if (mk_xenfront_grant_page(&d->xf, d->rxs, false, &d->rx_ref))
		return XEN_ENOMEM;
	d->rx_ref_granted = true;
	for (unsigned i = 0; i < TX_SLOTS; i++) {
		if (!(d->tx_page[i] = mk_page_alloc(1, 1)))
			return XEN_ENOMEM;
		if (mk_xenfront_grant_page(&d->xf, d->tx_page[i], true, &d->tx_gref[i]))
			return XEN_ENOMEM;
	}
	for (unsigned i = 0; i < RX_SLOTS; i++) {
		if (!(d->rx_page[i] = mk_page_alloc(1, 1)))
			return XEN_ENOMEM;
		mk_memset(d->rx_page[i], 0, PAGE);
		if (mk_xenfront_grant_page(&d->xf, d->rx_page[i], false, &d->rx_gref[i]))
			return XEN_ENOMEM;
	}
	refill_rx(d);
	MK_WRITE_ONCE(d->rxs->req_prod, d->rxr.req_prod_pvt);
	return 0;
}

static void backend_left(struct mk_xenfront *f, unsigned state, void *arg);

static int do_connect(struct mk_netdev *d)
{
	if (read_mac(d) || mk_xenfront_find_backend(&d->xf) ||
	    mk_xenfront_wait_backend(&d->xf, MK_XENBUS_INITWAIT,
		    "; check netback and the vif's hotplug script in dom0"))
		return connect_failed(d);
	if (check_backend_features(d))
		return connect_failed(d);
	if (make_rings(d)) {
		mk_printk("netfront: %s: no memory or grant entries for the rings and %u buffer "
			"pages\n", d->name, 2 + TX_SLOTS + RX_SLOTS);
		return connect_failed(d);
	}
	if (mk_xenfront_bind_event(&d->xf, on_event, d) || publish(d) ||
	    mk_xenfront_wait_backend(&d->xf, MK_XENBUS_CONNECTED,
		    " after we published the rings; see netback's messages in dom0"))
		return connect_failed(d);
	if (d->state == DEV_BROKEN)	/* a ring was refused meanwhile */
		return connect_failed(d);
	d->state = DEV_CONNECTED;
	mk_printk("netfront: %s: MAC %02x:%02x:%02x:%02x:%02x:%02x, %u transmit and %u receive "
		"buffers; backend %s\n", d->name, d->mac[0], d->mac[1], d->mac[2], d->mac[3],
		d->mac[4], d->mac[5], TX_SLOTS, RX_SLOTS, d->xf.backend);
	mk_xenfront_watch_backend(&d->xf, backend_left, d);	/* a failure is reported */
	/* Frames may have arrived while we waited. */
	on_event(d->xf.port, d);
	return 0;
}

int mk_netfront_connect(struct mk_netdev *d)
{
	while (d->state == DEV_CONNECTING)
		mk_thread_sleep_until(mk_time_monotonic_ns() + POLL_NS);
	if (d->state == DEV_CONNECTED)
		return 0;
	if (d->state == DEV_BROKEN || d->state == DEV_GONE)
		return XEN_EIO;
	d->state = DEV_CONNECTING;
	return do_connect(d);
}

/* Frees every page whose grant ends (rings, buffers); returns how many the backend still maps. */
static unsigned reclaim_pages(struct mk_netdev *d)
{
	unsigned held = 0;
	for (unsigned i = 0; i < TX_SLOTS; i++) {
		if (!d->tx_page[i])
			continue;
		if (mk_gnttab_end_access(d->tx_gref[i])) {
			mk_page_free(d->tx_page[i], 1);
			d->tx_page[i] = NULL;
		} else {
			held++;
		}
	}
	for (unsigned i = 0; i < RX_SLOTS; i++) {
		if (!d->rx_page[i])
			continue;
		if (mk_gnttab_end_access(d->rx_gref[i])) {
			mk_page_free(d->rx_page[i], 1);
			d->rx_page[i] = NULL;
		} else {
			held++;
		}
	}
	if (d->tx_ref_granted) {
		if (mk_gnttab_end_access(d->tx_ref)) {
			d->tx_ref_granted = false;
			mk_page_free(d->txs, 1);
			d->txs = NULL;
		} else {
			held++;
		}
	}
	if (d->rx_ref_granted) {
		if (mk_gnttab_end_access(d->rx_ref)) {
			d->rx_ref_granted = false;
			mk_page_free(d->rxs, 1);
			d->rxs = NULL;
		} else {
			held++;
		}
	}
	return held;
}

/* The backend left (xenfront's thread; see the top of this file). */
static void backend_left(struct mk_xenfront *f, unsigned bstate, void *arg)
{
	struct mk_netdev *d = arg;
	char why[40];
	mk_xenfront_left_text(why, sizeof(why), bstate);
	bool was_broken = d->state != DEV_CONNECTED;
	d->state = DEV_GONE;	/* from now on: frames are dropped both ways, events ignored */
	mk_xenfront_stop_events(f);
	unsigned tx_lost = d->txr.busy;
	int err = mk_xenfront_close_after_backend(f);
	mk_printk("netfront: %s: the backend at %s left (%s): %s is out of service%s, every frame "
		"on it is dropped and counted (%u sent frames the backend had not answered are "
		"lost); state Closed %s\n", d->name, f->backend, why, d->name,
		was_broken ? " (already)" : "", tx_lost, err == 0 ? "written" :
		err == XEN_ENOENT ? "not written (our folder is gone)" : "could not be written");
	/* Our pages: each one the backend no longer maps is freed. */
	uint64_t deadline = mk_time_monotonic_ns() + RECLAIM_NS;
	unsigned held;
	while ((held = reclaim_pages(d)) && mk_time_monotonic_ns() < deadline)
		mk_thread_sleep_until(mk_time_monotonic_ns() + POLL_NS);
	if (held)
		mk_printk("netfront: %s: the backend still maps %u of our %u ring and buffer pages "
			"%u s after it left; they are never reused\n", d->name, held,
			2 + TX_SLOTS + RX_SLOTS, (unsigned)(RECLAIM_NS / 1000000000ULL));
	mk_xenfront_release_event(f);
}

uint16_t mk_netfront_test_hold_tx(struct mk_netdev *d)
{
	uint16_t id;
	if (d->state != DEV_CONNECTED || mk_netring_take(&d->txr, &id) < 0)
		return 0xffff;
	d->txr.req_prod_pvt++;
	return id;
}

uint16_t mk_netfront_test_rx_id(struct mk_netdev *d)
{
	for (unsigned s = 0; s < d->rxr.nslots; s++)
		if (d->rxr.slot[s].busy)
			return mk_netring_id(s, d->rxr.slot[s].seq);
	return 0xffff;
}

bool mk_netfront_test_inject_tx(struct mk_netdev *d, const struct mk_netif_tx_response *rsp,
	uint32_t delta)
{
	if (d->state != DEV_CONNECTED)
		return d->state == DEV_BROKEN;
	mk_memcpy((void *)&d->txs->ring[d->txr.rsp_cons & (MK_NETIF_TX_RING_SIZE - 1)].rsp, rsp,
		sizeof(*rsp));
	mk_wmb();
	MK_WRITE_ONCE(d->txs->rsp_prod, d->txr.rsp_cons + delta);
	take_tx(d);
	return d->state == DEV_BROKEN;
}

bool mk_netfront_test_inject_rx(struct mk_netdev *d, const struct mk_netif_rx_response *rsp,
	uint32_t delta)
{
	if (d->state != DEV_CONNECTED)
		return d->state == DEV_BROKEN;
	mk_memcpy((void *)&d->rxs->ring[d->rxr.rsp_cons & (MK_NETIF_RX_RING_SIZE - 1)].rsp, rsp,
		sizeof(*rsp));
	mk_wmb();
	MK_WRITE_ONCE(d->rxs->rsp_prod, d->rxr.rsp_cons + delta);
	take_rx(d);
	return d->state == DEV_BROKEN;
}
