/* Host files for the rump kernel: open/close, file info, scatter-gather I/O and syncing. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "posix_int.h"

_Static_assert(sizeof(struct rumpuser_iovec) == sizeof(struct iovec) &&
    offsetof(struct rumpuser_iovec, iov_base) == offsetof(struct iovec, iov_base) &&
    offsetof(struct rumpuser_iovec, iov_len) == offsetof(struct iovec, iov_len),
    "struct rumpuser_iovec must have the host's struct iovec layout");

#define RUMPUSER_OPEN_KNOWN (RUMPUSER_OPEN_ACCMODE | RUMPUSER_OPEN_CREATE | \
    RUMPUSER_OPEN_EXCL | RUMPUSER_OPEN_BIO)

int rumpuser_open(const char *path, int ruflags, int *fdp)
{
	int flags, fd, nlocks, err;

	if ((ruflags & ~RUMPUSER_OPEN_KNOWN) != 0)
		return posix_errtrans(EINVAL);
	switch (ruflags & RUMPUSER_OPEN_ACCMODE) {
	case RUMPUSER_OPEN_RDONLY:
		flags = O_RDONLY;
		break;
	case RUMPUSER_OPEN_WRONLY:
		flags = O_WRONLY;
		break;
	case RUMPUSER_OPEN_RDWR:
		flags = O_RDWR;
		break;
	default:
		return posix_errtrans(EINVAL);
	}
	if (ruflags & RUMPUSER_OPEN_CREATE)
		flags |= O_CREAT;
	if (ruflags & RUMPUSER_OPEN_EXCL)
		flags |= O_EXCL;
	/* RUMPUSER_OPEN_BIO is advisory; the page cache serves block I/O well enough. */
	flags |= O_CLOEXEC;

	nlocks = posix_cpu_release(NULL);
	fd = open(path, flags, 0644);
	err = errno;
	posix_cpu_retake(nlocks, NULL);
	if (fd == -1)
		return posix_errtrans(err);
	*fdp = fd;
	return 0;
}

int rumpuser_close(int fd)
{
	int nlocks, rv, err;

	nlocks = posix_cpu_release(NULL);
	rv = close(fd);
	err = errno;
	posix_cpu_retake(nlocks, NULL);
	return rv == 0 ? 0 : posix_errtrans(err);
}

static int file_size_of_blockdev(const char *path, uint64_t *size)
{
	uint64_t bytes;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return errno;
	err = ioctl(fd, BLKGETSIZE64, &bytes) == 0 ? 0 : errno;
	close(fd);
	if (err == 0)
		*size = bytes;
	return err;
}

int rumpuser_getfileinfo(const char *path, uint64_t *sizep, int *ftp)
{
	struct stat st;
	uint64_t size = 0;
	int type, nlocks, err = 0;

	nlocks = posix_cpu_release(NULL);
	if (stat(path, &st) == -1) {
		err = errno;
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		type = RUMPUSER_FT_DIR;
	} else if (S_ISREG(st.st_mode)) {
		type = RUMPUSER_FT_REG;
		size = (uint64_t)st.st_size;
	} else if (S_ISBLK(st.st_mode)) {
		type = RUMPUSER_FT_BLK;
		err = file_size_of_blockdev(path, &size);
	} else if (S_ISCHR(st.st_mode)) {
		type = RUMPUSER_FT_CHR;
	} else {
		type = RUMPUSER_FT_OTHER;
	}
out:
	posix_cpu_retake(nlocks, NULL);
	if (err != 0)
		return posix_errtrans(err);
	if (sizep != NULL)
		*sizep = size;
	if (ftp != NULL)
		*ftp = type;
	return 0;
}

int rumpuser_iovread(int fd, struct rumpuser_iovec *ruiov, size_t iovlen, int64_t off,
    size_t *retv)
{
	ssize_t n;
	int nlocks, err;

	nlocks = posix_cpu_release(NULL);
	if (off == RUMPUSER_IOV_NOSEEK)
		n = readv(fd, (const struct iovec *)ruiov, (int)iovlen);
	else
		n = preadv(fd, (const struct iovec *)ruiov, (int)iovlen, off);
	err = errno;
	posix_cpu_retake(nlocks, NULL);
	if (n == -1)
		return posix_errtrans(err);
	*retv = (size_t)n;
	return 0;
}

int rumpuser_iovwrite(int fd, const struct rumpuser_iovec *ruiov, size_t iovlen,
    int64_t off, size_t *retv)
{
	ssize_t n;
	int nlocks, err;

	nlocks = posix_cpu_release(NULL);
	if (off == RUMPUSER_IOV_NOSEEK)
		n = writev(fd, (const struct iovec *)ruiov, (int)iovlen);
	else
		n = pwritev(fd, (const struct iovec *)ruiov, (int)iovlen, off);
	err = errno;
	posix_cpu_retake(nlocks, NULL);
	if (n == -1)
		return posix_errtrans(err);
	*retv = (size_t)n;
	return 0;
}

#define RUMPUSER_SYNCFD_KNOWN (RUMPUSER_SYNCFD_READ | RUMPUSER_SYNCFD_WRITE | \
    RUMPUSER_SYNCFD_SYNC | RUMPUSER_SYNCFD_BARRIER)

/*
 * READ needs nothing: reads always see the host's latest data. WRITE starts write-back of
 * the range; SYNC waits until it is on stable storage; BARRIER orders the writes before
 * later ones, which only a full data sync gives on Linux.
 */
int rumpuser_syncfd(int fd, int flags, uint64_t start, uint64_t len)
{
	int nlocks, rv = 0;

	if ((flags & ~RUMPUSER_SYNCFD_KNOWN) != 0)
		return posix_errtrans(EINVAL);
	nlocks = posix_cpu_release(NULL);
	if (flags & (RUMPUSER_SYNCFD_SYNC | RUMPUSER_SYNCFD_BARRIER)) {
		if (fdatasync(fd) == -1)
			rv = errno;
	} else if (flags & RUMPUSER_SYNCFD_WRITE) {
		if (sync_file_range(fd, (off_t)start, (off_t)len, SYNC_FILE_RANGE_WRITE) == -1 &&
		    errno != ESPIPE && errno != EINVAL)
			rv = errno;
	}
	posix_cpu_retake(nlocks, NULL);
	return posix_errtrans(rv);
}
