/*
 * Internals shared by the posix target's hypercall files. Nothing here is exported from
 * librumpuser: every helper is hidden, only the rumpuser_* entry points are public.
 */
#ifndef RUMPXEN_POSIX_INT_H
#define RUMPXEN_POSIX_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "rumpuser.h"

#define POSIX_HIDDEN __attribute__((visibility("hidden")))

/* The upcall table the rump kernel handed to rumpuser_init(), copied once. */
extern struct rumpuser_hyperup posix_hyp POSIX_HIDDEN;

/*
 * Give the calling thread's rump CPU back before a host call that may block, and take
 * one again afterwards. `interlock` is the mutex the kernel is waiting on (or NULL); the
 * rump scheduler uses it to avoid a lost wakeup. Returns the big-lock count to restore.
 */
static inline int posix_cpu_release(void *interlock)
{
	int nlocks = 0;
	posix_hyp.hyp_backend_unschedule(0, &nlocks, interlock);
	return nlocks;
}

static inline void posix_cpu_retake(int nlocks, void *interlock)
{
	posix_hyp.hyp_backend_schedule(nlocks, interlock);
}

/* Host errno (Linux numbering) to the NetBSD number every hypercall returns. */
int posix_errtrans(int host_errno) POSIX_HIDDEN;

/* NetBSD signal number to the host's; -1 when the host has no such signal. */
int posix_sigtrans(int netbsd_sig) POSIX_HIDDEN;

/*
 * The calling host thread's rump kernel lwp. initial-exec keeps the lock fast paths free of
 * __tls_get_addr calls; librumpuser is loaded with the program, never dlopen()ed late.
 */
extern __thread struct lwp *posix_curlwp
    __attribute__((tls_model("initial-exec"), visibility("hidden")));

#endif
