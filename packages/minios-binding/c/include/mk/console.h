/*
 * Guest console. Before the DomU console ring is up (and always as dom0) output goes to
 * HYPERVISOR_console_io; a DomU then switches to its console ring.
 */
#ifndef MK_CONSOLE_H
#define MK_CONSOLE_H
#include <mk/types.h>

/* Writes len bytes; never fails (drops output if no console works). */
void mk_console_write(const char *buf, size_t len);
int mk_printk(const char *fmt, ...) MK_PRINTF(1, 2);
int mk_vprintk(const char *fmt, va_list ap);
/* Attaches the DomU console ring (page mapped at ring, event channel port). */
void mk_console_ring_attach(void *ring, uint32_t port);
/* Whether output still goes to the ring (false after the backend corrupted its indices). */
bool mk_console_ring_active(void);
/* Waits until the backend has consumed everything written to the ring (bounded). */
void mk_console_flush(void);

#endif
