/* Host threads for the rump kernel, and the per-thread curlwp. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "posix_int.h"

__thread struct lwp *posix_curlwp;

int rumpuser_thread_create(void *(*fun)(void *), void *arg, const char *thrname,
    int mustjoin, int priority, int cpuidx, void **cookie)
{
	pthread_attr_t attr;
	pthread_t *thread;
	int rv;

	(void)priority;
	(void)cpuidx;
	thread = malloc(sizeof(*thread));
	if (thread == NULL)
		return posix_errtrans(ENOMEM);
	pthread_attr_init(&attr);
	if (!mustjoin)
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rv = pthread_create(thread, &attr, fun, arg);
	pthread_attr_destroy(&attr);
	if (rv != 0) {
		free(thread);
		return posix_errtrans(rv);
	}
	if (thrname != NULL) {
		/* Linux keeps 15 characters of a thread name; a longer one is an error there. */
		char name[16];
		strncpy(name, thrname, sizeof(name) - 1);
		name[sizeof(name) - 1] = '\0';
		pthread_setname_np(*thread, name);
	}
	if (mustjoin)
		*cookie = thread;
	else
		free(thread);
	return 0;
}

void rumpuser_thread_exit(void)
{
	pthread_exit(NULL);
}

int rumpuser_thread_join(void *cookie)
{
	pthread_t *thread = cookie;
	int nlocks, rv;

	nlocks = posix_cpu_release(NULL);
	rv = pthread_join(*thread, NULL);
	posix_cpu_retake(nlocks, NULL);
	if (rv == 0)
		free(thread);
	return posix_errtrans(rv);
}

/*
 * CREATE and DESTROY only announce an lwp's life; a host thread carries one through SET
 * until CLEAR. TLS needs no bookkeeping for the announcements.
 */
void rumpuser_curlwpop(int enum_rumplwpop, struct lwp *l)
{
	switch (enum_rumplwpop) {
	case RUMPUSER_LWP_CREATE:
	case RUMPUSER_LWP_DESTROY:
		break;
	case RUMPUSER_LWP_SET:
		posix_curlwp = l;
		break;
	case RUMPUSER_LWP_CLEAR:
		posix_curlwp = NULL;
		break;
	}
}

struct lwp *rumpuser_curlwp(void)
{
	return posix_curlwp;
}
