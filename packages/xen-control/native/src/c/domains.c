/* Domain queries and life-cycle operations through libxl. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rxc_internal.h"

/* How long a direct destroy waits for the domain to be gone (someone else may still map it). */
#define DIRECT_DESTROY_WAIT_MS 500
/* The pause after it went, before its nodes go (see destroy_direct). */
#define DIRECT_DESTROY_SETTLE_MS 4

static void fill_info(rxc_session *s, const libxl_dominfo *d, rxc_domain_info *out)
{
    memset(out, 0, sizeof *out);
    out->domid = d->domid;
    char *name = libxl_domid_to_name(s->ctx, d->domid);
    snprintf(out->name, sizeof out->name, "%s", name ? name : "");
    free(name);
    snprintf(out->uuid, sizeof out->uuid, LIBXL_UUID_FMT, LIBXL_UUID_BYTES(d->uuid));
    out->running = d->running;
    out->blocked = d->blocked;
    out->paused = d->paused;
    out->shutdown = d->shutdown;
    out->dying = d->dying;
    out->shutdown_reason = d->shutdown ? (int)d->shutdown_reason : -1;
    out->memory_kb = d->current_memkb;
    out->max_memory_kb = d->max_memkb;
    out->vcpus = d->vcpu_online;
    out->cpu_time_ns = d->cpu_time;
}

int rxc_domain_list(rxc_session *s, rxc_domain_info **out, uint32_t *count, rxc_error *err)
{
    rxc_log_begin();
    int n = 0;
    libxl_dominfo *list = libxl_list_domain(s->ctx, &n);
    if (!list)
        return rxc_fail(err, EIO, "libxl_list_domain", "cannot list domains");
    rxc_domain_info *infos = calloc(n > 0 ? (size_t)n : 1, sizeof *infos);
    if (!infos) {
        libxl_dominfo_list_free(list, n);
        return rxc_fail(err, ENOMEM, "calloc", "out of memory listing %d domains", n);
    }
    for (int i = 0; i < n; i++)
        fill_info(s, &list[i], &infos[i]);
    libxl_dominfo_list_free(list, n);
    *out = infos;
    *count = (uint32_t)n;
    return 0;
}

int rxc_domain_get(rxc_session *s, uint32_t domid, rxc_domain_info *out, rxc_error *err)
{
    rxc_log_begin();
    libxl_dominfo d;
    libxl_dominfo_init(&d);
    int rc = libxl_domain_info(s->ctx, &d, domid);
    if (rc) {
        libxl_dominfo_dispose(&d);
        return rxc_fail_libxl(err, rc, "libxl_domain_info", "no information for domain %u", domid);
    }
    fill_info(s, &d, out);
    libxl_dominfo_dispose(&d);
    return 0;
}

int rxc_domain_lookup(rxc_session *s, const char *name, uint32_t *domid, rxc_error *err)
{
    rxc_log_begin();
    int rc = libxl_name_to_domid(s->ctx, name, domid);
    if (rc)
        return rxc_fail(err, ESRCH, "libxl_name_to_domid", "no domain is named \"%s\"", name);
    return 0;
}

int rxc_domain_pause(rxc_session *s, uint32_t domid, rxc_error *err)
{
    rxc_log_begin();
    int rc = libxl_domain_pause(s->ctx, domid, NULL);
    return rc ? rxc_fail_libxl(err, rc, "libxl_domain_pause", "cannot pause domain %u", domid) : 0;
}

int rxc_domain_unpause(rxc_session *s, uint32_t domid, rxc_error *err)
{
    rxc_log_begin();
    int rc = libxl_domain_unpause(s->ctx, domid, NULL);
    return rc ? rxc_fail_libxl(err, rc, "libxl_domain_unpause", "cannot unpause domain %u", domid) : 0;
}

/*
 * Writes the request to control/shutdown, as libxl does, but does not wait
 * for the guest to acknowledge it: libxl's wait times out on slow or
 * deaf guests; callers who care use rxc_domain_wait_shutdown.
 */
int rxc_domain_shutdown(rxc_session *s, uint32_t domid, int reboot, rxc_error *err)
{
    rxc_log_begin();
    xc_domaininfo_t info;
    if (xc_domain_getinfolist(s->xch, domid, 1, &info) != 1 || info.domain != domid)
        return rxc_fail(err, ESRCH, "xc_domain_getinfolist", "no domain %u to ask to %s", domid, reboot ? "reboot" : "power off");
    char path[64];
    snprintf(path, sizeof path, "/local/domain/%u/control/shutdown", domid);
    const char *what = reboot ? "reboot" : "poweroff";
    if (!xs_write(s->xsh, XBT_NULL, path, what, (unsigned int)strlen(what)))
        return rxc_fail(err, errno, "xs_write", "cannot write the %s request to %s", what, path);
    return 0;
}

