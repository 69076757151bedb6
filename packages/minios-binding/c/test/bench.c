/*
 * Guest-side figures for the bench: cycles (rdtsc) per cooperative thread switch, per
 * uncontended rumpuser mutex enter+exit and per hypercall made by a thread, the TSC rate
 * against Xen system time, and the Xen system time at which main started (boot time as dom0
 * is this minus the time of Xen's "Building a ... Dom0" line).
 */
#include <mk/arch.h>
#include <mk/console.h>
#include <mk/hypercall.h>
#include <mk/sched.h>
#include <mk/time.h>
#include "rumpuser.h"

#define SWITCHES 20000
#define MUTEX_ROUNDS 200000
#define HYPERCALL_ROUNDS 2000
#define PART_ROUNDS 2000

static volatile int stop;

static void *yielder(void *arg)
{
	(void)arg;
	while (!stop)
		mk_thread_yield();
	return NULL;
}

int main(void)
{
	uint64_t main_ns = mk_time_monotonic_ns();
	mk_printk("bench: main at system time %lu ns\n", (unsigned long)main_ns);

	/* Two threads yielding to each other: every yield is one switch. */
	struct mk_thread *t = mk_thread_create("yielder", yielder, NULL, 0, true);
	mk_thread_yield();
	uint64_t sw0 = mk_sched_switches(), c0 = mk_rdtsc(), n0 = mk_time_monotonic_ns();
	for (int i = 0; i < SWITCHES / 2; i++)
		mk_thread_yield();
	uint64_t c1 = mk_rdtsc(), n1 = mk_time_monotonic_ns(), sw1 = mk_sched_switches();
	stop = 1;
	mk_thread_join(t);
	uint64_t switch_cycles = (c1 - c0) / (sw1 - sw0);

	struct rumpuser_mtx *m;
	rumpuser_mutex_init(&m, RUMPUSER_MTX_KMUTEX);
	uint64_t m0 = mk_rdtsc();
	for (int i = 0; i < MUTEX_ROUNDS; i++) {
		rumpuser_mutex_enter(m);
		rumpuser_mutex_exit(m);
	}
	uint64_t m1 = mk_rdtsc();
	rumpuser_mutex_destroy(m);
	uint64_t mutex_cycles = (m1 - m0) / MUTEX_ROUNDS;
	/* A hypercall from a thread (PV: threads run in user mode, so it goes through the kernel). */
	uint64_t h0 = mk_rdtsc();
	for (int i = 0; i < HYPERCALL_ROUNDS; i++)
		mk_hypercall(XEN_HC_xen_version, 0, 0, 0, 0, 0);
	uint64_t hypercall_cycles = (mk_rdtsc() - h0) / HYPERCALL_ROUNDS;
	uint64_t tsc_mhz = (c1 - c0) * 1000 / (n1 - n0 ? n1 - n0 : 1);

	/*
	 * What a switch is made of, one part at a time: reading the TSC (Xen emulates rdtsc for
	 * an HVM guest when the TSC is not invariant), reading the clock, and setting the thread
	 * pointer (the FS base) the way mk_context_switch's caller does.
	 */
	uint64_t p0 = mk_rdtsc();
	for (int i = 0; i < PART_ROUNDS; i++)
		(void)mk_rdtsc();
	uint64_t rdtsc_cycles = (mk_rdtsc() - p0) / PART_ROUNDS;
	p0 = mk_rdtsc();
	for (int i = 0; i < PART_ROUNDS; i++)
		(void)mk_time_monotonic_ns();
	uint64_t clock_cycles = (mk_rdtsc() - p0) / PART_ROUNDS;
	/* This thread's own: the pointer at %fs:0 (it points to itself) and the %fs selector. */
	unsigned long tp, token = 0;
	__asm__ __volatile__("mov %%fs:0, %0" : "=r"(tp));
	__asm__ __volatile__("movw %%fs, %w0" : "+r"(token));
	p0 = mk_rdtsc();
	for (int i = 0; i < PART_ROUNDS; i++)
		mk_arch_set_tls(tp, token);
	uint64_t set_tls_cycles = (mk_rdtsc() - p0) / PART_ROUNDS;

	mk_printk("bench: thread_switch_cycles %lu\n", (unsigned long)switch_cycles);
	mk_printk("bench: rdtsc_cycles %lu\n", (unsigned long)rdtsc_cycles);
	mk_printk("bench: clock_read_cycles %lu\n", (unsigned long)clock_cycles);
	mk_printk("bench: set_tls_cycles %lu\n", (unsigned long)set_tls_cycles);
	mk_printk("bench: mutex_enter_exit_cycles %lu\n", (unsigned long)mutex_cycles);
	mk_printk("bench: hypercall_cycles %lu\n", (unsigned long)hypercall_cycles);
	mk_printk("bench: tsc_mhz %lu\n", (unsigned long)tsc_mhz);
	return 0;
}
