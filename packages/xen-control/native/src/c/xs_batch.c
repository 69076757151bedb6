/*
 * Batched xenstore requests: a list of operations sent to xenstored in one write on a
 * socket connection of the session's own, their replies read back together, instead of
 * libxenstore's one request, one reply round trip per operation.  Written from the wire
 * protocol in <xen/io/xs_wire.h> (struct xsd_sockmsg, XS_*, the xsd_errors names).
 *
 * Used where a create writes many nodes: rxc_xsb_commit() runs the batch inside one
 * transaction (start, the operations and the commit: two round trips, retried on EAGAIN).
 * Only over xenstored's unix socket (xs_daemon_socket()); without one (xenstored in a
 * stub domain, reached through /dev/xen/xenbus only) rxc_xsb_connect() fails and the
 * caller takes libxenstore's path.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "rxc_internal.h"
#include <xenstore_lib.h>
#include <xen/io/xs_wire.h>

/* A reply that takes longer than this means xenstored is stuck: give up on the connection. */
#define XSB_REPLY_TIMEOUT_MS 30000

void rxc_xsb_init(rxc_xs_batch *b)
{
    memset(b, 0, sizeof *b);
}

void rxc_xsb_free(rxc_xs_batch *b)
{
    free(b->buf);
    free(b->may_fail);
    memset(b, 0, sizeof *b);
}

static int reserve(rxc_xs_batch *b, size_t more)
{
    if (b->len + more > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + more)
            cap *= 2;
        char *nb = realloc(b->buf, cap);
        if (!nb)
            return -1;
        b->buf = nb;
        b->cap = cap;
    }
    if (b->count + 1 > b->flags_cap) {
        uint32_t fc = b->flags_cap ? b->flags_cap * 2 : 32;
        uint8_t *nf = realloc(b->may_fail, fc);
        if (!nf)
            return -1;
        b->may_fail = nf;
        b->flags_cap = fc;
    }
    return 0;
}

/* Appends one request: a header (tx_id filled in when sent) and its payload parts. */
static void add(rxc_xs_batch *b, uint32_t type, int may_fail, const void *p1, size_t n1, const void *p2, size_t n2)
{
    if (b->broken)
        return;
    size_t body = n1 + n2;
    if (body > XENSTORE_PAYLOAD_MAX || reserve(b, sizeof(struct xsd_sockmsg) + body)) {
        b->broken = body > XENSTORE_PAYLOAD_MAX ? E2BIG : ENOMEM;
        return;
    }
    struct xsd_sockmsg h = { .type = type, .req_id = b->count, .tx_id = 0, .len = (uint32_t)body };
    memcpy(b->buf + b->len, &h, sizeof h);
    b->len += sizeof h;
    if (n1)
        memcpy(b->buf + b->len, p1, n1);
    if (n2)
        memcpy(b->buf + b->len + n1, p2, n2);
    b->len += body;
    b->may_fail[b->count++] = (uint8_t)(may_fail != 0);
}

void rxc_xsb_write(rxc_xs_batch *b, const char *path, const char *value)
{
    /* path NUL value (the value is not NUL-terminated on the wire). */
    add(b, XS_WRITE, 0, path, strlen(path) + 1, value, strlen(value));
}

void rxc_xsb_mkdir(rxc_xs_batch *b, const char *path)
{
    add(b, XS_MKDIR, 0, path, strlen(path) + 1, NULL, 0);
}

void rxc_xsb_rm(rxc_xs_batch *b, const char *path, int may_fail)
{
    add(b, XS_RM, may_fail, path, strlen(path) + 1, NULL, 0);
}

void rxc_xsb_set_perms(rxc_xs_batch *b, const char *path, const struct xs_permissions *perms, unsigned int n)
{
    /* path NUL, then one "<letter><domid>" NUL per entry: n none, r read, w write, b both. */
    char list[256];
    size_t used = 0;
    for (unsigned int i = 0; i < n; i++) {
        unsigned int p = perms[i].perms & (XS_PERM_READ | XS_PERM_WRITE);
        char c = p == (XS_PERM_READ | XS_PERM_WRITE) ? 'b' : p == XS_PERM_READ ? 'r' : p == XS_PERM_WRITE ? 'w' : 'n';
        int k = snprintf(list + used, sizeof list - used, "%c%u", c, perms[i].id);
        if (k < 0 || (size_t)k + 1 >= sizeof list - used) {
            b->broken = E2BIG;
            return;
        }
        used += (size_t)k + 1; /* keep the NUL */
    }
    add(b, XS_SET_PERMS, 0, path, strlen(path) + 1, list, used);
}

