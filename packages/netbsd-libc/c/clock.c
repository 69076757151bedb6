/*
 * The program's clocks: CLOCK_REALTIME and CLOCK_MONOTONIC (clock_gettime, gettimeofday and
 * time, which calls gettimeofday) read the guest kernel's Xen clock, not the rump kernel's.
 *
 * Why: the rump kernel keeps time by counting hardclock ticks (10 ms at hz=100) from a clock
 * thread, and on the guest's cooperative scheduler that thread runs only when the program
 * blocks. A program that computes between two clock_gettime calls would see no time pass.
 * The guest kernel's clock is Xen's system time, read without leaving the guest.
 *
 * Consistency: the rump kernel set its wall clock at boot from the same source
 * (rumpuser_clock_gettime(RUMPUSER_CLOCK_RELWALL)), so file times and the program's clock
 * agree up to the kernel's tick. Sleeping (nanosleep, poll and the other timeouts) stays the
 * rump kernel's: its timeouts are measured on the Xen clock too (rumpuser_clock_sleep).
 * Setting the time (clock_settime, settimeofday) goes to the rump kernel, and the change is
 * applied here as an offset, so both keep agreeing. Other clocks (CPU time) are the kernel's.
 */
#include <stdint.h>

#include <mk/time.h>

#include "nblibc.h"

/* NetBSD's clock ids (sys/time.h) and types, as x86-64 lays them out. */
#define NB_CLOCK_REALTIME 0
#define NB_CLOCK_MONOTONIC 3
#define NSEC 1000000000LL

struct nb_timespec {
	int64_t tv_sec;
	long tv_nsec;
};

struct nb_timeval {
	int64_t tv_sec;
	int tv_usec;
};

extern int rump___sysimpl_clock_gettime50(int clock, struct nb_timespec *ts);
extern int rump___sysimpl_clock_getres50(int clock, struct nb_timespec *ts);
extern int rump___sysimpl_clock_settime50(int clock, const struct nb_timespec *ts);
extern int rump___sysimpl_settimeofday50(const struct nb_timeval *tv, const void *tz);

/* What clock_settime/settimeofday added to the wall clock, in ns. */
static int64_t wall_offset_ns;

static int64_t realtime_ns(void)
{
	return (int64_t)mk_time_wallclock_ns() + wall_offset_ns;
}

static void to_timespec(int64_t ns, struct nb_timespec *ts)
{
	ts->tv_sec = ns / NSEC;
	ts->tv_nsec = (long)(ns % NSEC);
	if (ts->tv_nsec < 0) {
		ts->tv_sec--;
		ts->tv_nsec += NSEC;
	}
}

int __clock_gettime50(int clock, struct nb_timespec *ts)
{
	switch (clock) {
	case NB_CLOCK_REALTIME:
		to_timespec(realtime_ns(), ts);
		return 0;
	case NB_CLOCK_MONOTONIC:
		to_timespec((int64_t)mk_time_monotonic_ns(), ts);
		return 0;
	default:
		return rump___sysimpl_clock_gettime50(clock, ts);
	}
}

int __clock_getres50(int clock, struct nb_timespec *ts)
{
	if (clock != NB_CLOCK_REALTIME && clock != NB_CLOCK_MONOTONIC)
		return rump___sysimpl_clock_getres50(clock, ts);
	/* Xen's system time counts nanoseconds. */
	if (ts != 0) {
		ts->tv_sec = 0;
		ts->tv_nsec = 1;
	}
	return 0;
}

int __gettimeofday50(struct nb_timeval *tv, void *tz)
{
	(void)tz; /* NetBSD ignores it too */
	if (tv != 0) {
		struct nb_timespec ts;
		to_timespec(realtime_ns(), &ts);
		tv->tv_sec = ts.tv_sec;
		tv->tv_usec = (int)(ts.tv_nsec / 1000);
	}
	return 0;
}

int __clock_settime50(int clock, const struct nb_timespec *ts)
{
	int64_t before = (int64_t)mk_time_wallclock_ns();
	int r = rump___sysimpl_clock_settime50(clock, ts);
	if (r == 0 && clock == NB_CLOCK_REALTIME)
		wall_offset_ns = ts->tv_sec * NSEC + ts->tv_nsec - before;
	return r;
}

int __settimeofday50(const struct nb_timeval *tv, const void *tz)
{
	int64_t before = (int64_t)mk_time_wallclock_ns();
	int r = rump___sysimpl_settimeofday50(tv, tz);
	if (r == 0 && tv != 0)
		wall_offset_ns = tv->tv_sec * NSEC + (int64_t)tv->tv_usec * 1000 - before;
	return r;
}

/* Referenced from start-up, so that this file joins every image (see nblibc.h). */
void nblibc_clock_link(void)
{
}
