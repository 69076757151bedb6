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
/*
 * Whether Xen emulates rdtsc for this domain (HVM/PVH on a host whose TSC Xen does not
 * trust, e.g. under QEMU TCG): then every clock read is an exit to Xen, as dear as a
 * hypercall, and the scheduler avoids reading the clock on every switch.
 */
bool mk_time_tsc_emulated(void);
/* Arms Xen's one-shot timer (VIRQ_TIMER) at deadline (monotonic ns), replacing any other. */
void mk_time_set_timer(uint64_t deadline_ns);
/*
 * False only when the clock surely reads less than deadline_ns without reading it: the TSC
 * is emulated and the one-shot timer, armed at or before deadline_ns, has not fired.
 * Always true when the TSC is not emulated (reading the clock is cheap then).
 */
bool mk_time_deadline_maybe_due(uint64_t deadline_ns);
/* Arms the one-shot timer at deadline_ns unless it is armed earlier and has not fired (emulated TSC only). */
void mk_time_arm_for(uint64_t deadline_ns);
/* Blocks the vcpu until an event is pending or deadline (monotonic ns) passes. */
void mk_time_block_until(uint64_t deadline_ns);

#endif
