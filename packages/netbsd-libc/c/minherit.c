/*
 * minherit(2): how a mapping is passed to a child at fork. The image is one program that never
 * forks (process.c), so every inheritance is accepted and has no effect; libc's arc4random
 * asks for MAP_INHERIT_ZERO on its state, which the rump kernel has no system call for.
 */
#include "nblibc.h"

/* NetBSD's MAP_INHERIT_SHARE (0) to MAP_INHERIT_ZERO (4). */
#define NB_MAP_INHERIT_LAST 4

int minherit(void *addr, unsigned long len, int inherit)
{
	(void)addr;
	(void)len;
	if (inherit < 0 || inherit > NB_MAP_INHERIT_LAST) {
		*__errno() = RUMPXEN_NETBSD_EINVAL;
		return -1;
	}
	return 0;
}
