/*
 * Guest kernel self-test: pages, heap, threads (create, join, sleep, wake), per-thread TLS,
 * time, event channels (loopback with mask/unmask) and rumpuser_malloc running out of
 * memory. One `case NAME: PASS|FAIL reason` line per case, then XTF's result line.
 */
#include <mk/arch.h>
#include <mk/console.h>
#include <mk/evtchn.h>
#include <mk/gnttab.h>
#include <mk/xenbus.h>
#include <mk/lib.h>
#include <mk/mm.h>
#include <mk/sched.h>
#include <mk/time.h>
#include "rumpuser.h"
#include "rumpxen/netbsd_errno.h"

#include "case.h"

static bool case_pages(void)
{
	size_t before = mk_mm_free_pages();
	char *p = mk_page_alloc(3, 4);
	CHECK(p, "mk_page_alloc(3, 4) failed with %zu pages free", before);
	CHECK(((unsigned long)p & (4 * 4096 - 1)) == 0, "%p is not 16 KiB aligned", p);
	mk_memset(p, 0xa5, 3 * 4096);
	CHECK(mk_mm_free_pages() == before - 3, "free pages %zu, expected %zu",
		mk_mm_free_pages(), before - 3);
	mk_page_free(p, 3);
	CHECK(mk_mm_free_pages() == before, "free pages not restored");
	return true;
}

static bool case_heap(void)
{
	void *blocks[64];
	for (int i = 0; i < 64; i++) {
		size_t size = (size_t)(1 + i * 97) % 9000 + 1;
		size_t align = (size_t)1 << (i % 13);
		blocks[i] = mk_malloc(size, align);
		CHECK(blocks[i], "mk_malloc(%zu, %zu) failed", size, align);
		CHECK(((unsigned long)blocks[i] & (align - 1)) == 0 &&
			((unsigned long)blocks[i] & 15) == 0, "mk_malloc(%zu, %zu) gave %p", size,
			align, blocks[i]);
		mk_memset(blocks[i], i, size);
	}
	for (int i = 0; i < 64; i++) {
		size_t size = (size_t)(1 + i * 97) % 9000 + 1;
		const unsigned char *b = blocks[i];
		for (size_t j = 0; j < size; j++)
			CHECK(b[j] == (unsigned char)i, "block %d byte %zu overwritten", i, j);
	}
	for (int i = 0; i < 64; i++)
		mk_free(blocks[i]);
	return true;
}

/* Robustness: exhaustion gives ENOMEM (NetBSD 12), and memory comes back after. */
static bool case_malloc_oom(void)
{
	void **list = NULL;
	size_t n = 0;
	int rv;
	size_t before = mk_mm_free_pages();
	for (;;) {
		void *p;
		rv = rumpuser_malloc(256 * 1024, 0, &p);
		if (rv)
			break;
		*(void **)p = list;
		list = p;
		n++;
	}
	CHECK(rv == RUMPXEN_NETBSD_ENOMEM, "rumpuser_malloc at exhaustion returned %d, not ENOMEM (12)",
		rv);
	CHECK(n > 0, "not even one 256 KiB block could be allocated");
	void *huge;
	rv = rumpuser_malloc((size_t)1 << 40, 0, &huge);
	CHECK(rv == RUMPXEN_NETBSD_ENOMEM, "rumpuser_malloc(1 TiB) returned %d", rv);
	while (list) {
		void *next = *list;
		rumpuser_free(list, 256 * 1024);
		list = next;
	}
	CHECK(mk_mm_free_pages() == before, "free pages %zu after freeing, %zu before",
		mk_mm_free_pages(), before);
	mk_printk("ktest: %zu blocks of 256 KiB before ENOMEM\n", n);
	return true;
}

static __thread int tls_value = 1234;
static __thread char tls_zero[64];
static int order[3], order_n;
static uint64_t sleep_base;

static void *sleeper(void *arg)
{
	long id = (long)arg;
	if (tls_value != 1234 || tls_zero[5] != 0)
		return (void *)-1L;
	tls_value = (int)id;
	tls_zero[5] = (char)id;
	/* Deadlines 100 ms apart from a common base: they expire in the order 2, 1, 0. */
	mk_thread_sleep_until(sleep_base + (uint64_t)(3 - id) * 100000000ULL);
	order[order_n++] = (int)id;
	if (tls_value != id || tls_zero[5] != (char)id)
		return (void *)-2L;
	return (void *)(id * 10);
}

