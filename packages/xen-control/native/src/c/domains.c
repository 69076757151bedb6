/* Domain queries and life-cycle operations through libxl. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rxc_internal.h"

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

int rxc_domain_destroy(rxc_session *s, uint32_t domid, rxc_error *err)
{
    rxc_log_begin();
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
