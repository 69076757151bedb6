/* Condition variables: ordering, timeouts, broadcast, waiter counts, interlocks. */
#include "conf.h"

#define PINGPONG_ROUNDS 200

struct pingpong {
	struct rumpuser_mtx *mtx;
	struct rumpuser_cv *cv;
	int turn;               /* 0: ping's move, 1: pong's */
	int log[2 * PINGPONG_ROUNDS];
	int nlog;
};

static void pong_fn(void *arg)
{
	struct pingpong *pp = arg;
	int i;

	rumpuser_mutex_enter(pp->mtx);
	for (i = 0; i < PINGPONG_ROUNDS; i++) {
		while (pp->turn != 1)
			rumpuser_cv_wait(pp->cv, pp->mtx);
		pp->log[pp->nlog++] = 1;
		pp->turn = 0;
		rumpuser_cv_signal(pp->cv);
	}
	rumpuser_mutex_exit(pp->mtx);
}

static void cv_ping_pong(void)
{
	static struct pingpong pp;
	struct conf_thread t;
	int i, rv;

	rumpuser_mutex_init(&pp.mtx, RUMPUSER_MTX_KMUTEX);
	rumpuser_cv_init(&pp.cv);
	pp.turn = 0;
	pp.nlog = 0;
	t.use_thread_exit = 0;
	rv = conf_thread_start(&t, "conf_pong", pong_fn, &pp);
	CHECK_RV("rumpuser_thread_create", rv, 0);
	rumpuser_mutex_enter(pp.mtx);
	for (i = 0; i < PINGPONG_ROUNDS; i++) {
		while (pp.turn != 0)
			rumpuser_cv_wait(pp.cv, pp.mtx);
		pp.log[pp.nlog++] = 0;
		pp.turn = 1;
		rumpuser_cv_signal(pp.cv);
	}
	rumpuser_mutex_exit(pp.mtx);
	CHECK_RV("rumpuser_thread_join", conf_thread_join(&t), 0);
	rumpuser_cv_destroy(pp.cv);
	rumpuser_mutex_destroy(pp.mtx);
	CHECK(pp.nlog == 2 * PINGPONG_ROUNDS, "%d moves logged, expected %d", pp.nlog,
	    2 * PINGPONG_ROUNDS);
	for (i = 0; i < pp.nlog; i++)
		CHECK(pp.log[i] == (i & 1), "move %d was made by the wrong side", i);
}

static void cv_timedwait_timeout(void)
{
	struct rumpuser_mtx *mtx;
	struct rumpuser_cv *cv;
	struct lwp *me = rumpuser_curlwp(), *owner;
	int64_t t0, dt;
	int unsched = me->unschedules, rv;

	rumpuser_mutex_init(&mtx, RUMPUSER_MTX_KMUTEX);
	rumpuser_cv_init(&cv);
	rumpuser_mutex_enter(mtx);
	t0 = conf_now_ns();
	rv = rumpuser_cv_timedwait(cv, mtx, 0, 50 * MS);
	dt = conf_now_ns() - t0;
	unsched = me->unschedules - unsched;
	rumpuser_mutex_owner(mtx, &owner);
	rumpuser_mutex_exit(mtx);
	rumpuser_cv_destroy(cv);
	rumpuser_mutex_destroy(mtx);
	CHECK(rv == RUMPXEN_NETBSD_ETIMEDOUT,
	    "an unsignalled 50 ms rumpuser_cv_timedwait returned %d, expected ETIMEDOUT (60)", rv);
	CHECK(dt >= 50 * MS, "a 50 ms timed wait timed out after %lld ns", (long long)dt);
	CHECK(dt < 50 * MS + CONF_SLACK_NS, "a 50 ms timed wait took %lld ns", (long long)dt);
	CHECK(owner == me, "after the timed wait the mutex owner is %p, not the caller", owner);
	CHECK(unsched > 0, "rumpuser_cv_timedwait waited holding the rump CPU");
}

struct signaller {
	struct rumpuser_mtx *mtx;
	struct rumpuser_cv *cv;
	int flag;
	int64_t delay_ms;
};

static void signal_later_fn(void *arg)
{
	struct signaller *s = arg;

	conf_sleep_ms(s->delay_ms);
	rumpuser_mutex_enter(s->mtx);
	s->flag = 1;
	rumpuser_cv_signal(s->cv);
	rumpuser_mutex_exit(s->mtx);
}

