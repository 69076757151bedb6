/*
 * Host fuzz harness for c/kern/netring.c, the network frontend's checks of what a backend
 * hands it. Built with ASan and UBSan (every report fatal) by test/netring-host.test.ts:
 * with clang's libFuzzer when it is there (coverage-guided), and always as a plain program
 * that runs N inputs from a fixed-seed generator (`netring-fuzz N`), plus `--selftest`,
 * which checks known answers.
 *
 * An input drives a model of one ring direction (transmit or receive): requests are taken,
 * responses arrive (arbitrary bytes, or a correct answer to an outstanding request with one
 * field possibly changed), the response index moves anywhere; and it feeds arbitrary
 * strings to the xenstore parsers (numbers, booleans, MACs). Each verdict is compared with
 * what the model, written independently here, says. A disagreement aborts with a message.
 */
#define FUZZ_NAME "netring-fuzz"
#define FUZZ_MAX_INPUT 1024
#include "fuzz.h"
#include <mk/netring.h>

static uint16_t take16(struct input *in)
{
	return (uint16_t)(take8(in) | take8(in) << 8);
}

static uint32_t take32(struct input *in)
{
	return (uint32_t)take16(in) | (uint32_t)take16(in) << 16;
}

/* The model: which slots are outstanding with which sequence number. */
struct model {
	unsigned nslots;
	bool busy[MK_NETRING_MAX_SLOTS];
	uint8_t seq[MK_NETRING_MAX_SLOTS];
	unsigned outstanding;
	uint32_t rsp_cons;
};

static enum mk_netring_verdict model_id(const struct model *m, uint16_t id, unsigned *slot)
{
	unsigned s = id & 0xff;
	if (s >= m->nslots)
		return MK_NETRING_ID_RANGE;
	if (!m->busy[s])
		return MK_NETRING_ID_IDLE;
	if (m->seq[s] != id >> 8)
		return MK_NETRING_ID_STALE;
	*slot = s;
	return MK_NETRING_OK;
}

/* A response id: arbitrary, or an outstanding request's (possibly off by a bit). */
static uint16_t pick_id(struct input *in, const struct model *m)
{
	uint8_t how = take8(in) % 4;
	if (how == 0 || !m->outstanding)
		return take16(in);
	unsigned k = take8(in) % m->outstanding;
	for (unsigned s = 0; s < m->nslots; s++) {
		if (m->busy[s] && k-- == 0) {
			uint16_t id = (uint16_t)(m->seq[s] << 8 | s);
			if (how == 3)
				id ^= (uint16_t)(1u << (take8(in) % 16));
			return id;
		}
	}
	return 0;
}

