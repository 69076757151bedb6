/*
 * Checks of the block backend's ring indices, responses and xenstore values, and the split
 * of transfers into segments; see mk/blkring.h. Pure functions: no guest kernel service is
 * used here, so the same file builds for the host fuzz harness (test/blkring-fuzz.c).
 */
#include <mk/blkring.h>
#include <mk/lib.h>

#define SLOT_BITS 8u
#define SLOT_MASK ((1u << SLOT_BITS) - 1)
#define PAGE 4096u

_Static_assert(MK_BLKIF_RING_SIZE <= (1u << SLOT_BITS), "a slot index fits in the id's low bits");
_Static_assert((MK_BLKIF_RING_SIZE & (MK_BLKIF_RING_SIZE - 1)) == 0, "the ring size is a power of two");

const char *mk_blkring_verdict_text(enum mk_blkring_verdict v)
{
	switch (v) {
	case MK_BLKRING_OK: return "accepted";
	case MK_BLKRING_PROD_AHEAD: return "the response producer index is ahead of the requests outstanding";
	case MK_BLKRING_ID_RANGE: return "the response id names no slot of the ring";
	case MK_BLKRING_ID_IDLE: return "the response id names a slot with no request outstanding";
	case MK_BLKRING_ID_STALE: return "the response id is not the outstanding request's (a stale or repeated response)";
	case MK_BLKRING_OP_MISMATCH: return "the response's operation is not the request's";
	case MK_BLKRING_STATUS_UNKNOWN: return "the response's status is none of BLKIF_RSP_OKAY, _ERROR, _EOPNOTSUPP";
	}
	return "unknown verdict";
}

void mk_blkring_init(struct mk_blkring *r)
{
	r->req_prod_pvt = 0;
	r->rsp_cons = 0;
	r->next_seq = 1;
	r->busy = 0;
	for (unsigned i = 0; i < MK_BLKIF_RING_SIZE; i++) {
		r->slot[i].seq = 0;
		r->slot[i].op = 0;
		r->slot[i].indirect = false;
		r->slot[i].busy = false;
	}
}

uint64_t mk_blkring_id(unsigned slot, uint32_t seq)
{
	return ((uint64_t)seq << SLOT_BITS) | (slot & SLOT_MASK);
}

int mk_blkring_take(struct mk_blkring *r, uint8_t op, bool indirect, uint64_t *id)
{
	if (r->busy >= MK_BLKIF_RING_SIZE)
		return -1;
	for (unsigned i = 0; i < MK_BLKIF_RING_SIZE; i++) {
		struct mk_blkring_slot *s = &r->slot[i];
		if (s->busy)
			continue;
		s->busy = true;
		s->op = op;
		s->indirect = indirect;
		s->seq = r->next_seq++;
		if (r->next_seq == 0) /* 0 never names a request */
			r->next_seq = 1;
		r->busy++;
		*id = mk_blkring_id(i, s->seq);
		return (int)i;
	}
	return -1;
}

void mk_blkring_untake(struct mk_blkring *r, unsigned slot)
{
	if (slot < MK_BLKIF_RING_SIZE && r->slot[slot].busy) {
		r->slot[slot].busy = false;
		r->busy--;
	}
}

enum mk_blkring_verdict mk_blkring_pending(const struct mk_blkring *r, uint32_t rsp_prod,
	uint32_t *count)
{
	uint32_t waiting = rsp_prod - r->rsp_cons;	/* modulo 2^32, as the indices run */
	uint32_t outstanding = r->req_prod_pvt - r->rsp_cons;
	*count = 0;
	if (waiting > outstanding || waiting > MK_BLKIF_RING_SIZE)
		return MK_BLKRING_PROD_AHEAD;
	*count = waiting;
	return MK_BLKRING_OK;
}

enum mk_blkring_verdict mk_blkring_check(const struct mk_blkring *r,
	const struct mk_blkif_response *rsp, unsigned *slot)
{
	uint64_t id = rsp->id;
	uint64_t index = id & SLOT_MASK;
	if (index >= MK_BLKIF_RING_SIZE)
		return MK_BLKRING_ID_RANGE;
	const struct mk_blkring_slot *s = &r->slot[index];
	if (!s->busy)
		return MK_BLKRING_ID_IDLE;
	if ((id >> SLOT_BITS) != s->seq)
		return MK_BLKRING_ID_STALE;
	if (rsp->operation != s->op && !(s->indirect && rsp->operation == MK_BLKIF_OP_INDIRECT))
		return MK_BLKRING_OP_MISMATCH;
	if (rsp->status != MK_BLKIF_RSP_OKAY && rsp->status != MK_BLKIF_RSP_ERROR &&
	    rsp->status != MK_BLKIF_RSP_EOPNOTSUPP)
		return MK_BLKRING_STATUS_UNKNOWN;
	*slot = (unsigned)index;
	return MK_BLKRING_OK;
}

