/*
 * Host fuzz harness for c/kern/blkring.c, the block frontend's checks of what a backend
 * hands it. Built with ASan and UBSan (every report fatal) by test/blkring-host.test.ts:
 * with clang's libFuzzer when it is there (coverage-guided), and always as a plain program
 * that runs N inputs from a fixed-seed generator (`blkring-fuzz N`), plus `--selftest`,
 * which checks known answers.
 *
 * An input drives a model of the frontend's ring: requests are taken, responses arrive
 * (arbitrary bytes, or a correct answer to an outstanding request with one field possibly
 * changed), the response index moves anywhere; and it feeds arbitrary strings to the
 * xenstore parsers, arbitrary buffers to the segment planner and arbitrary ids to the vbd
 * names. Each verdict is compared with what the model, written independently here, says;
 * each result must keep its documented bounds. A disagreement aborts with a message.
 */
#define FUZZ_NAME "blkring-fuzz"
#define FUZZ_MAX_INPUT 512
#include "fuzz.h"
#include <mk/blkring.h>

static uint64_t take64(struct input *in)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)take8(in) << (8 * i);
	return v;
}

/* The model: which requests are outstanding, as the frontend should see them. */
struct model {
	struct mk_blkring r;
	bool busy[MK_BLKIF_RING_SIZE];
	uint32_t seq[MK_BLKIF_RING_SIZE];
	uint8_t op[MK_BLKIF_RING_SIZE];
	bool indirect[MK_BLKIF_RING_SIZE];
	unsigned outstanding;
};

static enum mk_blkring_verdict expected(const struct model *m, const struct mk_blkif_response *rsp)
{
	uint64_t slot = rsp->id & 0xff;
	if (slot >= MK_BLKIF_RING_SIZE)
		return MK_BLKRING_ID_RANGE;
	if (!m->busy[slot])
		return MK_BLKRING_ID_IDLE;
	if ((rsp->id >> 8) != m->seq[slot])
		return MK_BLKRING_ID_STALE;
	if (rsp->operation != m->op[slot] &&
	    !(m->indirect[slot] && rsp->operation == MK_BLKIF_OP_INDIRECT))
		return MK_BLKRING_OP_MISMATCH;
	if (rsp->status < -2 || rsp->status > 0)
		return MK_BLKRING_STATUS_UNKNOWN;
	return MK_BLKRING_OK;
}

static void model_take(struct model *m, struct input *in)
{
	static const uint8_t ops[] = { MK_BLKIF_OP_READ, MK_BLKIF_OP_WRITE,
		MK_BLKIF_OP_WRITE_BARRIER, MK_BLKIF_OP_FLUSH_DISKCACHE };
	uint8_t b = take8(in);
	uint8_t op = ops[b & 3];
	bool indirect = (b & 4) && op <= MK_BLKIF_OP_WRITE;
	uint64_t id;
	int slot = mk_blkring_take(&m->r, op, indirect, &id);
	if (m->outstanding == MK_BLKIF_RING_SIZE) {
		REQUIRE(slot == -1, "take succeeded on a full ring");
		return;
	}
	REQUIRE(slot >= 0 && slot < (int)MK_BLKIF_RING_SIZE, "take on a ring with %u busy gave %d",
		m->outstanding, slot);
	REQUIRE(!m->busy[slot], "take gave busy slot %d", slot);
	REQUIRE((id & 0xff) == (uint64_t)slot, "id 0x%llx does not name slot %d",
		(unsigned long long)id, slot);
	REQUIRE((id >> 8) != 0, "a request got sequence 0");
	if (b & 8) {	/* never pushed after all */
		mk_blkring_untake(&m->r, (unsigned)slot);
		return;
	}
	m->r.req_prod_pvt++;
	m->busy[slot] = true;
	m->seq[slot] = (uint32_t)(id >> 8);
	m->op[slot] = op;
	m->indirect[slot] = indirect;
	m->outstanding++;
}

