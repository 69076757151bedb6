/* Console: whole lines to the guest console, so lines of different threads stay apart. */
#include "xen_int.h"
#include <mk/console.h>
#include <mk/lib.h>

static char line[256];
static size_t line_len;

void rumpuser_putchar(int c)
{
	line[line_len++] = (char)c;
	if (c == '\n' || line_len == sizeof(line)) {
		mk_console_write(line, line_len);
		line_len = 0;
	}
}

void rumpuser_dprintf(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = mk_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		mk_console_write(buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}
