/*
 * The network frontend's checks of what the backend hands it, as pure functions: the
 * bookkeeping of one ring direction (which requests are outstanding), the check of each
 * transmit and receive response copied out of the shared ring, and the parse of the
 * xenstore values the frontend reads (the MAC, decimal numbers, feature flags). Everything
 * here works on private copies and private state only, has no other dependency than
 * <mk/netif.h>, and builds on the host too: test/net/netring-fuzz.c runs it under
 * ASan/UBSan with arbitrary inputs.
 *
 * A value that fails a check is refused, never used: the caller reports it and stops using
 * the device (netfront.c).
 */
#ifndef MK_NETRING_H
#define MK_NETRING_H
#include <mk/netif.h>

/* Why a ring index or a response was refused (MK_NETRING_OK: accepted). */
enum mk_netring_verdict {
	MK_NETRING_OK = 0,
	MK_NETRING_PROD_AHEAD,		/* rsp_prod claims more responses than requests outstanding */
	MK_NETRING_ID_RANGE,		/* the id names no slot */
	MK_NETRING_ID_IDLE,		/* the id names a slot with no request outstanding */
	MK_NETRING_ID_STALE,		/* the id's sequence number is not the outstanding request's */
	MK_NETRING_STATUS_UNKNOWN,	/* a transmit status that is none of OKAY/ERROR/DROPPED */
	MK_NETRING_RX_EMPTY,		/* a receive response with status 0 (no bytes, no error) */
	MK_NETRING_RX_BOUNDS,		/* offset + length reach beyond the receive page */
	MK_NETRING_RX_FLAGS,		/* more_data, extra_info or gso_prefix: never negotiated */
};
const char *mk_netring_verdict_text(enum mk_netring_verdict v);

/* Slots per direction at most: the slot is the low 8 bits of a 16-bit id. */
#define MK_NETRING_MAX_SLOTS 256u

struct mk_netring_slot {
	uint8_t seq;	/* echoed in the id's high byte: a late duplicate cannot complete a newer request */
	bool busy;
};

/*
 * One direction's private view: its own producer and consumer indices (never read back from
 * the shared page) and nslots slots (each a buffer page of the frontend). Invariant: busy ==
 * req_prod_pvt - rsp_cons <= nslots <= the ring size.
 */
struct mk_netring {
	uint32_t req_prod_pvt;
	uint32_t rsp_cons;
	unsigned nslots;
	unsigned busy;
	uint8_t next_seq;
	struct mk_netring_slot slot[MK_NETRING_MAX_SLOTS];
};

/* nslots from 1 to MK_NETRING_MAX_SLOTS (and at most the ring's size). */
void mk_netring_init(struct mk_netring *r, unsigned nslots);
/*
 * Takes a free slot for the next request: its index and the request's id, or -1 when all are
 * busy. The caller writes the request at req_prod_pvt and then moves req_prod_pvt on.
 */
int mk_netring_take(struct mk_netring *r, uint16_t *id);
/* The id of a slot with a sequence number. */
uint16_t mk_netring_id(unsigned slot, uint8_t seq);
/*
 * The backend's rsp_prod, read once from the shared page: *count gets how many responses
 * wait at rsp_cons. PROD_AHEAD when that is more than the requests outstanding.
 */
enum mk_netring_verdict mk_netring_pending(const struct mk_netring *r, uint32_t rsp_prod,
	uint32_t *count);
/* Checks a transmit response's id (outstanding slot, same sequence) and status. */
enum mk_netring_verdict mk_netring_check_tx(const struct mk_netring *r,
	const struct mk_netif_tx_response *rsp, unsigned *slot);
/*
 * Checks a receive response: its id as for transmit, no flag the frontend did not negotiate
 * (data_validated and csum_blank are allowed and mean nothing here: checksums are always
 * complete without checksum offload), and either an error status (ERROR, DROPPED or any
 * other negative value: the packet is lost, *len = 0) or a length with offset + length
 * within page_size. On MK_NETRING_OK, *slot is the request's slot and *len the bytes.
 */
enum mk_netring_verdict mk_netring_check_rx(const struct mk_netring *r,
	const struct mk_netif_rx_response *rsp, uint32_t page_size, unsigned *slot, uint32_t *len);
/* Consumes the response just checked (rsp_cons + 1) and frees its slot. */
void mk_netring_complete(struct mk_netring *r, unsigned slot);

/* What was wrong with a xenstore value. */
enum mk_netif_problem {
	MK_NETIF_VALUE_OK = 0,
	MK_NETIF_VALUE_MISSING,
	MK_NETIF_VALUE_NOT_DECIMAL,	/* not 1-20 decimal digits */
	MK_NETIF_VALUE_TOO_BIG,
	MK_NETIF_VALUE_NOT_BOOLEAN,	/* neither 0 nor 1 */
	MK_NETIF_VALUE_NOT_MAC,		/* not six two-digit hex octets separated by ':' */
	MK_NETIF_VALUE_MAC_MULTICAST,	/* the group bit is set: no interface can have it */
	MK_NETIF_VALUE_MAC_ZERO,	/* 00:00:00:00:00:00 */
};
const char *mk_netif_problem_text(enum mk_netif_problem p);

/* A decimal number of 1-20 digits, no sign, no space, at most max. */
enum mk_netif_problem mk_netif_parse_uint(const char *s, size_t len, uint64_t max,
	uint64_t *out);
/* "0" or "1"; NULL (absent) is false. */
enum mk_netif_problem mk_netif_parse_bool(const char *s, size_t len, bool *out);
/* xx:xx:xx:xx:xx:xx (either case), a unicast address that is not all zeros. */
enum mk_netif_problem mk_netif_parse_mac(const char *s, size_t len, uint8_t mac[6]);

#endif