static void cv_timedwait_signalled(void)
{
	struct signaller s;
	struct conf_thread t;
	int64_t t0, dt;
	int rv = 0, waits = 0;

	rumpuser_mutex_init(&s.mtx, RUMPUSER_MTX_KMUTEX);
	rumpuser_cv_init(&s.cv);
	s.flag = 0;
	s.delay_ms = 20;
	t.use_thread_exit = 0;
	CHECK_RV("rumpuser_thread_create", conf_thread_start(&t, "conf_signal", signal_later_fn, &s), 0);
	t0 = conf_now_ns();
	rumpuser_mutex_enter(s.mtx);
	while (!s.flag && rv == 0 && waits++ < 100)
		rv = rumpuser_cv_timedwait(s.cv, s.mtx, 10, 0);
	rumpuser_mutex_exit(s.mtx);
	dt = conf_now_ns() - t0;
	CHECK_RV("rumpuser_thread_join", conf_thread_join(&t), 0);
	rumpuser_cv_destroy(s.cv);
	rumpuser_mutex_destroy(s.mtx);
	CHECK_RV("rumpuser_cv_timedwait (signalled before its 10 s timeout)", rv, 0);
	CHECK(s.flag, "woke without the condition set");
	CHECK(dt < 10000 * MS, "the signal did not end the wait early (%lld ns)", (long long)dt);
}

#define BROADCAST_WAITERS 3

struct gate {
	struct rumpuser_mtx *mtx;
	struct rumpuser_cv *cv;
	int open;
	int arrived;
	int passed;
};

static void gate_fn(void *arg)
{
	struct gate *g = arg;

	rumpuser_mutex_enter(g->mtx);
	g->arrived++;
	while (!g->open)
		rumpuser_cv_wait(g->cv, g->mtx);
	g->passed++;
	rumpuser_mutex_exit(g->mtx);
}

static void cv_broadcast_has_waiters(void)
{
	struct gate g;
	struct conf_thread t[BROADCAST_WAITERS];
	int64_t deadline;
	int i, waiters = -1;

	rumpuser_mutex_init(&g.mtx, RUMPUSER_MTX_KMUTEX);
	rumpuser_cv_init(&g.cv);
	g.open = 0;
	g.arrived = 0;
	g.passed = 0;
	rumpuser_mutex_enter(g.mtx);
	rumpuser_cv_has_waiters(g.cv, &waiters);
	rumpuser_mutex_exit(g.mtx);
	CHECK(waiters == 0, "a new condition variable reports waiters (%d)", waiters);
	for (i = 0; i < BROADCAST_WAITERS; i++) {
		t[i].use_thread_exit = 0;
		CHECK_RV("rumpuser_thread_create", conf_thread_start(&t[i], "conf_gate", gate_fn, &g), 0);
	}
	/*
	 * A waiter counts itself in under the mutex and then waits, which releases the mutex
	 * atomically: once all have counted themselves in, all are waiting.
	 */
	deadline = conf_now_ns() + CONF_SLACK_NS;
	for (;;) {
		int arrived;
		rumpuser_mutex_enter(g.mtx);
		arrived = g.arrived;
		rumpuser_cv_has_waiters(g.cv, &waiters);
		rumpuser_mutex_exit(g.mtx);
		if (arrived == BROADCAST_WAITERS || conf_now_ns() > deadline)
			break;
		conf_sleep_ms(2);
	}
	CHECK(waiters != 0, "rumpuser_cv_has_waiters reports none with %d threads waiting",
	    BROADCAST_WAITERS);
	rumpuser_mutex_enter(g.mtx);
	g.open = 1;
	rumpuser_cv_broadcast(g.cv);
	rumpuser_mutex_exit(g.mtx);
	for (i = 0; i < BROADCAST_WAITERS; i++)
		CHECK_RV("rumpuser_thread_join", conf_thread_join(&t[i]), 0);
	CHECK(g.passed == BROADCAST_WAITERS, "broadcast let %d of %d waiters through", g.passed,
	    BROADCAST_WAITERS);
	rumpuser_mutex_enter(g.mtx);
	rumpuser_cv_has_waiters(g.cv, &waiters);
	rumpuser_mutex_exit(g.mtx);
	CHECK(waiters == 0, "has_waiters still reports %d after everyone left", waiters);
	rumpuser_cv_destroy(g.cv);
	rumpuser_mutex_destroy(g.mtx);
}

