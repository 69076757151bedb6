/*
 * 2-level event channels. Upcalls stay masked: events are collected by mk_evtchn_dispatch()
 * from the scheduler (cooperative kernel), so handlers run in thread context, one at a time,
 * and may wake threads but must not block.
 */
#ifndef MK_EVTCHN_H
#define MK_EVTCHN_H
#include <mk/types.h>

typedef void (*mk_evtchn_handler_t)(uint32_t port, void *arg);

#define MK_EVTCHN_MAX_PORTS 1024

void mk_evtchn_init(void);
/* Binds a handler to a port (replacing any) and unmasks it. */
void mk_evtchn_set_handler(uint32_t port, mk_evtchn_handler_t h, void *arg);
/* Binds VIRQ virq on vcpu 0; returns the port or -XEN_E*. */
long mk_evtchn_bind_virq(uint32_t virq, mk_evtchn_handler_t h, void *arg);
/* Allocates an unbound port for remote_dom to bind to; returns the port or -XEN_E*. */
long mk_evtchn_alloc_unbound(uint16_t remote_dom, mk_evtchn_handler_t h, void *arg);
/* Binds to remote_dom's port; returns the local port or -XEN_E*. */
long mk_evtchn_bind_interdomain(uint16_t remote_dom, uint32_t remote_port,
	mk_evtchn_handler_t h, void *arg);
long mk_evtchn_close(uint32_t port);
long mk_evtchn_notify(uint32_t port);
void mk_evtchn_mask(uint32_t port);
void mk_evtchn_unmask(uint32_t port);
/* Clears the port's pending bit; returns whether it was pending. */
bool mk_evtchn_test_and_clear(uint32_t port);
/* Runs handlers of all pending unmasked ports; returns how many ran. */
int mk_evtchn_dispatch(void);
/* Blocks the vcpu until a port with a handler is pending or deadline_ns (SCHEDOP_poll). */
void mk_evtchn_poll_bound(uint64_t deadline_ns);
/* Blocks the vcpu until port is pending or timeout_ns passed (SCHEDOP_poll); no handler. */
void mk_evtchn_poll_once(uint32_t port, uint64_t timeout_ns);

#endif