void mk_blkring_complete(struct mk_blkring *r, unsigned slot)
{
	r->rsp_cons++;
	mk_blkring_untake(r, slot);
}

static const char *const node_names[MK_BLKIF_NODE_COUNT] = {
	[MK_BLKIF_NODE_SECTORS] = "sectors",
	[MK_BLKIF_NODE_SECTOR_SIZE] = "sector-size",
	[MK_BLKIF_NODE_INFO] = "info",
	[MK_BLKIF_NODE_MODE] = "mode",
	[MK_BLKIF_NODE_FLUSH] = "feature-flush-cache",
	[MK_BLKIF_NODE_BARRIER] = "feature-barrier",
	[MK_BLKIF_NODE_MAX_INDIRECT] = "feature-max-indirect-segments",
};

const char *mk_blkif_node_name(enum mk_blkif_node n)
{
	return (unsigned)n < MK_BLKIF_NODE_COUNT ? node_names[n] : "?";
}

const char *mk_blkif_problem_text(enum mk_blkif_problem p)
{
	switch (p) {
	case MK_BLKIF_VALUE_OK: return "accepted";
	case MK_BLKIF_VALUE_MISSING: return "the node is missing";
	case MK_BLKIF_VALUE_NOT_DECIMAL: return "not a decimal number (1 to 20 digits, nothing else)";
	case MK_BLKIF_VALUE_TOO_BIG: return "larger than this frontend accepts";
	case MK_BLKIF_VALUE_SECTOR_SIZE: return "not a power of two from 512 to 4096";
	case MK_BLKIF_VALUE_NOT_BOOLEAN: return "neither 0 nor 1";
	case MK_BLKIF_VALUE_NOT_MODE: return "neither r nor w";
	case MK_BLKIF_VALUE_GEOMETRY: return "the disk is not a whole number of logical blocks";
	}
	return "unknown problem";
}

enum mk_blkif_problem mk_blkif_parse_uint(const char *s, size_t len, uint64_t max,
	uint64_t *out)
{
	if (!s)
		return MK_BLKIF_VALUE_NOT_DECIMAL;
	switch (mk_parse_decimal(s, len, max, out)) {
	case MK_DECIMAL_OK: return MK_BLKIF_VALUE_OK;
	case MK_DECIMAL_TOO_BIG: return MK_BLKIF_VALUE_TOO_BIG;
	default: return MK_BLKIF_VALUE_NOT_DECIMAL;
	}
}

static enum mk_blkif_problem parse_bool(const struct mk_blkif_nodes *n, enum mk_blkif_node k,
	bool *out)
{
	*out = false;
	if (!n->value[k])
		return MK_BLKIF_VALUE_OK;	/* absent: the feature is off */
	if (n->len[k] == 1 && (n->value[k][0] == '0' || n->value[k][0] == '1')) {
		*out = n->value[k][0] == '1';
		return MK_BLKIF_VALUE_OK;
	}
	return MK_BLKIF_VALUE_NOT_BOOLEAN;
}

enum mk_blkif_problem mk_blkif_parse_disk(const struct mk_blkif_nodes *n,
	struct mk_blkif_disk *disk, enum mk_blkif_node *node, enum mk_blkif_problem *warn,
	enum mk_blkif_node *warn_node)
{
	enum mk_blkif_problem p;
	uint64_t v;
	*warn = MK_BLKIF_VALUE_OK;
	*warn_node = MK_BLKIF_NODE_COUNT;
	*disk = (struct mk_blkif_disk){ .sector_size = MK_BLKIF_SECTOR_SIZE };

	*node = MK_BLKIF_NODE_SECTORS;
	if (!n->value[*node])
		return MK_BLKIF_VALUE_MISSING;
	if ((p = mk_blkif_parse_uint(n->value[*node], n->len[*node], MK_BLKIF_MAX_SECTORS, &v)))
		return p;
	disk->sectors = v;

	*node = MK_BLKIF_NODE_INFO;
	if (!n->value[*node])
		return MK_BLKIF_VALUE_MISSING;
	if ((p = mk_blkif_parse_uint(n->value[*node], n->len[*node], 0xffffffffu, &v)))
		return p;
	disk->info = (uint32_t)v;
	disk->readonly = (disk->info & MK_VDISK_READONLY) != 0;

