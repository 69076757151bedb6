/*
 * Host-side checks of the posix target's host-facing semantics that the freestanding suite
 * cannot observe (environment, signals, process exit, host errno numbers).
 * Usage: posix_probe getparam NAME | exit N | panic | kill NETBSD_SIG | seterrno N |
 *        errtrans LINUX_ERRNO | smallcache | pagecache | cvdefer
 * Prints one result line; test/posix-host.test.ts holds the expectations.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <time.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rumpuser.h"
#include "null_kernel.h"

static volatile sig_atomic_t caught;

#define DEPTH_PROBE 40

/*
 * rumpuser_malloc/free's per-thread small-block lists: a block holds its whole size class
 * (a 40-byte request can hold 48), a freed block is what the next request of its class gets,
 * a list keeps a bounded number of blocks, a size-0 free goes to glibc, and blocks freed on a
 * thread that exits are given back (glibc's free runs on them: a block it did not own would
 * abort the process).
 */
static void *small_thread(void *arg)
{
	(void)arg;
	void *p[8];
	for (int i = 0; i < 8; i++)
		if (rumpuser_malloc(128, 0, &p[i]) != 0)
			return (void *)1;
	for (int i = 0; i < 8; i++)
		rumpuser_free(p[i], 128);
	return NULL;
}

/*
 * Counts the calls to glibc's free: this program's free() takes the place of libc's for
 * librumpuser too (the dynamic linker binds its free to the program's), then hands on.
 */
extern void __libc_free(void *);
static int frees;

void free(void *p)
{
	__atomic_add_fetch(&frees, 1, __ATOMIC_RELAXED);
	__libc_free(p);
}

static int frees_since(int *mark)
{
	int now = __atomic_load_n(&frees, __ATOMIC_RELAXED), n = now - *mark;
	*mark = now;
	return n;
}

static void smallcache(void)
{
	void *p, *q, *blocks[DEPTH_PROBE];
	int mark = 0;
	if (rumpuser_malloc(40, 0, &p) != 0)
		abort();
	size_t usable = malloc_usable_size(p);
	memset(p, 0xab, 48);
	rumpuser_free(p, 40);
	if (rumpuser_malloc(33, 0, &q) != 0)
		abort();
	int reused = q == p;
	rumpuser_free(q, 33);
	for (int i = 0; i < DEPTH_PROBE; i++)
		if (rumpuser_malloc(64, 0, &blocks[i]) != 0)
			abort();
	frees_since(&mark);
	for (int i = 0; i < DEPTH_PROBE; i++)
		rumpuser_free(blocks[i], 64);
	int to_glibc = frees_since(&mark);
	/* Take the listed ones back, then free with size 0 (NetBSD's free(9)): all to glibc. */
	for (int i = 0; i < DEPTH_PROBE; i++)
		if (rumpuser_malloc(64, 0, &blocks[i]) != 0)
			abort();
	frees_since(&mark);
	for (int i = 0; i < DEPTH_PROBE; i++)
		rumpuser_free(blocks[i], 0);
	int to_glibc_size0 = frees_since(&mark);
	pthread_t t;
	void *trv = (void *)1;
	if (pthread_create(&t, NULL, small_thread, NULL) == 0)
		pthread_join(t, &trv);
	int thread_frees = frees_since(&mark);
	printf("usable %zu reused %d to-glibc %d of %d size0 %d thread %s %d\n", usable, reused,
	    to_glibc, DEPTH_PROBE, to_glibc_size0, trv == NULL ? "ok" : "failed", thread_frees);
}

/*
 * The page class: (256, 4096] bytes, kept page-aligned at 4096 so the kernel's page requests
 * (a page at page alignment) and any smaller request of the class share the blocks.
 */
#define PAGE_PROBE 20

static void pagecache(void)
{
	void *p, *q, *blocks[PAGE_PROBE];
	int mark = 0;
	if (rumpuser_malloc(3000, 0, &p) != 0)
		abort();
	int aligned = ((unsigned long)p & 4095) == 0;
	size_t usable = malloc_usable_size(p);
	memset(p, 0xcd, 4096);
	rumpuser_free(p, 3000);
	if (rumpuser_malloc(4096, 4096, &q) != 0)
		abort();
	int reused = q == p;
	rumpuser_free(q, 4096);
	for (int i = 0; i < PAGE_PROBE; i++)
		if (rumpuser_malloc(4096, 4096, &blocks[i]) != 0)
			abort();
	int all_aligned = 1;
	for (int i = 0; i < PAGE_PROBE; i++)
		all_aligned &= ((unsigned long)blocks[i] & 4095) == 0;
	frees_since(&mark);
	for (int i = 0; i < PAGE_PROBE; i++)
		rumpuser_free(blocks[i], 4096);
	int to_glibc = frees_since(&mark);
	printf("aligned %d usable %zu reused %d all-aligned %d to-glibc %d of %d\n", aligned, usable,
	    reused, all_aligned, to_glibc, PAGE_PROBE);
}

/*
 * A wake signalled while the waiters' mutex is held is delivered at that mutex's unlock, so
 * the woken thread does not run only to find the mutex taken and sleep again. Two threads on
 * one CPU ping-pong ROUNDS times over one cv and mutex; the ponging thread's voluntary
 * context switches per round are counted (getrusage RUSAGE_THREAD): one (its cv sleep) when
 * wakes wait for the unlock, up to two when the woken thread also sleeps on the mutex.
 * Then cv waiters with two different mutexes (a cv whose wakes are never deferred), signalled
 * by a thread holding one of them: each waiter must wake.
 */
