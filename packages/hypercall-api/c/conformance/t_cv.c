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

/*
 * Waits interlocked by the scheduler's own lock (fk_schedlock_cv_wait), as a rump kernel's
 * scheduler makes them: the lock is a plain spin mutex (not a kmutex), which the backend
 * upcalls take and release around the CPU, so after the wait the hypercall layer must retake
 * the lock before the CPU. Retaking the CPU first makes the scheduler release a lock nobody
 * holds, and the lock taken afterwards stays held: the next scheduler call deadlocks.
 */
struct schedlock_wait {
	struct rumpuser_cv *cv;
	int flag;         /* set by the signaller before it signals */
	int back;         /* the waiter has returned from its wait */
	int64_t delay_ms; /* the signaller's sleep before it sets flag */
};

static void schedlock_signal_fn(void *arg)
{
	struct schedlock_wait *s = arg;
	int64_t deadline;

	conf_sleep_ms(s->delay_ms);
	__atomic_store_n(&s->flag, 1, __ATOMIC_SEQ_CST);
	/*
	 * Nothing orders flag against the waiter's check (it does not hold the interlock before
	 * waiting, and there are two CPUs), so a signal can come before the wait begins: signal
	 * again until the waiter is back.
	 */
	deadline = conf_now_ns() + 2 * CONF_SLACK_NS;
	while (!__atomic_load_n(&s->back, __ATOMIC_SEQ_CST) && conf_now_ns() < deadline) {
		rumpuser_cv_signal(s->cv);
		conf_sleep_ms(2);
	}
}

/* What a scheduler-interlocked wait left behind, seen before the waiter enters the kernel. */
struct schedlock_after {
	int on_cpu;              /* the waiter holds a CPU */
	int unschedules;         /* CPU releases during the wait */
	int lock_free;           /* the scheduler lock can be taken: not leaked to the waiter */
	int violations;          /* protocol breaks the upcalls recorded during the wait */
	const char *violation;
};

/*
 * Must run right after the wait, before any other upcall: with the scheduler lock leaked to
 * the waiter, its next upcall would deadlock on that lock instead of failing the case.
 */
static void schedlock_observe(struct schedlock_after *a, int unschedules_before,
    int violations_before)
{
	struct lwp *me = rumpuser_curlwp();

	a->on_cpu = me->on_cpu;
	a->unschedules = me->unschedules - unschedules_before;
	a->lock_free = fk_schedlock_takeable(CONF_SLACK_NS);
	a->violations = fk_violations() - violations_before;
	a->violation = fk_last_violation();
}

static void cpu_probe_fn(void *arg)
{
	*(int *)arg = rumpuser_curlwp()->on_cpu;
}

static void schedlock_verdict(const char *call, const struct schedlock_after *a)
{
	struct conf_thread t;
	int probe_on_cpu = 0;

	CHECK(a->violations == 0, "%s on the scheduler lock broke the protocol: %s", call,
	    a->violation);
	CHECK(a->lock_free, "after %s on the scheduler lock, the lock stayed held (leaked by the "
	    "hypercall layer): the scheduler would deadlock", call);
	CHECK(a->on_cpu, "%s on the scheduler lock returned without a rump CPU", call);
	CHECK(a->unschedules > 0, "%s on the scheduler lock waited holding the rump CPU", call);
	t.use_thread_exit = 0;
	CHECK_RV("rumpuser_thread_create", conf_thread_start(&t, "conf_cpuprobe", cpu_probe_fn,
	    &probe_on_cpu), 0);
	CHECK_RV("rumpuser_thread_join", conf_thread_join(&t), 0);
	CHECK(probe_on_cpu, "after %s on the scheduler lock, another thread ran without a CPU",
	    call);
}

/* A cv for the scheduler-lock waits, and a thread that signals it 20 ms after starting. */
static int schedlock_signaller_start(struct schedlock_wait *s, struct conf_thread *t)
{
	rumpuser_cv_init(&s->cv);
	s->delay_ms = 20;
	t->use_thread_exit = 0;
	return conf_thread_start(t, "conf_schedsig", schedlock_signal_fn, s);
}

