/*
 * Calls that libpthread's cancellation points and lock set-up reference but that have nothing
 * under them in a rumpxen image: POSIX message queues and System V messages (the rump kernel
 * here has neither), msync (mmap here is anonymous memory only), setcontext, restartable
 * atomic sequences (libpthread then uses atomic instructions), waiting for signals that no
 * one outside the program can send. Each fails with ENOSYS.
 */
#include "nblibc.h"


static long absent(void)
{
	*__errno() = RUMPXEN_NETBSD_ENOSYS;
	return -1;
}

int _sys_mq_send(int mq, const char *msg, size_t len, unsigned prio)
{
	(void)mq, (void)msg, (void)len, (void)prio;
	return (int)absent();
}

long _sys_mq_receive(int mq, char *msg, size_t len, unsigned *prio)
{
	(void)mq, (void)msg, (void)len, (void)prio;
	return absent();
}

int _sys___mq_timedsend50(int mq, const char *msg, size_t len, unsigned prio, const void *ts)
{
	(void)mq, (void)msg, (void)len, (void)prio, (void)ts;
	return (int)absent();
}

long _sys___mq_timedreceive50(int mq, char *msg, size_t len, unsigned *prio, const void *ts)
{
	(void)mq, (void)msg, (void)len, (void)prio, (void)ts;
	return absent();
}

long _sys_msgrcv(int id, void *msg, size_t size, long type, int flags)
{
	(void)id, (void)msg, (void)size, (void)type, (void)flags;
	return absent();
}

int _sys_msgsnd(int id, const void *msg, size_t size, int flags)
{
	(void)id, (void)msg, (void)size, (void)flags;
	return (int)absent();
}

int _sys___msync13(void *addr, size_t len, int flags)
{
	(void)addr, (void)len, (void)flags;
	return (int)absent();
}

int _sys_setcontext(const void *uc)
{
	(void)uc;
	return (int)absent();
}

int _sys___sigsuspend14(const void *mask)
{
	(void)mask;
	return (int)absent();
}

int ____sigtimedwait50(const void *set, void *info, void *timeout)
{
	(void)set, (void)info, (void)timeout;
	return (int)absent();
}

int rasctl(void *addr, size_t len, int op)
{
	(void)addr, (void)len, (void)op;
	return (int)absent();
}