#define ROUNDS 4000

struct pp {
	struct rumpuser_mtx *m, *m2;
	struct rumpuser_cv *c;
	int turn;
	long nvcsw;
};

static void *pong(void *arg)
{
	struct pp *pp = arg;
	struct rusage ru0, ru1;
	getrusage(RUSAGE_THREAD, &ru0);
	rumpuser_mutex_enter(pp->m);
	for (int i = 0; i < ROUNDS; i++) {
		while (pp->turn != 1)
			rumpuser_cv_wait(pp->c, pp->m);
		pp->turn = 0;
		rumpuser_cv_signal(pp->c);
	}
	rumpuser_mutex_exit(pp->m);
	getrusage(RUSAGE_THREAD, &ru1);
	pp->nvcsw = ru1.ru_nvcsw - ru0.ru_nvcsw;
	return NULL;
}

struct mixed_arg {
	struct pp *pp;
	struct rumpuser_mtx *m;
	int done;
};

static void *mixed_wait(void *arg)
{
	struct mixed_arg *a = arg;
	rumpuser_mutex_enter(a->m);
	while (a->pp->turn != 2)
		rumpuser_cv_wait(a->pp->c, a->m);
	a->done = 1;
	rumpuser_mutex_exit(a->m);
	return NULL;
}

static void cvdefer(void)
{
	struct pp pp = { 0 };
	pthread_t t;
	cpu_set_t one;
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu() < 0 ? 0 : sched_getcpu(), &one);
	sched_setaffinity(0, sizeof(one), &one);
	rumpuser_mutex_init(&pp.m, RUMPUSER_MTX_KMUTEX);
	rumpuser_mutex_init(&pp.m2, RUMPUSER_MTX_KMUTEX);
	rumpuser_cv_init(&pp.c);
	pthread_create(&t, NULL, pong, &pp);
	rumpuser_mutex_enter(pp.m);
	for (int i = 0; i < ROUNDS; i++) {
		while (pp.turn != 0)
			rumpuser_cv_wait(pp.c, pp.m);
		pp.turn = 1;
		rumpuser_cv_signal(pp.c);
	}
	while (pp.turn != 0)
		rumpuser_cv_wait(pp.c, pp.m);
	rumpuser_mutex_exit(pp.m);
	pthread_join(t, NULL);
	printf("pong sleeps per round %.2f\n", (double)pp.nvcsw / ROUNDS);

	/* The same cv now gets waiters with two different mutexes. */
	struct mixed_arg a[4];
	pthread_t w[4];
	for (int i = 0; i < 4; i++) {
		a[i] = (struct mixed_arg){ &pp, i & 1 ? pp.m2 : pp.m, 0 };
		pthread_create(&w[i], NULL, mixed_wait, &a[i]);
	}
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	nanosleep(&pause, NULL);
	/* Signal once per waiter, holding pp.m: every waiter must come out. */
	rumpuser_mutex_enter(pp.m);
	rumpuser_mutex_enter(pp.m2);
	pp.turn = 2;
	rumpuser_mutex_exit(pp.m2);
	for (int i = 0; i < 4; i++)
		rumpuser_cv_signal(pp.c);
	rumpuser_mutex_exit(pp.m);
	int done = 0;
	for (int i = 0; i < 4; i++) {
		pthread_join(w[i], NULL);
		done += a[i].done;
	}
	printf("mixed waiters woken %d of 4\n", done);
}

static void on_signal(int sig)
{
	caught = sig;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";
	const char *arg = argc > 2 ? argv[2] : "";

	if (rumpuser_init(RUMPUSER_VERSION, &null_kernel_hyperup) != 0)
		return 2;
	if (strcmp(cmd, "getparam") == 0) {
		char buf[512];
		int rv = rumpuser_getparam(arg, buf, sizeof(buf));
		printf("rv %d value %s\n", rv, rv == 0 ? buf : "-");
	} else if (strcmp(cmd, "exit") == 0) {
		rumpuser_exit(atoi(arg));
	} else if (strcmp(cmd, "panic") == 0) {
		signal(SIGABRT, SIG_DFL);
		rumpuser_exit(RUMPUSER_PANIC);
	} else if (strcmp(cmd, "kill") == 0) {
		int rv;
		for (int s = 1; s < NSIG; s++)
			signal(s, on_signal);
		rv = rumpuser_kill(RUMPUSER_PID_SELF, atoi(arg));
		printf("rv %d host-signal %d\n", rv, (int)caught);
	} else if (strcmp(cmd, "seterrno") == 0) {
		errno = 0;
		rumpuser_seterrno(atoi(arg));
		printf("errno %d\n", errno);
	} else if (strcmp(cmd, "errtrans") == 0) {
		printf("netbsd %d\n", rumpuser_component_errtrans(atoi(arg)));
	} else if (strcmp(cmd, "smallcache") == 0) {
		smallcache();
	} else if (strcmp(cmd, "pagecache") == 0) {
		pagecache();
	} else if (strcmp(cmd, "cvdefer") == 0) {
		cvdefer();
	} else {
		fprintf(stderr, "posix_probe: unknown command \"%s\"; see the usage in posix_probe.c\n",
		    cmd);
		return 2;
	}
	return 0;
}
