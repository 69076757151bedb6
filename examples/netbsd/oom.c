/*
 * Runs a NetBSD rump kernel out of memory on purpose: writes one tmpfs file in 64 KiB chunks
 * until a write fails, printing how much it has written. tmpfs keeps file data in anonymous
 * memory, which the pagedaemon cannot give back, so the file outgrows any guest. On Xen the
 * guest must end with "rumpxen: out of memory: ..." and shut down with reason crash; a write
 * that fails (ENOSPC) ends the program with "Test result: FAILURE" instead, and a guest that
 * hangs or faults is a bug.
 */
#include <rumpuser.h>

#include "nbsys.h"

static unsigned char chunk[64 * 1024];

int main(void)
{
	struct nb_tmpfs_args args = { .ta_version = NB_TMPFS_ARGS_VERSION, .ta_root_mode = 01777 };
	unsigned long kib = 0;
	int fd, rv = rump_init();

	if (rv != 0) {
		rumpuser_dprintf("oom: rump_init failed: %d\nTest result: FAILURE\n", rv);
		return 1;
	}
	if ((nb_mkdir("/tmp", 0777) != 0 && nb_errno() != NB_EEXIST) || nb_mount("tmpfs", "/tmp", 0, &args, sizeof(args)) != 0 ||
	    (fd = nb_open("/tmp/fill", NB_O_WRONLY | NB_O_CREAT | NB_O_TRUNC, 0644)) < 0) {
		rumpuser_dprintf("oom: cannot create /tmp/fill on tmpfs: errno %d\nTest result: FAILURE\n", nb_errno());
		return 1;
	}
	for (unsigned i = 0; i < sizeof(chunk); i++)
		chunk[i] = (unsigned char)(i * 7u);
	for (;;) {
		nb_ssize_t n = nb_write(fd, chunk, sizeof(chunk));
		if (n != (nb_ssize_t)sizeof(chunk)) {
			rumpuser_dprintf("oom: write after %lu KiB returned %ld, errno %d\nTest result: FAILURE\n", kib, (long)n, nb_errno());
			return 1;
		}
		kib += sizeof(chunk) / 1024;
		if (kib % 512 == 0)
			rumpuser_dprintf("oom: %lu KiB written to /tmp/fill\n", kib);
	}
}
