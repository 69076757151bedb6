/*
 * The Xen block device protocol (x86-64): the shared ring of io/blkif.h over io/ring.h, its
 * request and response layouts and its constants, written out from the facts in Xen's
 * public headers (numbers and layouts only). test/blkif-abi.test.ts compiles these against
 * /usr/include/xen/io/blkif.h and compares every offset and size.
 *
 * Sector quantities on the ring (sector_number, first_sect, last_sect) and the backend's
 * "sectors" node are in 512-byte units: this frontend does not write
 * feature-large-sector-size, so a backend addresses the disk in 512-byte sectors whatever
 * its "sector-size" (the logical block size every request must be aligned to).
 */
#ifndef MK_BLKIF_H
#define MK_BLKIF_H
#include <mk/types.h>

#define MK_BLKIF_OP_READ 0
#define MK_BLKIF_OP_WRITE 1
#define MK_BLKIF_OP_WRITE_BARRIER 2
#define MK_BLKIF_OP_FLUSH_DISKCACHE 3
#define MK_BLKIF_OP_DISCARD 5
#define MK_BLKIF_OP_INDIRECT 6

#define MK_BLKIF_RSP_EOPNOTSUPP (-2)
#define MK_BLKIF_RSP_ERROR (-1)
#define MK_BLKIF_RSP_OKAY 0

#define MK_BLKIF_MAX_SEGMENTS_PER_REQUEST 11
#define MK_BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST 8

/* The backend's "info" bits. */
#define MK_VDISK_CDROM 0x1
#define MK_VDISK_REMOVABLE 0x2
#define MK_VDISK_READONLY 0x4

/* The ring's unit of sectors, whatever the disk's logical block size. */
#define MK_BLKIF_SECTOR_SHIFT 9
#define MK_BLKIF_SECTOR_SIZE 512u
/* Sectors of 512 bytes in one page: first_sect/last_sect are below this. */
#define MK_BLKIF_SECTORS_PER_PAGE 8u

/* The "protocol" node's value for this ABI (io/protocols.h). */
#define MK_BLKIF_PROTOCOL_X86_64 "x86_64-abi"

/* xenbus states (io/xenbus.h). */
enum mk_xenbus_state {
	MK_XENBUS_UNKNOWN = 0,
	MK_XENBUS_INITIALISING = 1,
	MK_XENBUS_INITWAIT = 2,
	MK_XENBUS_INITIALISED = 3,
	MK_XENBUS_CONNECTED = 4,
	MK_XENBUS_CLOSING = 5,
	MK_XENBUS_CLOSED = 6,
	MK_XENBUS_RECONFIGURING = 7,
	MK_XENBUS_RECONFIGURED = 8,
};

struct mk_blkif_request_segment {
	uint32_t gref;
	uint8_t first_sect, last_sect;
};

struct mk_blkif_request {
	uint8_t operation;
	uint8_t nr_segments;
	uint16_t handle;
	uint64_t id;
	uint64_t sector_number;
	struct mk_blkif_request_segment seg[MK_BLKIF_MAX_SEGMENTS_PER_REQUEST];
};

struct mk_blkif_request_indirect {
	uint8_t operation;	/* MK_BLKIF_OP_INDIRECT */
	uint8_t indirect_op;	/* READ or WRITE */
	uint16_t nr_segments;
	uint64_t id;
	uint64_t sector_number;
	uint16_t handle;
	uint32_t indirect_grefs[MK_BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
};

struct mk_blkif_response {
	uint64_t id;
	uint8_t operation;
	int16_t status;
};

union mk_blkif_sring_entry {
	struct mk_blkif_request req;
	struct mk_blkif_request_indirect ind;
	struct mk_blkif_response rsp;
};

/* The shared page: four indices, padding to 64 bytes, then the entries. */
struct mk_blkif_sring {
	uint32_t req_prod, req_event;
	uint32_t rsp_prod, rsp_event;
	uint8_t pvt_pad[4];
	uint8_t pad[44];
	union mk_blkif_sring_entry ring[];
};

/* Entries in a one-page ring: the largest power of two that fits (32). */
#define MK_BLKIF_RING_SIZE 32u
/* Segment descriptors in one indirect page. */
#define MK_BLKIF_SEGS_PER_INDIRECT_PAGE (4096u / sizeof(struct mk_blkif_request_segment))

_Static_assert(sizeof(struct mk_blkif_sring) + MK_BLKIF_RING_SIZE *
	sizeof(union mk_blkif_sring_entry) <= 4096, "the ring fits in a page");
_Static_assert(sizeof(struct mk_blkif_sring) + 2 * MK_BLKIF_RING_SIZE *
	sizeof(union mk_blkif_sring_entry) > 4096, "32 is the largest power of two that fits");

#endif
