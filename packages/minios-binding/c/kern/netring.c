/*
 * Checks of the network backend's ring indices, responses and xenstore values; see
 * mk/netring.h. Pure functions: no guest kernel service is used here, so the same file
 * builds for the host fuzz harness (test/net/netring-fuzz.c).
 */
#include <mk/lib.h>
#include <mk/netring.h>

_Static_assert(MK_NETRING_MAX_SLOTS <= MK_NETIF_TX_RING_SIZE, "slots fit the tx ring");
_Static_assert(MK_NETRING_MAX_SLOTS <= MK_NETIF_RX_RING_SIZE, "slots fit the rx ring");

const char *mk_netring_verdict_text(enum mk_netring_verdict v)
{
	switch (v) {
	case MK_NETRING_OK: return "accepted";
	case MK_NETRING_PROD_AHEAD: return "the response producer index is ahead of the requests outstanding";
	case MK_NETRING_ID_RANGE: return "the response id names no slot";
	case MK_NETRING_ID_IDLE: return "the response id names a slot with no request outstanding";
	case MK_NETRING_ID_STALE: return "the response id is not the outstanding request's (a stale or repeated response)";
	case MK_NETRING_STATUS_UNKNOWN: return "the transmit status is none of OKAY, ERROR, DROPPED";
	case MK_NETRING_RX_EMPTY: return "the receive status is 0: no bytes and no error";
	case MK_NETRING_RX_BOUNDS: return "the packet's offset and length reach beyond its page";
	case MK_NETRING_RX_FLAGS: return "the response has more_data, extra_info or gso_prefix, which this frontend never offered";
	}
	return "unknown verdict";
}

void mk_netring_init(struct mk_netring *r, unsigned nslots)
{
	r->req_prod_pvt = 0;
	r->rsp_cons = 0;
	r->busy = 0;
	r->next_seq = 0;
	r->nslots = nslots > MK_NETRING_MAX_SLOTS ? MK_NETRING_MAX_SLOTS : nslots;
	for (unsigned i = 0; i < MK_NETRING_MAX_SLOTS; i++)
		r->slot[i] = (struct mk_netring_slot){ .seq = 0, .busy = false };
}

uint16_t mk_netring_id(unsigned slot, uint8_t seq)
{
	return (uint16_t)((unsigned)seq << 8 | (slot & 0xffu));
}

int mk_netring_take(struct mk_netring *r, uint16_t *id)
{
	if (r->busy >= r->nslots)
		return -1;
	for (unsigned i = 0; i < r->nslots; i++) {
		if (r->slot[i].busy)
			continue;
		uint8_t seq = r->next_seq++;
		r->slot[i] = (struct mk_netring_slot){ .seq = seq, .busy = true };
		r->busy++;
		*id = mk_netring_id(i, seq);
		return (int)i;
	}
	return -1;
}

enum mk_netring_verdict mk_netring_pending(const struct mk_netring *r, uint32_t rsp_prod,
	uint32_t *count)
{
	uint32_t n = rsp_prod - r->rsp_cons;	/* modulo 2^32, as the ring's indices */
	if (n > r->busy)
		return MK_NETRING_PROD_AHEAD;
	*count = n;
	return MK_NETRING_OK;
}

static enum mk_netring_verdict check_id(const struct mk_netring *r, uint16_t id, unsigned *slot)
{
	unsigned s = id & 0xffu;
	if (s >= r->nslots)
		return MK_NETRING_ID_RANGE;
	if (!r->slot[s].busy)
		return MK_NETRING_ID_IDLE;
	if (r->slot[s].seq != (uint8_t)(id >> 8))
		return MK_NETRING_ID_STALE;
	*slot = s;
	return MK_NETRING_OK;
}

enum mk_netring_verdict mk_netring_check_tx(const struct mk_netring *r,
	const struct mk_netif_tx_response *rsp, unsigned *slot)
{
	unsigned s;
	enum mk_netring_verdict v = check_id(r, rsp->id, &s);
	if (v)
		return v;
	if (rsp->status != MK_NETIF_RSP_OKAY && rsp->status != MK_NETIF_RSP_ERROR &&
	    rsp->status != MK_NETIF_RSP_DROPPED)
		return MK_NETRING_STATUS_UNKNOWN;
	*slot = s;
	return MK_NETRING_OK;
}