static bool case_threads_tls(void)
{
	struct mk_thread *t[3];
	tls_value = 99;
	order_n = 0;
	sleep_base = mk_time_monotonic_ns();
	for (long i = 0; i < 3; i++) {
		t[i] = mk_thread_create("sleeper", sleeper, (void *)i, 0, true);
		CHECK(t[i], "mk_thread_create failed");
	}
	for (long i = 0; i < 3; i++) {
		long rv = (long)mk_thread_join(t[i]);
		CHECK(rv == i * 10, "thread %ld returned %ld (-1: bad TLS init, -2: TLS changed)", i,
			rv);
	}
	CHECK(order_n == 3 && order[0] == 2 && order[1] == 1 && order[2] == 0,
		"threads woke in order %d %d %d, expected by deadline 2 1 0", order[0], order[1],
		order[2]);
	CHECK(tls_value == 99, "main thread's TLS changed to %d", tls_value);
	return true;
}

/*
 * More threads alive at once than PV has LDT slots for thread pointers (511): the rest get
 * their fs base by hypercall, and switches between both kinds keep each thread's TLS.
 */
#define MANY_THREADS 560

static void *tls_worker(void *arg)
{
	long id = (long)arg;
	if (tls_value != 1234 || tls_zero[7] != 0)
		return (void *)-1L;
	tls_value = (int)id + 1;
	tls_zero[7] = (char)(id | 1);
	mk_thread_yield();
	mk_thread_yield();
	if (tls_value != id + 1 || tls_zero[7] != (char)(id | 1))
		return (void *)-2L;
	return (void *)id;
}

static bool case_tls_many_threads(void)
{
	struct mk_thread **t = mk_malloc(MANY_THREADS * sizeof(*t), 0);
	CHECK(t, "no memory for the thread list");
	tls_value = 77;
	long n = 0;
	for (; n < MANY_THREADS; n++) {
		t[n] = mk_thread_create("many", tls_worker, (void *)n, 8192, true);
		if (!t[n])
			break;
	}
	long bad = -1, rv_bad = 0;
	for (long i = 0; i < n; i++) {
		long rv = (long)mk_thread_join(t[i]);
		if (rv != i && bad < 0) {
			bad = i;
			rv_bad = rv;
		}
	}
	mk_free(t);
	CHECK(n == MANY_THREADS, "only %ld of %d threads could be created", n, MANY_THREADS);
	CHECK(bad < 0, "thread %ld returned %ld (-1: bad TLS init, -2: TLS changed)", bad, rv_bad);
	CHECK(tls_value == 77, "main thread's TLS changed to %d", tls_value);
	return true;
}

/*
 * A thread on a stack and TLS block the caller owns (mk_thread_create_on): it starts with that
 * block's thread pointer and the TLS template's values, runs on that stack, moves its thread
 * pointer to a second block (mk_thread_set_tls), and at exit leaves both to the caller.
 */
static struct on_stack_report {
	unsigned long fs0, sp, fs0_moved;
	int tls_first, tls_moved;
	bool done;
} on_stack;
static unsigned long second_tp;

static void *on_stack_worker(void *arg)
{
	(void)arg;
	unsigned long fs0, sp;
	__asm__ __volatile__("movq %%fs:0, %0; movq %%rsp, %1" : "=r"(fs0), "=r"(sp));
	on_stack.fs0 = fs0;
	on_stack.sp = sp;
	on_stack.tls_first = tls_value;
	tls_value = 5;
	mk_thread_set_tls(second_tp);
	__asm__ __volatile__("movq %%fs:0, %0" : "=r"(fs0));
	on_stack.fs0_moved = fs0;
	on_stack.tls_moved = tls_value;
	on_stack.done = true;
	return NULL;
}

static bool case_thread_on_stack(void)
{
	size_t threads_before, bytes_before, threads_after, bytes_after;
	mk_sched_memory(&threads_before, &bytes_before);
	char *stack = mk_page_alloc(4, 1);
	unsigned long tp = mk_tls_alloc();
	second_tp = mk_tls_alloc();
	CHECK(stack && tp && second_tp, "no memory for the stack or the TLS blocks");
	CHECK(*(unsigned long *)tp == tp, "mk_tls_alloc's TCB does not point to itself");
	on_stack.done = false;
	struct mk_thread *t = mk_thread_create_on("onstack", on_stack_worker, NULL,
		(unsigned long)stack + 4 * 4096 - 8, tp);
	CHECK(t, "mk_thread_create_on failed");
	for (int i = 0; i < 100 && !on_stack.done; i++)
		mk_thread_yield();
	CHECK(on_stack.done, "the thread did not run");
	mk_thread_yield(); /* its record is freed after the switch away from it */
	mk_sched_memory(&threads_after, &bytes_after);
	CHECK(on_stack.fs0 == tp, "fs:0 was %#lx, not the thread pointer %#lx", on_stack.fs0, tp);
	CHECK(on_stack.sp > (unsigned long)stack && on_stack.sp < (unsigned long)stack + 4 * 4096,
		"the thread ran on %#lx, not on the stack given at %p", on_stack.sp, stack);
	CHECK(on_stack.tls_first == 1234, "the thread's TLS started with %d, not the template's",
		on_stack.tls_first);
	CHECK(on_stack.fs0_moved == second_tp && on_stack.tls_moved == 1234,
		"after mk_thread_set_tls fs:0 was %#lx (want %#lx), TLS %d", on_stack.fs0_moved,
		second_tp, on_stack.tls_moved);
	/* tls_value's place in a block: as far below the thread pointer as in this thread's. */
	unsigned long own_tp;
	__asm__ __volatile__("movq %%fs:0, %0" : "=r"(own_tp));
	int first_block_value = *(int *)(tp - (own_tp - (unsigned long)&tls_value));
	CHECK(first_block_value == 5, "the first block holds %d, not the 5 the thread wrote",
		first_block_value);
	CHECK(threads_after == threads_before && bytes_after == bytes_before,
		"%zu threads holding %zu bytes after the exit, %zu and %zu before", threads_after,
		bytes_after, threads_before, bytes_before);
	mk_tls_free(tp);
	mk_tls_free(second_tp);
	mk_page_free(stack, 4);
	return true;
}

