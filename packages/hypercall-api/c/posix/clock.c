/* Wall and monotonic clocks, and sleeping on them. */
#include <errno.h>
#include <time.h>

#include "posix_int.h"

int rumpuser_clock_gettime(int enum_rumpclock, int64_t *sec, long *nsec)
{
	struct timespec ts;
	clockid_t clk;

	switch (enum_rumpclock) {
	case RUMPUSER_CLOCK_RELWALL:
		clk = CLOCK_REALTIME;
		break;
	case RUMPUSER_CLOCK_ABSMONO:
		clk = CLOCK_MONOTONIC;
		break;
	default:
		return posix_errtrans(EINVAL);
	}
	if (clock_gettime(clk, &ts) != 0)
		return posix_errtrans(errno);
	*sec = ts.tv_sec;
	*nsec = ts.tv_nsec;
	return 0;
}

/* RELWALL: sleep at least the given duration. ABSMONO: until the monotonic clock reads it. */
int rumpuser_clock_sleep(int enum_rumpclock, int64_t sec, long nsec)
{
	struct timespec ts;
	int flags, rv, nlocks;

	if (sec < 0 || nsec < 0 || nsec >= 1000000000)
		return posix_errtrans(EINVAL);
	switch (enum_rumpclock) {
	case RUMPUSER_CLOCK_RELWALL:
		flags = 0;
		break;
	case RUMPUSER_CLOCK_ABSMONO:
		flags = TIMER_ABSTIME;
		break;
	default:
		return posix_errtrans(EINVAL);
	}
	ts.tv_sec = sec;
	ts.tv_nsec = nsec;
	nlocks = posix_cpu_release(NULL);
	/* A relative sleep interrupted by a signal resumes with the time that was left. */
	do
		rv = clock_nanosleep(CLOCK_MONOTONIC, flags, &ts, flags ? NULL : &ts);
	while (rv == EINTR);
	posix_cpu_retake(nlocks, NULL);
	return posix_errtrans(rv);
}