/*
 * Removes dom0's backend directories of a destroyed domain.  libxl leaves
 * them when a frontend never connected ("backend not ready"), e.g. a PCI
 * device the guest never probed; nothing else will ever remove them.
 */
static void remove_stale_backends(rxc_session *s, uint32_t domid)
{
    unsigned int n = 0;
    char **types = xs_directory(s->xsh, XBT_NULL, "/local/domain/0/backend", &n);
    if (!types)
        return;
    for (unsigned int i = 0; i < n; i++) {
        char path[160];
        snprintf(path, sizeof path, "/local/domain/0/backend/%s/%u", types[i], domid);
        xs_rm(s->xsh, XBT_NULL, path);
    }
    free(types);
}

/*
 * A domain this process's direct path built, still there with the handle (UUID) it was
 * given (create_direct.c remembers each; rxc_direct_lookup).  Any other domain, including one
 * the direct path of another process built, goes through libxl as it always did.
 */
static int built_directly(rxc_session *s, uint32_t domid, uint8_t uuid[16])
{
    if (domid == 0 || (s->disabled & RXC_DISABLE_DIRECT_DESTROY) || !rxc_direct_lookup(domid, uuid))
        return 0;
    xc_domaininfo_t info;
    if (xc_domain_getinfolist(s->xch, domid, 1, &info) != 1 || info.domain != domid || memcmp(info.handle, uuid, 16) != 0) {
        rxc_direct_forget(domid); /* gone, or the domid now belongs to another domain */
        return 0;
    }
    return 1;
}

/*
 * Waits (polling Xen's domain list: every 1 ms, then 3 ms) until domid is gone, at most timeout_ms.
 * A destroyed domain stays (dying) until everyone who mapped its pages lets go: xenstored its
 * store ring and xenconsoled its console ring, which each does when it handles
 * @releaseDomain.  Returns whether it went.
 */
static int wait_gone(rxc_session *s, uint32_t domid, int timeout_ms)
{
    double deadline = rxc_now_ms() + timeout_ms;
    for (int polls = 0;; polls++) {
        xc_domaininfo_t info;
        int n = xc_domain_getinfolist(s->xch, domid, 1, &info);
        if (n == 0 || (n == 1 && info.domain != domid))
            return 1;
        if (rxc_now_ms() >= deadline)
            return 0;
        struct timespec ts = { 0, (polls < 10 ? 1000 : 3000) * 1000L };
        nanosleep(&ts, NULL);
    }
}

/*
 * Destroys a domain the direct path built without libxl's bookkeeping (which costs most of
 * libxl's destroy time, and the direct path made none of it): the hypervisor call, a wait
 * until it is gone, a short pause, then its /local/domain/<id> and /vm/<uuid> nodes in one
 * batch.  It has no devices, so no backends to remove.
 */
static int destroy_direct(rxc_session *s, uint32_t domid, const uint8_t uuid[16], rxc_error *err)
{
    if (xc_domain_destroy(s->xch, domid)) {
        int e = errno;
        return rxc_fail(err, e == ESRCH ? ESRCH : e, "xc_domain_destroy", "cannot destroy domain %u", domid);
    }
    /*
     * Until it is gone (xenstored and xenconsoled have let go of its rings): then its memory is
     * back when this returns.  Then a short pause before its nodes go and the call returns, for
     * xenconsoled to finish with it (its @releaseDomain handling goes on after the unmap):
     * removing the nodes it still watches, or creating the next domain while it lists domains
     * again, makes it react to each node.  Measured in a create/destroy loop under TCG: its CPU
     * per domain 11-13 ms without the pause, 5 with 4-6 ms of it, no better below 3 ms; the
     * loop 15 → 18-21 domains/s.
     */
    if (wait_gone(s, domid, DIRECT_DESTROY_WAIT_MS)) {
        struct timespec ts = { 0, DIRECT_DESTROY_SETTLE_MS * 1000000L };
        nanosleep(&ts, NULL);
    }
    char path[96];
    rxc_xs_batch b;
    rxc_xsb_init(&b);
    snprintf(path, sizeof path, "/local/domain/%u", domid);
    rxc_xsb_rm(&b, path, 1);
    snprintf(path, sizeof path, "/vm/" LIBXL_UUID_FMT, uuid[0], uuid[1], uuid[2], uuid[3], uuid[4], uuid[5], uuid[6],
             uuid[7], uuid[8], uuid[9], uuid[10], uuid[11], uuid[12], uuid[13], uuid[14], uuid[15]);
    rxc_xsb_rm(&b, path, 1);
    rxc_error ignored;
    rxc_xsb_run(s, &b, "a destroyed domain's nodes", &ignored); /* both may already be gone */
    rxc_xsb_free(&b);
    rxc_direct_forget(domid);
    return 0;
}