static struct mk_thread *blocked;
static void *waker(void *arg)
{
	(void)arg;
	mk_thread_wake(blocked);
	return NULL;
}

static bool case_block_wake(void)
{
	blocked = mk_thread_self();
	struct mk_thread *w = mk_thread_create("waker", waker, NULL, 0, true);
	CHECK(w, "mk_thread_create failed");
	uint64_t t0 = mk_time_monotonic_ns();
	bool timed_out = mk_thread_block_until(t0 + 5000000000ULL);
	mk_thread_join(w);
	CHECK(!timed_out, "mk_thread_wake did not end the block");
	timed_out = mk_thread_block_until(mk_time_monotonic_ns() + 10000000ULL);
	CHECK(timed_out, "block with a 10 ms deadline was not a timeout");
	return true;
}

static bool case_time(void)
{
	uint64_t a = mk_time_monotonic_ns();
	mk_thread_sleep_until(a + 30000000ULL);
	uint64_t b = mk_time_monotonic_ns();
	CHECK(b - a >= 30000000ULL, "slept %lu ns of 30 ms", (unsigned long)(b - a));
	CHECK(b - a < 3000000000ULL, "a 30 ms sleep took %lu ns", (unsigned long)(b - a));
	uint64_t wall = mk_time_wallclock_ns() / 1000000000ULL;
	CHECK(wall > 1600000000ULL && wall < 4000000000ULL, "wallclock %lu s is not plausible",
		(unsigned long)wall);
	return true;
}

/*
 * Sleepers wake on time while another thread only yields (never reads the clock): the
 * scheduler must notice expired deadlines without a clock read of its own on each switch
 * (where rdtsc is emulated it reads the clock only when Xen's one-shot timer says a
 * deadline may have passed). Deadlines are given out of order, so the timer is re-armed
 * earlier, and must come back in deadline order.
 */
#define SLEEPERS 3
static const uint64_t sleep_ms[SLEEPERS] = { 40, 20, 60 };
static volatile int woke_order[SLEEPERS], woke_count;
static uint64_t slept_ns[SLEEPERS];

static void *timed_sleeper(void *arg)
{
	unsigned i = (unsigned)(unsigned long)arg;
	uint64_t t0 = mk_time_monotonic_ns();
	mk_thread_sleep_until(t0 + sleep_ms[i] * 1000000ULL);
	slept_ns[i] = mk_time_monotonic_ns() - t0;
	woke_order[woke_count++] = (int)i;
	return NULL;
}

static bool case_sleep_while_yielding(void)
{
	mk_printk("ktest: rdtsc %s emulated by Xen here\n",
		mk_time_tsc_emulated() ? "is" : "is not");
	woke_count = 0;
	struct mk_thread *t[SLEEPERS];
	for (unsigned i = 0; i < SLEEPERS; i++) {
		t[i] = mk_thread_create("timed-sleeper", timed_sleeper, (void *)(unsigned long)i,
			0, true);
		CHECK(t[i], "mk_thread_create failed");
	}
	/* Yield only: no clock read here. Bounded, so a lost wake-up fails instead of hanging. */
	unsigned long yields = 0;
	while (woke_count < SLEEPERS && yields < 400000000UL) {
		mk_thread_yield();
		yields++;
	}
	for (unsigned i = 0; i < SLEEPERS; i++)
		mk_thread_join(t[i]);
	CHECK(woke_count == SLEEPERS, "%d of %d sleepers woke in %lu yields", woke_count,
		SLEEPERS, yields);
	CHECK(woke_order[0] == 1 && woke_order[1] == 0 && woke_order[2] == 2,
		"the sleepers of 40, 20 and 60 ms woke in the order %d %d %d (want 1 0 2)",
		woke_order[0], woke_order[1], woke_order[2]);
	for (unsigned i = 0; i < SLEEPERS; i++) {
		CHECK(slept_ns[i] >= sleep_ms[i] * 1000000ULL, "a %lu ms sleep ended after %lu ns",
			(unsigned long)sleep_ms[i], (unsigned long)slept_ns[i]);
		CHECK(slept_ns[i] < sleep_ms[i] * 1000000ULL + 2000000000ULL,
			"a %lu ms sleep took %lu ns", (unsigned long)sleep_ms[i],
			(unsigned long)slept_ns[i]);
	}
	return true;
}

