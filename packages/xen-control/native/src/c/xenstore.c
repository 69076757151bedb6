/* xenstore operations on the session's connection, and watches on their own. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rxc_internal.h"

struct rxc_watch {
    struct xs_handle *xsh;
    char *path;
    char *token;
};

int rxc_xs_read(rxc_session *s, uint32_t tx, const char *path, char **value, size_t *len, rxc_error *err)
{
    rxc_log_begin();
    unsigned int n = 0;
    char *v = xs_read(s->xsh, tx, path, &n);
    if (!v)
        return rxc_fail(err, errno, "xs_read", "cannot read xenstore node %s", path);
    *value = v;
    *len = n;
    return 0;
}

int rxc_xs_write(rxc_session *s, uint32_t tx, const char *path, const void *value, size_t len, rxc_error *err)
{
    rxc_log_begin();
    if (!xs_write(s->xsh, tx, path, value, (unsigned int)len))
        return rxc_fail(err, errno, "xs_write", "cannot write xenstore node %s", path);
    return 0;
}

int rxc_xs_mkdir(rxc_session *s, uint32_t tx, const char *path, rxc_error *err)
{
    rxc_log_begin();
    if (!xs_mkdir(s->xsh, tx, path))
        return rxc_fail(err, errno, "xs_mkdir", "cannot create xenstore directory %s", path);
    return 0;
}

int rxc_xs_rm(rxc_session *s, uint32_t tx, const char *path, rxc_error *err)
{
    rxc_log_begin();
    if (!xs_rm(s->xsh, tx, path))
        return rxc_fail(err, errno, "xs_rm", "cannot remove xenstore node %s", path);
    return 0;
}

int rxc_xs_ls(rxc_session *s, uint32_t tx, const char *path, char ***names, uint32_t *count, rxc_error *err)
{
    rxc_log_begin();
    unsigned int n = 0;
    char **v = xs_directory(s->xsh, tx, path, &n);
    if (!v)
        return rxc_fail(err, errno, "xs_directory", "cannot list xenstore directory %s", path);
    *names = v;  /* one allocation: free the array only */
    *count = n;
    return 0;
}

int rxc_xs_get_perms(rxc_session *s, uint32_t tx, const char *path, rxc_perm **perms, uint32_t *count, rxc_error *err)
{
    rxc_log_begin();
    unsigned int n = 0;
    struct xs_permissions *p = xs_get_permissions(s->xsh, tx, path, &n);
    if (!p)
        return rxc_fail(err, errno, "xs_get_permissions", "cannot read the permissions of %s", path);
    rxc_perm *out = calloc(n ? n : 1, sizeof *out);
    if (!out) {
        free(p);
        return rxc_fail(err, ENOMEM, "calloc", "out of memory reading the permissions of %s", path);
    }
    for (unsigned int i = 0; i < n; i++) {
        out[i].domid = p[i].id;
        out[i].perms = (uint32_t)p[i].perms;
    }
    free(p);
    *perms = out;
    *count = n;
    return 0;
}

int rxc_xs_set_perms(rxc_session *s, uint32_t tx, const char *path, const rxc_perm *perms, uint32_t count, rxc_error *err)
{
    rxc_log_begin();
    struct xs_permissions *p = calloc(count ? count : 1, sizeof *p);
    if (!p)
        return rxc_fail(err, ENOMEM, "calloc", "out of memory setting the permissions of %s", path);
    for (uint32_t i = 0; i < count; i++) {
        p[i].id = perms[i].domid;
        p[i].perms = perms[i].perms;
    }
    bool ok = xs_set_permissions(s->xsh, tx, path, p, count);
    int e = errno;
    free(p);
    if (!ok)
        return rxc_fail(err, e, "xs_set_permissions", "cannot set the permissions of %s", path);
    return 0;
}

int rxc_xs_tx_start(rxc_session *s, uint32_t *tx, rxc_error *err)
{
    rxc_log_begin();
    xs_transaction_t t = xs_transaction_start(s->xsh);
    if (t == XBT_NULL)
        return rxc_fail(err, errno, "xs_transaction_start", "cannot start a xenstore transaction");
    *tx = t;
    return 0;
}

/* EAGAIN means another writer got there first: the caller retries the whole transaction. */
int rxc_xs_tx_end(rxc_session *s, uint32_t tx, int abort, rxc_error *err)
{
    rxc_log_begin();
    if (!xs_transaction_end(s->xsh, tx, abort != 0))
        return rxc_fail(err, errno, "xs_transaction_end", "cannot %s xenstore transaction %u",
                        abort ? "abort" : "commit", tx);
    return 0;
}

int rxc_watch_open(const char *path, const char *token, rxc_watch **out, rxc_error *err)
{
    rxc_log_begin();
    rxc_watch *w = calloc(1, sizeof *w);
    if (!w)
        return rxc_fail(err, ENOMEM, "calloc", "out of memory watching %s", path);
    w->path = strdup(path);
    w->token = strdup(token);
    w->xsh = xs_open(0);
    if (!w->path || !w->token || !w->xsh) {
        int e = w->xsh ? ENOMEM : errno;
        rxc_watch_close(w);
        return rxc_fail(err, e, "xs_open", "cannot open a xenstore connection to watch %s", path);
    }
    if (!xs_watch(w->xsh, path, token)) {
        int e = errno;
        rxc_watch_close(w);
        return rxc_fail(err, e, "xs_watch", "cannot watch xenstore path %s", path);
    }
    *out = w;
    return 0;
}

int rxc_watch_next(rxc_watch *w, int cancel_fd, rxc_watch_event *ev, rxc_error *err)
{
    rxc_log_begin();
    for (;;) {
        char **vec = xs_check_watch(w->xsh);
        if (vec) {
            ev->path = strdup(vec[XS_WATCH_PATH]);
            ev->token = strdup(vec[XS_WATCH_TOKEN]);
            free(vec);
            if (!ev->path || !ev->token) {
                free(ev->path);
                free(ev->token);
                return rxc_fail(err, ENOMEM, "strdup", "out of memory reading a watch event on %s", w->path);
            }
            return 0;
        }
        if (errno != EAGAIN)
            return rxc_fail(err, errno, "xs_check_watch", "watch on %s failed", w->path);
        int p = rxc_poll_readable(xs_fileno(w->xsh), cancel_fd, -1);
        if (p == -ECANCELED)
            return rxc_fail(err, ECANCELED, "poll", "watch on %s was closed", w->path);
        if (p < 0)
            return rxc_fail(err, -p, "poll", "waiting on the watch of %s failed", w->path);
    }
}

/*
 * No xs_unwatch: the watch has a connection of its own, and xenstored drops a connection's
 * watches with it, so closing (on the caller's thread) makes no request of its own. Over
 * xenstored's socket that is a plain close; over /dev/xen/xenbus the kernel's driver
 * unregisters the watches itself as the file closes.
 */
void rxc_watch_close(rxc_watch *w)
{
    if (!w)
        return;
    if (w->xsh)
        xs_close(w->xsh);
    free(w->path);
    free(w->token);
    free(w);
}
