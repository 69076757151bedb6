/*
 * The suite's watchdog: a case that deadlocks (say, a hypercall that blocks holding the
 * rump CPU) must end the run as a reported failure, not as a hang the runner has to kill.
 */
#include "conf.h"

static const char *running_case;
static int64_t case_started_ns;
static struct lwp *watchdog_lwp;

void conf_watchdog_case(const char *name)
{
	__atomic_store_n(&case_started_ns, conf_now_ns(), __ATOMIC_RELAXED);
	__atomic_store_n(&running_case, name, __ATOMIC_RELEASE);
}

static void *watchdog(void *arg)
{
	char line[200];

	(void)arg;
	rumpuser_curlwpop(RUMPUSER_LWP_SET, watchdog_lwp);
	for (;;) {
		const char *name;
		conf_sleep_ms(100);
		name = __atomic_load_n(&running_case, __ATOMIC_ACQUIRE);
		if (name == NULL ||
		    conf_now_ns() - __atomic_load_n(&case_started_ns, __ATOMIC_RELAXED) <
		    CONF_CASE_LIMIT_NS)
			continue;
		conf_snprintf(line, sizeof(line),
		    "case %s: FAIL still running after %lld s: deadlock or lost wakeup", name,
		    (long long)(CONF_CASE_LIMIT_NS / 1000000000LL));
		conf_line(line);
		conf_line("Test result: FAILURE");
		rumpuser_exit(5);
	}
	return NULL;
}

void conf_watchdog_start(void)
{
	void *cookie = NULL;

	watchdog_lwp = fk_lwp_create();
	watchdog_lwp->outside_kernel = 1;
	if (rumpuser_thread_create(watchdog, NULL, "conf_watchdog", 0, 0, -1, &cookie) != 0)
		conf_line("conformance: no watchdog thread: a deadlocked case will hang the run");
}