static void conn_close(rxc_session *s)
{
    if (s->xsb_fd >= 0)
        close(s->xsb_fd);
    s->xsb_fd = -1;
}

/* The session's own connection to xenstored's socket; call with xsb_lock held. */
static int conn_open(rxc_session *s)
{
    if (s->xsb_fd >= 0)
        return 0;
    const char *path = xs_daemon_socket();
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    if (!path || strlen(path) >= sizeof addr.sun_path)
        return ENOENT;
    strcpy(addr.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return errno;
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr)) {
        int e = errno;
        close(fd);
        return e;
    }
    /* A reply that takes longer than this means xenstored is stuck: recv() gives up. */
    struct timeval tv = { .tv_sec = XSB_REPLY_TIMEOUT_MS / 1000, .tv_usec = 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    s->xsb_fd = fd;
    return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return k < 0 ? errno : EPIPE;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/*
 * Replies as they come: recv() takes whatever xenstored has written so far (often all of a
 * batch's replies at once), not one header and one body at a time.  The socket has a 30 s
 * receive timeout (SO_RCVTIMEO), set when it was opened.
 */
struct reader {
    char buf[2 * (sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX)];
    size_t have, used;
};

/* The next whole message: its header, and *body pointing at its payload inside the reader's
 * buffer (valid until the next call; not NUL-terminated).  0, or an errno. */
static int next_message(int fd, struct reader *r, struct xsd_sockmsg *h, char **body)
{
    for (;;) {
        size_t avail = r->have - r->used;
        if (avail >= sizeof *h) {
            memcpy(h, r->buf + r->used, sizeof *h);
            if (h->len > XENSTORE_PAYLOAD_MAX)
                return EPROTO;
            if (avail - sizeof *h >= h->len) {
                *body = r->buf + r->used + sizeof *h;
                r->used += sizeof *h + h->len;
                return 0;
            }
        }
        /* Need more: keep what is unread at the front, then read. */
        if (r->used > 0) {
            memmove(r->buf, r->buf + r->used, r->have - r->used);
            r->have -= r->used;
            r->used = 0;
        }
        ssize_t k = recv(fd, r->buf + r->have, sizeof r->buf - r->have, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK ? ETIMEDOUT : errno;
        if (k == 0)
            return ECONNRESET;
        r->have += (size_t)k;
    }
}

/* xenstored's error reply (an errno name) as an errno value. */
static int errno_of(const char *name)
{
    for (size_t i = 0; i < sizeof xsd_errors / sizeof xsd_errors[0]; i++) {
        if (strcmp(xsd_errors[i].errstring, name) == 0)
            return xsd_errors[i].errnum;
    }
    return EIO;
}

/*
 * Sends `count` requests (in buf, each header's tx_id set to tx) and reads their replies in
 * order.  *first_err: the errno of the first failed request not marked may_fail, and
 * *failed_at its index; reply[0..reply_cap) gets the first reply's payload (NUL-terminated).
 * Returns 0, or an errno for the connection itself (then closed).
 */
static int exchange(rxc_session *s, char *buf, size_t len, uint32_t count, const uint8_t *may_fail, uint32_t tx,
                    int *first_err, uint32_t *failed_at, char *reply, size_t reply_cap)
{
    for (size_t off = 0; off < len;) {
        struct xsd_sockmsg *h = (struct xsd_sockmsg *)(buf + off);
        h->tx_id = tx;
        off += sizeof *h + h->len;
    }
    *first_err = 0;
    int e = write_all(s->xsb_fd, buf, len);
    struct reader *r = e ? NULL : malloc(sizeof *r);
    if (!e && !r)
        e = ENOMEM;
    if (r)
        r->have = r->used = 0;
    char text[XENSTORE_PAYLOAD_MAX + 1];
    for (uint32_t i = 0; !e && i < count; i++) {
        struct xsd_sockmsg h;
        char *body = NULL;
        if ((e = next_message(s->xsb_fd, r, &h, &body)))
            break;
        if (h.type == XS_WATCH_EVENT) { /* none registered on this connection; skip */
            i--;
            continue;
        }
        if (h.req_id != i) {
            e = EPROTO;
            break;
        }
        if ((i == 0 && reply) || h.type == XS_ERROR) {
            memcpy(text, body, h.len);
            text[h.len] = '\0';
        }
        if (i == 0 && reply) {
            size_t n = h.len < reply_cap - 1 ? h.len : reply_cap - 1;
            memcpy(reply, text, n);
            reply[n] = '\0';
        }
        if (h.type == XS_ERROR && !(may_fail && may_fail[i]) && *first_err == 0) {
            *first_err = errno_of(text);
            *failed_at = i;
        }
    }
    free(r);
    if (e)
        conn_close(s);
    return e;
}

/* One queued request through libxenstore (the fallback); false with errno set when refused. */
static bool replay_one(struct xs_handle *xsh, xs_transaction_t t, const struct xsd_sockmsg *h, const char *body)
{
    const char *path = body;
    size_t plen = strnlen(body, h->len);
    if (plen == h->len) {
        errno = EINVAL;
        return false;
    }
    const char *rest = body + plen + 1;
    size_t rlen = h->len - plen - 1;
    switch (h->type) {
    case XS_WRITE:
        return xs_write(xsh, t, path, rest, (unsigned int)rlen);
    case XS_MKDIR:
        return xs_mkdir(xsh, t, path);
    case XS_RM:
        return xs_rm(xsh, t, path);
    case XS_SET_PERMS: {
        unsigned int n = 0;
        for (size_t i = 0; i < rlen; i++)
            n += rest[i] == '\0';
        struct xs_permissions perms[16];
        if (n == 0 || n > 16 || !xs_strings_to_perms(perms, n, rest)) {
            errno = EINVAL;
            return false;
        }
        return xs_set_permissions(xsh, t, path, perms, n);
    }
    default:
        errno = EINVAL;
        return false;
    }
}

/* The same batch through libxenstore, one round trip per request, in one transaction. */
static int commit_libxs(rxc_session *s, rxc_xs_batch *b, const char *what, int *tries, rxc_error *err)
{
    for (int attempt = 0; attempt < 8; attempt++) {
        *tries = attempt + 1;
        xs_transaction_t t = xs_transaction_start(s->xsh);
        if (t == XBT_NULL)
            return rxc_fail(err, errno, "xs_transaction_start", "cannot write the xenstore nodes of %s", what);
        size_t off = 0;
        for (uint32_t i = 0; i < b->count; i++) {
            const struct xsd_sockmsg *h = (const struct xsd_sockmsg *)(b->buf + off);
            off += sizeof *h + h->len;
            if (!replay_one(s->xsh, t, h, (const char *)(h + 1)) && !b->may_fail[i]) {
                int e = errno;
                xs_transaction_end(s->xsh, t, true);
                return rxc_fail(err, e, "xs_write", "xenstore request %u of %u for %s was refused", i + 1, b->count, what);
            }
        }
        if (xs_transaction_end(s->xsh, t, false))
            return 0;
        if (errno != EAGAIN)
            return rxc_fail(err, errno, "xs_transaction_end", "cannot commit the xenstore nodes of %s", what);
    }
    return rxc_fail(err, EAGAIN, "xs_transaction_end", "xenstore stayed busy while writing the nodes of %s", what);
}

int rxc_xsb_commit(rxc_session *s, rxc_xs_batch *b, const char *what, int *batched, int *tries, rxc_error *err)
{
    *batched = 0;
    *tries = 0;
    if (b->broken)
        return rxc_fail(err, b->broken, "rxc_xsb_commit", "cannot queue the xenstore requests for %s", what);
    pthread_mutex_lock(&s->xsb_lock);
    if ((s->disabled & RXC_DISABLE_XS_BATCH) || conn_open(s)) {
        /* No socket to xenstored (e.g. only /dev/xen/xenbus): libxenstore, one request at a time. */
        pthread_mutex_unlock(&s->xsb_lock);
        return commit_libxs(s, b, what, tries, err);
    }
    *batched = 1;
    int result = 0;
    for (int attempt = 0;; attempt++) {
        *tries = attempt + 1;
        int e = conn_open(s);
        if (e) {
            result = rxc_fail(err, e, "connect", "cannot reach xenstored's socket %s for %s", xs_daemon_socket(), what);
            break;
        }
        /* Round trip 1: the transaction id. */
        struct { struct xsd_sockmsg h; char body[1]; } start = { { .type = XS_TRANSACTION_START, .req_id = 0, .len = 1 }, { 0 } };
        char reply[32];
        int xe = 0;
        uint32_t at = 0;
        if ((e = exchange(s, (char *)&start, sizeof start.h + 1, 1, NULL, 0, &xe, &at, reply, sizeof reply))) {
            result = rxc_fail(err, e, "xs_transaction_start", "xenstored's connection failed for %s", what);
            break;
        }
        if (xe) {
            result = rxc_fail(err, xe, "xs_transaction_start", "cannot start a xenstore transaction for %s", what);
            break;
        }
        char *end = NULL;
        unsigned long tx = strtoul(reply, &end, 10);
        if (end == reply || *end != '\0' || tx == 0 || tx > UINT32_MAX) {
            result = rxc_fail(err, EPROTO, "xs_transaction_start", "xenstored answered \"%s\" for a transaction id", reply);
            break;
        }
        /* Round trip 2: every operation, then the commit, in one write. */
        size_t saved_len = b->len;
        uint32_t saved_count = b->count;
        add(b, XS_TRANSACTION_END, 0, "T", 2, NULL, 0);
        if (b->broken) {
            result = rxc_fail(err, b->broken, "rxc_xsb_commit", "cannot queue the commit for %s", what);
            break;
        }
        e = exchange(s, b->buf, b->len, b->count, b->may_fail, (uint32_t)tx, &xe, &at, NULL, 0);
        b->len = saved_len;
        b->count = saved_count;
        if (e) {
            result = rxc_fail(err, e, "xs_transaction_end", "xenstored's connection failed for %s", what);
            break;
        }
        if (xe == 0)
            break;
        if (at < saved_count) {
            /* An operation failed.  xenstored still ran the commit queued after it, so what
             * went before may be in: the caller removes the nodes it was writing. */
            result = rxc_fail(err, xe, "xs_write", "xenstore request %u of %u for %s was refused", at + 1, saved_count, what);
            break;
        }
        if (xe != EAGAIN || attempt >= 7) {
            result = rxc_fail(err, xe, "xs_transaction_end", "cannot commit the xenstore nodes of %s%s", what,
                              xe == EAGAIN ? " (xenstore stayed busy)" : "");
            break;
        }
        /* EAGAIN: another writer touched a node this transaction read; run it again. */
    }
    pthread_mutex_unlock(&s->xsb_lock);
    return result;
}

int rxc_xsb_run(rxc_session *s, rxc_xs_batch *b, const char *what, rxc_error *err)
{
    if (b->broken)
        return rxc_fail(err, b->broken, "rxc_xsb_run", "cannot queue the xenstore requests for %s", what);
    if (b->count == 0)
        return 0;
    pthread_mutex_lock(&s->xsb_lock);
    int result = 0, xe = 0;
    uint32_t at = 0;
    int e = (s->disabled & RXC_DISABLE_XS_BATCH) ? EPERM : conn_open(s);
    if (e) {
        /* No socket: one request at a time through libxenstore, no transaction. */
        pthread_mutex_unlock(&s->xsb_lock);
        size_t off = 0;
        for (uint32_t i = 0; i < b->count; i++) {
            const struct xsd_sockmsg *h = (const struct xsd_sockmsg *)(b->buf + off);
            off += sizeof *h + h->len;
            if (!replay_one(s->xsh, XBT_NULL, h, (const char *)(h + 1)) && !b->may_fail[i] && !result)
                result = rxc_fail(err, errno, "xenstore", "xenstore request %u of %u for %s was refused", i + 1, b->count, what);
        }
        return result;
    }
    if ((e = exchange(s, b->buf, b->len, b->count, b->may_fail, 0, &xe, &at, NULL, 0)))
        result = rxc_fail(err, e, "xenstore", "xenstored's connection failed for %s", what);
    else if (xe)
        result = rxc_fail(err, xe, "xenstore", "xenstore request %u of %u for %s was refused", at + 1, b->count, what);
    pthread_mutex_unlock(&s->xsb_lock);
    return result;
}