static void cv_wait_sched_interlock(void)
{
	struct schedlock_wait s = { 0 };
	struct schedlock_after a;
	struct conf_thread t;
	int unschedules, violations = fk_violations();

	CHECK_RV("rumpuser_thread_create", schedlock_signaller_start(&s, &t), 0);
	unschedules = rumpuser_curlwp()->unschedules;
	do
		fk_schedlock_cv_wait(s.cv);
	while (!__atomic_load_n(&s.flag, __ATOMIC_SEQ_CST));
	__atomic_store_n(&s.back, 1, __ATOMIC_SEQ_CST);
	schedlock_observe(&a, unschedules, violations);
	CHECK_RV("rumpuser_thread_join", conf_thread_join(&t), 0);
	rumpuser_cv_destroy(s.cv);
	schedlock_verdict("rumpuser_cv_wait", &a);
}

static void cv_timedwait_sched_interlock_timeout(void)
{
	struct rumpuser_cv *cv;
	struct schedlock_after a;
	int64_t t0, dt;
	int unschedules = rumpuser_curlwp()->unschedules, violations = fk_violations(), rv;

	rumpuser_cv_init(&cv);
	t0 = conf_now_ns();
	rv = fk_schedlock_cv_timedwait(cv, 0, 50 * MS);
	dt = conf_now_ns() - t0;
	schedlock_observe(&a, unschedules, violations);
	rumpuser_cv_destroy(cv);
	CHECK(rv == RUMPXEN_NETBSD_ETIMEDOUT, "an unsignalled 50 ms rumpuser_cv_timedwait on the "
	    "scheduler lock returned %d, expected ETIMEDOUT (60)", rv);
	CHECK(dt >= 50 * MS, "a 50 ms timed wait timed out after %lld ns", (long long)dt);
	schedlock_verdict("rumpuser_cv_timedwait (timed out)", &a);
}

static void cv_timedwait_sched_interlock_signalled(void)
{
	struct schedlock_wait s = { 0 };
	struct schedlock_after a;
	struct conf_thread t;
	int64_t t0, dt;
	int unschedules, violations = fk_violations(), rv;

	CHECK_RV("rumpuser_thread_create", schedlock_signaller_start(&s, &t), 0);
	unschedules = rumpuser_curlwp()->unschedules;
	t0 = conf_now_ns();
	do
		rv = fk_schedlock_cv_timedwait(s.cv, 10, 0);
	while (rv == 0 && !__atomic_load_n(&s.flag, __ATOMIC_SEQ_CST));
	__atomic_store_n(&s.back, 1, __ATOMIC_SEQ_CST);
	dt = conf_now_ns() - t0;
	schedlock_observe(&a, unschedules, violations);
	CHECK_RV("rumpuser_thread_join", conf_thread_join(&t), 0);
	rumpuser_cv_destroy(s.cv);
	CHECK_RV("rumpuser_cv_timedwait on the scheduler lock (signalled before its 10 s "
	    "timeout)", rv, 0);
	CHECK(dt < 10000 * MS, "the signal did not end the wait early (%lld ns)", (long long)dt);
	schedlock_verdict("rumpuser_cv_timedwait (signalled)", &a);
}

const struct conf_case conf_cases_cv[] = {
	{ "cv_ping_pong", cv_ping_pong },
	{ "cv_timedwait_timeout", cv_timedwait_timeout },
	{ "cv_timedwait_signalled", cv_timedwait_signalled },
	{ "cv_broadcast_has_waiters", cv_broadcast_has_waiters },
	{ "cv_wait_nowrap_keeps_cpu", cv_wait_nowrap_keeps_cpu },
	{ "cv_wait_spin_interlock", cv_wait_spin_interlock },
	{ "cv_wait_sched_interlock", cv_wait_sched_interlock },
	{ "cv_timedwait_sched_interlock_timeout", cv_timedwait_sched_interlock_timeout },
	{ "cv_timedwait_sched_interlock_signalled", cv_timedwait_sched_interlock_signalled },
	{ NULL, NULL },
};
