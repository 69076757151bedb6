/*
 * Internals of rumpuser on the rumpxen guest kernel. Every blocking path gives the rump CPU
 * back through the kernel's upcalls first (hyp_backend_unschedule) and takes it again after
 * (hyp_backend_schedule), exactly as the posix target does around host blocking.
 */
#ifndef RUMPXEN_XEN_INT_H
#define RUMPXEN_XEN_INT_H

#include <stddef.h>
#include <stdint.h>
#include <mk/types.h>
#include "rumpuser.h"
#include "rumpxen/netbsd_errno.h"

extern struct rumpuser_hyperup rx_hyp;

static inline int rx_cpu_release(void *interlock)
{
	int nlocks = 0;
	rx_hyp.hyp_backend_unschedule(0, &nlocks, interlock);
	return nlocks;
}

static inline void rx_cpu_retake(int nlocks, void *interlock)
{
	rx_hyp.hyp_backend_schedule(nlocks, interlock);
}

/* The calling thread's lwp (NULL before rumpuser_curlwpop SET). */
struct lwp *rx_curlwp(void);

/* Rump kernel threads get this much stack, with an unmapped guard page below. */
#define RX_THREAD_STACK (64 * 1024)

/* Out of memory (memory.c): allocation outcomes, for telling a lasting shortage apart. */
void rx_alloc_failed(const char *what, size_t len);
void rx_alloc_succeeded(size_t len);
/* rumpuser_getparam("RUMP_MEMLIMIT"): the environment's value or one derived from free memory. */
int rx_memlimit_param(void *buf, size_t blen);
/* The pagedaemon printed that it freed nothing for a waiting allocation. */
void rx_oom_pagedaemon_stuck(void);
/* A console line of the rump kernel that holds "panic: ". */
void rx_oom_note_panic_line(const char *line, size_t len);
/* Before a rump kernel panic is reported: ends with the out-of-memory report if memory caused it. */
void rx_oom_on_panic(void);
/* Prints the rump kernel's memory figures (registered with mk_oom_set_detail). */
void rx_oom_detail(void);
/* Thread bookkeeping for the pagedaemon watch: creation, condition-variable waits, clock ticks. */
struct mk_thread;
void rx_oom_thread_created(struct mk_thread *t, const char *name);
void rx_oom_cv_wait_begin(const void *cv);
void rx_oom_cv_wait_end(void);
void rx_oom_watch(void);

#endif
