/*
 * The case protocol of rumpxen's guest test programs, and a small runner for them.
 *
 * Protocol (XTF's, with case lines; @rumpxen/protocol's verdict.ts reads it): one line
 * `case NAME: PASS`, `case NAME: FAIL why` or `case NAME: SKIP why` per case, then a last line
 * `Test result: SUCCESS|SKIP|ERROR|FAILURE|CRASH`, and the exit status that goes with the
 * result, 0/3/4/5/6.
 *
 * Runner: a case is a `bool name(void)` that returns true at its end and checks with
 * CHECK(cond, fmt, ...); case_run() runs it and prints its line, case_finish() prints the
 * result line and gives main's return value:
 *	static bool case_pages(void) { CHECK(p != NULL, "no page"); return true; }
 *	int main(void) { case_run("pages", case_pages); return case_finish(); }
 *
 * Header-only and freestanding (no libc, no headers): a program defines, before including it,
 *	CASE_VSNPRINTF(buf, size, fmt, ap)  its vsnprintf, with a __builtin_va_list
 *	CASE_PUTLINE(text)                  prints one line (text has no newline)
 * and may define
 *	CASE_CHECK_FAIL    what CHECK calls with its reason (default case_fail)
 *	CASE_CHECK_RETURN  what CHECK returns from the case (default 0: false); empty for void cases
 * The runner's state (struct case_state) is one per translation unit: a program's one file,
 * or the one file of a larger suite that keeps outcomes for the rest.
 */
#ifndef RUMPXEN_CASE_H
#define RUMPXEN_CASE_H

#if !defined(CASE_VSNPRINTF) || !defined(CASE_PUTLINE)
#error "define CASE_VSNPRINTF(buf, size, fmt, ap) and CASE_PUTLINE(text) before including rumpxen/case.h"
#endif

/* ---- the protocol ------------------------------------------------------------------------ */

enum case_outcome { CASE_PASS, CASE_FAIL, CASE_SKIP };

/* XTF's results; each one's value is the exit status that goes with it. */
enum case_result {
	CASE_RESULT_SUCCESS = 0,
	CASE_RESULT_SKIP = 3,
	CASE_RESULT_ERROR = 4,
	CASE_RESULT_FAILURE = 5,
	CASE_RESULT_CRASH = 6,
};

#define CASE_RESULT_PREFIX "Test result: "

static inline const char *case_result_word(enum case_result result)
{
	switch (result) {
	case CASE_RESULT_SUCCESS:
		return "SUCCESS";
	case CASE_RESULT_SKIP:
		return "SKIP";
	case CASE_RESULT_ERROR:
		return "ERROR";
	case CASE_RESULT_FAILURE:
		return "FAILURE";
	case CASE_RESULT_CRASH:
		break;
	}
	return "CRASH";
}

/*
 * snprintf over CASE_VSNPRINTF. (Names where the hooks expand start with cs_, so that a hook
 * named like one of them, say `line`, still means the program's.)
 */
static inline __attribute__((format(printf, 3, 4)))
int case_format(char *cs_buf, __SIZE_TYPE__ cs_size, const char *cs_fmt, ...)
{
	__builtin_va_list cs_ap;
	int cs_n;

	__builtin_va_start(cs_ap, cs_fmt);
	cs_n = CASE_VSNPRINTF(cs_buf, cs_size, cs_fmt, cs_ap);
	__builtin_va_end(cs_ap);
	return cs_n;
}

/* Prints `case NAME: PASS`, `case NAME: FAIL why` or `case NAME: SKIP why`. */
static inline void case_print(const char *cs_name, enum case_outcome cs_outcome, const char *cs_why)
{
	char cs_line[320];

	if (cs_outcome == CASE_PASS)
		case_format(cs_line, sizeof(cs_line), "case %s: PASS", cs_name);
	else
		case_format(cs_line, sizeof(cs_line), "case %s: %s %s", cs_name,
		    cs_outcome == CASE_FAIL ? "FAIL" : "SKIP", cs_why);
	CASE_PUTLINE(cs_line);
}

/* Prints `Test result: WORD` and gives the exit status that goes with the result. */
static inline int case_print_result(enum case_result cs_result)
{
	char cs_line[32];

	case_format(cs_line, sizeof(cs_line), CASE_RESULT_PREFIX "%s", case_result_word(cs_result));
	CASE_PUTLINE(cs_line);
	return (int)cs_result;
}