static int events_seen;
static struct mk_thread *event_waiter;
static void on_event(uint32_t port, void *arg)
{
	(void)port;
	(void)arg;
	events_seen++;
	if (event_waiter)
		mk_thread_wake(event_waiter);
}

static bool case_evtchn_loopback(void)
{
	long a = mk_evtchn_alloc_unbound(XEN_DOMID_SELF, on_event, NULL);
	CHECK(a > 0, "alloc_unbound failed: %ld", a);
	long b = mk_evtchn_bind_interdomain(XEN_DOMID_SELF, (uint32_t)a, NULL, NULL);
	CHECK(b > 0, "bind_interdomain failed: %ld", b);
	event_waiter = mk_thread_self();
	events_seen = 0;
	mk_evtchn_notify((uint32_t)b);
	mk_thread_block_until(mk_time_monotonic_ns() + 2000000000ULL);
	CHECK(events_seen == 1, "%d events after one notify", events_seen);
	mk_evtchn_mask((uint32_t)a);
	mk_evtchn_notify((uint32_t)b);
	mk_thread_block_until(mk_time_monotonic_ns() + 20000000ULL);
	CHECK(events_seen == 1, "a masked port ran its handler");
	mk_evtchn_unmask((uint32_t)a);
	mk_thread_block_until(mk_time_monotonic_ns() + 2000000000ULL);
	CHECK(events_seen == 2, "unmask did not deliver the pending event (%d)", events_seen);
	event_waiter = NULL;
	CHECK(mk_evtchn_close((uint32_t)b) == 0 && mk_evtchn_close((uint32_t)a) == 0,
		"close failed");
	return true;
}

static bool case_gnttab(void)
{
	int self = mk_xenbus_available() ? mk_xs_domid() : 0;
	CHECK(self >= 0, "own domid unknown");
	CHECK(mk_gnttab_nr_entries() >= 512, "grant table has %u entries", mk_gnttab_nr_entries());
	char *src = mk_page_alloc(1, 1), *dst = mk_page_alloc(1, 1);
	CHECK(src && dst, "out of pages");
	for (int i = 0; i < 4096; i++)
		src[i] = (char)(i * 7);
	mk_memset(dst, 0, 4096);
	long ref = mk_gnttab_grant_access((uint16_t)self, src, true);
	CHECK(ref >= 8, "grant_access gave %ld", ref);
	int rc = mk_gnttab_copy_from((uint16_t)self, (mk_grant_ref_t)ref, 100, dst + 8, 1000);
	CHECK(rc == 0, "grant copy through our own grant failed: %d", rc);
	CHECK(mk_memcmp(dst + 8, src + 100, 1000) == 0 && dst[0] == 0 && dst[1008] == 0,
		"grant copy moved the wrong bytes");
	CHECK(mk_gnttab_end_access((mk_grant_ref_t)ref), "end_access refused an unused grant");
	rc = mk_gnttab_copy_from((uint16_t)self, (mk_grant_ref_t)ref, 0, dst, 16);
	CHECK(rc != 0, "a revoked grant still copied");
	mk_page_free(src, 1);
	mk_page_free(dst, 1);
	return true;
}

/* A DomU has nothing to detach from: librump's daemonize pair must simply succeed. */
static bool case_daemonize(void)
{
	int rc = rumpuser_daemonize_begin();
	CHECK(rc == 0, "rumpuser_daemonize_begin returned %d", rc);
	rc = rumpuser_daemonize_done(0);
	CHECK(rc == 0, "rumpuser_daemonize_done(0) returned %d", rc);
	return true;
}

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	case_run("pages", case_pages);
	case_run("heap", case_heap);
	case_run("malloc_oom", case_malloc_oom);
	case_run("threads_tls", case_threads_tls);
	case_run("tls_many_threads", case_tls_many_threads);
	case_run("thread_on_stack", case_thread_on_stack);
	case_run("block_wake", case_block_wake);
	case_run("time", case_time);
	case_run("sleep_while_yielding", case_sleep_while_yielding);
	case_run("evtchn_loopback", case_evtchn_loopback);
	case_run("gnttab", case_gnttab);
	case_run("daemonize", case_daemonize);
	return case_finish();
}