int rxc_domain_destroy(rxc_session *s, uint32_t domid, rxc_error *err)
{
    rxc_log_begin();
    uint8_t uuid[16];
    if (built_directly(s, domid, uuid))
        return destroy_direct(s, domid, uuid, err);
    int rc = libxl_domain_destroy(s->ctx, domid, NULL);
    if (rc == 0) {
        remove_stale_backends(s, domid);
        return 0;
    }
    if (rc == ERROR_DOMAIN_NOTFOUND)
        return rxc_fail_libxl(err, rc, "libxl_domain_destroy", "cannot destroy domain %u", domid);
    /* libxl could not (its state files unusable, say): ask the hypervisor directly and tidy xenstore. */
    if (xc_domain_destroy(s->xch, domid))
        return rxc_fail_libxl(err, rc, "libxl_domain_destroy", "cannot destroy domain %u (xc_domain_destroy failed too)", domid);
    char path[64];
    char *vm = NULL;
    snprintf(path, sizeof path, "/local/domain/%u/vm", domid);
    vm = xs_read(s->xsh, XBT_NULL, path, NULL);
    if (vm && strncmp(vm, "/vm/", 4) == 0)
        xs_rm(s->xsh, XBT_NULL, vm);
    free(vm);
    snprintf(path, sizeof path, "/local/domain/%u", domid);
    xs_rm(s->xsh, XBT_NULL, path);
    remove_stale_backends(s, domid);
    return 0;
}

/*
 * Blocks until the domain has shut down (reason in *reason) or is gone
 * (ESRCH), watching @releaseDomain on a private xenstore connection so the
 * session's own connection is never stalled.
 */
int rxc_domain_wait_shutdown(rxc_session *s, uint32_t domid, int cancel_fd, int *reason, rxc_error *err)
{
    rxc_log_begin();
    struct xs_handle *xsh = xs_open(0);
    if (!xsh)
        return rxc_fail(err, errno, "xs_open", "cannot connect to xenstored to wait for domain %u", domid);
    int result = 0;
    if (!xs_watch(xsh, "@releaseDomain", "rxc-wait")) {
        result = rxc_fail(err, errno, "xs_watch", "cannot watch @releaseDomain for domain %u", domid);
        goto out;
    }
    int fd = xs_fileno(xsh);
    for (;;) {
        libxl_dominfo d;
        libxl_dominfo_init(&d);
        int rc = libxl_domain_info(s->ctx, &d, domid);
        if (rc == ERROR_DOMAIN_NOTFOUND) {
            libxl_dominfo_dispose(&d);
            result = rxc_fail(err, ESRCH, "libxl_domain_info", "domain %u is gone (destroyed before its shutdown was seen)", domid);
            goto out;
        }
        if (rc) {
            libxl_dominfo_dispose(&d);
            result = rxc_fail_libxl(err, rc, "libxl_domain_info", "cannot read the state of domain %u", domid);
            goto out;
        }
        int shut = d.shutdown, dying = d.dying;
        *reason = shut ? (int)d.shutdown_reason : -1;
        libxl_dominfo_dispose(&d);
        if (shut)
            goto out;
        if (dying) {
            result = rxc_fail(err, ESRCH, "libxl_domain_info", "domain %u is being destroyed without having shut down", domid);
            goto out;
        }
        int p = rxc_poll_readable(fd, cancel_fd, -1);
        if (p == -ECANCELED) {
            result = rxc_fail(err, ECANCELED, "poll", "waiting for domain %u was cancelled (handle closed)", domid);
            goto out;
        }
        if (p < 0) {
            result = rxc_fail(err, -p, "poll", "waiting for domain %u failed", domid);
            goto out;
        }
        /* Any @releaseDomain means "look again"; the events themselves carry nothing. */
        char **ev;
        while ((ev = xs_check_watch(xsh)) != NULL)
            free(ev);
    }
out:
    xs_close(xsh);
    return result;
}
