/*
 * Detach a rump kernel server from its terminal: daemonize_begin forks, and the parent
 * stays until the child reports through daemonize_done whether its start-up worked, then
 * exits with that result, so the shell sees a server that is ready or an error.
 *
 * daemonize_begin comes before rumpuser_init (NetBSD's rump_daemonize_begin refuses once
 * the kernel is up): there is no kernel yet, so the parent waits without any rump CPU.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "posix_int.h"

static int daemon_pipe = -1;

int rumpuser_daemonize_begin(void)
{
	int fds[2], status;
	ssize_t n;
	pid_t pid;

	if (daemon_pipe != -1)
		return posix_errtrans(EBUSY);
	if (pipe(fds) == -1)
		return posix_errtrans(errno);
	pid = fork();
	if (pid == -1) {
		int err = errno;
		close(fds[0]);
		close(fds[1]);
		return posix_errtrans(err);
	}
	if (pid == 0) {
		close(fds[0]);
		daemon_pipe = fds[1];
		setsid();
		return 0;
	}
	close(fds[1]);
	do
		n = read(fds[0], &status, sizeof(status));
	while (n == -1 && errno == EINTR);
	if (n != (ssize_t)sizeof(status)) {
		rumpuser_dprintf("rumpuser: the daemonized rump kernel exited before it finished "
		    "starting; run it without daemonizing to see why\n");
		_exit(1);
	}
	if (status != 0)
		rumpuser_dprintf("rumpuser: the daemonized rump kernel failed to start: error %d\n",
		    status);
	_exit(status == 0 ? 0 : 1);
}

/* error: 0 if start-up succeeded, else the NetBSD errno it failed with. */
int rumpuser_daemonize_done(int error)
{
	ssize_t n;

	if (daemon_pipe == -1)
		return posix_errtrans(ENOENT);
	if (error == 0) {
		int null = open("/dev/null", O_RDWR);
		if (null != -1) {
			dup2(null, STDIN_FILENO);
			dup2(null, STDOUT_FILENO);
			dup2(null, STDERR_FILENO);
			if (null > STDERR_FILENO)
				close(null);
		}
	}
	do
		n = write(daemon_pipe, &error, sizeof(error));
	while (n == -1 && errno == EINTR);
	close(daemon_pipe);
	daemon_pipe = -1;
	return n == (ssize_t)sizeof(error) ? 0 : posix_errtrans(errno);
}
