/* Internal declarations shared by the layer under NetBSD's libc. */
#ifndef RUMPXEN_NBLIBC_H
#define RUMPXEN_NBLIBC_H

#include <stddef.h>

void _exit(int status) __attribute__((noreturn));
/* Ends a partial last line on the console (the guest prints whole lines only). */
void nblibc_console_end_line(void);

#endif
