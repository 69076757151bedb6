/* Randomness from the host kernel's pool through getrandom(2). */
#include <errno.h>
#include <sys/random.h>

#include "posix_int.h"

/*
 * RUMPUSER_RANDOM_HARD asks for the blocking pool; RUMPUSER_RANDOM_NOWAIT returns what is
 * available now (EAGAIN if nothing is). Waiting happens without a rump CPU.
 */
int rumpuser_getrandom(void *buf, size_t buflen, int flags, size_t *retp)
{
	unsigned int gflags = 0;
	size_t got = 0;
	int nlocks = 0, err = 0;
	ssize_t n;

	if (flags & ~(RUMPUSER_RANDOM_HARD | RUMPUSER_RANDOM_NOWAIT))
		return posix_errtrans(EINVAL);
	if (flags & RUMPUSER_RANDOM_HARD)
		gflags |= GRND_RANDOM;
	if (flags & RUMPUSER_RANDOM_NOWAIT)
		gflags |= GRND_NONBLOCK;
	else
		nlocks = posix_cpu_release(NULL);
	while (got < buflen) {
		n = getrandom((char *)buf + got, buflen - got, gflags);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			err = errno;
			break;
		}
		got += (size_t)n;
	}
	if (!(flags & RUMPUSER_RANDOM_NOWAIT))
		posix_cpu_retake(nlocks, NULL);
	*retp = got;
	if (err == EAGAIN && got > 0)
		err = 0;
	return posix_errtrans(err);
}
