/*
 * Host-side check of rumpuser_daemonize_begin/done, which the freestanding suite cannot
 * exercise (it forks). Usage: daemonize_probe ERROR REPORT_FILE
 * The parent must stay until the child calls rumpuser_daemonize_done(ERROR) and exit 0 for
 * ERROR 0, 1 otherwise. The child then writes "pid PID sid SID" to REPORT_FILE and prints
 * "child stdout" (which must not reach the parent's stdout once daemonized).
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "rumpuser.h"
#include "null_kernel.h"

int main(int argc, char **argv)
{
	FILE *report;
	int error, rv;

	if (argc != 3) {
		fprintf(stderr, "usage: daemonize_probe ERROR REPORT_FILE\n");
		return 2;
	}
	error = atoi(argv[1]);
	/* As a rump kernel does it: daemonize first, then start the kernel (in the child). */
	rv = rumpuser_daemonize_begin();
	if (rv != 0) {
		fprintf(stderr, "daemonize_probe: rumpuser_daemonize_begin returned %d\n", rv);
		return 2;
	}
	/* Only the child gets here: start up, which takes a moment. */
	if (rumpuser_init(RUMPUSER_VERSION, &null_kernel_hyperup) != 0)
		return 2;
	usleep(100000);
	rv = rumpuser_daemonize_done(error);
	report = fopen(argv[2], "w");
	if (report == NULL)
		return 2;
	fprintf(report, "pid %d sid %d done %d\n", (int)getpid(), (int)getsid(0), rv);
	fclose(report);
	printf("child stdout\n");
	return 0;
}
