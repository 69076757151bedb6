/*
 * errno, one per thread. NetBSD's libc reads and writes errno through __errno(); the rump
 * kernel reports a failed system call's error through the rumpuser_seterrno hypercall, which
 * the guest kernel hands to rumpxen_set_errno (a weak hook there, defined here) in the thread
 * that made the call. The value lives in the thread's TLS block (the first thread's from the
 * guest kernel, the others' from _rtld_tls_allocate), so no thread sees another's.
 */
#include "nblibc.h"

static __thread int thread_errno;

int *__errno(void)
{
	return &thread_errno;
}

void rumpxen_set_errno(int error)
{
	thread_errno = error;
}
