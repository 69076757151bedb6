/*
 * Crash report: argv[1] picks the fault. "null" reads a bad pointer two calls deep;
 * "panic" calls rumpuser_exit(RUMPUSER_PANIC); "overflow" recurses until the stack guard
 * page; "ud2" executes an invalid opcode.
 */
#include <mk/console.h>
#include <mk/lib.h>
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
	if (!mk_strcmp(what, "ud2"))
		__asm__ __volatile__("ud2");
	return 0;
}
