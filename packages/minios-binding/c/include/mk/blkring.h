/*
 * The block frontend's checks of what the backend hands it, as pure functions: the ring's
 * bookkeeping (which requests are outstanding), the check of each response copied out of
 * the shared ring, the parse of the backend's xenstore nodes, the split of a transfer into
 * ring segments and the names of vbd ids. Everything here works on private copies and
 * private state only, has no other dependency than <mk/blkif.h>, and builds on the host too:
 * test/blkring-fuzz.c runs it under ASan/UBSan with arbitrary inputs.
 *
 * A value that fails a check is refused, never used: the caller reports it and stops using
 * the device (blkfront.c).
 */
#ifndef MK_BLKRING_H
#define MK_BLKRING_H
#include <mk/blkif.h>

/* Why the backend's ring index or a response was refused (MK_BLKRING_OK: accepted). */
enum mk_blkring_verdict {
	MK_BLKRING_OK = 0,
	MK_BLKRING_PROD_AHEAD,		/* rsp_prod claims more responses than requests outstanding */
	MK_BLKRING_ID_RANGE,		/* the id names no slot of the ring */
	MK_BLKRING_ID_IDLE,		/* the id names a slot with no request outstanding */
	MK_BLKRING_ID_STALE,		/* the id's sequence number is not the outstanding request's */
	MK_BLKRING_OP_MISMATCH,		/* the operation is not the request's */
	MK_BLKRING_STATUS_UNKNOWN,	/* the status is none of BLKIF_RSP_* */
};
/* One line saying what was wrong, for messages. */
const char *mk_blkring_verdict_text(enum mk_blkring_verdict v);

struct mk_blkring_slot {
	uint32_t seq;	/* echoed in the id: a late duplicate cannot complete a newer request */
	uint8_t op;	/* MK_BLKIF_OP_READ/WRITE/WRITE_BARRIER/FLUSH_DISKCACHE */
	bool indirect;	/* sent as MK_BLKIF_OP_INDIRECT with op as its indirect_op */
	bool busy;
};

/*
 * The frontend's private view of the ring: its own producer and consumer indices (never
 * read back from the shared page) and one slot per ring entry. Invariant: busy ==
 * req_prod_pvt - rsp_cons (each request pushed takes a slot, each response consumed frees
 * one).
 */
struct mk_blkring {
	uint32_t req_prod_pvt;
	uint32_t rsp_cons;
	uint32_t next_seq;
	unsigned busy;
	struct mk_blkring_slot slot[MK_BLKIF_RING_SIZE];
};

void mk_blkring_init(struct mk_blkring *r);
/* Takes a free slot for the next request; returns its index and the request's id, or -1 when all are busy. */
int mk_blkring_take(struct mk_blkring *r, uint8_t op, bool indirect, uint64_t *id);
/* Gives back a slot taken by mk_blkring_take whose request was never pushed. */
void mk_blkring_untake(struct mk_blkring *r, unsigned slot);
/*
 * The backend's rsp_prod, read once from the shared page: *count gets how many responses
 * wait at rsp_cons. PROD_AHEAD when that is more than the requests outstanding (which also
 * refuses any distance above the ring size).
 */
enum mk_blkring_verdict mk_blkring_pending(const struct mk_blkring *r, uint32_t rsp_prod,
	uint32_t *count);
/*
 * Checks one response copied out of the ring: its id names an outstanding request (slot
 * in range, busy, same sequence), its operation is that request's (for an indirect request
 * either BLKIF_OP_INDIRECT or the data operation) and its status is a BLKIF_RSP_* value.
 * On MK_BLKRING_OK *slot is the request's slot.
 */
enum mk_blkring_verdict mk_blkring_check(const struct mk_blkring *r,
	const struct mk_blkif_response *rsp, unsigned *slot);
/* Consumes the response just checked (rsp_cons + 1) and frees its slot. */
void mk_blkring_complete(struct mk_blkring *r, unsigned slot);

/*
 * Ids of slots and requests: the slot index in the low 8 bits and the slot's sequence
 * number above.
 */
uint64_t mk_blkring_id(unsigned slot, uint32_t seq);

/* The backend's nodes this frontend reads (in backend/vbd/<domid>/<id>/). */
enum mk_blkif_node {
	MK_BLKIF_NODE_SECTORS,
	MK_BLKIF_NODE_SECTOR_SIZE,
	MK_BLKIF_NODE_INFO,
	MK_BLKIF_NODE_MODE,
	MK_BLKIF_NODE_FLUSH,
	MK_BLKIF_NODE_BARRIER,
	MK_BLKIF_NODE_MAX_INDIRECT,
	MK_BLKIF_NODE_COUNT,
};
/* The node's name under the backend's folder ("sectors", "feature-flush-cache", ...). */
const char *mk_blkif_node_name(enum mk_blkif_node n);

