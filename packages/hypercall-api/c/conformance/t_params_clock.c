/* Host parameters and clocks. */
#include "conf.h"

static void getparam_ncpu(void)
{
	char buf[32];
	const char *p;
	long n = 0;
	int rv;

	conf_memset(buf, 0, sizeof(buf));
	rv = rumpuser_getparam(RUMPUSER_PARAM_NCPU, buf, sizeof(buf));
	CHECK_RV("rumpuser_getparam(_RUMPUSER_NCPU)", rv, 0);
	CHECK(buf[0] != '\0', "_RUMPUSER_NCPU is an empty string");
	for (p = buf; *p != '\0'; p++) {
		CHECK(*p >= '0' && *p <= '9', "_RUMPUSER_NCPU is \"%s\", not a decimal number", buf);
		n = n * 10 + (*p - '0');
	}
	CHECK(n >= 1 && n <= 4096, "_RUMPUSER_NCPU is %ld, expected 1..4096", n);
}

static void getparam_hostname(void)
{
	char buf[256];
	int rv;

	conf_memset(buf, 0, sizeof(buf));
	rv = rumpuser_getparam(RUMPUSER_PARAM_HOSTNAME, buf, sizeof(buf));
	CHECK_RV("rumpuser_getparam(_RUMPUSER_HOSTNAME)", rv, 0);
	CHECK(buf[0] != '\0', "_RUMPUSER_HOSTNAME is an empty string");
	CHECK(conf_strlen(buf) < sizeof(buf), "_RUMPUSER_HOSTNAME is not NUL-terminated");
}

/* Optional ("if known"): ENOENT is allowed, anything else must be a positive number. */
static void getparam_cpu_frequency(void)
{
	char buf[32];
	const char *p;
	int rv;

	conf_memset(buf, 0, sizeof(buf));
	rv = rumpuser_getparam(RUMPUSER_PARAM_CPU_FREQUENCY, buf, sizeof(buf));
	if (rv == RUMPXEN_NETBSD_ENOENT) {
		conf_skip("the target does not know its CPU frequency (ENOENT, allowed)");
		return;
	}
	CHECK_RV("rumpuser_getparam(_RUMPUSER_CPU_FREQUENCY)", rv, 0);
	CHECK(buf[0] >= '1' && buf[0] <= '9', "_RUMPUSER_CPU_FREQUENCY is \"%s\"", buf);
	for (p = buf; *p != '\0'; p++)
		CHECK(*p >= '0' && *p <= '9', "_RUMPUSER_CPU_FREQUENCY is \"%s\", not a number", buf);
}

static void getparam_unknown(void)
{
	char buf[16];
	int rv = rumpuser_getparam("RUMPXEN_CONFORMANCE_NEVER_SET", buf, sizeof(buf));

	CHECK_RV("rumpuser_getparam of a name nobody set", rv, RUMPXEN_NETBSD_ENOENT);
}

/* A value that does not fit must be refused, and the buffer not written past its end. */
static void getparam_too_small(void)
{
	char buf[4];
	int rv;

	conf_memset(buf, 'x', sizeof(buf));
	rv = rumpuser_getparam(RUMPUSER_PARAM_NCPU, buf, 1);
	CHECK_RV("rumpuser_getparam(_RUMPUSER_NCPU) into 1 byte", rv, RUMPXEN_NETBSD_E2BIG);
	CHECK(buf[1] == 'x' && buf[2] == 'x', "rumpuser_getparam wrote past buflen");
}

static void clock_monotonic(void)
{
	int64_t sec, prev = 0;
	long nsec;
	int i, rv;

	for (i = 0; i < 1000; i++) {
		int64_t now;
		rv = rumpuser_clock_gettime(RUMPUSER_CLOCK_ABSMONO, &sec, &nsec);
		CHECK_RV("rumpuser_clock_gettime(ABSMONO)", rv, 0);
		CHECK(nsec >= 0 && nsec < 1000000000L, "ABSMONO nanoseconds out of range: %ld", nsec);
		now = sec * 1000000000LL + nsec;
		CHECK(now >= prev, "ABSMONO went backwards: %lld after %lld", (long long)now,
		    (long long)prev);
		prev = now;
	}
}

static void clock_wall(void)
{
	int64_t sec;
	long nsec;
	int rv = rumpuser_clock_gettime(RUMPUSER_CLOCK_RELWALL, &sec, &nsec);

	CHECK_RV("rumpuser_clock_gettime(RELWALL)", rv, 0);
	/* 2020-01-01T00:00:00Z: a wall clock before that is not set. */
	CHECK(sec > 1577836800LL, "RELWALL reads %lld s since the epoch, before 2020",
	    (long long)sec);
	CHECK(nsec >= 0 && nsec < 1000000000L, "RELWALL nanoseconds out of range: %ld", nsec);
}

static void clock_sleep_relative(void)
{
	struct lwp *me = rumpuser_curlwp();
	int unsched = me->unschedules;
	int64_t t0 = conf_now_ns(), dt;
	int rv = rumpuser_clock_sleep(RUMPUSER_CLOCK_RELWALL, 0, 30 * MS);

	dt = conf_now_ns() - t0;
	CHECK_RV("rumpuser_clock_sleep(RELWALL, 30 ms)", rv, 0);
	CHECK(dt >= 30 * MS, "a 30 ms relative sleep returned after %lld ns", (long long)dt);
	CHECK(dt < 30 * MS + CONF_SLACK_NS, "a 30 ms relative sleep took %lld ns", (long long)dt);
	CHECK(me->unschedules > unsched, "rumpuser_clock_sleep kept the rump CPU while sleeping");
}

static void clock_sleep_absolute(void)
{
	int64_t target = conf_now_ns() + 30 * MS, now;
	int rv = rumpuser_clock_sleep(RUMPUSER_CLOCK_ABSMONO, target / 1000000000LL,
	    (long)(target % 1000000000LL));

	now = conf_now_ns();
	CHECK_RV("rumpuser_clock_sleep(ABSMONO, now + 30 ms)", rv, 0);
	CHECK(now >= target, "an absolute sleep returned %lld ns before its deadline",
	    (long long)(target - now));
	CHECK(now < target + CONF_SLACK_NS, "an absolute sleep overslept by %lld ns",
	    (long long)(now - target));
	/* A deadline in the past returns at once. */
	target = conf_now_ns();
	rv = rumpuser_clock_sleep(RUMPUSER_CLOCK_ABSMONO, 0, 1);
	CHECK_RV("rumpuser_clock_sleep(ABSMONO, a past time)", rv, 0);
	CHECK(conf_now_ns() - target < CONF_SLACK_NS, "a sleep until the past blocked");
}

const struct conf_case conf_cases_params_clock[] = {
	{ "getparam_ncpu", getparam_ncpu },
	{ "getparam_hostname", getparam_hostname },
	{ "getparam_cpu_frequency", getparam_cpu_frequency },
	{ "getparam_unknown", getparam_unknown },
	{ "getparam_too_small", getparam_too_small },
	{ "clock_monotonic", clock_monotonic },
	{ "clock_wall", clock_wall },
	{ "clock_sleep_relative", clock_sleep_relative },
	{ "clock_sleep_absolute", clock_sleep_absolute },
	{ NULL, NULL },
};
