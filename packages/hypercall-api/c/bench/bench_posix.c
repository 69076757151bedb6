/*
 * Benchmark of the posix target against the host primitives it wraps, in the same run:
 * uncontended mutex enter/exit, cv ping-pong between two threads, malloc/free of 64 B and
 * 4 KiB. Each pair is measured `rounds` times, interleaved, and the best time of each side
 * is kept (the least disturbed by other load). Output, one line per pair:
 *   bench NAME RAW_NS_PER_OP RUMPUSER_NS_PER_OP RATIO
 * Usage: bench-posix [--quick]
 * Both sides run with the process multi-threaded, as a rump kernel always is. The ping-pong
 * runs both of its threads on one CPU: across two CPUs a round trip is mostly the VM waking an
 * idle vcpu (about 30 us on a quiet machine, 3 us on a busy one), which hides the layer.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rumpuser.h"
#include "../posix-tests/null_kernel.h"

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* Keeps the compiler from dropping allocations whose results are unused. */
static void *volatile sink;

static double raw_mutex(long n)
{
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	double t0 = now_ns();
	for (long i = 0; i < n; i++) {
		pthread_mutex_lock(&m);
		pthread_mutex_unlock(&m);
	}
	return now_ns() - t0;
}

static double rump_mutex(long n)
{
	struct rumpuser_mtx *m;
	rumpuser_mutex_init(&m, RUMPUSER_MTX_KMUTEX);
	double t0 = now_ns();
	for (long i = 0; i < n; i++) {
		rumpuser_mutex_enter(m);
		rumpuser_mutex_exit(m);
	}
	double dt = now_ns() - t0;
	rumpuser_mutex_destroy(m);
	return dt;
}

static double raw_malloc(long n, size_t size)
{
	double t0 = now_ns();
	for (long i = 0; i < n; i++) {
		void *p = malloc(size);
		sink = p;
		free(p);
	}
	return now_ns() - t0;
}

static double rump_malloc(long n, size_t size)
{
	double t0 = now_ns();
	for (long i = 0; i < n; i++) {
		void *p;
		if (rumpuser_malloc(size, 0, &p) != 0)
			abort();
		sink = p;
		rumpuser_free(p, size);
	}
	return now_ns() - t0;
}

/*
 * The calling thread (and so the ping-pong's second thread, created after) on the CPU it is
 * on; `saved` takes the old mask for unpin_cpu.
 */
static void pin_cpu(cpu_set_t *saved)
{
	cpu_set_t one;
	int cpu = sched_getcpu();
	sched_getaffinity(0, sizeof(*saved), saved);
	CPU_ZERO(&one);
	CPU_SET(cpu < 0 ? 0 : cpu, &one);
	sched_setaffinity(0, sizeof(one), &one);
}

static void unpin_cpu(const cpu_set_t *saved)
{
	sched_setaffinity(0, sizeof(*saved), saved);
}

/* Ping-pong: two threads take turns; one op is one round trip (two wakeups). */
struct raw_pp {
	pthread_mutex_t m;
	pthread_cond_t c;
	int turn;
	long n;
};

static void *raw_pong(void *arg)
{
	struct raw_pp *pp = arg;
	pthread_mutex_lock(&pp->m);
	for (long i = 0; i < pp->n; i++) {
		while (pp->turn != 1)
			pthread_cond_wait(&pp->c, &pp->m);
		pp->turn = 0;
		pthread_cond_signal(&pp->c);
	}
	pthread_mutex_unlock(&pp->m);
	return NULL;
}

static double raw_pingpong(long n)
{
	struct raw_pp pp = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, n };
	pthread_t t;
	cpu_set_t saved;
	pin_cpu(&saved);
	pthread_create(&t, NULL, raw_pong, &pp);
	double t0 = now_ns();
	pthread_mutex_lock(&pp.m);
	for (long i = 0; i < n; i++) {
		while (pp.turn != 0)
			pthread_cond_wait(&pp.c, &pp.m);
		pp.turn = 1;
		pthread_cond_signal(&pp.c);
	}
	while (pp.turn != 0)
		pthread_cond_wait(&pp.c, &pp.m);
	pthread_mutex_unlock(&pp.m);
	double dt = now_ns() - t0;
	pthread_join(t, NULL);
	unpin_cpu(&saved);
	return dt;
}

