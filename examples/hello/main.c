/*
 * hello: what a rumpxen image sees where it runs — its domain, memory, the wall clock — and
 * three threads that sleep for different times and must wake shortest-first.
 * Uses only the rumpuser interface (so it builds for posix, xen-pv and xen-pvh alike) plus the
 * guest kernel's page counts where the guest kernel exposes them (weak: absent on posix).
 */
#include <rumpuser.h>

extern size_t mk_mm_total_pages(void) __attribute__((weak));
extern size_t mk_mm_free_pages(void) __attribute__((weak));

#define NTHREADS 3

struct sleeper {
	int id;
	long sleep_ms;
};

static struct rumpuser_mtx *order_lock;
static int wake_order[NTHREADS];
static int woken;

/* Nothing to hand over: this program is not a rump kernel and holds no rump CPU. */
static void no_unschedule(int nlocks, int *countp, void *interlock)
{
	(void)nlocks;
	(void)interlock;
	*countp = 0;
}

static void no_schedule(int nlocks, void *interlock)
{
	(void)nlocks;
	(void)interlock;
}

static const struct rumpuser_hyperup hyp = {
	.hyp_backend_unschedule = no_unschedule,
	.hyp_backend_schedule = no_schedule,
};

static void *sleeper_main(void *arg)
{
	const struct sleeper *s = arg;
	rumpuser_clock_sleep(RUMPUSER_CLOCK_RELWALL, 0, s->sleep_ms * 1000000L);
	rumpuser_mutex_enter_nowrap(order_lock);
	wake_order[woken++] = s->id;
	rumpuser_mutex_exit(order_lock);
	rumpuser_dprintf("hello: thread %d woke after %ld ms\n", s->id, s->sleep_ms);
	return 0;
}

static int starts_with(const char *s, const char *prefix)
{
	while (*prefix)
		if (*s++ != *prefix++)
			return 0;
	return 1;
}

int main(int argc, char **argv)
{
	char host[64];
	int64_t sec;
	long nsec;
	int failures = 0;

	if (rumpuser_init(RUMPUSER_VERSION, &hyp) != 0) {
		rumpuser_dprintf("case init: FAIL rumpuser_init refused version %d\n", RUMPUSER_VERSION);
		rumpuser_dprintf("Test result: FAILURE\n");
		return 1;
	}
	rumpuser_dprintf("hello from a rumpxen image\n");
	for (int i = 0; i < argc; i++)
		rumpuser_dprintf("hello: argv[%d] = %s\n", i, argv[i]);

	if (rumpuser_getparam(RUMPUSER_PARAM_HOSTNAME, host, sizeof(host)) == 0) {
		/* The xen guest kernel names the host rump-dom<domid>. */
		if (starts_with(host, "rump-dom"))
			rumpuser_dprintf("hello: domain id %s (host name %s)\n", host + 8, host);
		else
			rumpuser_dprintf("hello: not a Xen domain (host name %s)\n", host);
	}

	if (mk_mm_total_pages)
		rumpuser_dprintf("hello: memory %lu KiB, %lu KiB free\n",
		    (unsigned long)mk_mm_total_pages() * 4, (unsigned long)mk_mm_free_pages() * 4);
	else
		rumpuser_dprintf("hello: memory is the host process's (no guest kernel page counts)\n");

	if (rumpuser_clock_gettime(RUMPUSER_CLOCK_RELWALL, &sec, &nsec) == 0 && sec > 1600000000) {
		rumpuser_dprintf("hello: wall clock %lld.%09ld s since 1970\n", (long long)sec, nsec);
		rumpuser_dprintf("case wallclock: PASS\n");
	} else {
		rumpuser_dprintf("case wallclock: FAIL clock says %lld s since 1970\n", (long long)sec);
		failures++;
	}

	/* Started longest sleeper first, so waking in order is not an accident of start order. */
	static struct sleeper sleepers[NTHREADS] = { { 3, 300 }, { 2, 200 }, { 1, 100 } };
	void *cookies[NTHREADS];
	rumpuser_mutex_init(&order_lock, RUMPUSER_MTX_SPIN);
	for (int i = 0; i < NTHREADS; i++) {
		if (rumpuser_thread_create(sleeper_main, &sleepers[i], "sleeper", 1, 0, -1, &cookies[i]) != 0) {
			rumpuser_dprintf("case threads: FAIL could not create thread %d\n", sleepers[i].id);
			rumpuser_dprintf("Test result: FAILURE\n");
			return 1;
		}
	}
	for (int i = 0; i < NTHREADS; i++)
		rumpuser_thread_join(cookies[i]);
	int in_order = woken == NTHREADS;
	for (int i = 0; i < woken; i++)
		in_order = in_order && wake_order[i] == i + 1;
	if (in_order) {
		rumpuser_dprintf("case threads_wake_in_order: PASS\n");
	} else {
		rumpuser_dprintf("case threads_wake_in_order: FAIL woke %d threads, order %d %d %d\n",
		    woken, wake_order[0], wake_order[1], wake_order[2]);
		failures++;
	}
	rumpuser_dprintf("Test result: %s\n", failures ? "FAILURE" : "SUCCESS");
	return failures ? 1 : 0;
}
