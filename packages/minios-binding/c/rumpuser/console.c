/* Console: whole lines to the guest console, so lines of different threads stay apart. */
#include "xen_int.h"
#include <mk/console.h>
#include <mk/lib.h>

static char line[256];
static size_t line_len;

/* Whether the len bytes at s hold NetBSD's "panic: " prefix (anywhere: timestamps may precede it). */
static bool has_panic(const char *s, size_t len)
{
	for (size_t i = 0; i + 7 <= len; i++)
		if (mk_strncmp(s + i, "panic: ", 7) == 0)
			return true;
	return false;
}

/* The rump kernel's printf: whole lines; a panic message is kept for rx_oom_on_panic. */
void rumpuser_putchar(int c)
{
	line[line_len++] = (char)c;
	if (c == '\n' || line_len == sizeof(line)) {
		mk_console_write(line, line_len);
		if (has_panic(line, line_len))
			rx_oom_note_panic_line(line, line_len);
		line_len = 0;
	}
}

/*
 * Ends a partial last line (output that did not end with a newline) with one, so that it is
 * printed; for the program's exit (netbsd-libc's _exit). Nothing when no line is pending.
 */
void rumpxen_console_end_line(void)
{
	if (line_len > 0)
		rumpuser_putchar('\n');
}

/* What NetBSD's pagedaemon prints when it freed nothing for an allocation that waits (vm.c). */
#define PAGEDAEMON_STUCK "pagedaemoness: failed to reclaim memory"

/* Formatted output; the pagedaemon's "nothing to free" report is counted (rx_oom_pagedaemon_stuck). */
void rumpuser_dprintf(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = mk_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		mk_console_write(buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
	if (mk_strncmp(buf, PAGEDAEMON_STUCK, sizeof(PAGEDAEMON_STUCK) - 1) == 0)
		rx_oom_pagedaemon_stuck();
}