/* The nodes' values as read (copies; NULL when absent), with their lengths. */
struct mk_blkif_nodes {
	const char *value[MK_BLKIF_NODE_COUNT];
	size_t len[MK_BLKIF_NODE_COUNT];
};

/* The disk as the frontend will use it, from checked values only. */
struct mk_blkif_disk {
	uint64_t sectors;	/* 512-byte sectors: the size is sectors * 512 bytes */
	uint32_t sector_size;	/* logical block size: requests are aligned to it */
	uint32_t info;		/* MK_VDISK_* */
	bool readonly;		/* info has VDISK_READONLY or mode is "r" */
	bool flush;		/* BLKIF_OP_FLUSH_DISKCACHE offered */
	bool barrier;		/* BLKIF_OP_WRITE_BARRIER offered */
	uint32_t max_indirect;	/* segments per indirect request the frontend will use; 0: none */
};

/* What was wrong with a node's value. */
enum mk_blkif_problem {
	MK_BLKIF_VALUE_OK = 0,
	MK_BLKIF_VALUE_MISSING,		/* a node the frontend needs is absent */
	MK_BLKIF_VALUE_NOT_DECIMAL,	/* not 1-20 decimal digits */
	MK_BLKIF_VALUE_TOO_BIG,		/* above the node's bound */
	MK_BLKIF_VALUE_SECTOR_SIZE,	/* not a power of two from 512 to 4096 */
	MK_BLKIF_VALUE_NOT_BOOLEAN,	/* a feature that is neither 0 nor 1 */
	MK_BLKIF_VALUE_NOT_MODE,	/* mode is neither r nor w */
	MK_BLKIF_VALUE_GEOMETRY,	/* sectors is not a whole number of logical blocks */
};
const char *mk_blkif_problem_text(enum mk_blkif_problem p);

/* Largest disk accepted: 2^50 sectors of 512 bytes (512 PiB); sizes stay far from int64_t's end. */
#define MK_BLKIF_MAX_SECTORS (1ULL << 50)
/* Segments per indirect request this frontend uses at most (one indirect page, 128 KiB). */
#define MK_BLKIF_MAX_INDIRECT_SEGS 32u

/*
 * Parses and checks the backend's nodes into *disk. Returns MK_BLKIF_VALUE_OK, or the
 * problem with *node set to the offending node; a bad mandatory node (sectors, info,
 * sector-size when present, mode when present) refuses the disk. A bad optional feature
 * node is reported the same way through *warn and *warn_node (the feature stays off) and does
 * not refuse the disk. sector-size absent means 512.
 */
enum mk_blkif_problem mk_blkif_parse_disk(const struct mk_blkif_nodes *n,
	struct mk_blkif_disk *disk, enum mk_blkif_node *node, enum mk_blkif_problem *warn,
	enum mk_blkif_node *warn_node);

/* A decimal number of 1-20 digits, no sign, no space, at most max. */
enum mk_blkif_problem mk_blkif_parse_uint(const char *s, size_t len, uint64_t max,
	uint64_t *out);

/*
 * One segment of a transfer: buf_off bytes into the caller's buffer, len bytes (a multiple
 * of the sector size, at most a page). direct: the segment is a whole page of the caller's
 * buffer and is granted as it is; otherwise it goes through a bounce page of the frontend
 * (from its first byte), so a backend is never granted memory beyond the bytes asked for.
 */
struct mk_blkif_seg {
	size_t buf_off;
	uint32_t len;
	bool direct;
};

/*
 * The next segment for the transfer's bytes at address va (buf_off into the buffer),
 * remaining bytes left (a non-zero multiple of sector_size, itself a power of two from 512
 * to 4096). A buffer aligned to the sector size is cut at page boundaries, so its whole
 * pages go direct; an unaligned one goes through bounce pages of up to a page each.
 */
void mk_blkif_next_seg(uintptr_t va, size_t buf_off, size_t remaining, uint32_t sector_size,
	struct mk_blkif_seg *seg);

/*
 * The name Xen's vbd-interface gives a vbd id: xvda..xvdp with partitions 1-15 for ids
 * (202 << 8) | (disk << 4) | part, the extended form (1 << 28) | (disk << 8) | part for xvd
 * disks beyond, sd* (major 8) and hda-hdd (majors 3 and 22). Returns false when the id
 * encodes none of these or buf (size bytes) is too small.
 */
bool mk_blkif_vdev_name(uint32_t id, char *buf, size_t size);

#endif
