/* Mutexes: exclusion, tryenter, owner tracking, and who releases the rump CPU when. */
#include "conf.h"

struct holder {
	struct rumpuser_mtx *mtx;
	int64_t hold_ns;
	int sleep_while_holding; /* release the CPU (sleep) rather than spin */
	int nowrap;
	volatile int holding;
	volatile int tryenter_rv;
	struct lwp *owner_seen;
};

/* Take the mutex, announce it, hold it for a while, let go. */
static void holder_fn(void *arg)
{
	struct holder *h = arg;

	if (h->nowrap)
		rumpuser_mutex_enter_nowrap(h->mtx);
	else
		rumpuser_mutex_enter(h->mtx);
	__atomic_store_n(&h->holding, 1, __ATOMIC_RELEASE);
	if (h->sleep_while_holding)
		conf_sleep_ms(h->hold_ns / MS);
	else
		conf_spin_ns(h->hold_ns);
	rumpuser_mutex_exit(h->mtx);
}

/*
 * Sleep-poll rather than spin: on a uniprocessor target without preemption the thread
 * that sets the flag only runs while we block.
 */
static int wait_for_flag(volatile int *flag)
{
	int64_t deadline = conf_now_ns() + CONF_SLACK_NS;

	while (!__atomic_load_n(flag, __ATOMIC_ACQUIRE)) {
		if (conf_now_ns() > deadline)
			return 0;
		conf_sleep_ms(1);
	}
	return 1;
}

/* Tries the mutex from another thread and records what it saw. */
static void trier_fn(void *arg)
{
	struct holder *h = arg;

	h->tryenter_rv = rumpuser_mutex_tryenter(h->mtx);
	rumpuser_mutex_owner(h->mtx, &h->owner_seen);
	if (h->tryenter_rv == 0)
		rumpuser_mutex_exit(h->mtx);
}

static void mutex_tryenter(void)
{
	struct holder h = { 0 };
	struct conf_thread t;
	int rv;

	rumpuser_mutex_init(&h.mtx, RUMPUSER_MTX_KMUTEX);
	rv = rumpuser_mutex_tryenter(h.mtx);
	CHECK_RV("rumpuser_mutex_tryenter of a free mutex", rv, 0);
	t.use_thread_exit = 0;
	rv = conf_thread_start(&t, "conf_trier", trier_fn, &h);
	CHECK_RV("rumpuser_thread_create", rv, 0);
	rv = conf_thread_join(&t);
	CHECK_RV("rumpuser_thread_join", rv, 0);
	rumpuser_mutex_exit(h.mtx);
	CHECK(h.tryenter_rv == RUMPXEN_NETBSD_EBUSY,
	    "rumpuser_mutex_tryenter of a mutex another thread holds returned %d, expected EBUSY (16)",
	    h.tryenter_rv);
	rv = rumpuser_mutex_tryenter(h.mtx);
	CHECK_RV("rumpuser_mutex_tryenter after exit", rv, 0);
	rumpuser_mutex_exit(h.mtx);
	rumpuser_mutex_destroy(h.mtx);
}

static void mutex_owner_kmutex(void)
{
	struct holder h = { 0 };
	struct conf_thread t;
	struct lwp *me = rumpuser_curlwp(), *owner = (struct lwp *)1;
	int rv;

	rumpuser_mutex_init(&h.mtx, RUMPUSER_MTX_KMUTEX);
	rumpuser_mutex_owner(h.mtx, &owner);
	CHECK(owner == NULL, "a new KMUTEX reports owner %p", owner);
	rumpuser_mutex_enter(h.mtx);
	rumpuser_mutex_owner(h.mtx, &owner);
	CHECK(owner == me, "the holder is %p but rumpuser_mutex_owner says %p", me, owner);
	t.use_thread_exit = 0;
	rv = conf_thread_start(&t, "conf_owner", trier_fn, &h);
	CHECK_RV("rumpuser_thread_create", rv, 0);
	rv = conf_thread_join(&t);
	CHECK_RV("rumpuser_thread_join", rv, 0);
	CHECK(h.owner_seen == me, "another thread sees owner %p, the holder is %p",
	    h.owner_seen, me);
	rumpuser_mutex_exit(h.mtx);
	rumpuser_mutex_owner(h.mtx, &owner);
	CHECK(owner == NULL, "after exit rumpuser_mutex_owner says %p", owner);
	rumpuser_mutex_destroy(h.mtx);
}