struct rump_pp {
	struct rumpuser_mtx *m;
	struct rumpuser_cv *c;
	int turn;
	long n;
};

static void *rump_pong(void *arg)
{
	struct rump_pp *pp = arg;
	rumpuser_mutex_enter(pp->m);
	for (long i = 0; i < pp->n; i++) {
		while (pp->turn != 1)
			rumpuser_cv_wait(pp->c, pp->m);
		pp->turn = 0;
		rumpuser_cv_signal(pp->c);
	}
	rumpuser_mutex_exit(pp->m);
	return NULL;
}

static double rump_pingpong(long n)
{
	struct rump_pp pp = { NULL, NULL, 0, n };
	void *cookie;
	cpu_set_t saved;
	pin_cpu(&saved);
	rumpuser_mutex_init(&pp.m, RUMPUSER_MTX_KMUTEX);
	rumpuser_cv_init(&pp.c);
	if (rumpuser_thread_create(rump_pong, &pp, "bench_pong", 1, 0, -1, &cookie) != 0)
		abort();
	double t0 = now_ns();
	rumpuser_mutex_enter(pp.m);
	for (long i = 0; i < n; i++) {
		while (pp.turn != 0)
			rumpuser_cv_wait(pp.c, pp.m);
		pp.turn = 1;
		rumpuser_cv_signal(pp.c);
	}
	while (pp.turn != 0)
		rumpuser_cv_wait(pp.c, pp.m);
	rumpuser_mutex_exit(pp.m);
	double dt = now_ns() - t0;
	rumpuser_thread_join(cookie);
	rumpuser_cv_destroy(pp.c);
	rumpuser_mutex_destroy(pp.m);
	unpin_cpu(&saved);
	return dt;
}

static void *idle_thread(void *arg)
{
	return arg;
}

static double min2(double a, double b)
{
	return a < b ? a : b;
}

int main(int argc, char **argv)
{
	int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
	int rounds = quick ? 3 : 7;
	long n_lock = quick ? 2000000 : 10000000;
	long n_malloc = quick ? 2000000 : 10000000;
	long n_pp = quick ? 5000 : 30000;
	double best[5][2];

	if (argc > 1 && !quick) {
		fprintf(stderr, "bench-posix: unknown argument \"%s\"; usage: bench-posix [--quick]\n",
		    argv[1]);
		return 2;
	}
	if (rumpuser_init(RUMPUSER_VERSION, &null_kernel_hyperup) != 0)
		return 1;
	/*
	 * glibc drops the atomic instructions from its locks while a process has a single
	 * thread. A rump kernel never runs single-threaded, so neither does the baseline.
	 */
	{
		pthread_t t;
		pthread_create(&t, NULL, idle_thread, NULL);
		pthread_join(t, NULL);
	}
	for (int k = 0; k < 5; k++)
		best[k][0] = best[k][1] = 1e300;
	for (int r = 0; r < rounds; r++) {
		fprintf(stderr, "bench-posix: round %d/%d\n", r + 1, rounds);
		best[0][0] = min2(best[0][0], raw_mutex(n_lock));
		best[0][1] = min2(best[0][1], rump_mutex(n_lock));
		best[1][0] = min2(best[1][0], raw_pingpong(n_pp));
		best[1][1] = min2(best[1][1], rump_pingpong(n_pp));
		best[2][0] = min2(best[2][0], raw_malloc(n_malloc, 64));
		best[2][1] = min2(best[2][1], rump_malloc(n_malloc, 64));
		best[3][0] = min2(best[3][0], raw_malloc(n_malloc, 4096));
		best[3][1] = min2(best[3][1], rump_malloc(n_malloc, 4096));
	}
	static const char *const names[] = { "mutex_enter_exit", "cv_pingpong_roundtrip",
		"malloc_free_64", "malloc_free_4096" };
	const long ops[] = { n_lock, n_pp, n_malloc, n_malloc };
	for (int k = 0; k < 4; k++) {
		double raw = best[k][0] / ops[k], rump = best[k][1] / ops[k];
		printf("bench %s %.2f %.2f %.3f\n", names[k], raw, rump, rump / raw);
	}
	return 0;
}
