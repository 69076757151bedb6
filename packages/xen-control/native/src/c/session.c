/* A session: one libxenctrl, libxenstore and libxl handle, opened together. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rxc_internal.h"
#include <xengnttab.h>

static const libxl_childproc_hooks childproc_hooks = {
    .chldowner = libxl_sigchld_owner_mainloop,
};

static void *reaper_main(void *arg)
{
    rxc_session *s = arg;
    pthread_mutex_lock(&s->reaper_lock);
    while (!s->stopping) {
        struct timespec when;
        clock_gettime(CLOCK_REALTIME, &when);
        when.tv_nsec += 50 * 1000 * 1000;
        if (when.tv_nsec >= 1000000000L) {
            when.tv_sec++;
            when.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&s->reaper_stop, &s->reaper_lock, &when);
        if (s->stopping)
            break;
        pthread_mutex_unlock(&s->reaper_lock);
        libxl_childproc_sigchld_occurred(s->ctx);
        pthread_mutex_lock(&s->reaper_lock);
    }
    pthread_mutex_unlock(&s->reaper_lock);
    return NULL;
}

/* RUMPXEN_XEN_DISABLE's names as RXC_DISABLE_* bits; unknown names are ignored. */
static unsigned int disabled_parts(const char *list)
{
    static const struct { const char *name; unsigned int bit; } parts[] = {
        { "image-cache", RXC_DISABLE_IMAGE_CACHE },
        { "xs-batch", RXC_DISABLE_XS_BATCH },
        { "direct-destroy", RXC_DISABLE_DIRECT_DESTROY },
    };
    unsigned int bits = 0;
    while (list && *list) {
        size_t n = strcspn(list, ",");
        for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
            if (strlen(parts[i].name) == n && strncmp(parts[i].name, list, n) == 0)
                bits |= parts[i].bit;
        }
        list += n + (list[n] == ',');
    }
    return bits;
}

int rxc_session_open(rxc_session **out, rxc_error *err)
{
    rxc_log_begin();
    rxc_session *s = calloc(1, sizeof *s);
    if (!s)
        return rxc_fail(err, ENOMEM, "calloc", "out of memory opening a Xen session");
    s->xsb_fd = -1;
    s->disabled = disabled_parts(getenv("RUMPXEN_XEN_DISABLE"));
    pthread_mutex_init(&s->xsb_lock, NULL);
    pthread_mutex_init(&s->gnttab_lock, NULL);

    s->xch = xc_interface_open(rxc_logger(), rxc_logger(), 0);
    if (!s->xch) {
        int e = errno;
        rxc_session_close(s);
        return rxc_fail(err, e, "xc_interface_open",
                        "cannot open /dev/xen/privcmd through libxenctrl; run as root in a Xen dom0");
    }
    s->xsh = xs_open(0);
    if (!s->xsh) {
        int e = errno;
        rxc_session_close(s);
        return rxc_fail(err, e, "xs_open",
                        "cannot connect to xenstored (socket or /dev/xen/xenbus); start xenstored first");
    }
    int rc = libxl_ctx_alloc(&s->ctx, LIBXL_VERSION, 0, rxc_logger());
    if (rc) {
        rxc_session_close(s);
        return rxc_fail_libxl(err, rc, "libxl_ctx_alloc", "cannot create a libxl context");
    }
    libxl_childproc_setmode(s->ctx, &childproc_hooks, NULL);
    pthread_mutex_init(&s->reaper_lock, NULL);
    pthread_cond_init(&s->reaper_stop, NULL);
    int e = pthread_create(&s->reaper, NULL, reaper_main, s);
    if (e) {
        rxc_session_close(s);
        return rxc_fail(err, e, "pthread_create", "cannot start the libxl child reaper thread");
    }
    s->reaper_running = 1;
    *out = s;
    return 0;
}

void rxc_session_close(rxc_session *s)
{
    if (!s)
        return;
    if (s->reaper_running) {
        pthread_mutex_lock(&s->reaper_lock);
        s->stopping = 1;
        pthread_cond_signal(&s->reaper_stop);
        pthread_mutex_unlock(&s->reaper_lock);
        pthread_join(s->reaper, NULL);
    }
    if (s->ctx)
        libxl_ctx_free(s->ctx);
    if (s->xsb_fd >= 0)
        close(s->xsb_fd);
    if (s->gnttab)
        xengnttab_close(s->gnttab);
    pthread_mutex_destroy(&s->xsb_lock);
    pthread_mutex_destroy(&s->gnttab_lock);
    if (s->xsh)
        xs_close(s->xsh);
    if (s->xch)
        xc_interface_close(s->xch);
    free(s);
}

int rxc_free_memory(rxc_session *s, uint64_t *free_kb, rxc_error *err)
{
    rxc_log_begin();
    int rc = libxl_get_free_memory(s->ctx, free_kb);
    if (rc)
        return rxc_fail_libxl(err, rc, "libxl_get_free_memory", "cannot read Xen's free memory");
    return 0;
}

int rxc_physinfo(rxc_session *s, rxc_phys_info *out, rxc_error *err)
{
    rxc_log_begin();
    xc_physinfo_t info;
    memset(&info, 0, sizeof info);
    if (xc_physinfo(s->xch, &info))
        return rxc_fail(err, errno, "xc_physinfo", "cannot read Xen's memory figures");
    out->total_pages = info.total_pages;
    out->free_pages = info.free_pages;
    out->scrub_pages = info.scrub_pages;
    out->outstanding_pages = info.outstanding_pages;
    return 0;
}

int rxc_poll_readable(int fd, int cancel_fd, int timeout_ms)
{
    struct pollfd fds[2] = {
        { .fd = fd, .events = POLLIN },
        { .fd = cancel_fd, .events = POLLIN },
    };
    for (;;) {
        int n = poll(fds, cancel_fd >= 0 ? 2 : 1, timeout_ms);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return 0;
        if (cancel_fd >= 0 && (fds[1].revents & POLLIN))
            return -ECANCELED;
        if (fds[0].revents & (POLLIN | POLLHUP | POLLERR))
            return 1;
    }
}

double rxc_now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}
