/*
 * blkfront: this domain's virtual block devices (vbds), served by a block backend (blkback
 * in dom0) over one shared ring each. A vbd is found by the name its id has (xvda, xvdb3;
 * <mk/blkring.h>), connected on first use, and stays connected. Transfers are queued,
 * split into ring requests (indirect ones where the backend offers them), and complete
 * from the event path; several may be in flight on one device.
 *
 * Everything the backend writes (ring indices, responses, its xenstore nodes) is copied,
 * then checked (<mk/blkring.h>). A value that fails is refused with a console line naming
 * the device, the value and what was wrong; the device then fails every outstanding and
 * later transfer with XEN_EIO, and the rest of the guest goes on. A backend that leaves
 * (its state Closing or Closed, or its node gone: xl block-detach) takes the device out of
 * service the same way: every outstanding and queued transfer fails with XEN_EIO (those on
 * the ring once the backend gave their pages back, at most 10 s), later ones too, and
 * blkfront writes Closed (kern/blkfront.c).
 *
 * Errors are positive XEN_E* codes (Linux numbering), plus the ones below.
 */
#ifndef MK_BLKFRONT_H
#define MK_BLKFRONT_H
#include <mk/blkring.h>
#include <mk/xen.h>

#define MK_BLK_ENXIO 6		/* this domain has no vbds at all */
#define MK_BLK_ENOSPC 28	/* a write wholly beyond the disk's end */
#define MK_BLK_EROFS 30		/* a write to a read-only vbd */

struct mk_blkdev;

/*
 * Finds the vbd called name ("xvda"; see mk_blkif_vdev_name) among device/vbd/ in xenstore.
 * Returns 0 and the device (not yet connected), MK_BLK_ENXIO when the domain has no vbds
 * (or no xenstore: dom0), or XEN_ENOENT when none has that name. May block (xenstore).
 */
int mk_blkfront_lookup(const char *name, struct mk_blkdev **dev);

/*
 * Connects the device if it is not yet: the xenbus handshake with its backend (ring page
 * granted, event channel, protocol x86_64-abi, Initialised, the backend Connected, its
 * nodes read and checked, Connected). Returns 0, or XEN_EIO after printing why. Blocks
 * the calling thread (up to 30 s for the backend); other threads run meanwhile.
 */
int mk_blkfront_connect(struct mk_blkdev *dev);

/* The connected device's disk (size, logical block size, read-only, features). */
const struct mk_blkif_disk *mk_blkfront_disk(const struct mk_blkdev *dev);
/* The device's name ("xvda"). */
const char *mk_blkfront_name(const struct mk_blkdev *dev);
/* Whether the device is out of service: it refused a value from its backend, or its backend left. */
bool mk_blkfront_broken(const struct mk_blkdev *dev);

enum mk_blk_op {
	MK_BLK_READ,
	MK_BLK_WRITE,
	/* Makes every transfer submitted before it durable: it starts once they completed,
	 * and later transfers start after it (BLKIF_OP_FLUSH_DISKCACHE, else WRITE_BARRIER,
	 * else nothing to do: the backend has no volatile cache to flush). */
	MK_BLK_FLUSH,
};
/* A write that is durable when it completes: the data, then a cache flush. */
#define MK_BLK_SYNC 0x1u

/*
 * One transfer. The caller fills the fields above `error`, keeps the structure (and buf)
 * alive until done has been called, and reads error in done. buf may have any alignment
 * (unaligned parts go through bounce pages); offset and len are multiples of the disk's
 * logical block size, and offset + len is within the disk.
 */
struct mk_blkio {
	enum mk_blk_op op;
	unsigned flags;
	void *buf;
	size_t len;
	uint64_t offset;	/* bytes from the disk's start */
	/* Runs on the event path (or in mk_blkfront_submit's caller for a flush with nothing
	 * to flush): may wake threads, must not block. */
	void (*done)(struct mk_blkio *io);
	void *arg;
	int error;		/* 0 or a positive XEN_E* code */

	/* The frontend's own. */
	struct mk_blkio *queue_next;
	struct mk_blkio *active_prev, *active_next;
	size_t issued;
	unsigned in_flight;
	bool flush_phase;
	bool flush_issued;
};

/*
 * Queues a transfer on a connected device. Returns 0 (done will be called exactly once),
 * or an error without calling done: XEN_EINVAL (not aligned, beyond the end, empty),
 * MK_BLK_EROFS (a write to a read-only disk: refused before it reaches the ring),
 * XEN_EIO (the device is out of service or not connected). Never blocks.
 */
int mk_blkfront_submit(struct mk_blkdev *dev, struct mk_blkio *io);

/* Submits a transfer built from the arguments and blocks the calling thread until it completes; returns its error. */
int mk_blkfront_transfer(struct mk_blkdev *dev, enum mk_blk_op op, unsigned flags, void *buf,
	size_t len, uint64_t offset);

#endif
