/*
 * A rump kernel side that costs nothing, for host programs that exercise librumpuser
 * outside the conformance suite (probes, the bench): scheduling upcalls do nothing and
 * report no locks released. The conformance suite has its own accounting kernel.
 */
#ifndef RUMPXEN_NULL_KERNEL_H
#define RUMPXEN_NULL_KERNEL_H

#include "rumpuser.h"

static void null_kernel_noop(void) {}

static void null_kernel_backend_unschedule(int nlocks, int *countp, void *interlock)
{
	(void)nlocks;
	(void)interlock;
	*countp = 0;
}

static void null_kernel_backend_schedule(int nlocks, void *interlock)
{
	(void)nlocks;
	(void)interlock;
}

static const struct rumpuser_hyperup null_kernel_hyperup = {
	.hyp_schedule = null_kernel_noop,
	.hyp_unschedule = null_kernel_noop,
	.hyp_backend_unschedule = null_kernel_backend_unschedule,
	.hyp_backend_schedule = null_kernel_backend_schedule,
};

#endif
