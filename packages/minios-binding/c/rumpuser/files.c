/*
 * Host files on Xen: the domain's vbds, through blkfront (<mk/blkfront.h>). rumpuser_open,
 * rumpuser_getfileinfo, rumpuser_close, and the synchronous rumpuser_iovread,
 * rumpuser_iovwrite and rumpuser_syncfd; rumpuser_bio is in bio.c.
 *
 * A path names a vbd by its vdev, with or without "/dev/": "xvda", "/dev/xvda". A domain
 * with no vbds answers ENXIO (no host files at all), an unknown name ENOENT. The first open
 * or getfileinfo of a vbd connects it (the rump CPU is given back meanwhile). A vbd has the
 * type RUMPUSER_FT_BLK and the size its backend gives. RDWR or WRONLY on a read-only vbd is
 * refused with EROFS, so NetBSD's rumpblk falls back to opening it read-only. Reads beyond
 * the end are short; the iov calls take any offset and length (partial logical blocks are
 * read, modified and written back, one iovec after another).
 */
#include "vbd.h"
#include <mk/lib.h>
#include <mk/mm.h>

#define MAX_FDS 32

static struct rx_vbd_fd fds[MAX_FDS];

struct rx_vbd_fd *rx_vbd_fd(int fd)
{
	if (fd < 0 || fd >= MAX_FDS || !fds[fd].used)
		return NULL;
	return &fds[fd];
}

int rx_vbd_errno(int err)
{
	switch (err) {
	case 0: return 0;
	case XEN_ENOENT: return RUMPXEN_NETBSD_ENOENT;
	case MK_BLK_ENXIO: return RUMPXEN_NETBSD_ENXIO;
	case XEN_ENOMEM: return RUMPXEN_NETBSD_ENOMEM;
	case XEN_EINVAL: return RUMPXEN_NETBSD_EINVAL;
	case MK_BLK_ENOSPC: return RUMPXEN_NETBSD_ENOSPC;
	case MK_BLK_EROFS: return RUMPXEN_NETBSD_EROFS;
	default: return RUMPXEN_NETBSD_EIO;
	}
}

/* The connected vbd path names; NetBSD errno. */
static int vbd_by_path(const char *path, struct mk_blkdev **dev)
{
	if (mk_strncmp(path, "/dev/", 5) == 0)
		path += 5;
	int nlocks = rx_vbd_unschedule();
	int err = mk_blkfront_lookup(path, dev);
	if (!err)
		err = mk_blkfront_connect(*dev);
	rx_vbd_reschedule(nlocks);
	return rx_vbd_errno(err);
}

int rumpuser_open(const char *path, int ruflags, int *fdp)
{
	struct mk_blkdev *dev;
	int err = vbd_by_path(path, &dev);
	if (err)
		return err;
	if ((ruflags & RUMPUSER_OPEN_CREATE) && (ruflags & RUMPUSER_OPEN_EXCL))
		return RUMPXEN_NETBSD_EEXIST;
	int mode = ruflags & RUMPUSER_OPEN_ACCMODE;
	bool writable = mode == RUMPUSER_OPEN_WRONLY || mode == RUMPUSER_OPEN_RDWR;
	if (writable && mk_blkfront_disk(dev)->readonly)
		return RUMPXEN_NETBSD_EROFS;
	for (int fd = 0; fd < MAX_FDS; fd++) {
		if (!fds[fd].used) {
			fds[fd] = (struct rx_vbd_fd){ .dev = dev, .used = true, .writable = writable };
			*fdp = fd;
			return 0;
		}
	}
	return RUMPXEN_NETBSD_EMFILE;
}

int rumpuser_close(int fd)
{
	struct rx_vbd_fd *f = rx_vbd_fd(fd);
	if (!f)
		return RUMPXEN_NETBSD_EBADF;
	f->used = false;
	return 0;
}

int rumpuser_getfileinfo(const char *path, uint64_t *sizep, int *ftp)
{
	struct mk_blkdev *dev;
	int err = vbd_by_path(path, &dev);
	if (err)
		return err;
	if (sizep)
		*sizep = mk_blkfront_disk(dev)->sectors << MK_BLKIF_SECTOR_SHIFT;
	if (ftp)
		*ftp = RUMPUSER_FT_BLK;
	return 0;
}

/*
 * Moves len bytes between buf and the disk at off (any alignment), the calling thread
 * waiting; *done gets the bytes moved. Reads stop at the disk's end; a write beyond it is
 * ENOSPC. Returns a blkfront error.
 */
