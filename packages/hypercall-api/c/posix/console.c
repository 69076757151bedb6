/*
 * Console: both calls write to the host's stderr, whole lines at a time, so lines from
 * different threads do not interleave and the kernel's console stays off the
 * application's stdout.
 */
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "posix_int.h"

#define CONSOLE_LINE 256

static void console_write(const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(STDERR_FILENO, p, len);
		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

static __thread char line[CONSOLE_LINE];
static __thread size_t line_len;

void rumpuser_putchar(int c)
{
	line[line_len++] = (char)c;
	if (c == '\n' || line_len == sizeof(line)) {
		console_write(line, line_len);
		line_len = 0;
	}
}

void rumpuser_dprintf(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		console_write(buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}
