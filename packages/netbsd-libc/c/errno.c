/*
 * errno. NetBSD's libc reads and writes errno through __errno(); the rump kernel reports a
 * failed system call's error through the rumpuser_seterrno hypercall, which the guest kernel
 * hands to rumpxen_set_errno (a weak hook there, defined here). One errno for the program
 * for now: every thread shares it until libpthread runs over the guest kernel's threads.
 */
extern int errno;

int *__errno(void)
{
	return &errno;
}

void rumpxen_set_errno(int error)
{
	errno = error;
}
