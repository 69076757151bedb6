/*
 * The end of a program: libc's exit() has run the atexit handlers and flushed stdio, and
 * calls _exit, which ends the domain with the status (the guest kernel prints
 * "rumpxen: exit N" and records N for the toolstack). The guest prints the rump kernel's
 * console output (fds 0, 1, 2) line by line, so a last line without a newline is ended first.
 */
#include <mk/console.h>
#include <mk/control.h>

#include "nblibc.h"

/* The guest's rumpuser console: prints a pending partial line, ended with a newline. */
extern void rumpxen_console_end_line(void);

void _exit(int status)
{
	rumpxen_console_end_line();
	mk_console_flush();
	mk_app_exit(status);
}

void _Exit(int status) __attribute__((noreturn, alias("_exit")));
