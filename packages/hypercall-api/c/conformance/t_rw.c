/* Reader/writer locks: sharing, exclusion, held queries, upgrade and downgrade. */
#include "conf.h"

struct rw_probe {
	struct rumpuser_rw *rw;
	int mode;
	volatile int try_rv;
	volatile int held_reader;
	volatile int held_writer;
	volatile int entered;
	volatile int release;
};

/* From another lwp: try the lock in probe->mode, record what held() says, let go. */
static void try_fn(void *arg)
{
	struct rw_probe *p = arg;
	int held;

	p->try_rv = rumpuser_rw_tryenter(p->mode, p->rw);
	rumpuser_rw_held(RUMPUSER_RW_READER, p->rw, &held);
	p->held_reader = held;
	rumpuser_rw_held(RUMPUSER_RW_WRITER, p->rw, &held);
	p->held_writer = held;
	if (p->try_rv == 0)
		rumpuser_rw_exit(p->rw);
}

static int probe_from_other_thread(struct rw_probe *p, int mode)
{
	struct conf_thread t;
	int rv;

	p->mode = mode;
	t.use_thread_exit = 0;
	rv = conf_thread_start(&t, "conf_rwprobe", try_fn, p);
	if (rv == 0)
		rv = conf_thread_join(&t);
	return rv;
}

static void rw_shared_readers(void)
{
	struct rw_probe p = { 0 };
	int held = 0, rv;

	rumpuser_rw_init(&p.rw);
	rumpuser_rw_enter(RUMPUSER_RW_READER, p.rw);
	rumpuser_rw_held(RUMPUSER_RW_READER, p.rw, &held);
	CHECK(held, "rumpuser_rw_held(READER) is 0 while the caller holds it for reading");
	CHECK_RV("thread create/join", probe_from_other_thread(&p, RUMPUSER_RW_READER), 0);
	CHECK(p.try_rv == 0, "a second reader was refused (%d): read holds must be shared",
	    p.try_rv);
	CHECK_RV("thread create/join", probe_from_other_thread(&p, RUMPUSER_RW_WRITER), 0);
	CHECK(p.try_rv == RUMPXEN_NETBSD_EBUSY,
	    "rumpuser_rw_tryenter(WRITER) on a read-held lock returned %d, expected EBUSY (16)",
	    p.try_rv);
	CHECK(p.held_writer == 0, "rumpuser_rw_held(WRITER) is true on a read-held lock");
	rumpuser_rw_exit(p.rw);
	rumpuser_rw_held(RUMPUSER_RW_READER, p.rw, &held);
	CHECK(!held, "rumpuser_rw_held(READER) is still true after the last reader left");
	rv = rumpuser_rw_tryenter(RUMPUSER_RW_WRITER, p.rw);
	CHECK_RV("rumpuser_rw_tryenter(WRITER) on a free lock", rv, 0);
	rumpuser_rw_exit(p.rw);
	rumpuser_rw_destroy(p.rw);
}

static void rw_writer_exclusive(void)
{
	struct rw_probe p = { 0 };
	int held = 0;

	rumpuser_rw_init(&p.rw);
	rumpuser_rw_enter(RUMPUSER_RW_WRITER, p.rw);
	rumpuser_rw_held(RUMPUSER_RW_WRITER, p.rw, &held);
	CHECK(held, "rumpuser_rw_held(WRITER) is 0 for the writer itself");
	CHECK_RV("thread create/join", probe_from_other_thread(&p, RUMPUSER_RW_READER), 0);
	CHECK(p.try_rv == RUMPXEN_NETBSD_EBUSY,
	    "rumpuser_rw_tryenter(READER) on a write-held lock returned %d, expected EBUSY (16)",
	    p.try_rv);
	CHECK(p.held_writer == 0,
	    "rumpuser_rw_held(WRITER) is true for an lwp that is not the writer");
	CHECK_RV("thread create/join", probe_from_other_thread(&p, RUMPUSER_RW_WRITER), 0);
	CHECK(p.try_rv == RUMPXEN_NETBSD_EBUSY, "a second writer got in (%d)", p.try_rv);
	rumpuser_rw_exit(p.rw);
	rumpuser_rw_held(RUMPUSER_RW_WRITER, p.rw, &held);
	CHECK(!held, "rumpuser_rw_held(WRITER) still true after exit");
	rumpuser_rw_destroy(p.rw);
}

/* Holds a read lock until told to let go. */
static void reader_fn(void *arg)
{
	struct rw_probe *p = arg;

	rumpuser_rw_enter(RUMPUSER_RW_READER, p->rw);
	__atomic_store_n(&p->entered, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&p->release, __ATOMIC_ACQUIRE))
		conf_sleep_ms(1);
	rumpuser_rw_exit(p->rw);
}

static int wait_flag(volatile int *flag, int64_t ns)
{
	int64_t deadline = conf_now_ns() + ns;

	while (!__atomic_load_n(flag, __ATOMIC_ACQUIRE)) {
		if (conf_now_ns() > deadline)
			return 0;
		conf_sleep_ms(1);
	}
	return 1;
}

