/*
 * The end of a program: libc's exit() has run the atexit handlers and flushed stdio, and
 * calls _exit, which ends the domain with the status (the guest kernel prints
 * "rumpxen: exit N" and records N for the toolstack).
 */
#include <mk/console.h>
#include <mk/control.h>

#include "nblibc.h"

void _exit(int status)
{
	nblibc_console_end_line();
	mk_console_flush();
	mk_app_exit(status);
}

void _Exit(int status) __attribute__((noreturn, alias("_exit")));