static void model_respond(struct model *m, struct input *in, bool wellformed)
{
	struct mk_blkif_response rsp;
	if (wellformed && m->outstanding) {
		unsigned k = take8(in) % m->outstanding, slot = 0;
		for (slot = 0; slot < MK_BLKIF_RING_SIZE; slot++)
			if (m->busy[slot] && k-- == 0)
				break;
		rsp.id = ((uint64_t)m->seq[slot] << 8) | slot;
		rsp.operation = m->indirect[slot] && (take8(in) & 1) ? MK_BLKIF_OP_INDIRECT : m->op[slot];
		rsp.status = (int16_t)-(take8(in) % 3);
		switch (take8(in) % 8) {	/* sometimes one field goes wrong */
		case 0: rsp.id ^= (uint64_t)1 << (take8(in) % 64); break;
		case 1: rsp.operation = take8(in); break;
		case 2: rsp.status = (int16_t)take64(in); break;
		default: break;
		}
	} else {
		rsp.id = take64(in);
		rsp.operation = take8(in);
		rsp.status = (int16_t)take64(in);
	}
	uint32_t count;
	uint32_t prod = m->r.rsp_cons + 1;
	enum mk_blkring_verdict pv = mk_blkring_pending(&m->r, prod, &count);
	if (!m->outstanding) {
		REQUIRE(pv == MK_BLKRING_PROD_AHEAD && count == 0,
			"a response with nothing outstanding was not refused");
		return;
	}
	REQUIRE(pv == MK_BLKRING_OK && count == 1, "one response with %u outstanding: %d, %u",
		m->outstanding, pv, count);
	unsigned slot = 999;
	enum mk_blkring_verdict v = mk_blkring_check(&m->r, &rsp, &slot);
	enum mk_blkring_verdict want = expected(m, &rsp);
	REQUIRE(v == want, "response id 0x%llx op %u status %d: verdict %d (%s), the model says %d",
		(unsigned long long)rsp.id, rsp.operation, rsp.status, v, mk_blkring_verdict_text(v),
		want);
	if (v != MK_BLKRING_OK)
		return;
	REQUIRE(slot < MK_BLKIF_RING_SIZE && m->busy[slot], "accepted for slot %u", slot);
	mk_blkring_complete(&m->r, slot);
	m->busy[slot] = false;
	m->outstanding--;
}

static void model_index(struct model *m, struct input *in)
{
	uint32_t prod = (take8(in) & 1) ? (uint32_t)take64(in) : m->r.rsp_cons + take8(in) % 40;
	uint32_t count = 12345;
	enum mk_blkring_verdict v = mk_blkring_pending(&m->r, prod, &count);
	uint32_t waiting = prod - m->r.rsp_cons;
	if (waiting <= m->outstanding) {
		REQUIRE(v == MK_BLKRING_OK && count == waiting, "rsp_prod %u (cons %u, %u out): %d %u",
			prod, m->r.rsp_cons, m->outstanding, v, count);
	} else {
		REQUIRE(v == MK_BLKRING_PROD_AHEAD && count == 0, "rsp_prod %u ahead accepted", prod);
	}
	REQUIRE(count <= MK_BLKIF_RING_SIZE, "count %u above the ring size", count);
}

static void check_invariant(const struct model *m)
{
	REQUIRE(m->r.busy == m->outstanding, "busy %u, the model has %u", m->r.busy, m->outstanding);
	REQUIRE(m->r.req_prod_pvt - m->r.rsp_cons == m->outstanding, "indices apart by %u, %u out",
		m->r.req_prod_pvt - m->r.rsp_cons, m->outstanding);
}

/* An independent decimal parser, for comparison. */
static int ref_uint(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	if (len == 0 || len > 20)
		return 1;
	unsigned __int128 v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return 2;
	*out = (uint64_t)v;
	return 0;
}

static void fuzz_uint(struct input *in)
{
	size_t len;
	const char *s = take_str(in, &len);
	char digits[24];
	if (len && (s[0] & 1)) {	/* all digits, often near 2^64 */
		len = 17 + (size_t)(s[0] >> 1) % 5;
		for (size_t i = 0; i < len; i++)
			digits[i] = (char)('0' + (i < 2 ? (i ? 8 : 1) : take8(in) % 10));
		s = digits;
	}
	uint64_t max = take64(in) >> (take8(in) % 64);
	uint64_t got = 0, want = 0;
	enum mk_blkif_problem p = mk_blkif_parse_uint(s, len, max, &got);
	int r = ref_uint(s, len, max, &want);
	REQUIRE((p == MK_BLKIF_VALUE_OK) == (r == 0), "parse of %.*s (max %llu): %d, reference %d",
		(int)len, s, (unsigned long long)max, p, r);
	if (r == 0)
		REQUIRE(got == want, "parse of %.*s: %llu, reference %llu", (int)len, s,
			(unsigned long long)got, (unsigned long long)want);
	else
		REQUIRE(p == (r == 1 ? MK_BLKIF_VALUE_NOT_DECIMAL : MK_BLKIF_VALUE_TOO_BIG),
			"parse of %.*s: problem %d, reference %d", (int)len, s, p, r);
}