/* A run's result from its counts: FAILURE when a case failed, SKIP when none passed, else SUCCESS. */
static inline enum case_result case_result_of(int passed, int failed)
{
	return failed > 0 ? CASE_RESULT_FAILURE : passed == 0 ? CASE_RESULT_SKIP : CASE_RESULT_SUCCESS;
}

/* ---- the running case --------------------------------------------------------------------- */

struct case_state {
	int claimed;                /* a fail or skip has decided the running case: the first wins */
	enum case_outcome outcome;
	char why[240];
	int passed, failed, skipped;
};

static inline struct case_state *case_state(void)
{
	static struct case_state state;
	return &state;
}

/* Decides the running case (fail or skip) with a reason, unless it is decided: safe from any thread. */
static inline void case_vclaim(enum case_outcome cs_outcome, const char *cs_fmt, __builtin_va_list cs_ap)
{
	struct case_state *cs_s = case_state();

	if (__atomic_exchange_n(&cs_s->claimed, 1, __ATOMIC_ACQ_REL))
		return;
	CASE_VSNPRINTF(cs_s->why, sizeof(cs_s->why), cs_fmt, cs_ap);
	cs_s->outcome = cs_outcome;
}

/* Fails the running case with a printf-style reason (the first fail or skip wins). */
static inline __attribute__((format(printf, 1, 2))) void case_fail(const char *fmt, ...)
{
	__builtin_va_list ap;

	__builtin_va_start(ap, fmt);
	case_vclaim(CASE_FAIL, fmt, ap);
	__builtin_va_end(ap);
}

/* Skips the running case with a printf-style reason (the first fail or skip wins). */
static inline __attribute__((format(printf, 1, 2))) void case_skip(const char *fmt, ...)
{
	__builtin_va_list ap;

	__builtin_va_start(ap, fmt);
	case_vclaim(CASE_SKIP, fmt, ap);
	__builtin_va_end(ap);
}

/* Whether the running case has failed or skipped (its work can stop). */
static inline int case_stopped(void)
{
	return __atomic_load_n(&case_state()->claimed, __ATOMIC_ACQUIRE);
}

/* Starts a case: undecided, no reason. */
static inline void case_begin(void)
{
	struct case_state *s = case_state();

	s->outcome = CASE_PASS;
	s->why[0] = '\0';
	__atomic_store_n(&s->claimed, 0, __ATOMIC_RELEASE);
}

/* The running case's outcome (PASS unless failed or skipped) and its reason. */
static inline enum case_outcome case_end(const char **why)
{
	struct case_state *s = case_state();

	*why = s->why;
	return case_stopped() ? s->outcome : CASE_PASS;
}

#ifndef CASE_CHECK_FAIL
#define CASE_CHECK_FAIL case_fail
#endif
#ifndef CASE_CHECK_RETURN
#define CASE_CHECK_RETURN 0
#endif

/* Fails the running case with a printf-style reason and leaves it, when cond is false. */
#define CHECK(cond, ...) do { \
	if (!(cond)) { \
		CASE_CHECK_FAIL(__VA_ARGS__); \
		return CASE_CHECK_RETURN; \
	} \
} while (0)

/* ---- the runner --------------------------------------------------------------------------- */

/* Counts a case's outcome toward the result and prints its line. */
static inline void case_report(const char *name, enum case_outcome outcome, const char *why)
{
	struct case_state *s = case_state();

	if (outcome == CASE_PASS)
		s->passed++;
	else if (outcome == CASE_FAIL)
		s->failed++;
	else
		s->skipped++;
	case_print(name, outcome, why);
}

/*
 * Runs one case and reports it: PASS when it returns true; else SKIP after case_skip, or FAIL
 * with the reason of its failed CHECK.
 */
static inline void case_run(const char *name, _Bool (*fn)(void))
{
	const char *why;
	enum case_outcome outcome;

	case_begin();
	outcome = fn() ? CASE_PASS : case_end(&why) == CASE_SKIP ? CASE_SKIP : CASE_FAIL;
	case_end(&why);
	case_report(name, outcome, why);
}

/* Prints the result line of the cases reported so far and gives main's return value. */
static inline int case_finish(void)
{
	struct case_state *s = case_state();

	return case_print_result(case_result_of(s->passed, s->failed));
}

#endif
