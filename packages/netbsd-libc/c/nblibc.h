/* Internal declarations shared by the layer under NetBSD's libc. */
#ifndef RUMPXEN_NBLIBC_H
#define RUMPXEN_NBLIBC_H

#include <stddef.h>

/* NetBSD's errno numbers, RUMPXEN_NETBSD_E*: @rumpxen/hypercall-api's table. */
#include <rumpxen/netbsd_errno.h>

void _exit(int status) __attribute__((noreturn));
/* The calling thread's errno (errno.c). */
int *__errno(void);
/*
 * Makes the calling thread the program's first lwp (lid 1) and binds it to an lwp of the
 * program's process in the rump kernel; after rump_init, before libc's initialisation.
 */
void nblibc_lwp_init(void);
/* Signal sig (1..64) taken by the calling thread: its handler, ignored, or the program ends. */
int nblibc_signal_self(int sig);
void *_lwp_getprivate(void);
void _lwp_exit(void) __attribute__((noreturn));
int _lwp_unpark(int lid, const void *hint);
/* Defined by clock.c; start-up references it so that the program's clocks join every image. */
void nblibc_clock_link(void);
/* The guest kernel's hook for the rump kernel's signals to the program (signal.c). */
int rumpxen_signal_self(int sig);

#endif