static void fuzz_disk(struct input *in)
{
	struct mk_blkif_nodes n;
	static const char *const likely[] = { "0", "1", "512", "4096", "2048", "1024", "r", "w",
		"131072", "4", "32", "256", "" };
	for (unsigned k = 0; k < MK_BLKIF_NODE_COUNT; k++) {
		uint8_t how = take8(in) % 4;
		if (how == 0) {
			n.value[k] = NULL;
			n.len[k] = 0;
		} else if (how == 1) {
			const char *v = likely[take8(in) % (sizeof(likely) / sizeof(likely[0]))];
			n.value[k] = v;
			n.len[k] = strlen(v);
		} else {
			n.value[k] = take_str(in, &n.len[k]);
		}
	}
	struct mk_blkif_disk d;
	enum mk_blkif_node node, warn_node;
	enum mk_blkif_problem warn;
	enum mk_blkif_problem p = mk_blkif_parse_disk(&n, &d, &node, &warn, &warn_node);
	if (p != MK_BLKIF_VALUE_OK) {
		REQUIRE(node < MK_BLKIF_NODE_COUNT && node <= MK_BLKIF_NODE_MODE,
			"refused for node %d, not a mandatory one", node);
		REQUIRE(strcmp(mk_blkif_problem_text(p), "unknown problem") != 0, "problem %d", p);
		return;
	}
	REQUIRE(n.value[MK_BLKIF_NODE_SECTORS] && n.value[MK_BLKIF_NODE_INFO],
		"accepted without sectors or info");
	REQUIRE(d.sector_size >= 512 && d.sector_size <= 4096 &&
		(d.sector_size & (d.sector_size - 1)) == 0, "sector size %u", d.sector_size);
	REQUIRE(d.sectors <= MK_BLKIF_MAX_SECTORS, "sectors %llu", (unsigned long long)d.sectors);
	REQUIRE(d.sectors % (d.sector_size / 512) == 0, "sectors %llu not whole blocks of %u",
		(unsigned long long)d.sectors, d.sector_size);
	REQUIRE(d.max_indirect == 0 || (d.max_indirect > MK_BLKIF_MAX_SEGMENTS_PER_REQUEST &&
		d.max_indirect <= MK_BLKIF_MAX_INDIRECT_SEGS), "max_indirect %u", d.max_indirect);
	bool ro_mode = n.value[MK_BLKIF_NODE_MODE] && n.len[MK_BLKIF_NODE_MODE] == 1 &&
		n.value[MK_BLKIF_NODE_MODE][0] == 'r';
	REQUIRE(d.readonly == ((d.info & MK_VDISK_READONLY) || ro_mode), "readonly %d", d.readonly);
	if (warn != MK_BLKIF_VALUE_OK)
		REQUIRE(warn_node >= MK_BLKIF_NODE_FLUSH && warn_node < MK_BLKIF_NODE_COUNT,
			"warning for node %d", warn_node);
	for (int k = MK_BLKIF_NODE_FLUSH; k <= MK_BLKIF_NODE_BARRIER; k++) {
		bool on = k == MK_BLKIF_NODE_FLUSH ? d.flush : d.barrier;
		if (on)
			REQUIRE(n.len[k] == 1 && n.value[k][0] == '1', "feature %d on from a bad value", k);
	}
}

static void fuzz_seg(struct input *in)
{
	uint32_t ss = 512u << (take8(in) % 4);
	uintptr_t va = (uintptr_t)take64(in) & 0x0000ffffffffffffULL;
	size_t remaining = ((size_t)(take64(in) % (1u << 22)) / ss + 1) * ss;
	size_t off = 0;
	for (int n = 0; n < 64 && remaining; n++) {
		struct mk_blkif_seg s;
		mk_blkif_next_seg(va + off, off, remaining, ss, &s);
		REQUIRE(s.buf_off == off, "segment at %zu says %zu", off, s.buf_off);
		REQUIRE(s.len > 0 && s.len <= 4096 && s.len <= remaining && s.len % ss == 0,
			"segment of %u bytes (remaining %zu, block %u, va %#lx)", s.len, remaining, ss,
			(unsigned long)(va + off));
		if (s.direct)
			REQUIRE(((va + off) & 4095) == 0 && s.len == 4096,
				"a direct segment that is not a whole page (va %#lx, %u bytes)",
				(unsigned long)(va + off), s.len);
		if (((va + off) & (ss - 1)) == 0)
			REQUIRE(((va + off) & 4095) + s.len <= 4096, "an aligned segment crosses a page");
		off += s.len;
		remaining -= s.len;
	}
}

