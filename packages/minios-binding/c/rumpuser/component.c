/* Helpers for host-side code of rump kernel components (same contract as posix). */
#include "xen_int.h"

void *rumpuser_component_unschedule(void)
{
	return (void *)(intptr_t)rx_cpu_release(NULL);
}

void rumpuser_component_schedule(void *cookie)
{
	rx_cpu_retake((int)(intptr_t)cookie, NULL);
}

void rumpuser_component_kthread(void)
{
	rx_hyp.hyp_schedule();
	rx_hyp.hyp_lwproc_newlwp(0);
	rx_hyp.hyp_unschedule();
}

void rumpuser_component_kthread_release(void)
{
	rx_hyp.hyp_schedule();
	rx_hyp.hyp_lwproc_release();
	rx_hyp.hyp_unschedule();
}

struct lwp *rumpuser_component_curlwp(void)
{
	rx_hyp.hyp_schedule();
	struct lwp *l = rx_hyp.hyp_lwproc_curlwp();
	rx_hyp.hyp_unschedule();
	return l;
}

void rumpuser_component_switchlwp(struct lwp *l)
{
	rx_hyp.hyp_schedule();
	rx_hyp.hyp_lwproc_switch(l);
	rx_hyp.hyp_unschedule();
}

/* Guest kernel errors are Xen's (Linux numbering); the few that reach here map directly. */
int rumpuser_component_errtrans(int hosterr)
{
	switch (hosterr) {
	case 0: return 0;
	case 1: return RUMPXEN_NETBSD_EPERM;
	case 2: return RUMPXEN_NETBSD_ENOENT;
	case 11: return RUMPXEN_NETBSD_EAGAIN;
	case 12: return RUMPXEN_NETBSD_ENOMEM;
	case 16: return RUMPXEN_NETBSD_EBUSY;
	case 22: return RUMPXEN_NETBSD_EINVAL;
	case 38: return RUMPXEN_NETBSD_ENOSYS;
	case 110: return RUMPXEN_NETBSD_ETIMEDOUT;
	default: return RUMPXEN_NETBSD_EIO;
	}
}
