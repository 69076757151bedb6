/*
 * The Xen network device protocol (x86-64), the part this frontend uses: the transmit and
 * receive rings of io/netif.h over io/ring.h, their request and response layouts, the flag
 * bits and status values, written out from the facts in Xen's public headers (numbers and
 * layouts only). test/net/netif-abi.c compiles these against /usr/include/xen/io/netif.h and
 * compares every offset, size and constant.
 *
 * The frontend offers no scatter-gather, GSO, checksum offload or multiple queues, and asks
 * for receive by copy (request-rx-copy): one packet is one slot each way, up to a page.
 */
#ifndef MK_NETIF_H
#define MK_NETIF_H
#include <mk/types.h>

/* netif_tx_request.flags */
#define MK_NETTXF_CSUM_BLANK 0x1u
#define MK_NETTXF_DATA_VALIDATED 0x2u
#define MK_NETTXF_MORE_DATA 0x4u
#define MK_NETTXF_EXTRA_INFO 0x8u

/* netif_rx_response.flags */
#define MK_NETRXF_DATA_VALIDATED 0x1u
#define MK_NETRXF_CSUM_BLANK 0x2u
#define MK_NETRXF_MORE_DATA 0x4u
#define MK_NETRXF_EXTRA_INFO 0x8u
#define MK_NETRXF_GSO_PREFIX 0x10u

/* Response status (a receive response's positive status is the packet's length). */
#define MK_NETIF_RSP_DROPPED (-2)
#define MK_NETIF_RSP_ERROR (-1)
#define MK_NETIF_RSP_OKAY 0
#define MK_NETIF_RSP_NULL 1

struct mk_netif_tx_request {
	uint32_t gref;
	uint16_t offset;
	uint16_t flags;
	uint16_t id;
	uint16_t size;
};

struct mk_netif_tx_response {
	uint16_t id;
	int16_t status;
};

struct mk_netif_rx_request {
	uint16_t id;
	uint16_t pad;
	uint32_t gref;
};

struct mk_netif_rx_response {
	uint16_t id;
	uint16_t offset;
	uint16_t flags;
	int16_t status;
};

union mk_netif_tx_sring_entry {
	struct mk_netif_tx_request req;
	struct mk_netif_tx_response rsp;
};

union mk_netif_rx_sring_entry {
	struct mk_netif_rx_request req;
	struct mk_netif_rx_response rsp;
};

/* io/ring.h's shared ring header: four indices, 48 bytes of padding, the entries. */
struct mk_netif_tx_sring {
	uint32_t req_prod, req_event;
	uint32_t rsp_prod, rsp_event;
	uint8_t pvt_pad[4];
	uint8_t pad[44];
	union mk_netif_tx_sring_entry ring[];
};

struct mk_netif_rx_sring {
	uint32_t req_prod, req_event;
	uint32_t rsp_prod, rsp_event;
	uint8_t pvt_pad[4];
	uint8_t pad[44];
	union mk_netif_rx_sring_entry ring[];
};

/* Entries in a one-page ring: the largest power of two that fits (256 both ways). */
#define MK_NETIF_TX_RING_SIZE 256u
#define MK_NETIF_RX_RING_SIZE 256u

_Static_assert(sizeof(union mk_netif_tx_sring_entry) == 12, "tx entry");
_Static_assert(sizeof(union mk_netif_rx_sring_entry) == 8, "rx entry");
_Static_assert(sizeof(struct mk_netif_tx_sring) == 64, "ring header");
_Static_assert(sizeof(struct mk_netif_tx_sring) + MK_NETIF_TX_RING_SIZE *
	sizeof(union mk_netif_tx_sring_entry) <= 4096, "the tx ring fits in a page");
_Static_assert(sizeof(struct mk_netif_tx_sring) + 2 * MK_NETIF_TX_RING_SIZE *
	sizeof(union mk_netif_tx_sring_entry) > 4096, "256 is the largest power of two that fits");
_Static_assert(sizeof(struct mk_netif_rx_sring) + MK_NETIF_RX_RING_SIZE *
	sizeof(union mk_netif_rx_sring_entry) <= 4096, "the rx ring fits in a page");
_Static_assert(sizeof(struct mk_netif_rx_sring) + 2 * MK_NETIF_RX_RING_SIZE *
	sizeof(union mk_netif_rx_sring_entry) > 4096, "256 is the largest power of two that fits");

#endif
