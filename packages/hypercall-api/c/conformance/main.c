/*
 * rumpuser conformance: the suite's entry point. On posix the C runtime calls main; on Xen
 * the guest kernel calls it in its first thread. It initialises the hypercall layer as a
 * rump kernel would, runs every case and ends with XTF's result line and exit status.
 */
#include "conf.h"

void conf_case_begin(void);
enum case_outcome conf_case_end(const char **why);
int conf_case_was_self_reported(void);

int conf_init_mismatch_rv;

static const struct conf_case *const case_lists[] = {
	conf_cases_init_memory, conf_cases_params_clock, conf_cases_console_random,
	conf_cases_threads, conf_cases_mutex, conf_cases_rw, conf_cases_cv, conf_cases_files,
	conf_cases_dl,
};

#define NLISTS (sizeof(case_lists) / sizeof(case_lists[0]))

static int count_cases(void)
{
	const struct conf_case *c;
	unsigned i;
	int n = 0;

	for (i = 0; i < NLISTS; i++)
		for (c = case_lists[i]; c->name != NULL; c++)
			n++;
	return n;
}

static void run_case(const struct conf_case *c, int *passed, int *failed, int *skipped)
{
	const char *why;
	struct lwp *me = rumpuser_curlwp();
	int violations_before = fk_violations();
	enum case_outcome outcome;

	conf_watchdog_case(c->name);
	conf_case_begin();
	c->run();
	/* Whatever the case did, the suite's main lwp must be back, holding its CPU. */
	if (rumpuser_curlwp() != me)
		conf_fail("the calling thread's curlwp changed across the case");
	else if (!me->on_cpu)
		conf_fail("a hypercall returned without retaking the rump CPU");
	else if (fk_violations() != violations_before)
		conf_fail("scheduling protocol broken: %s", fk_last_violation());
	outcome = conf_case_end(&why);
	switch (outcome) {
	case CASE_PASS:
		(*passed)++;
		if (conf_case_was_self_reported())
			return;
		break;
	case CASE_FAIL:
		(*failed)++;
		break;
	case CASE_SKIP:
		(*skipped)++;
		break;
	}
	case_print(c->name, outcome, why);
}

int main(int argc, char **argv)
{
	const struct conf_case *c;
	char line[160];
	int passed = 0, failed = 0, skipped = 0;
	unsigned i;

	/* A kernel asking for another interface version must be refused before anything. */
	conf_init_mismatch_rv = rumpuser_init(RUMPUSER_VERSION + 1, &fk_hyperup);
	if (rumpuser_init(RUMPUSER_VERSION, &fk_hyperup) != 0) {
		conf_line("rumpuser_init(RUMPUSER_VERSION) failed: nothing else can run");
		rumpuser_exit(case_print_result(CASE_RESULT_ERROR));
	}
	/* `--list` names the cases without running them, so a driver can report each by name. */
	if (argc > 1 && argv[1] != NULL && conf_strcmp(argv[1], "--list") == 0) {
		for (i = 0; i < NLISTS; i++)
			for (c = case_lists[i]; c->name != NULL; c++) {
				conf_snprintf(line, sizeof(line), "case %s: LISTED", c->name);
				conf_line(line);
			}
		rumpuser_exit(CASE_RESULT_SUCCESS);
	}
	fk_boot();
	conf_watchdog_start();

	conf_snprintf(line, sizeof(line), "conformance: rumpuser v%d, %d cases",
	    RUMPUSER_VERSION, count_cases());
	conf_line(line);
	for (i = 0; i < NLISTS; i++)
		for (c = case_lists[i]; c->name != NULL; c++)
			run_case(c, &passed, &failed, &skipped);

	conf_watchdog_case(NULL);
	conf_snprintf(line, sizeof(line), "conformance: %d passed, %d failed, %d skipped",
	    passed, failed, skipped);
	conf_line(line);
	rumpuser_exit(case_print_result(case_result_of(passed, failed)));
}