static void rw_tryupgrade(void)
{
	struct rw_probe p = { 0 };
	struct conf_thread t;
	int held = 0, rv;

	rumpuser_rw_init(&p.rw);
	rumpuser_rw_enter(RUMPUSER_RW_READER, p.rw);
	rv = rumpuser_rw_tryupgrade(p.rw);
	CHECK_RV("rumpuser_rw_tryupgrade as the only reader", rv, 0);
	rumpuser_rw_held(RUMPUSER_RW_WRITER, p.rw, &held);
	CHECK(held, "after a successful upgrade the caller does not hold it for writing");
	rumpuser_rw_exit(p.rw);

	/* With a second reader inside, upgrading must fail and keep the read hold. */
	t.use_thread_exit = 0;
	rv = conf_thread_start(&t, "conf_reader", reader_fn, &p);
	CHECK_RV("rumpuser_thread_create", rv, 0);
	CHECK(wait_flag(&p.entered, CONF_SLACK_NS), "the reader thread never got the lock");
	rumpuser_rw_enter(RUMPUSER_RW_READER, p.rw);
	rv = rumpuser_rw_tryupgrade(p.rw);
	rumpuser_rw_held(RUMPUSER_RW_WRITER, p.rw, &held);
	__atomic_store_n(&p.release, 1, __ATOMIC_RELEASE);
	CHECK(rv == RUMPXEN_NETBSD_EBUSY,
	    "rumpuser_rw_tryupgrade with another reader inside returned %d, expected EBUSY (16)",
	    rv);
	CHECK(!held, "a failed upgrade left the caller holding the lock for writing");
	CHECK_RV("rumpuser_thread_join", conf_thread_join(&t), 0);
	rumpuser_rw_held(RUMPUSER_RW_READER, p.rw, &held);
	CHECK(held, "a failed upgrade dropped the caller's read hold");
	rv = rumpuser_rw_tryupgrade(p.rw);
	CHECK_RV("rumpuser_rw_tryupgrade once the other reader left", rv, 0);
	rumpuser_rw_exit(p.rw);
	rumpuser_rw_destroy(p.rw);
}

/* A reader blocked by a writer gets in when the writer downgrades, with no writer between. */
static void rw_downgrade(void)
{
	struct rw_probe p = { 0 };
	struct conf_thread t;
	int held = 0, rv;

	rumpuser_rw_init(&p.rw);
	rumpuser_rw_enter(RUMPUSER_RW_WRITER, p.rw);
	t.use_thread_exit = 0;
	rv = conf_thread_start(&t, "conf_reader", reader_fn, &p);
	CHECK_RV("rumpuser_thread_create", rv, 0);
	conf_sleep_ms(20);
	CHECK(!p.entered, "a reader got in while a writer held the lock");
	rumpuser_rw_downgrade(p.rw);
	rumpuser_rw_held(RUMPUSER_RW_WRITER, p.rw, &held);
	CHECK(!held, "after downgrade the caller still holds the lock for writing");
	rumpuser_rw_held(RUMPUSER_RW_READER, p.rw, &held);
	CHECK(held, "after downgrade the lock is not held for reading");
	rv = rumpuser_rw_tryenter(RUMPUSER_RW_WRITER, p.rw);
	CHECK(rv == RUMPXEN_NETBSD_EBUSY, "a writer got in right after a downgrade (%d)", rv);
	CHECK(wait_flag(&p.entered, CONF_SLACK_NS),
	    "the waiting reader did not get in after the downgrade");
	__atomic_store_n(&p.release, 1, __ATOMIC_RELEASE);
	rumpuser_rw_exit(p.rw);
	CHECK_RV("rumpuser_thread_join", conf_thread_join(&t), 0);
	rumpuser_rw_destroy(p.rw);
}

#define RW_THREADS 4
#define RW_ROUNDS 150

struct rw_shared {
	struct rumpuser_rw *rw;
	long a, b;          /* writers keep a == b; readers must never see them differ */
	volatile int torn;
	volatile int writers_inside;
};

static void rw_worker(void *arg)
{
	struct rw_shared *s = arg;
	int i, writer = rumpuser_curlwp()->id & 1;

	for (i = 0; i < RW_ROUNDS; i++) {
		if (writer) {
			rumpuser_rw_enter(RUMPUSER_RW_WRITER, s->rw);
			if (__atomic_add_fetch(&s->writers_inside, 1, __ATOMIC_SEQ_CST) != 1)
				s->torn = 1;
			s->a++;
			if (i % 50 == 0)
				conf_sleep_ms(1); /* releases the CPU holding the write lock */
			s->b++;
			__atomic_sub_fetch(&s->writers_inside, 1, __ATOMIC_SEQ_CST);
			rumpuser_rw_exit(s->rw);
		} else {
			rumpuser_rw_enter(RUMPUSER_RW_READER, s->rw);
			if (s->a != s->b || s->writers_inside != 0)
				s->torn = 1;
			if (i % 50 == 0)
				conf_sleep_ms(1);
			rumpuser_rw_exit(s->rw);
		}
	}
}

static void rw_contention(void)
{
	struct rw_shared s = { 0 };
	struct conf_thread t[RW_THREADS];
	int i, rv;

	rumpuser_rw_init(&s.rw);
	for (i = 0; i < RW_THREADS; i++) {
		t[i].use_thread_exit = 0;
		rv = conf_thread_start(&t[i], "conf_rwwork", rw_worker, &s);
		CHECK_RV("rumpuser_thread_create", rv, 0);
	}
	for (i = 0; i < RW_THREADS; i++)
		CHECK_RV("rumpuser_thread_join", conf_thread_join(&t[i]), 0);
	rumpuser_rw_destroy(s.rw);
	CHECK(!s.torn, "a reader saw a half-done write, or two writers were inside together");
	CHECK(s.a == s.b && s.a == (long)(RW_THREADS / 2) * RW_ROUNDS,
	    "writers made %ld/%ld updates, expected %d", s.a, s.b, (RW_THREADS / 2) * RW_ROUNDS);
}

const struct conf_case conf_cases_rw[] = {
	{ "rw_shared_readers", rw_shared_readers },
	{ "rw_writer_exclusive", rw_writer_exclusive },
	{ "rw_tryupgrade", rw_tryupgrade },
	{ "rw_downgrade", rw_downgrade },
	{ "rw_contention", rw_contention },
	{ NULL, NULL },
};