	*node = MK_BLKIF_NODE_SECTOR_SIZE;
	if (n->value[*node]) {
		if ((p = mk_blkif_parse_uint(n->value[*node], n->len[*node], 0xffffffffu, &v)))
			return p;
		if (v < 512 || v > PAGE || (v & (v - 1)) != 0)
			return MK_BLKIF_VALUE_SECTOR_SIZE;
		disk->sector_size = (uint32_t)v;
	}
	if (disk->sectors % (disk->sector_size / MK_BLKIF_SECTOR_SIZE) != 0)
		return MK_BLKIF_VALUE_GEOMETRY;

	*node = MK_BLKIF_NODE_MODE;
	if (n->value[*node]) {
		if (n->len[*node] != 1 || (n->value[*node][0] != 'r' && n->value[*node][0] != 'w'))
			return MK_BLKIF_VALUE_NOT_MODE;
		if (n->value[*node][0] == 'r')
			disk->readonly = true;
	}
	*node = MK_BLKIF_NODE_COUNT;

	/* Optional features: a bad value leaves the feature off and is reported. */
	static const enum mk_blkif_node bools[] = { MK_BLKIF_NODE_FLUSH, MK_BLKIF_NODE_BARRIER };
	bool *const flags[] = { &disk->flush, &disk->barrier };
	for (unsigned i = 0; i < 2; i++) {
		if ((p = parse_bool(n, bools[i], flags[i])) && *warn == MK_BLKIF_VALUE_OK) {
			*warn = p;
			*warn_node = bools[i];
		}
	}
	const enum mk_blkif_node mi = MK_BLKIF_NODE_MAX_INDIRECT;
	if (n->value[mi]) {
		p = mk_blkif_parse_uint(n->value[mi], n->len[mi], 0xffffffffu, &v);
		if (p) {
			if (*warn == MK_BLKIF_VALUE_OK) {
				*warn = p;
				*warn_node = mi;
			}
		} else if (v > MK_BLKIF_MAX_SEGMENTS_PER_REQUEST) {
			/* Fewer than a direct request carries makes indirect requests pointless. */
			disk->max_indirect = v > MK_BLKIF_MAX_INDIRECT_SEGS ? MK_BLKIF_MAX_INDIRECT_SEGS :
				(uint32_t)v;
		}
	}
	return MK_BLKIF_VALUE_OK;
}

void mk_blkif_next_seg(uintptr_t va, size_t buf_off, size_t remaining, uint32_t sector_size,
	struct mk_blkif_seg *seg)
{
	size_t in_page = va & (PAGE - 1);
	size_t len;
	seg->buf_off = buf_off;
	if ((va & (sector_size - 1)) == 0) {
		/* Up to the page's end: the next segment starts page aligned. */
		len = PAGE - in_page;
		if (len > remaining)
			len = remaining;
		seg->direct = in_page == 0 && len == PAGE;
	} else {
		len = remaining < PAGE ? remaining : PAGE;
		seg->direct = false;
	}
	seg->len = (uint32_t)len;
}

/* Bijective base 26: 0 a, 25 z, 26 aa, ... */
static bool disk_letters(uint32_t disk, char *buf, size_t size, size_t *at)
{
	char tmp[8];
	size_t n = 0;
	uint64_t d = (uint64_t)disk + 1;
	while (d > 0 && n < sizeof(tmp)) {
		d--;
		tmp[n++] = (char)('a' + d % 26);
		d /= 26;
	}
	if (d > 0 || *at + n >= size)
		return false;
	while (n > 0)
		buf[(*at)++] = tmp[--n];
	return true;
}

static bool put_number(uint32_t v, char *buf, size_t size, size_t *at)
{
	char tmp[12];
	size_t n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	if (*at + n >= size)
		return false;
	while (n > 0)
		buf[(*at)++] = tmp[--n];
	return true;
}

bool mk_blkif_vdev_name(uint32_t id, char *buf, size_t size)
{
	const char *prefix;
	uint32_t disk, part;
	if (id & (1u << 28)) {
		if (id >> 29)
			return false;
		prefix = "xvd";
		disk = (id >> 8) & 0xfffff;
		part = id & 0xff;
	} else {
		if (id >> 16)
			return false;
		switch (id >> 8) {
		case 202: prefix = "xvd"; disk = (id >> 4) & 0xf; part = id & 0xf; break;
		case 8: prefix = "sd"; disk = (id >> 4) & 0xf; part = id & 0xf; break;
		case 3: prefix = "hd"; disk = (id >> 6) & 1; part = id & 0x3f; break;
		case 22: prefix = "hd"; disk = 2 + ((id >> 6) & 1); part = id & 0x3f; break;
		default: return false;
		}
	}
	size_t at = 0;
	for (const char *p = prefix; *p; p++) {
		if (at + 1 >= size)
			return false;
		buf[at++] = *p;
	}
	if (!disk_letters(disk, buf, size, &at))
		return false;
	if (part && !put_number(part, buf, size, &at))
		return false;
	buf[at] = '\0';
	return true;
}
