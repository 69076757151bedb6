/*
 * Host-side checks of the posix target's host-facing semantics that the freestanding suite
 * cannot observe (environment, signals, process exit, host errno numbers).
 * Usage: posix_probe getparam NAME | exit N | panic | kill NETBSD_SIG | seterrno N |
 *        errtrans LINUX_ERRNO | smallcache
 * Prints one result line; test/posix-host.test.ts holds the expectations.
 */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
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
	} else {
		fprintf(stderr, "posix_probe: unknown command \"%s\"; see the usage in posix_probe.c\n",
		    cmd);
		return 2;
	}
	return 0;
}