static void run_ring(struct input *in)
{
	struct mk_netring r;
	struct model m = { 0 };
	m.nslots = 1 + take8(in) % MK_NETRING_MAX_SLOTS;
	bool rx = take8(in) & 1;
	mk_netring_init(&r, m.nslots);
	REQUIRE(r.nslots == m.nslots, "init: nslots %u, asked %u", r.nslots, m.nslots);
	for (unsigned step = 0; step < 64 && in->left; step++) {
		switch (take8(in) % 4) {
		case 0: { /* take */
			uint16_t id = 0;
			int s = mk_netring_take(&r, &id);
			if (m.outstanding == m.nslots) {
				REQUIRE(s == -1, "take: slot %d with all %u busy", s, m.nslots);
				break;
			}
			REQUIRE(s >= 0 && (unsigned)s < m.nslots && !m.busy[s], "take: slot %d not free", s);
			REQUIRE((id & 0xff) == (unsigned)s, "take: id 0x%x for slot %d", id, s);
			m.busy[s] = true;
			m.seq[s] = (uint8_t)(id >> 8);
			m.outstanding++;
			r.req_prod_pvt++;
			break;
		}
		case 1: { /* the response index */
			uint32_t delta = take8(in) & 1 ? take32(in) : take8(in) % 8;
			uint32_t count = 0xdeadbeef;
			enum mk_netring_verdict v = mk_netring_pending(&r, m.rsp_cons + delta, &count);
			if (delta <= m.outstanding)
				REQUIRE(v == MK_NETRING_OK && count == delta, "pending: delta %u, %u outstanding: verdict %d count %u", delta, m.outstanding, v, count);
			else
				REQUIRE(v == MK_NETRING_PROD_AHEAD, "pending: delta %u above %u outstanding accepted", delta, m.outstanding);
			break;
		}
		default: { /* a response */
			unsigned slot = 0, want_slot = 0;
			enum mk_netring_verdict v, want;
			uint16_t id = pick_id(in, &m);
			want = model_id(&m, id, &want_slot);
			if (!rx) {
				struct mk_netif_tx_response rsp = { .id = id, .status = (int16_t)(take8(in) & 1 ? (int16_t)take16(in) : (int16_t)(take8(in) % 3) - 2) };
				if (!want && rsp.status != 0 && rsp.status != -1 && rsp.status != -2)
					want = MK_NETRING_STATUS_UNKNOWN;
				v = mk_netring_check_tx(&r, &rsp, &slot);
			} else {
				struct mk_netif_rx_response rsp = { .id = id,
					.offset = take8(in) & 1 ? take16(in) : (uint16_t)(take8(in) * 16),
					.flags = take8(in) & 1 ? take16(in) : (uint16_t)(take8(in) & 3),
					.status = take8(in) & 1 ? (int16_t)take16(in) : (int16_t)(take16(in) % 1600) };
				uint32_t len = 0xdeadbeef, want_len = 0;
				if (!want && (rsp.flags & 0x1c))
					want = MK_NETRING_RX_FLAGS;
				else if (!want && rsp.status == 0)
					want = MK_NETRING_RX_EMPTY;
				else if (!want && rsp.status > 0 && (rsp.offset >= 4096 || rsp.offset + rsp.status > 4096))
					want = MK_NETRING_RX_BOUNDS;
				else if (!want)
					want_len = rsp.status > 0 ? (uint32_t)rsp.status : 0;
				v = mk_netring_check_rx(&r, &rsp, 4096, &slot, &len);
				if (!v)
					REQUIRE(len == want_len && (len == 0 || rsp.offset + len <= 4096), "rx: len %u, want %u (offset %u)", len, want_len, rsp.offset);
			}
			REQUIRE(v == want, "%s response id 0x%x: verdict %d (%s), model %d", rx ? "rx" : "tx", id, v, mk_netring_verdict_text(v), want);
			if (!v) {
				REQUIRE(slot == want_slot, "slot %u, model %u", slot, want_slot);
				mk_netring_complete(&r, slot);
				m.busy[slot] = false;
				m.outstanding--;
				m.rsp_cons++;
			}
			break;
		}
		}
		REQUIRE(r.busy == m.outstanding && r.rsp_cons == m.rsp_cons, "state: busy %u/%u, rsp_cons %u/%u", r.busy, m.outstanding, r.rsp_cons, m.rsp_cons);
	}
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

static void run_parsers(struct input *in)
{
	size_t len;
	const char *s = take_str(in, &len);
	uint64_t max = take8(in) & 1 ? ~0ULL : take16(in);
	uint64_t out = 77;
	enum mk_netif_problem p = mk_netif_parse_uint(s, len, max, &out);
	/* Model: decimal digits only, 1-20 of them, value without overflow at most max. */
	bool digits = len >= 1 && len <= 20;
	for (size_t i = 0; i < len && digits; i++)
		digits = s[i] >= '0' && s[i] <= '9';
	if (!digits) {
		REQUIRE(p == MK_NETIF_VALUE_NOT_DECIMAL, "uint: %.*s accepted (%d)", (int)len, s, p);
	} else {
		unsigned __int128 v = 0;
		for (size_t i = 0; i < len; i++)
			v = v * 10 + (unsigned)(s[i] - '0');
		if (v > max)
			REQUIRE(p == MK_NETIF_VALUE_TOO_BIG, "uint: %.*s above %llu: %d", (int)len, s, (unsigned long long)max, p);
		else
			REQUIRE(p == MK_NETIF_VALUE_OK && out == (uint64_t)v, "uint: %.*s: %d %llu", (int)len, s, p, (unsigned long long)out);
	}

	bool b = true;
	p = mk_netif_parse_bool(s, len, &b);
	if (len == 1 && (s[0] == '0' || s[0] == '1'))
		REQUIRE(p == MK_NETIF_VALUE_OK && b == (s[0] == '1'), "bool: %c", s[0]);
	else
		REQUIRE(p == MK_NETIF_VALUE_NOT_BOOLEAN && !b, "bool: %.*s accepted", (int)len, s);

	/* MACs: arbitrary, or a valid one with one byte changed. */
	char mac_s[18];
	const char *ms = s;
	size_t ml = len;
	if (take8(in) & 1) {
		snprintf(mac_s, sizeof(mac_s), "%02x:%02x:%02x:%02x:%02x:%02x", take8(in) & 0xfe,
			take8(in), take8(in), take8(in), take8(in), take8(in));
		if (take8(in) & 1)
			mac_s[take8(in) % 17] = (char)take8(in);
		ms = mac_s;
		ml = 17;
	}
	uint8_t mac[6] = { 1, 2, 3, 4, 5, 6 };
	p = mk_netif_parse_mac(ms, ml, mac);
	enum mk_netif_problem want = MK_NETIF_VALUE_OK;
	uint8_t m[6] = { 0 };
	if (ml != 17) {
		want = MK_NETIF_VALUE_NOT_MAC;
	} else {
		for (int i = 0; i < 6 && !want; i++) {
			int hi = hexval(ms[3 * i]), lo = hexval(ms[3 * i + 1]);
			if (hi < 0 || lo < 0 || (i < 5 && ms[3 * i + 2] != ':'))
				want = MK_NETIF_VALUE_NOT_MAC;
			else
				m[i] = (uint8_t)(hi * 16 + lo);
		}
		if (!want && (m[0] & 1))
			want = MK_NETIF_VALUE_MAC_MULTICAST;
		else if (!want && !(m[0] | m[1] | m[2] | m[3] | m[4] | m[5]))
			want = MK_NETIF_VALUE_MAC_ZERO;
	}
	REQUIRE(p == want, "mac: %.*s: %d, model %d", (int)ml, ms, p, want);
	if (!want)
		REQUIRE(memcmp(mac, m, 6) == 0, "mac: %.*s parsed wrong", (int)ml, ms);
	else
		REQUIRE(mac[0] == 1 && mac[5] == 6, "mac: a refused value changed the output");
}

static void fuzz_one_input(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	while (in.left) {
		if (take8(&in) & 1)
			run_ring(&in);
		else
			run_parsers(&in);
	}
}

static void fuzz_selftest(void)
{
	struct mk_netring r;
	mk_netring_init(&r, 2);
	uint16_t a, b, c;
	REQUIRE(mk_netring_take(&r, &a) == 0 && a == 0x0000, "first take");
	REQUIRE(mk_netring_take(&r, &b) == 1 && b == 0x0101, "second take");
	REQUIRE(mk_netring_take(&r, &c) == -1, "third take with two slots");
	r.req_prod_pvt += 2;
	uint32_t n;
	REQUIRE(mk_netring_pending(&r, 3, &n) == MK_NETRING_PROD_AHEAD, "three of two");
	REQUIRE(mk_netring_pending(&r, 2, &n) == MK_NETRING_OK && n == 2, "two of two");
	REQUIRE(mk_netring_pending(&r, 0xffffffffu, &n) == MK_NETRING_PROD_AHEAD, "index behind");
	unsigned s;
	struct mk_netif_tx_response t = { .id = 0x0100, .status = 0 };
	REQUIRE(mk_netring_check_tx(&r, &t, &s) == MK_NETRING_ID_STALE, "stale tx id");
	t.id = 0x0002;
	REQUIRE(mk_netring_check_tx(&r, &t, &s) == MK_NETRING_ID_RANGE, "tx id out of range");
	t.id = 0x0000;
	t.status = 1;
	REQUIRE(mk_netring_check_tx(&r, &t, &s) == MK_NETRING_STATUS_UNKNOWN, "NULL status");
	t.status = -2;
	REQUIRE(mk_netring_check_tx(&r, &t, &s) == MK_NETRING_OK && s == 0, "dropped is an answer");
	mk_netring_complete(&r, s);
	REQUIRE(mk_netring_check_tx(&r, &t, &s) == MK_NETRING_ID_IDLE, "repeated response");
	uint32_t len;
	struct mk_netif_rx_response x = { .id = 0x0101, .offset = 4000, .flags = 0, .status = 96 };
	REQUIRE(mk_netring_check_rx(&r, &x, 4096, &s, &len) == MK_NETRING_OK && len == 96 && s == 1, "rx to the page's end");
	x.status = 97;
	REQUIRE(mk_netring_check_rx(&r, &x, 4096, &s, &len) == MK_NETRING_RX_BOUNDS, "rx beyond the page");
	x.status = 0;
	REQUIRE(mk_netring_check_rx(&r, &x, 4096, &s, &len) == MK_NETRING_RX_EMPTY, "empty rx");
	x.status = 60;
	x.flags = MK_NETRXF_MORE_DATA;
	REQUIRE(mk_netring_check_rx(&r, &x, 4096, &s, &len) == MK_NETRING_RX_FLAGS, "more_data");
	x.flags = MK_NETRXF_DATA_VALIDATED | MK_NETRXF_CSUM_BLANK;
	x.status = -1;
	REQUIRE(mk_netring_check_rx(&r, &x, 4096, &s, &len) == MK_NETRING_OK && len == 0, "rx error");
	uint8_t mac[6];
	REQUIRE(mk_netif_parse_mac("00:16:3E:0a:bc:01", 17, mac) == MK_NETIF_VALUE_OK &&
		mac[2] == 0x3e && mac[5] == 1, "a Xen MAC");
	REQUIRE(mk_netif_parse_mac("01:16:3e:0a:bc:01", 17, mac) == MK_NETIF_VALUE_MAC_MULTICAST, "multicast");
	REQUIRE(mk_netif_parse_mac("00:00:00:00:00:00", 17, mac) == MK_NETIF_VALUE_MAC_ZERO, "zero");
	REQUIRE(mk_netif_parse_mac("00-16-3e-0a-bc-01", 17, mac) == MK_NETIF_VALUE_NOT_MAC, "dashes");
	REQUIRE(mk_netif_parse_mac(NULL, 0, mac) == MK_NETIF_VALUE_MISSING, "absent");
	uint64_t v;
	REQUIRE(mk_netif_parse_uint("65535", 5, 65535, &v) == MK_NETIF_VALUE_OK && v == 65535, "uint");
	REQUIRE(mk_netif_parse_uint("65536", 5, 65535, &v) == MK_NETIF_VALUE_TOO_BIG, "uint max");
	REQUIRE(mk_netif_parse_uint("99999999999999999999", 20, ~0ULL, &v) == MK_NETIF_VALUE_TOO_BIG, "uint overflow");
	REQUIRE(mk_netif_parse_uint("-1", 2, ~0ULL, &v) == MK_NETIF_VALUE_NOT_DECIMAL, "sign");
}
