/*
 * The kernel test programs' case harness: a case is a bool function that uses CHECK; run()
 * prints `case NAME: PASS` or `case NAME: FAIL why` and finish() prints XTF's result line
 * and gives main's return value (0, or 5 for FAILURE).
 */
#ifndef MK_TEST_CASE_H
#define MK_TEST_CASE_H

#include <mk/console.h>
#include <mk/lib.h>
#include <mk/types.h>

static int case_failed;
static char case_why[200];

#define CHECK(cond, ...) do { if (!(cond)) { mk_snprintf(case_why, sizeof(case_why), __VA_ARGS__); \
	return false; } } while (0)

static void run(const char *name, bool (*fn)(void))
{
	case_why[0] = 0;
	if (fn()) {
		mk_printk("case %s: PASS\n", name);
	} else {
		mk_printk("case %s: FAIL %s\n", name, case_why);
		case_failed++;
	}
}

static int finish(void)
{
	mk_printk("Test result: %s\n", case_failed ? "FAILURE" : "SUCCESS");
	return case_failed ? 5 : 0;
}

#endif
