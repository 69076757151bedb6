/*
 * Helpers for host-side code of rump kernel components (e.g. a network interface's
 * receive thread): enter and leave the kernel, get a kernel thread context, translate
 * host errors.
 */
#include <stdint.h>

#include "posix_int.h"
#include "rumpuser_component.h"

/* Returns a cookie for rumpuser_component_schedule(): the big-lock count to restore. */
void *rumpuser_component_unschedule(void)
{
	return (void *)(intptr_t)posix_cpu_release(NULL);
}

void rumpuser_component_schedule(void *cookie)
{
	posix_cpu_retake((int)(intptr_t)cookie, NULL);
}

/* Give a host thread an lwp of its own, so it can enter the kernel. */
void rumpuser_component_kthread(void)
{
	posix_hyp.hyp_schedule();
	posix_hyp.hyp_lwproc_newlwp(0);
	posix_hyp.hyp_unschedule();
}

void rumpuser_component_kthread_release(void)
{
	posix_hyp.hyp_schedule();
	posix_hyp.hyp_lwproc_release();
	posix_hyp.hyp_unschedule();
}

struct lwp *rumpuser_component_curlwp(void)
{
	struct lwp *l;

	posix_hyp.hyp_schedule();
	l = posix_hyp.hyp_lwproc_curlwp();
	posix_hyp.hyp_unschedule();
	return l;
}

void rumpuser_component_switchlwp(struct lwp *l)
{
	posix_hyp.hyp_schedule();
	posix_hyp.hyp_lwproc_switch(l);
	posix_hyp.hyp_unschedule();
}

int rumpuser_component_errtrans(int hosterr)
{
	return posix_errtrans(hosterr);
}
