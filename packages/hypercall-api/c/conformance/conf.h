/*
 * The rumpuser conformance suite: test clients that play the part of a rump kernel.
 *
 * Freestanding: only <stddef.h>/<stdint.h> from the compiler and the generated rumpuser.h;
 * no libc. Every line goes out through rumpuser_dprintf("%s", ...) (or rumpuser_putchar in
 * the console case), so the same objects run on every target. Protocol: rumpxen/case.h's
 * (@rumpxen/protocol), one `case NAME: PASS|FAIL reason|SKIP reason` line per case, then
 * XTF's `Test result: SUCCESS|SKIP|ERROR|FAILURE`.
 */
#ifndef RUMPXEN_CONFORMANCE_H
#define RUMPXEN_CONFORMANCE_H

#include <stddef.h>
#include <stdint.h>

#include "rumpuser.h"
#include "rumpxen/netbsd_errno.h"

/*
 * The optional hypercalls librump.so does not import (iovread, iovwrite, syncfd) are
 * referenced weakly: a target without them still links the suite, and their cases SKIP.
 * The optional ones librump does import (anonmmap, unmap, kill, dl_bootstrap) every target
 * must define anyway, so they are strong references: a weak reference would not pull them
 * out of an archive such as librumpuser.a.
 */
#pragma weak rumpuser_iovread
#pragma weak rumpuser_iovwrite
#pragma weak rumpuser_syncfd

/* SKIP the running case (and return) if the target does not define optional hypercall fn. */
#define REQUIRE_OPTIONAL(fn) do { \
	if (&fn == NULL) { \
		conf_skip(#fn " is optional and this target does not define it"); \
		return; \
	} \
} while (0)

/* ---- reporting ------------------------------------------------------------------------ */

struct conf_case {
	const char *name;
	void (*run)(void);
};

/*
 * Mark the running case failed/skipped with a printf-style reason (first call wins, from any
 * thread). The outcome is the whole suite's, kept in report.c.
 */
void conf_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void conf_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The running case has already failed or skipped: stop doing work. */
int conf_stopped(void);

/* Print one line (a NUL-terminated string without the newline) through rumpuser_dprintf. */
void conf_line(const char *text);
/* snprintf subset: %s %c %d %u %x %p %%, with l/ll/z length modifiers. */
int conf_format(char *buf, size_t size, const char *fmt, __builtin_va_list ap);
int conf_snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * The case protocol every guest test program shares. The suite runs its cases itself (main.c:
 * void cases, outcomes kept program-wide in report.c), so CHECK fails the case through
 * conf_fail and leaves it with a plain return.
 */
#define CASE_VSNPRINTF conf_format
#define CASE_PUTLINE conf_line
#define CASE_CHECK_FAIL conf_fail
#define CASE_CHECK_RETURN
#include "rumpxen/case.h"

/* Check a result against an expected NetBSD errno, naming the call (CHECK: rumpxen/case.h). */
#define CHECK_RV(call, rv, want) \
	CHECK((rv) == (want), "%s returned %d, expected %d", call, (int)(rv), (int)(want))

size_t conf_strlen(const char *s);
int conf_strcmp(const char *a, const char *b);
void conf_memset(void *p, int c, size_t n);
int conf_memcmp(const void *a, const void *b, size_t n);

/* ---- the fake rump kernel ------------------------------------------------------------- */

#define FK_LWP_MAGIC 0x6c777021u

/* What the suite's kernel knows about a thread context; opaque to the hypercall layer. */
struct lwp {
	uint32_t magic;
	int id;
	volatile int on_cpu;        /* holds one of the fake kernel's CPUs */
	volatile int unschedules;   /* hyp_backend_unschedule calls made for this lwp */
	int implicit;               /* made by hyp_schedule for a thread without an lwp */
	int outside_kernel;         /* the watchdog: never holds a CPU, blocks freely */
};

/* Number of virtual CPUs the fake kernel schedules threads on. */
#define FK_NCPU 2

extern const struct rumpuser_hyperup fk_hyperup;

/* Start the fake kernel: the calling thread becomes lwp 1 and takes a CPU. */
void fk_boot(void);
struct lwp *fk_lwp_create(void);
void fk_lwp_destroy(struct lwp *l);
/* Take/give a CPU for the current lwp, exactly as the kernel's scheduler would. */
void fk_cpu_take(void);
void fk_cpu_give(void);
/* Times a hypercall broke the protocol (called backend_unschedule without a CPU, ...). */
int fk_violations(void);
/* Which upcall went wrong last, for the failure reason. */
const char *fk_last_violation(void);
/* Number of hyp_lwproc_newlwp upcalls so far (a hypercall gave a host thread an lwp). */
int fk_newlwp_calls(void);
/*
 * Wait on cv with the scheduler's own lock as the interlock, as a rump kernel's scheduler
 * does (rump_schedlock_cv_wait): the caller holds a CPU but not that lock; the backend
 * upcalls take and release the lock around the CPU (see fake_kernel.c).
 */
void fk_schedlock_cv_wait(struct rumpuser_cv *cv);
int fk_schedlock_cv_timedwait(struct rumpuser_cv *cv, int64_t sec, int64_t nsec);
/*
 * Whether the scheduler lock can be taken within timeout_ns, without blocking (the caller
 * holds a CPU). Returns 0 if it stayed held: leaked by a hypercall; it is then released so
 * the run can go on.
 */
int fk_schedlock_takeable(int64_t timeout_ns);

/* A kernel thread of the suite: an lwp on a host thread from rumpuser_thread_create. */
struct conf_thread {
	void (*fn)(void *);
	void *arg;
	struct lwp *lwp;
	void *cookie;
	int use_thread_exit; /* leave through rumpuser_thread_exit() instead of returning */
};

/* Start fn(arg) on a new joinable thread with its own lwp; returns the create result. */
int conf_thread_start(struct conf_thread *t, const char *name, void (*fn)(void *), void *arg);
/* Join it (the caller holds a CPU; the join releases it while waiting). */
int conf_thread_join(struct conf_thread *t);

/* ---- time ------------------------------------------------------------------------------ */

int64_t conf_now_ns(void);
/* Spin (holding the CPU) for ns nanoseconds: makes another thread's contention certain. */
void conf_spin_ns(int64_t ns);
void conf_sleep_ms(int64_t ms);

#define MS 1000000LL
/* Upper bound for "should be quick" waits: generous, CI hosts and QEMU TCG are slow. */
#define CONF_SLACK_NS (5000LL * MS)

/* ---- cases, one list per file --------------------------------------------------------- */

extern const struct conf_case conf_cases_init_memory[];
extern const struct conf_case conf_cases_params_clock[];
extern const struct conf_case conf_cases_console_random[];
extern const struct conf_case conf_cases_threads[];
extern const struct conf_case conf_cases_mutex[];
extern const struct conf_case conf_cases_rw[];
extern const struct conf_case conf_cases_cv[];
extern const struct conf_case conf_cases_files[];
extern const struct conf_case conf_cases_dl[];

/*
 * Watchdog: a thread outside the kernel that ends the run with a FAIL line for the running
 * case if it takes longer than CONF_CASE_LIMIT_NS (a deadlock is a failure, not a hang).
 */
#ifndef CONF_CASE_LIMIT_NS
#define CONF_CASE_LIMIT_NS (60000LL * MS)
#endif
void conf_watchdog_start(void);
void conf_watchdog_case(const char *name);

/* Result of the version-mismatch rumpuser_init call main() makes before the real one. */
extern int conf_init_mismatch_rv;

#endif