enum mk_netring_verdict mk_netring_check_rx(const struct mk_netring *r,
	const struct mk_netif_rx_response *rsp, uint32_t page_size, unsigned *slot, uint32_t *len)
{
	unsigned s;
	enum mk_netring_verdict v = check_id(r, rsp->id, &s);
	if (v)
		return v;
	if (rsp->flags & (MK_NETRXF_MORE_DATA | MK_NETRXF_EXTRA_INFO | MK_NETRXF_GSO_PREFIX))
		return MK_NETRING_RX_FLAGS;
	if (rsp->status < 0) {
		*slot = s;
		*len = 0;
		return MK_NETRING_OK;
	}
	if (rsp->status == 0)
		return MK_NETRING_RX_EMPTY;
	uint32_t n = (uint32_t)rsp->status;
	if (rsp->offset >= page_size || n > page_size - rsp->offset)
		return MK_NETRING_RX_BOUNDS;
	*slot = s;
	*len = n;
	return MK_NETRING_OK;
}

void mk_netring_complete(struct mk_netring *r, unsigned slot)
{
	r->slot[slot].busy = false;
	r->busy--;
	r->rsp_cons++;
}

const char *mk_netif_problem_text(enum mk_netif_problem p)
{
	switch (p) {
	case MK_NETIF_VALUE_OK: return "accepted";
	case MK_NETIF_VALUE_MISSING: return "the node is missing";
	case MK_NETIF_VALUE_NOT_DECIMAL: return "not a decimal number of 1 to 20 digits";
	case MK_NETIF_VALUE_TOO_BIG: return "the number is too big";
	case MK_NETIF_VALUE_NOT_BOOLEAN: return "neither 0 nor 1";
	case MK_NETIF_VALUE_NOT_MAC: return "not a MAC address written xx:xx:xx:xx:xx:xx";
	case MK_NETIF_VALUE_MAC_MULTICAST: return "a multicast MAC address (the group bit is set)";
	case MK_NETIF_VALUE_MAC_ZERO: return "the all-zero MAC address";
	}
	return "unknown problem";
}

enum mk_netif_problem mk_netif_parse_uint(const char *s, size_t len, uint64_t max,
	uint64_t *out)
{
	if (!s)
		return MK_NETIF_VALUE_MISSING;
	switch (mk_parse_decimal(s, len, max, out)) {
	case MK_DECIMAL_OK: return MK_NETIF_VALUE_OK;
	case MK_DECIMAL_TOO_BIG: return MK_NETIF_VALUE_TOO_BIG;
	default: return MK_NETIF_VALUE_NOT_DECIMAL;
	}
}

enum mk_netif_problem mk_netif_parse_bool(const char *s, size_t len, bool *out)
{
	*out = false;
	if (!s)
		return MK_NETIF_VALUE_OK;
	if (len != 1 || (s[0] != '0' && s[0] != '1'))
		return MK_NETIF_VALUE_NOT_BOOLEAN;
	*out = s[0] == '1';
	return MK_NETIF_VALUE_OK;
}

enum mk_netif_problem mk_netif_parse_mac(const char *s, size_t len, uint8_t mac[6])
{
	if (!s)
		return MK_NETIF_VALUE_MISSING;
	if (len != 17)
		return MK_NETIF_VALUE_NOT_MAC;
	uint8_t m[6];
	for (unsigned i = 0; i < 6; i++) {
		int hi = mk_hex_digit(s[3 * i]), lo = mk_hex_digit(s[3 * i + 1]);
		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
			return MK_NETIF_VALUE_NOT_MAC;
		m[i] = (uint8_t)(hi << 4 | lo);
	}
	if (m[0] & 1)
		return MK_NETIF_VALUE_MAC_MULTICAST;
	if ((m[0] | m[1] | m[2] | m[3] | m[4] | m[5]) == 0)
		return MK_NETIF_VALUE_MAC_ZERO;
	for (unsigned i = 0; i < 6; i++)
		mac[i] = m[i];
	return MK_NETIF_VALUE_OK;
}
