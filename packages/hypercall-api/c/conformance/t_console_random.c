/* Console output, randomness, errno numbering and signals. */
#include "conf.h"

void conf_case_self_reported(void);

/* This case prints its own PASS line, one character at a time: the runner must see it. */
static void console_putchar(void)
{
	const char *line = "case console_putchar: PASS\n";

	conf_case_self_reported();
	while (*line != '\0')
		rumpuser_putchar(*line++);
}

/* The runner also checks this exact line: "console: dprintf 42 -7 ff abc". */
static void console_dprintf(void)
{
	rumpuser_dprintf("console: dprintf %d %d %x %s\n", 42, -7, 255u, "abc");
}

static int all_zero(const unsigned char *p, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

static void getrandom_blocking(void)
{
	unsigned char a[64], b[64];
	size_t got = 0;
	int rv;

	conf_memset(a, 0, sizeof(a));
	conf_memset(b, 0, sizeof(b));
	rv = rumpuser_getrandom(a, sizeof(a), 0, &got);
	CHECK_RV("rumpuser_getrandom(64, 0)", rv, 0);
	CHECK(got == sizeof(a), "rumpuser_getrandom without NOWAIT returned %zu of 64 bytes", got);
	rv = rumpuser_getrandom(b, sizeof(b), RUMPUSER_RANDOM_HARD, &got);
	CHECK_RV("rumpuser_getrandom(64, HARD)", rv, 0);
	CHECK(got == sizeof(b), "rumpuser_getrandom(HARD) returned %zu of 64 bytes", got);
	CHECK(!all_zero(a, sizeof(a)) && !all_zero(b, sizeof(b)), "random bytes are all zero");
	CHECK(conf_memcmp(a, b, sizeof(a)) != 0, "two random draws of 64 bytes are identical");
}

static void getrandom_nowait(void)
{
	unsigned char buf[32];
	size_t got = 1000;
	int rv = rumpuser_getrandom(buf, sizeof(buf), RUMPUSER_RANDOM_NOWAIT, &got);

	CHECK(rv == 0 || rv == RUMPXEN_NETBSD_EAGAIN,
	    "rumpuser_getrandom(NOWAIT) returned %d, expected 0 or EAGAIN (35)", rv);
	CHECK(got <= sizeof(buf), "rumpuser_getrandom(NOWAIT) claims %zu bytes of 32", got);
	CHECK(rv != 0 || got > 0, "rumpuser_getrandom(NOWAIT) succeeded with no bytes");
}

/* Errors come back in NetBSD numbering, whatever the host uses. */
static void errno_netbsd_numbers(void)
{
	struct rumpuser_mtx *mtx;
	struct rumpuser_cv *cv;
	char buf[8];
	int rv;

	rumpuser_seterrno(RUMPXEN_NETBSD_EAGAIN);
	rv = rumpuser_getparam("RUMPXEN_CONFORMANCE_NEVER_SET", buf, sizeof(buf));
	CHECK_RV("rumpuser_getparam (unset name)", rv, RUMPXEN_NETBSD_ENOENT);

	rumpuser_mutex_init(&mtx, RUMPUSER_MTX_KMUTEX);
	rumpuser_cv_init(&cv);
	rumpuser_mutex_enter(mtx);
	rv = rumpuser_cv_timedwait(cv, mtx, 0, 1 * MS);
	rumpuser_mutex_exit(mtx);
	rumpuser_cv_destroy(cv);
	rumpuser_mutex_destroy(mtx);
	CHECK(rv == RUMPXEN_NETBSD_ETIMEDOUT,
	    "rumpuser_cv_timedwait timed out with %d, expected NetBSD ETIMEDOUT (60)", rv);
}

static void kill_self_null_signal(void)
{
	int rv;

	rv = rumpuser_kill(RUMPUSER_PID_SELF, 0);
	CHECK_RV("rumpuser_kill(RUMPUSER_PID_SELF, 0)", rv, 0);
}

const struct conf_case conf_cases_console_random[] = {
	{ "console_putchar", console_putchar },
	{ "console_dprintf", console_dprintf },
	{ "getrandom_blocking", getrandom_blocking },
	{ "getrandom_nowait", getrandom_nowait },
	{ "errno_netbsd_numbers", errno_netbsd_numbers },
	{ "kill_self_null_signal", kill_self_null_signal },
	{ NULL, NULL },
};