static int vbd_bytes(struct mk_blkdev *dev, bool write, char *buf, size_t len, uint64_t off,
	size_t *done)
{
	const struct mk_blkif_disk *disk = mk_blkfront_disk(dev);
	uint64_t size = disk->sectors << MK_BLKIF_SECTOR_SHIFT;
	uint32_t bs = disk->sector_size;
	char *block = NULL;
	int err = 0;
	*done = 0;
	if (off >= size)
		return write && len ? MK_BLK_ENOSPC : 0;
	if (len > size - off)
		len = size - off;
	while (len > 0 && !err) {
		size_t n;
		if (off % bs == 0 && len >= bs) {
			n = len - len % bs;
			err = mk_blkfront_transfer(dev, write ? MK_BLK_WRITE : MK_BLK_READ, 0, buf, n,
				off);
		} else {
			/* A partial logical block: read it whole, then copy out or modify and write back. */
			uint64_t start = off - off % bs;
			size_t in = (size_t)(off - start);
			n = bs - in < len ? bs - in : len;
			if (!block && !(block = mk_malloc(bs, bs))) {
				err = XEN_ENOMEM;
				break;
			}
			err = mk_blkfront_transfer(dev, MK_BLK_READ, 0, block, bs, start);
			if (!err && write) {
				mk_memcpy(block + in, buf, n);
				err = mk_blkfront_transfer(dev, MK_BLK_WRITE, 0, block, bs, start);
			} else if (!err) {
				mk_memcpy(buf, block + in, n);
			}
		}
		if (!err) {
			*done += n;
			buf += n;
			off += n;
			len -= n;
		}
	}
	if (block)
		mk_free(block);
	return err;
}

static int vbd_iov(int fd, bool write, const struct rumpuser_iovec *iov, size_t iovlen,
	int64_t off, size_t *retv)
{
	struct rx_vbd_fd *f = rx_vbd_fd(fd);
	*retv = 0;
	if (!f)
		return RUMPXEN_NETBSD_EBADF;
	if (write && mk_blkfront_disk(f->dev)->readonly)
		return RUMPXEN_NETBSD_EROFS;
	if (write && !f->writable)
		return RUMPXEN_NETBSD_EBADF;
	if (off != RUMPUSER_IOV_NOSEEK && off < 0)
		return RUMPXEN_NETBSD_EINVAL;
	uint64_t pos = off == RUMPUSER_IOV_NOSEEK ? f->pos : (uint64_t)off;
	int nlocks = rx_vbd_unschedule();
	int err = 0;
	for (size_t i = 0; i < iovlen && !err; i++) {
		size_t done;
		err = vbd_bytes(f->dev, write, iov[i].iov_base, iov[i].iov_len, pos, &done);
		*retv += done;
		pos += done;
		if (done < iov[i].iov_len)
			break;	/* the disk's end */
	}
	rx_vbd_reschedule(nlocks);
	if (off == RUMPUSER_IOV_NOSEEK)
		f->pos = pos;
	/* As a host's preadv/pwritev: an error after some bytes moved reports the bytes. */
	return *retv ? 0 : rx_vbd_errno(err);
}

int rumpuser_iovread(int fd, struct rumpuser_iovec *ruiov, size_t iovlen, int64_t off,
    size_t *retv)
{
	return vbd_iov(fd, false, ruiov, iovlen, off, retv);
}

int rumpuser_iovwrite(int fd, const struct rumpuser_iovec *ruiov, size_t iovlen, int64_t off,
    size_t *retv)
{
	return vbd_iov(fd, true, ruiov, iovlen, off, retv);
}

/*
 * Every transfer submitted before is complete and, with the backend's cache flush (or
 * barrier), durable when this returns; start and len are not narrowed (the flush is of the
 * whole disk). Nothing to do for a read-only vbd or a SYNCFD_READ alone.
 */
int rumpuser_syncfd(int fd, int flags, uint64_t start, uint64_t len)
{
	(void)start;
	(void)len;
	struct rx_vbd_fd *f = rx_vbd_fd(fd);
	if (!f)
		return RUMPXEN_NETBSD_EBADF;
	if (!(flags & (RUMPUSER_SYNCFD_WRITE | RUMPUSER_SYNCFD_BARRIER | RUMPUSER_SYNCFD_SYNC)))
		return 0;
	int nlocks = rx_vbd_unschedule();
	int err = mk_blkfront_transfer(f->dev, MK_BLK_FLUSH, 0, NULL, 0, 0);
	rx_vbd_reschedule(nlocks);
	return rx_vbd_errno(err);
}