struct nowrap_waiter {
	struct rumpuser_mtx *mtx;
	struct rumpuser_cv *cv;
	int ready, go, unschedules_during;
	int spin_flags;
	struct lwp *owner_after;
};

static void nowrap_fn(void *arg)
{
	struct nowrap_waiter *w = arg;
	struct lwp *me = rumpuser_curlwp();
	int before;

	rumpuser_mutex_enter_nowrap(w->mtx);
	__atomic_store_n(&w->ready, 1, __ATOMIC_RELEASE);
	before = me->unschedules;
	while (!w->go)
		rumpuser_cv_wait_nowrap(w->cv, w->mtx);
	w->unschedules_during = me->unschedules - before;
	rumpuser_mutex_owner(w->mtx, &w->owner_after);
	rumpuser_mutex_exit(w->mtx);
}

static void cv_wait_nowrap_keeps_cpu(void)
{
	struct nowrap_waiter w = { 0 };
	struct conf_thread t;

	rumpuser_mutex_init(&w.mtx, RUMPUSER_MTX_KMUTEX);
	rumpuser_cv_init(&w.cv);
	t.use_thread_exit = 0;
	CHECK_RV("rumpuser_thread_create", conf_thread_start(&t, "conf_nowrap", nowrap_fn, &w), 0);
	while (!__atomic_load_n(&w.ready, __ATOMIC_ACQUIRE))
		conf_sleep_ms(1);
	conf_sleep_ms(10);
	rumpuser_mutex_enter(w.mtx);
	w.go = 1;
	rumpuser_cv_signal(w.cv);
	rumpuser_mutex_exit(w.mtx);
	CHECK_RV("rumpuser_thread_join", conf_thread_join(&t), 0);
	rumpuser_cv_destroy(w.cv);
	rumpuser_mutex_destroy(w.mtx);
	CHECK(w.unschedules_during == 0, "rumpuser_cv_wait_nowrap released the rump CPU");
	CHECK(w.owner_after == t.lwp, "after cv_wait_nowrap the mutex owner is %p, not the waiter",
	    w.owner_after);
}

/* cv_wait on a spin KMUTEX: the waiter comes back holding the mutex and a CPU. */
static void spin_waiter_fn(void *arg)
{
	struct nowrap_waiter *w = arg;

	rumpuser_mutex_enter(w->mtx);
	__atomic_store_n(&w->ready, 1, __ATOMIC_RELEASE);
	while (!w->go)
		rumpuser_cv_wait(w->cv, w->mtx);
	rumpuser_mutex_owner(w->mtx, &w->owner_after);
	w->unschedules_during = rumpuser_curlwp()->on_cpu;
	rumpuser_mutex_exit(w->mtx);
}

static void cv_wait_spin_interlock(void)
{
	struct nowrap_waiter w = { 0 };
	struct conf_thread t;

	rumpuser_mutex_init(&w.mtx, RUMPUSER_MTX_SPIN | RUMPUSER_MTX_KMUTEX);
	rumpuser_cv_init(&w.cv);
	t.use_thread_exit = 0;
	CHECK_RV("rumpuser_thread_create", conf_thread_start(&t, "conf_spinwait", spin_waiter_fn, &w), 0);
	while (!__atomic_load_n(&w.ready, __ATOMIC_ACQUIRE))
		conf_sleep_ms(1);
	conf_sleep_ms(10);
	rumpuser_mutex_enter(w.mtx);
	w.go = 1;
	rumpuser_cv_signal(w.cv);
	rumpuser_mutex_exit(w.mtx);
	CHECK_RV("rumpuser_thread_join", conf_thread_join(&t), 0);
	rumpuser_cv_destroy(w.cv);
	rumpuser_mutex_destroy(w.mtx);
	CHECK(w.owner_after == t.lwp, "after cv_wait on a spin mutex the owner is %p, not the waiter",
	    w.owner_after);
	CHECK(w.unschedules_during == 1, "cv_wait on a spin mutex returned without a rump CPU");
}

const struct conf_case conf_cases_cv[] = {
	{ "cv_ping_pong", cv_ping_pong },
	{ "cv_timedwait_timeout", cv_timedwait_timeout },
	{ "cv_timedwait_signalled", cv_timedwait_signalled },
	{ "cv_broadcast_has_waiters", cv_broadcast_has_waiters },
	{ "cv_wait_nowrap_keeps_cpu", cv_wait_nowrap_keeps_cpu },
	{ "cv_wait_spin_interlock", cv_wait_spin_interlock },
	{ NULL, NULL },
};