/* Blocking in rumpuser_mutex_enter must release the CPU, or the holder could starve. */
static void mutex_enter_releases_cpu(void)
{
	struct holder h = { 0 };
	struct conf_thread t;
	struct lwp *me = rumpuser_curlwp(), *owner;
	int unsched, unsched_after, rv;

	rumpuser_mutex_init(&h.mtx, RUMPUSER_MTX_KMUTEX);
	h.hold_ns = 50 * MS;
	h.sleep_while_holding = 1;
	t.use_thread_exit = 0;
	rv = conf_thread_start(&t, "conf_holder", holder_fn, &h);
	CHECK_RV("rumpuser_thread_create", rv, 0);
	CHECK(wait_for_flag(&h.holding), "the holder thread never took the mutex");
	unsched = me->unschedules;
	rumpuser_mutex_enter(h.mtx);
	unsched_after = me->unschedules;
	rumpuser_mutex_owner(h.mtx, &owner);
	rumpuser_mutex_exit(h.mtx);
	rv = conf_thread_join(&t);
	CHECK_RV("rumpuser_thread_join", rv, 0);
	rumpuser_mutex_destroy(h.mtx);
	CHECK(unsched_after > unsched,
	    "rumpuser_mutex_enter waited for a held mutex without releasing the rump CPU");
	CHECK(owner == me, "after a contended enter the owner is %p, not the caller %p", owner, me);
}

/* SPIN mutexes and enter_nowrap wait holding the CPU. */
static void mutex_spin_keeps_cpu(void)
{
	static const int kinds[2][2] = {
		{ RUMPUSER_MTX_SPIN | RUMPUSER_MTX_KMUTEX, 0 }, /* spin mutex via mutex_enter */
		{ RUMPUSER_MTX_KMUTEX, 1 },                     /* adaptive mutex via enter_nowrap */
	};
	struct lwp *me = rumpuser_curlwp();
	int k;

	for (k = 0; k < 2; k++) {
		struct holder h = { 0 };
		struct conf_thread t;
		int64_t t0, waited;
		int unsched, rv;

		rumpuser_mutex_init(&h.mtx, kinds[k][0]);
		h.hold_ns = 30 * MS;
		h.nowrap = 1;
		t.use_thread_exit = 0;
		rv = conf_thread_start(&t, "conf_spinner", holder_fn, &h);
		CHECK_RV("rumpuser_thread_create", rv, 0);
		CHECK(wait_for_flag(&h.holding), "the holder thread never took the mutex");
		unsched = me->unschedules;
		t0 = conf_now_ns();
		if (kinds[k][1])
			rumpuser_mutex_enter_nowrap(h.mtx);
		else
			rumpuser_mutex_enter(h.mtx);
		waited = conf_now_ns() - t0;
		rumpuser_mutex_exit(h.mtx);
		CHECK(me->unschedules == unsched, "%s released the rump CPU while waiting",
		    kinds[k][1] ? "rumpuser_mutex_enter_nowrap" : "rumpuser_mutex_enter(SPIN)");
		rv = conf_thread_join(&t);
		CHECK_RV("rumpuser_thread_join", rv, 0);
		rumpuser_mutex_destroy(h.mtx);
		CHECK(waited > 0, "no time passed while waiting for a held mutex");
	}
}

#define CONTENDERS 4
#define ROUNDS 300

struct counter {
	struct rumpuser_mtx *mtx;
	long value;
};

static void increment_fn(void *arg)
{
	struct counter *c = arg;
	int i;

	for (i = 0; i < ROUNDS; i++) {
		long v;
		rumpuser_mutex_enter(c->mtx);
		v = c->value;
		/* Sometimes give up the CPU inside the critical section: others must block. */
		if (i % 60 == 0)
			conf_sleep_ms(1);
		else if (i % 7 == 0)
			conf_spin_ns(20000);
		c->value = v + 1;
		rumpuser_mutex_exit(c->mtx);
	}
}

static void mutex_contention(void)
{
	struct counter c;
	struct conf_thread t[CONTENDERS];
	int i, rv;

	rumpuser_mutex_init(&c.mtx, RUMPUSER_MTX_KMUTEX);
	c.value = 0;
	for (i = 0; i < CONTENDERS; i++) {
		t[i].use_thread_exit = 0;
		rv = conf_thread_start(&t[i], "conf_incr", increment_fn, &c);
		CHECK_RV("rumpuser_thread_create", rv, 0);
	}
	for (i = 0; i < CONTENDERS; i++) {
		rv = conf_thread_join(&t[i]);
		CHECK_RV("rumpuser_thread_join", rv, 0);
	}
	rumpuser_mutex_destroy(c.mtx);
	CHECK(c.value == CONTENDERS * ROUNDS, "%d threads x %d increments gave %ld: lost updates",
	    CONTENDERS, ROUNDS, c.value);
}

const struct conf_case conf_cases_mutex[] = {
	{ "mutex_tryenter", mutex_tryenter },
	{ "mutex_owner_kmutex", mutex_owner_kmutex },
	{ "mutex_enter_releases_cpu", mutex_enter_releases_cpu },
	{ "mutex_spin_keeps_cpu", mutex_spin_keeps_cpu },
	{ "mutex_contention", mutex_contention },
	{ NULL, NULL },
};
