/*
 * A NetBSD program with NetBSD's libc, as it would be written for NetBSD: its arguments and
 * environment come from the domain's config, stdio goes to the Xen console through the rump
 * kernel's fds 1 and 2, and its exit status ends the domain.
 *
 * usage: hello N X WORD STATUS   prints "6N sqrt(X) WORD" (%d %.3f %s), then more checks,
 * and exits with STATUS; the last line is printed without a newline, so only exit's flush
 * of stdout shows it.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: %s N X WORD STATUS\n", getprogname());
		return 2;
	}
	int n = atoi(argv[1]);
	double x = strtod(argv[2], NULL);
	printf("%d %.3f %s\n", n * 6, sqrt(x), argv[3]);

	const char *greeting = getenv("GREETING");
	printf("env GREETING=%s\n", greeting != NULL ? greeting : "(unset)");

	int fd = open("/no/such/file", O_RDONLY);
	printf("open: %d, errno %d (%s)\n", fd, errno, strerror(errno));

	size_t size = (size_t)n * 100000;
	char *p = malloc(size);
	if (p == NULL) {
		perror("malloc");
		return 1;
	}
	memset(p, 'x', size);
	p = realloc(p, size * 2);
	snprintf(p, size, "%s %zu %05x", "heap", size * 2, n);
	puts(p);
	free(p);

	pid_t child = fork();
	printf("fork: %d, errno %d (%s)\n", (int)child, errno, strerror(errno));

	char line[64];
	int len = snprintf(line, sizeof(line), "write(2) on fd %d\n", STDERR_FILENO);
	if (write(STDERR_FILENO, line, (size_t)len) != len)
		return 1;

	printf("exiting with %d", atoi(argv[4]));
	exit(atoi(argv[4]));
}
