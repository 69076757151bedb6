/*
 * Crash report: argv[1] picks the fault. "null" reads a bad pointer two calls deep;
 * "panic" calls rumpuser_exit(RUMPUSER_PANIC); "overflow" recurses until the stack guard
 * page; "overflow_big" does the same with 20 KB frames, each of which would step over a
 * 4 KiB guard page unless the compiler probes it page by page; "ud2" executes an invalid opcode; "syscall" makes a Linux-style exit system call
 * (there is no OS kernel for it: a crash report); "failsafe" (xen-pv) leaves a selector in
 * %es whose LDT descriptor is then removed, so Xen cannot reload %es when the vcpu next runs
 * and calls the failsafe callback.
 */
#include <mk/arch.h>
#include <mk/console.h>
#include <mk/lib.h>
#include <mk/sched.h>
#include <mk/time.h>
#include "rumpuser.h"

__attribute__((noinline)) int crash_read_bad_pointer(volatile int *p)
{
	return *p + 1;
}

__attribute__((noinline)) int crash_middle(int depth)
{
	return crash_read_bad_pointer((volatile int *)0xdead000UL) + depth;
}

static volatile int recurse_limit = 1 << 30;

__attribute__((noinline)) int crash_recurse(int n)
{
	volatile char pad[512];
	pad[0] = (char)n;
	if (n >= recurse_limit)
		return 0;
	return crash_recurse(n + 1) + pad[0];
}

__attribute__((noinline)) int crash_recurse_big(int n)
{
	volatile char big[20000];
	big[0] = (char)n;
	if (n >= recurse_limit)
		return 0;
	return crash_recurse_big(n + 1) + big[0];
}

__attribute__((noinline)) int crash_stale_segment(void)
{
	static char area[64];
	unsigned long sel = mk_arch_tls_attach((unsigned long)area);
	if (!sel) {
		mk_printk("crash: no LDT selector to use (xen-pv only)\n");
		return 2;
	}
	__asm__ __volatile__("movw %w0, %%es" :: "r"(sel));
	mk_arch_tls_detach(sel);
	mk_printk("crash: %%es holds selector %#lx, its descriptor is gone\n", sel);
	/*
	 * Xen reloads segment registers when the vcpu is switched back in after another vcpu
	 * ran (not after its own idle loop): as a DomU, each console line wakes dom0's
	 * xenconsoled while this vcpu sleeps.
	 */
	for (int i = 0; i < 100; i++) {
		mk_printk("crash: sleep %d\n", i);
		mk_thread_sleep_until(mk_time_monotonic_ns() + 50000000ULL);
	}
	mk_printk("crash: no failsafe callback after 5 s\n");
	return 3;
}

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "null";
	mk_printk("crash: provoking %s\n", what);
	if (!mk_strcmp(what, "null"))
		return crash_middle(1);
	if (!mk_strcmp(what, "panic"))
		rumpuser_exit(RUMPUSER_PANIC);
	if (!mk_strcmp(what, "overflow"))
		return crash_recurse(0);
	if (!mk_strcmp(what, "overflow_big"))
		return crash_recurse_big(0);
	if (!mk_strcmp(what, "failsafe"))
		return crash_stale_segment();
	if (!mk_strcmp(what, "syscall"))
		__asm__ __volatile__("syscall" : : "a"(60UL), "D"(0UL) : "rcx", "r11", "memory");
	if (!mk_strcmp(what, "ud2"))
		__asm__ __volatile__("ud2");
	return 0;
}
