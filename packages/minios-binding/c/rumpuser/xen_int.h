/*
 * Internals of rumpuser on the rumpxen guest kernel. Every blocking path gives the rump CPU
 * back through the kernel's upcalls first (hyp_backend_unschedule) and takes it again after
 * (hyp_backend_schedule), exactly as the posix target does around host blocking.
 */
#ifndef RUMPXEN_XEN_INT_H
#define RUMPXEN_XEN_INT_H

#include <stddef.h>
#include <stdint.h>
#include <mk/types.h>
#include "rumpuser.h"
#include "rumpxen/netbsd_errno.h"

extern struct rumpuser_hyperup rx_hyp;

static inline int rx_cpu_release(void *interlock)
{
	int nlocks = 0;
	rx_hyp.hyp_backend_unschedule(0, &nlocks, interlock);
	return nlocks;
}

static inline void rx_cpu_retake(int nlocks, void *interlock)
{
	rx_hyp.hyp_backend_schedule(nlocks, interlock);
}

/* The calling thread's lwp (NULL before rumpuser_curlwpop SET). */
struct lwp *rx_curlwp(void);

#endif
