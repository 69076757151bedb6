/*
 * What files.c and bio.c share: the descriptors rumpuser_open hands out on Xen. A Xen guest
 * has no host files; its "files" are the domain's vbds, named by their vdev ("xvda") or as
 * a device path ("/dev/xvda", what a rump kernel's etfs registration passes through).
 */
#ifndef RUMPXEN_XEN_VBD_H
#define RUMPXEN_XEN_VBD_H

#include "xen_int.h"
#include <mk/blkfront.h>
#include <mk/rumpattach.h>

struct rx_vbd_fd {
	struct mk_blkdev *dev;
	bool used;
	bool writable;
	uint64_t pos;	/* for RUMPUSER_IOV_NOSEEK */
};

/* The open descriptor fd, or NULL (EBADF). */
struct rx_vbd_fd *rx_vbd_fd(int fd);
/* A blkfront error (XEN_E* / MK_BLK_E*) in NetBSD numbering. */
int rx_vbd_errno(int err);

/* Around a wait for the disk or xenstore: the rump CPU is given back, if a rump kernel holds one. */
static inline int rx_vbd_unschedule(void)
{
	return mk_rumpuser_attached() ? rx_cpu_release(NULL) : -1;
}

static inline void rx_vbd_reschedule(int nlocks)
{
	if (nlocks >= 0)
		rx_cpu_retake(nlocks, NULL);
}

#endif
