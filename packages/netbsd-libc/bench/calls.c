/*
 * Bench program for a DomU with NetBSD's libc (and, built with -DHOST, for the host with its
 * own C library): TSC cycles per call of getpid() through libc against rump_sys_getpid() (the
 * rump kernel's entry, called directly), of malloc(64)+free, and of a fixed piece of integer
 * work ("spin": 16 xorshift steps), which tells how much slower the machine itself runs
 * (QEMU TCG against the host). One line per figure: "bench NAME CYCLES_PER_CALL", each the
 * best of ROUNDS rounds of N calls, the kinds' rounds interleaved. Cycles, not clock_gettime: the rump kernel's clocks do
 * not advance while one thread runs without blocking.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#ifndef HOST
#include <rump/rump_syscalls.h>
#endif

#define ROUNDS 7

static double now_cycles(void)
{
	unsigned lo, hi;
	__asm__ __volatile__("lfence; rdtsc" : "=a"(lo), "=d"(hi));
	return (double)(((unsigned long long)hi << 32) | lo);
}

static unsigned long long spin_state = 88172645463325252ULL;

static void spin(void)
{
	unsigned long long x = spin_state;
	for (int i = 0; i < 16; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
	}
	spin_state = x;
}

/* The pointers go through here so that gcc keeps each malloc/free pair. */
static void *volatile sink;

/* Cycles per call of one kind, one round of n calls. */
static double round_of(int which, long n)
{
	double t0 = now_cycles();
	for (long i = 0; i < n; i++) {
		switch (which) {
		case 0:
			sink = (void *)(long)getpid();
			break;
#ifndef HOST
		case 1:
			sink = (void *)(long)rump_sys_getpid();
			break;
#endif
		case 3:
			spin();
			break;
		default:
			sink = malloc(64);
			free(sink);
			break;
		}
	}
	return (now_cycles() - t0) / (double)n;
}

#define KINDS 4

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 200000;
	if (n <= 0) {
		fprintf(stderr, "usage: %s [CALLS]\n", argv[0]);
		return 2;
	}
	/* Rounds of each kind interleaved, the best kept: a slow spell of the machine (QEMU
	 * under load) then hits every kind alike instead of one. */
	double best[KINDS] = { 0 };
	for (int r = 0; r < ROUNDS; r++) {
		for (int k = 0; k < KINDS; k++) {
#ifdef HOST
			if (k == 1)
				continue;
#endif
			double c = round_of(k, n);
			if (r == 0 || c < best[k])
				best[k] = c;
		}
	}
	printf("bench getpid_libc %.2f\n", best[0]);
#ifndef HOST
	printf("bench getpid_rump %.2f\n", best[1]);
#endif
	printf("bench malloc_free_64 %.2f\n", best[2]);
	printf("bench spin %.2f\n", best[3]);
	return 0;
}
