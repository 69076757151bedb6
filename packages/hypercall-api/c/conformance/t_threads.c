/* Threads and the per-thread current lwp. */
#include "conf.h"

struct thread_probe {
	struct lwp *expected;
	struct lwp *seen;
	int ran;
};

static void probe_fn(void *arg)
{
	struct thread_probe *p = arg;

	p->seen = rumpuser_curlwp();
	__atomic_store_n(&p->ran, 1, __ATOMIC_RELEASE);
}

static void thread_create_join(void)
{
	struct conf_thread t;
	struct thread_probe p = { NULL, NULL, 0 };
	int rv;

	t.use_thread_exit = 0;
	rv = conf_thread_start(&t, "conf_join", probe_fn, &p);
	CHECK_RV("rumpuser_thread_create(mustjoin)", rv, 0);
	rv = conf_thread_join(&t);
	CHECK_RV("rumpuser_thread_join", rv, 0);
	CHECK(__atomic_load_n(&p.ran, __ATOMIC_ACQUIRE) == 1,
	    "rumpuser_thread_join returned before the thread ran");
}

static void thread_exit_call(void)
{
	struct conf_thread t;
	struct thread_probe p = { NULL, NULL, 0 };
	int rv;

	t.use_thread_exit = 1;
	rv = conf_thread_start(&t, "conf_exit", probe_fn, &p);
	CHECK_RV("rumpuser_thread_create(mustjoin)", rv, 0);
	rv = conf_thread_join(&t);
	CHECK_RV("rumpuser_thread_join of a thread that called rumpuser_thread_exit", rv, 0);
	CHECK(p.ran == 1, "the thread did not run before rumpuser_thread_exit");
}

static void *detached_fn(void *arg)
{
	__atomic_store_n((int *)arg, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void thread_detached(void)
{
	static int ran;
	void *cookie = NULL;
	int64_t deadline;
	int rv;

	ran = 0;
	rv = rumpuser_thread_create(detached_fn, &ran, "conf_detached", 0, 0, -1, &cookie);
	CHECK_RV("rumpuser_thread_create(mustjoin = 0)", rv, 0);
	deadline = conf_now_ns() + CONF_SLACK_NS;
	while (!__atomic_load_n(&ran, __ATOMIC_ACQUIRE) && conf_now_ns() < deadline)
		conf_sleep_ms(1);
	CHECK(ran == 1, "a detached thread did not run within %lld ms",
	    (long long)(CONF_SLACK_NS / MS));
}

/* Each host thread sees its own lwp; a new thread starts with none until SET. */
static void *bare_fn(void *arg)
{
	struct thread_probe *p = arg;
	struct lwp *before = rumpuser_curlwp();

	rumpuser_curlwpop(RUMPUSER_LWP_SET, p->expected);
	p->seen = rumpuser_curlwp();
	rumpuser_curlwpop(RUMPUSER_LWP_CLEAR, p->expected);
	if (before != NULL || rumpuser_curlwp() != NULL)
		p->seen = NULL;
	__atomic_store_n(&p->ran, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void curlwp_per_thread(void)
{
	struct lwp *me = rumpuser_curlwp();
	struct thread_probe p;
	struct lwp *other;
	void *cookie = NULL;
	int rv;

	CHECK(me != NULL && me->magic == FK_LWP_MAGIC, "curlwp of the main thread is %p", me);
	other = fk_lwp_create();
	p.expected = other;
	p.seen = NULL;
	p.ran = 0;
	rv = rumpuser_thread_create(bare_fn, &p, "conf_curlwp", 1, 0, -1, &cookie);
	CHECK_RV("rumpuser_thread_create", rv, 0);
	rv = rumpuser_thread_join(cookie);
	CHECK_RV("rumpuser_thread_join", rv, 0);
	fk_lwp_destroy(p.expected);
	CHECK(p.ran == 1, "the thread did not run");
	CHECK(p.seen == other, "a new thread did not start without an lwp, or SET/CLEAR failed");
	CHECK(rumpuser_curlwp() == me, "another thread's SET changed the main thread's curlwp");
}

struct slow_thread {
	int64_t hold_ns;
};

static void slow_fn(void *arg)
{
	const struct slow_thread *s = arg;
	conf_sleep_ms(s->hold_ns / MS);
}

/* Waiting in rumpuser_thread_join must give the CPU back. */
static void thread_join_releases_cpu(void)
{
	struct slow_thread s = { 50 * MS };
	struct conf_thread t;
	struct lwp *me = rumpuser_curlwp();
	int unsched, rv;

	t.use_thread_exit = 0;
	rv = conf_thread_start(&t, "conf_slow", slow_fn, &s);
	CHECK_RV("rumpuser_thread_create", rv, 0);
	unsched = me->unschedules;
	rv = conf_thread_join(&t);
	CHECK_RV("rumpuser_thread_join", rv, 0);
	CHECK(me->unschedules > unsched, "rumpuser_thread_join blocked holding the rump CPU");
}

const struct conf_case conf_cases_threads[] = {
	{ "thread_create_join", thread_create_join },
	{ "thread_exit", thread_exit_call },
	{ "thread_detached", thread_detached },
	{ "curlwp_per_thread", curlwp_per_thread },
	{ "thread_join_releases_cpu", thread_join_releases_cpu },
	{ NULL, NULL },
};
