/*
 * Host files and block I/O: a Xen guest has no host file system. Until the block device
 * frontend lands every call reports ENXIO (no such device), as the interface allows.
 */
#include "xen_int.h"

int rumpuser_open(const char *path, int ruflags, int *fdp)
{
	(void)path;
	(void)ruflags;
	(void)fdp;
	return RUMPXEN_NETBSD_ENXIO;
}

int rumpuser_close(int fd)
{
	(void)fd;
	return RUMPXEN_NETBSD_EBADF;
}

int rumpuser_getfileinfo(const char *path, uint64_t *sizep, int *ftp)
{
	(void)path;
	(void)sizep;
	(void)ftp;
	return RUMPXEN_NETBSD_ENXIO;
}

void rumpuser_bio(int fd, int op, void *data, size_t dlen, int64_t off,
    rump_biodone_fn biodone, void *donearg)
{
	(void)fd;
	(void)op;
	(void)data;
	(void)off;
	(void)dlen;
	biodone(donearg, 0, RUMPXEN_NETBSD_ENXIO);
}

int rumpuser_iovread(int fd, struct rumpuser_iovec *ruiov, size_t iovlen, int64_t off,
    size_t *retv)
{
	(void)fd;
	(void)ruiov;
	(void)iovlen;
	(void)off;
	*retv = 0;
	return RUMPXEN_NETBSD_EBADF;
}

int rumpuser_iovwrite(int fd, const struct rumpuser_iovec *ruiov, size_t iovlen, int64_t off,
    size_t *retv)
{
	(void)fd;
	(void)ruiov;
	(void)iovlen;
	(void)off;
	*retv = 0;
	return RUMPXEN_NETBSD_EBADF;
}

int rumpuser_syncfd(int fd, int flags, uint64_t start, uint64_t len)
{
	(void)fd;
	(void)flags;
	(void)start;
	(void)len;
	return RUMPXEN_NETBSD_EBADF;
}