static void fuzz_name(struct input *in)
{
	uint32_t id = (uint32_t)take64(in);
	if (take8(in) & 1)
		id = (202u << 8) | (id & 0xff);
	char buf[16];
	size_t size = 1 + take8(in) % sizeof(buf);
	memset(buf, 'X', sizeof(buf));
	if (mk_blkif_vdev_name(id, buf, size)) {
		size_t len = strnlen(buf, size);
		REQUIRE(len < size, "name of %#x not terminated within %zu bytes", id, size);
		REQUIRE(!strncmp(buf, "xvd", 3) || !strncmp(buf, "sd", 2) || !strncmp(buf, "hd", 2),
			"name of %#x is %s", id, buf);
	}
	for (size_t i = size; i < sizeof(buf); i++)
		REQUIRE(buf[i] == 'X', "name of %#x written beyond %zu bytes", id, size);
}

static void fuzz_one_input(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct model m;
	memset(&m, 0, sizeof(m));
	mk_blkring_init(&m.r);
	while (in.left) {
		switch (take8(&in) % 8) {
		case 0: case 1: model_take(&m, &in); break;
		case 2: model_respond(&m, &in, true); break;
		case 3: model_respond(&m, &in, false); break;
		case 4: model_index(&m, &in); break;
		case 5: fuzz_uint(&in); fuzz_disk(&in); break;
		case 6: fuzz_seg(&in); break;
		case 7: fuzz_name(&in); break;
		}
		check_invariant(&m);
	}
}

static void name_is(uint32_t id, const char *want)
{
	char buf[16];
	bool ok = mk_blkif_vdev_name(id, buf, sizeof(buf));
	if (!want)
		REQUIRE(!ok, "id %#x has name %s, expected none", id, buf);
	else
		REQUIRE(ok && !strcmp(buf, want), "id %#x: %s, expected %s", id, ok ? buf : "(none)", want);
}

