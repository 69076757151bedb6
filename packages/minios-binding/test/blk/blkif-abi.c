/*
 * mk/blkif.h against Xen's own io/blkif.h and io/ring.h (Debian's libxen-dev): every
 * constant, offset and size this frontend writes or reads on the ring must be Xen's.
 * Compiled on the host by test/blkring-host.test.ts; -DABI_SELF_TEST adds one wrong
 * assertion, which must make the compile fail (so the checks are live).
 */
#include <stdint.h>
#include <xen/io/blkif.h>
#include <xen/io/protocols.h>
#include <xen/io/xenbus.h>
#include <mk/blkif.h>
#include "abi-check.h"

SAME_VALUE(MK_BLKIF_OP_READ, BLKIF_OP_READ);
SAME_VALUE(MK_BLKIF_OP_WRITE, BLKIF_OP_WRITE);
SAME_VALUE(MK_BLKIF_OP_WRITE_BARRIER, BLKIF_OP_WRITE_BARRIER);
SAME_VALUE(MK_BLKIF_OP_FLUSH_DISKCACHE, BLKIF_OP_FLUSH_DISKCACHE);
SAME_VALUE(MK_BLKIF_OP_DISCARD, BLKIF_OP_DISCARD);
SAME_VALUE(MK_BLKIF_OP_INDIRECT, BLKIF_OP_INDIRECT);
SAME_VALUE(MK_BLKIF_RSP_EOPNOTSUPP, BLKIF_RSP_EOPNOTSUPP);
SAME_VALUE(MK_BLKIF_RSP_ERROR, BLKIF_RSP_ERROR);
SAME_VALUE(MK_BLKIF_RSP_OKAY, BLKIF_RSP_OKAY);
SAME_VALUE(MK_BLKIF_MAX_SEGMENTS_PER_REQUEST, BLKIF_MAX_SEGMENTS_PER_REQUEST);
SAME_VALUE(MK_BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST, BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST);
SAME_VALUE(MK_VDISK_CDROM, VDISK_CDROM);
SAME_VALUE(MK_VDISK_REMOVABLE, VDISK_REMOVABLE);
SAME_VALUE(MK_VDISK_READONLY, VDISK_READONLY);
SAME_VALUE(MK_XENBUS_INITWAIT, XenbusStateInitWait);
SAME_VALUE(MK_XENBUS_INITIALISED, XenbusStateInitialised);
SAME_VALUE(MK_XENBUS_CONNECTED, XenbusStateConnected);
SAME_VALUE(MK_XENBUS_CLOSING, XenbusStateClosing);
SAME_VALUE(MK_XENBUS_CLOSED, XenbusStateClosed);
SAME_VALUE(MK_XENBUS_RECONFIGURED, XenbusStateReconfigured);
_Static_assert(sizeof(MK_BLKIF_PROTOCOL_X86_64) == sizeof(XEN_IO_PROTO_ABI_X86_64) &&
	__builtin_memcmp(MK_BLKIF_PROTOCOL_X86_64, XEN_IO_PROTO_ABI_X86_64,
		sizeof(XEN_IO_PROTO_ABI_X86_64)) == 0, "the protocol name");

SAME_SIZE(struct mk_blkif_request_segment, struct blkif_request_segment);
SAME_OFFSET(mk_blkif_request_segment, blkif_request_segment, gref);
SAME_OFFSET(mk_blkif_request_segment, blkif_request_segment, first_sect);
SAME_OFFSET(mk_blkif_request_segment, blkif_request_segment, last_sect);

SAME_SIZE(struct mk_blkif_request, struct blkif_request);
SAME_OFFSET(mk_blkif_request, blkif_request, operation);
SAME_OFFSET(mk_blkif_request, blkif_request, nr_segments);
SAME_OFFSET(mk_blkif_request, blkif_request, handle);
SAME_OFFSET(mk_blkif_request, blkif_request, id);
SAME_OFFSET(mk_blkif_request, blkif_request, sector_number);
SAME_OFFSET(mk_blkif_request, blkif_request, seg);

SAME_SIZE(struct mk_blkif_request_indirect, struct blkif_request_indirect);
SAME_OFFSET(mk_blkif_request_indirect, blkif_request_indirect, operation);
SAME_OFFSET(mk_blkif_request_indirect, blkif_request_indirect, indirect_op);
SAME_OFFSET(mk_blkif_request_indirect, blkif_request_indirect, nr_segments);
SAME_OFFSET(mk_blkif_request_indirect, blkif_request_indirect, id);
SAME_OFFSET(mk_blkif_request_indirect, blkif_request_indirect, sector_number);
SAME_OFFSET(mk_blkif_request_indirect, blkif_request_indirect, handle);
SAME_OFFSET(mk_blkif_request_indirect, blkif_request_indirect, indirect_grefs);

SAME_SIZE(struct mk_blkif_response, struct blkif_response);
SAME_OFFSET(mk_blkif_response, blkif_response, id);
SAME_OFFSET(mk_blkif_response, blkif_response, operation);
SAME_OFFSET(mk_blkif_response, blkif_response, status);

SAME_SIZE(union mk_blkif_sring_entry, union blkif_sring_entry);
SAME_OFFSET(mk_blkif_sring, blkif_sring, req_prod);
SAME_OFFSET(mk_blkif_sring, blkif_sring, req_event);
SAME_OFFSET(mk_blkif_sring, blkif_sring, rsp_prod);
SAME_OFFSET(mk_blkif_sring, blkif_sring, rsp_event);
SAME_OFFSET(mk_blkif_sring, blkif_sring, ring);
SAME_VALUE(MK_BLKIF_RING_SIZE, __CONST_RING_SIZE(blkif, 4096));
SAME_VALUE(MK_BLKIF_SEGS_PER_INDIRECT_PAGE, 4096 / sizeof(struct blkif_request_segment));

#ifdef ABI_SELF_TEST
SAME_VALUE(MK_BLKIF_RING_SIZE, __CONST_RING_SIZE(blkif, 8192));
#endif
