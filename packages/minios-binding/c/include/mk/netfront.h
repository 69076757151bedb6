/*
 * netfront: this domain's virtual network interfaces (vifs), served by a network backend
 * (netback in dom0) over a transmit ring and a receive ring each (io/netif.h). A vif is found
 * by its id under device/vif/ (the toolstack's vif list: 0, 1, ...), connected on first use
 * and stays connected. One Ethernet frame is one ring slot each way, at most a page; the
 * backend copies received frames into pages the frontend granted (request-rx-copy), and
 * reads transmitted ones from pages the frontend copied them into. No scatter-gather, GSO,
 * checksum offload or multiple queues are offered.
 *
 * Everything the backend writes (ring indices, responses, its xenstore nodes, and the MAC
 * the toolstack wrote) is copied, then checked (<mk/netring.h>). A value that fails is
 * refused with a console line naming the vif, the value and what was wrong; the vif then
 * drops every frame both ways, and the rest of the guest goes on. A backend that leaves
 * (its state Closing or Closed, or its node gone: xl network-detach) takes the vif out of
 * service the same way, for good; netfront writes Closed and frees the pages the backend
 * gave back (kern/netfront.c).
 *
 * Errors are positive XEN_E* codes (Linux numbering), plus the ones below.
 */
#ifndef MK_NETFRONT_H
#define MK_NETFRONT_H
#include <mk/netring.h>
#include <mk/xen.h>

#define MK_NET_ENXIO 6		/* this domain has no vifs at all (or no xenstore: dom0) */
#define MK_NET_EMSGSIZE 90	/* a frame longer than a page (or empty) */

/* Transmit and receive buffers (pages) of one vif. */
#define MK_NETFRONT_TX_SLOTS 32u
#define MK_NETFRONT_RX_SLOTS 64u

struct mk_netdev;

/*
 * Finds the vif with id among device/vif/ in xenstore. Returns 0 and the device (connected
 * or not), MK_NET_ENXIO when the domain has no vifs, or XEN_ENOENT when none has that id.
 * May block (xenstore).
 */
int mk_netfront_lookup(uint32_t id, struct mk_netdev **dev);

/*
 * Connects the vif if it is not yet: its MAC read and checked, the backend found and ready,
 * feature-rx-copy required of it, both rings and the buffers granted, the receive ring
 * filled, an event channel, the frontend's nodes and state Connected in one xenstore
 * transaction, the backend Connected. Returns 0, or XEN_EIO after printing why. Blocks the
 * calling thread (up to 30 s for the backend); other threads run meanwhile.
 */
int mk_netfront_connect(struct mk_netdev *dev);

/*
 * Who gets received frames: fn runs on the event path with the frame in the receive page
 * (valid only during the call: copy it), must not block. NULL drops every received frame.
 */
typedef void (*mk_netfront_rx_fn)(void *arg, const void *frame, size_t len);
void mk_netfront_set_receiver(struct mk_netdev *dev, mk_netfront_rx_fn fn, void *arg);

const uint8_t *mk_netfront_mac(const struct mk_netdev *dev);
/* "vif0" */
const char *mk_netfront_name(const struct mk_netdev *dev);
bool mk_netfront_broken(const struct mk_netdev *dev);

struct mk_netfront_iov {
	const void *base;
	size_t len;
};

/*
 * Transmits one frame gathered from n buffers (copied at once: the buffers may be reused on
 * return). Returns 0, XEN_EAGAIN (every transmit buffer is in flight: the frame is not
 * sent), MK_NET_EMSGSIZE (empty or longer than a page) or XEN_EIO (not connected, or out of
 * service). Never blocks.
 */
int mk_netfront_send(struct mk_netdev *dev, const struct mk_netfront_iov *iov, size_t n);

struct mk_netfront_stats {
	uint64_t tx_packets, tx_errors, tx_full;
	uint64_t tx_dropped;	/* refused: the vif is out of service */
	uint64_t rx_packets, rx_errors, rx_dropped;
};
void mk_netfront_stats(const struct mk_netdev *dev, struct mk_netfront_stats *st);

/* Test hooks (kern/netfront.c) */
struct mk_netif_tx_response;
struct mk_netif_rx_response;
/*
 * For test/net/nettest.c only, to play a misbehaving backend.
 * mk_netfront_test_hold_tx makes a transmit request outstanding that the backend never sees
 * (its slot is taken and our producer index moves, the shared one does not) and returns its
 * id (0xffff: none free). mk_netfront_test_rx_id gives the id of an outstanding receive
 * request. mk_netfront_test_inject_tx/_rx write rsp as the next response of that ring, move
 * the shared rsp_prod delta entries past our consumer index and handle the ring as an event
 * would; they return whether the vif is now out of service.
 */
uint16_t mk_netfront_test_hold_tx(struct mk_netdev *d);
uint16_t mk_netfront_test_rx_id(struct mk_netdev *d);
bool mk_netfront_test_inject_tx(struct mk_netdev *d, const struct mk_netif_tx_response *rsp,
	uint32_t delta);
bool mk_netfront_test_inject_rx(struct mk_netdev *d, const struct mk_netif_rx_response *rsp,
	uint32_t delta);

#endif