static void fuzz_selftest(void)
{
	name_is(51712, "xvda");
	name_is(51713, "xvda1");
	name_is(51728, "xvdb");
	name_is(51952, "xvdp");
	name_is((1u << 28) | (26u << 8), "xvdaa");
	name_is((1u << 28) | (701u << 8) | 3, "xvdzz3");
	name_is((1u << 28) | (702u << 8), "xvdaaa");
	name_is(2048, "sda");
	name_is(2066, "sdb2");
	name_is(768, "hda");
	name_is(832, "hdb");
	name_is(5632, "hdc");
	name_is(5696, "hdd");
	name_is(12345, NULL);
	name_is(0xe0000000u, NULL);

	uint64_t v;
	REQUIRE(mk_blkif_parse_uint("131072", 6, ~0ULL, &v) == MK_BLKIF_VALUE_OK && v == 131072, "131072");
	REQUIRE(mk_blkif_parse_uint("18446744073709551615", 20, ~0ULL, &v) == MK_BLKIF_VALUE_OK &&
		v == ~0ULL, "2^64-1");
	REQUIRE(mk_blkif_parse_uint("18446744073709551616", 20, ~0ULL, &v) == MK_BLKIF_VALUE_TOO_BIG, "2^64");
	REQUIRE(mk_blkif_parse_uint("-1", 2, ~0ULL, &v) == MK_BLKIF_VALUE_NOT_DECIMAL, "-1");
	REQUIRE(mk_blkif_parse_uint(" 1", 2, ~0ULL, &v) == MK_BLKIF_VALUE_NOT_DECIMAL, "space");
	REQUIRE(mk_blkif_parse_uint("0x10", 4, ~0ULL, &v) == MK_BLKIF_VALUE_NOT_DECIMAL, "hex");
	REQUIRE(mk_blkif_parse_uint("", 0, ~0ULL, &v) == MK_BLKIF_VALUE_NOT_DECIMAL, "empty");

	struct mk_blkif_nodes n = { 0 };
#define SET(k, s) (n.value[k] = (s), n.len[k] = strlen(s))
	SET(MK_BLKIF_NODE_SECTORS, "10485760");
	SET(MK_BLKIF_NODE_INFO, "0");
	SET(MK_BLKIF_NODE_SECTOR_SIZE, "512");
	SET(MK_BLKIF_NODE_MODE, "w");
	SET(MK_BLKIF_NODE_FLUSH, "1");
	SET(MK_BLKIF_NODE_MAX_INDIRECT, "256");
	struct mk_blkif_disk d;
	enum mk_blkif_node node, wn;
	enum mk_blkif_problem warn;
	REQUIRE(mk_blkif_parse_disk(&n, &d, &node, &warn, &wn) == MK_BLKIF_VALUE_OK && !warn &&
		d.sectors == 10485760 && d.sector_size == 512 && !d.readonly && d.flush &&
		!d.barrier && d.max_indirect == MK_BLKIF_MAX_INDIRECT_SEGS, "a 5 GiB disk");
	SET(MK_BLKIF_NODE_SECTOR_SIZE, "768");
	REQUIRE(mk_blkif_parse_disk(&n, &d, &node, &warn, &wn) == MK_BLKIF_VALUE_SECTOR_SIZE &&
		node == MK_BLKIF_NODE_SECTOR_SIZE, "sector size 768");
	SET(MK_BLKIF_NODE_SECTOR_SIZE, "256");
	REQUIRE(mk_blkif_parse_disk(&n, &d, &node, &warn, &wn) == MK_BLKIF_VALUE_SECTOR_SIZE, "256");
	SET(MK_BLKIF_NODE_SECTOR_SIZE, "4096");
	SET(MK_BLKIF_NODE_SECTORS, "9");
	REQUIRE(mk_blkif_parse_disk(&n, &d, &node, &warn, &wn) == MK_BLKIF_VALUE_GEOMETRY, "9 sectors of 4096");
	SET(MK_BLKIF_NODE_SECTORS, "1125899906842625");
	REQUIRE(mk_blkif_parse_disk(&n, &d, &node, &warn, &wn) == MK_BLKIF_VALUE_TOO_BIG &&
		node == MK_BLKIF_NODE_SECTORS, "2^50 + 1 sectors");
	SET(MK_BLKIF_NODE_SECTORS, "8");
	SET(MK_BLKIF_NODE_INFO, "4");
	SET(MK_BLKIF_NODE_FLUSH, "yes");
	REQUIRE(mk_blkif_parse_disk(&n, &d, &node, &warn, &wn) == MK_BLKIF_VALUE_OK && d.readonly &&
		!d.flush && warn == MK_BLKIF_VALUE_NOT_BOOLEAN && wn == MK_BLKIF_NODE_FLUSH,
		"VDISK_READONLY, a bad feature value");
	n.value[MK_BLKIF_NODE_INFO] = NULL;
	REQUIRE(mk_blkif_parse_disk(&n, &d, &node, &warn, &wn) == MK_BLKIF_VALUE_MISSING &&
		node == MK_BLKIF_NODE_INFO, "info missing");

	struct mk_blkring r;
	mk_blkring_init(&r);
	uint64_t id;
	int s0 = mk_blkring_take(&r, MK_BLKIF_OP_READ, true, &id);
	r.req_prod_pvt++;
	uint32_t count;
	REQUIRE(mk_blkring_pending(&r, 2, &count) == MK_BLKRING_PROD_AHEAD, "two responses for one request");
	REQUIRE(mk_blkring_pending(&r, 0xffffffffu, &count) == MK_BLKRING_PROD_AHEAD, "rsp_prod behind");
	REQUIRE(mk_blkring_pending(&r, 1, &count) == MK_BLKRING_OK && count == 1, "one response");
	struct mk_blkif_response rsp = { .id = id, .operation = MK_BLKIF_OP_INDIRECT, .status = 0 };
	unsigned slot;
	REQUIRE(mk_blkring_check(&r, &rsp, &slot) == MK_BLKRING_OK && slot == (unsigned)s0,
		"an indirect read answered as BLKIF_OP_INDIRECT");
	rsp.operation = MK_BLKIF_OP_READ;
	REQUIRE(mk_blkring_check(&r, &rsp, &slot) == MK_BLKRING_OK, "an indirect read answered as READ");
	mk_blkring_complete(&r, slot);
	REQUIRE(mk_blkring_check(&r, &rsp, &slot) == MK_BLKRING_ID_IDLE, "the same response again");
	REQUIRE(r.busy == 0 && r.rsp_cons == 1, "state after one response");
}
