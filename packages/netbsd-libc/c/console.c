/*
 * fds 0, 1 and 2 are the rump kernel's console (rump_init opens them), whose output goes
 * through the rumpuser_putchar hypercall; the guest kernel prints whole lines only, so a last
 * line without a newline would stay unprinted when the program ends. write and writev (the
 * rump kernel's system calls, which libc calls by these names) are wrapped to remember
 * whether what went to fds 1 and 2 ended with a newline, and _exit ends such a line.
 */
#include <stddef.h>

#include "nblibc.h"

typedef long nb_ssize_t;

struct nb_iovec {
	void *iov_base;
	size_t iov_len;
};

extern nb_ssize_t rump___sysimpl_write(int fd, const void *buf, size_t nbyte);
extern nb_ssize_t rump___sysimpl_writev(int fd, const struct nb_iovec *iov, int iovcnt);
extern void rumpuser_putchar(int c);

static int console_mid_line;

static void note(int fd, const struct nb_iovec *iov, int iovcnt, nb_ssize_t written)
{
	if ((fd != 1 && fd != 2) || written <= 0)
		return;
	/* The last byte written: walk the vectors up to the count the kernel took. */
	size_t left = (size_t)written;
	for (int i = 0; i < iovcnt && left > 0; i++) {
		size_t n = iov[i].iov_len < left ? iov[i].iov_len : left;
		if (n > 0)
			console_mid_line = ((const char *)iov[i].iov_base)[n - 1] != '\n';
		left -= n;
	}
}

nb_ssize_t write(int fd, const void *buf, size_t nbyte)
{
	nb_ssize_t r = rump___sysimpl_write(fd, buf, nbyte);
	struct nb_iovec one = { (void *)(size_t)buf, nbyte };
	note(fd, &one, 1, r);
	return r;
}

nb_ssize_t writev(int fd, const struct nb_iovec *iov, int iovcnt)
{
	nb_ssize_t r = rump___sysimpl_writev(fd, iov, iovcnt);
	note(fd, iov, iovcnt, r);
	return r;
}

void nblibc_console_end_line(void)
{
	if (console_mid_line)
		rumpuser_putchar('\n');
	console_mid_line = 0;
}
