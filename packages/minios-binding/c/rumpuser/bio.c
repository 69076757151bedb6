/*
 * rumpuser_bio on Xen: asynchronous block I/O on a vbd opened by rumpuser_open (files.c).
 * The transfer is queued on blkfront and rumpuser_bio returns at once; any number may be in
 * flight. A completion arrives on the event path, which must not block or enter the rump
 * kernel, so it only files the request and wakes the "rumpuser_bio" thread. That thread
 * has an lwp of its own and calls each biodone holding the rump CPU, as the contract
 * requires (rump kernel code runs in the callback), in the order the transfers completed.
 *
 * Reads beyond the disk's end are short (a read at the end moves 0 bytes); a write wholly
 * beyond it fails with ENOSPC. A write to a read-only vbd fails with EROFS before it
 * reaches the ring. RUMPUSER_BIO_SYNC writes complete once the backend flushed its cache.
 * Errors found before the transfer is queued are reported by calling biodone at once.
 */
#include "vbd.h"
#include <mk/mm.h>
#include <mk/sched.h>

struct bio_request {
	struct mk_blkio io;
	struct bio_request *next;
	rump_biodone_fn biodone;
	void *donearg;
};

static struct bio_request *done_head, *done_tail;
static struct mk_thread *bio_thread;
static bool bio_thread_idle;	/* blocked waiting for completions, so a wake is meant for it */

/* On the event path. */
static void bio_complete(struct mk_blkio *io)
{
	struct bio_request *r = io->arg;
	r->next = NULL;
	if (done_tail)
		done_tail->next = r;
	else
		done_head = r;
	done_tail = r;
	if (bio_thread_idle)
		mk_thread_wake(bio_thread);
}

static void *bio_main(void *arg)
{
	(void)arg;
	bool rump = mk_rumpuser_attached();
	if (rump) {
		rx_hyp.hyp_schedule();
		rx_hyp.hyp_lwproc_newlwp(0);
		rx_hyp.hyp_unschedule();
	}
	for (;;) {
		while (!done_head) {
			bio_thread_idle = true;
			mk_thread_block();
			bio_thread_idle = false;
		}
		struct bio_request *r = done_head;
		done_head = r->next;
		if (!done_head)
			done_tail = NULL;
		rump_biodone_fn biodone = r->biodone;
		void *donearg = r->donearg;
		int err = rx_vbd_errno(r->io.error);
		size_t bytes = r->io.error ? 0 : r->io.len;
		mk_free(r);
		if (rump)
			rx_cpu_retake(0, NULL);
		biodone(donearg, bytes, err);
		if (rump)
			rx_cpu_release(NULL);
	}
	return NULL;
}

void rumpuser_bio(int fd, int op, void *data, size_t dlen, int64_t off,
    rump_biodone_fn biodone, void *donearg)
{
	struct rx_vbd_fd *f = rx_vbd_fd(fd);
	if (!f) {
		biodone(donearg, 0, RUMPXEN_NETBSD_EBADF);
		return;
	}
	bool write = (op & RUMPUSER_BIO_WRITE) != 0;
	const struct mk_blkif_disk *disk = mk_blkfront_disk(f->dev);
	uint64_t size = disk->sectors << MK_BLKIF_SECTOR_SHIFT;
	int err = 0;
	if (write && disk->readonly)
		err = RUMPXEN_NETBSD_EROFS;
	else if (write && !f->writable)
		err = RUMPXEN_NETBSD_EBADF;
	else if (off < 0)
		err = RUMPXEN_NETBSD_EINVAL;
	else if ((uint64_t)off >= size && write && dlen)
		err = RUMPXEN_NETBSD_ENOSPC;
	if (err || (uint64_t)off >= size || dlen == 0) {
		biodone(donearg, 0, err);
		return;
	}
	if (dlen > size - (uint64_t)off)
		dlen = size - (uint64_t)off;
	if (!bio_thread) {
		bio_thread = mk_thread_create("rumpuser_bio", bio_main, NULL, RX_THREAD_STACK, false);
		if (!bio_thread) {
			biodone(donearg, 0, RUMPXEN_NETBSD_ENOMEM);
			return;
		}
	}
	struct bio_request *r = mk_malloc(sizeof(*r), 0);
	if (!r) {
		biodone(donearg, 0, RUMPXEN_NETBSD_ENOMEM);
		return;
	}
	r->io = (struct mk_blkio){ .op = write ? MK_BLK_WRITE : MK_BLK_READ,
		.flags = write && (op & RUMPUSER_BIO_SYNC) ? MK_BLK_SYNC : 0, .buf = data,
		.len = dlen, .offset = (uint64_t)off, .done = bio_complete, .arg = r };
	r->biodone = biodone;
	r->donearg = donearg;
	err = mk_blkfront_submit(f->dev, &r->io);
	if (err) {
		mk_free(r);
		biodone(donearg, 0, rx_vbd_errno(err));
	}
}
