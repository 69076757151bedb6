/*
 * Time from Xen's per-vcpu time info (system time + scaled TSC delta, read under the
 * version lock) and the shared wallclock.
 */
#ifndef MK_TIME_H
#define MK_TIME_H
#include <mk/types.h>

/* Nanoseconds since the domain started (Xen system time). */
uint64_t mk_time_monotonic_ns(void);
/* Nanoseconds since the Unix epoch. */
uint64_t mk_time_wallclock_ns(void);
/* Binds VIRQ_TIMER so timer expiries wake the idle loop. */
void mk_time_init(void);
/* Blocks the vcpu until an event is pending or deadline (monotonic ns) passes. */
void mk_time_block_until(uint64_t deadline_ns);

#endif
