/* Guest kernel threads for the rump kernel, and the per-thread curlwp. */
#include "xen_int.h"
#include <mk/sched.h>

int rumpuser_thread_create(void *(*fun)(void *), void *arg, const char *thrname,
    int mustjoin, int priority, int cpuidx, void **cookie)
{
	(void)priority;
	(void)cpuidx;
	struct mk_thread *t = mk_thread_create(thrname ? thrname : "rumpthread", fun, arg,
		RX_THREAD_STACK, mustjoin != 0);
	if (!t) {
		rx_alloc_failed("rumpuser_thread_create (stack, TLS, record)",
			mk_thread_cost(RX_THREAD_STACK));
		return RUMPXEN_NETBSD_ENOMEM;
	}
	rx_alloc_succeeded(mk_thread_cost(RX_THREAD_STACK));
	rx_oom_thread_created(t, thrname);
	if (mustjoin)
		*cookie = t;
	return 0;
}

void rumpuser_thread_exit(void)
{
	mk_thread_exit(NULL);
}

int rumpuser_thread_join(void *cookie)
{
	int nlocks = rx_cpu_release(NULL);
	mk_thread_join(cookie);
	rx_cpu_retake(nlocks, NULL);
	return 0;
}

struct lwp *rx_curlwp(void)
{
	struct mk_thread *t = mk_thread_self();
	return t ? *(struct lwp **)mk_thread_cookie(t) : NULL;
}

/* CREATE and DESTROY only announce an lwp's life; a thread carries one from SET to CLEAR. */
void rumpuser_curlwpop(int op, struct lwp *l)
{
	struct mk_thread *t = mk_thread_self();
	switch (op) {
	case RUMPUSER_LWP_CREATE:
	case RUMPUSER_LWP_DESTROY:
		break;
	case RUMPUSER_LWP_SET:
		*mk_thread_cookie(t) = l;
		break;
	case RUMPUSER_LWP_CLEAR:
		*mk_thread_cookie(t) = NULL;
		break;
	}
}

struct lwp *rumpuser_curlwp(void)
{
	return rx_curlwp();
}
