/*
 * Host-side checks of the posix target's host-facing semantics that the freestanding suite
 * cannot observe (environment, signals, process exit, host errno numbers).
 * Usage: posix_probe getparam NAME | exit N | panic | kill NETBSD_SIG | seterrno N |
 *        errtrans LINUX_ERRNO
 * Prints one result line; test/posix-host.test.ts holds the expectations.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rumpuser.h"
#include "null_kernel.h"

static volatile sig_atomic_t caught;

static void on_signal(int sig)
{
	caught = sig;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";
	const char *arg = argc > 2 ? argv[2] : "";

	if (rumpuser_init(RUMPUSER_VERSION, &null_kernel_hyperup) != 0)
		return 2;
	if (strcmp(cmd, "getparam") == 0) {
		char buf[512];
		int rv = rumpuser_getparam(arg, buf, sizeof(buf));
		printf("rv %d value %s\n", rv, rv == 0 ? buf : "-");
	} else if (strcmp(cmd, "exit") == 0) {
		rumpuser_exit(atoi(arg));
	} else if (strcmp(cmd, "panic") == 0) {
		signal(SIGABRT, SIG_DFL);
		rumpuser_exit(RUMPUSER_PANIC);
	} else if (strcmp(cmd, "kill") == 0) {
		int rv;
		for (int s = 1; s < NSIG; s++)
			signal(s, on_signal);
		rv = rumpuser_kill(RUMPUSER_PID_SELF, atoi(arg));
		printf("rv %d host-signal %d\n", rv, (int)caught);
	} else if (strcmp(cmd, "seterrno") == 0) {
		errno = 0;
		rumpuser_seterrno(atoi(arg));
		printf("errno %d\n", errno);
	} else if (strcmp(cmd, "errtrans") == 0) {
		printf("netbsd %d\n", rumpuser_component_errtrans(atoi(arg)));
	} else {
		fprintf(stderr, "posix_probe: unknown command \"%s\"; see the usage in posix_probe.c\n",
		    cmd);
		return 2;
	}
	return 0;
}
