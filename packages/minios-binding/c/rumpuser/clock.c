/* Wall and monotonic clocks from Xen time, and sleeping on them. */
#include "xen_int.h"
#include <mk/sched.h>
#include <mk/time.h>

#define NSEC 1000000000LL

int rumpuser_clock_gettime(int clk, int64_t *sec, long *nsec)
{
	uint64_t ns;
	switch (clk) {
	case RUMPUSER_CLOCK_RELWALL:
		ns = mk_time_wallclock_ns();
		break;
	case RUMPUSER_CLOCK_ABSMONO:
		ns = mk_time_monotonic_ns();
		break;
	default:
		return RUMPXEN_NETBSD_EINVAL;
	}
	*sec = (int64_t)(ns / NSEC);
	*nsec = (long)(ns % NSEC);
	/* Polling the clock is how a thread waits for another's progress: let others run. */
	mk_thread_preempt_point();
	return 0;
}

/*
 * RELWALL: sleep at least the given duration. ABSMONO: until the monotonic clock reads it.
 * The rump kernel's clock thread sleeps here every tick, which also runs the out-of-memory
 * watch (rx_oom_watch).
 */
int rumpuser_clock_sleep(int clk, int64_t sec, long nsec)
{
	uint64_t deadline;
	rx_oom_watch();
	if (sec < 0 || nsec < 0 || nsec >= NSEC)
		return RUMPXEN_NETBSD_EINVAL;
	switch (clk) {
	case RUMPUSER_CLOCK_RELWALL:
		deadline = mk_time_monotonic_ns() + (uint64_t)sec * NSEC + (uint64_t)nsec;
		break;
	case RUMPUSER_CLOCK_ABSMONO:
		deadline = (uint64_t)sec * NSEC + (uint64_t)nsec;
		break;
	default:
		return RUMPXEN_NETBSD_EINVAL;
	}
	int nlocks = rx_cpu_release(NULL);
	if (deadline > mk_time_monotonic_ns())
		mk_thread_sleep_until(deadline);
	else
		mk_thread_yield();
	rx_cpu_retake(nlocks, NULL);
	return 0;
}
