/* Event channels through libxenevtchn. */
#include <errno.h>
#include <stdlib.h>

#include "rxc_internal.h"
#include <xenevtchn.h>

struct rxc_evtchn {
    xenevtchn_handle *xce;
};

int rxc_evtchn_open(rxc_evtchn **out, rxc_error *err)
{
    rxc_log_begin();
    rxc_evtchn *e = calloc(1, sizeof *e);
    if (!e)
        return rxc_fail(err, ENOMEM, "calloc", "out of memory opening an event channel handle");
    e->xce = xenevtchn_open(rxc_logger(), 0);
    if (!e->xce) {
        int en = errno;
        free(e);
        return rxc_fail(err, en, "xenevtchn_open", "cannot open /dev/xen/evtchn (load the xen-evtchn module; run as root)");
    }
    *out = e;
    return 0;
}

void rxc_evtchn_close(rxc_evtchn *e)
{
    if (!e)
        return;
    xenevtchn_close(e->xce);
    free(e);
}

int rxc_evtchn_bind_interdomain(rxc_evtchn *e, uint32_t domid, uint32_t remote_port, uint32_t *port, rxc_error *err)
{
    rxc_log_begin();
    xenevtchn_port_or_error_t p = xenevtchn_bind_interdomain(e->xce, domid, remote_port);
    if (p < 0)
        return rxc_fail(err, errno, "xenevtchn_bind_interdomain", "cannot bind to port %u of domain %u", remote_port, domid);
    *port = (uint32_t)p;
    return 0;
}

int rxc_evtchn_bind_unbound(rxc_evtchn *e, uint32_t domid, uint32_t *port, rxc_error *err)
{
    rxc_log_begin();
    xenevtchn_port_or_error_t p = xenevtchn_bind_unbound_port(e->xce, domid);
    if (p < 0)
        return rxc_fail(err, errno, "xenevtchn_bind_unbound_port", "cannot allocate a port for domain %u", domid);
    *port = (uint32_t)p;
    return 0;
}

int rxc_evtchn_unbind(rxc_evtchn *e, uint32_t port, rxc_error *err)
{
    rxc_log_begin();
    if (xenevtchn_unbind(e->xce, port) < 0)
        return rxc_fail(err, errno, "xenevtchn_unbind", "cannot unbind local port %u", port);
    return 0;
}

int rxc_evtchn_notify(rxc_evtchn *e, uint32_t port, rxc_error *err)
{
    rxc_log_begin();
    if (xenevtchn_notify(e->xce, port) < 0)
        return rxc_fail(err, errno, "xenevtchn_notify", "cannot notify local port %u", port);
    return 0;
}

/* *port: the port that fired (unmasked again), or -1 on timeout. */
int rxc_evtchn_wait(rxc_evtchn *e, int cancel_fd, int timeout_ms, int32_t *port, rxc_error *err)
{
    rxc_log_begin();
    int p = rxc_poll_readable(xenevtchn_fd(e->xce), cancel_fd, timeout_ms);
    if (p == -ECANCELED)
        return rxc_fail(err, ECANCELED, "poll", "event channel wait cancelled (handle closed)");
    if (p < 0)
        return rxc_fail(err, -p, "poll", "event channel wait failed");
    if (p == 0) {
        *port = -1;
        return 0;
    }
    xenevtchn_port_or_error_t fired = xenevtchn_pending(e->xce);
    if (fired < 0)
        return rxc_fail(err, errno, "xenevtchn_pending", "cannot read the pending event channel");
    if (xenevtchn_unmask(e->xce, (evtchn_port_t)fired) < 0)
        return rxc_fail(err, errno, "xenevtchn_unmask", "cannot unmask port %d", fired);
    *port = fired;
    return 0;
}
