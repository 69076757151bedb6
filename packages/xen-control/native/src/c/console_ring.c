/*
 * A domain's console ring read directly: the guest's console page (struct xencons_interface
 * of <xen/io/console.h>) mapped read-only, by grant reference GNTTAB_RESERVED_CONSOLE (the
 * toolstack seeds it for dom0 in every PV and PVH guest it builds), else by the frame in
 * console/ring-ref.  The reader only peeks: xenconsoled stays the ring's consumer (out_cons,
 * its pty and log are untouched), and this follows out_prod with a cursor of its own.
 *
 * The page is shared with the guest, so nothing read from it is trusted: out_prod is read
 * once per look, the distance from the cursor is checked against the ring's size (a guest
 * may move it anywhere), bytes are copied out before use, and out_prod is read again after
 * the copy so bytes the guest may have overwritten meanwhile are dropped and counted as lost.
 *
 * There is no event to wait on (the console's event channel is xenconsoled's), so a read
 * polls: every millisecond at first, backing off to 10 ms, sleeping in poll() on the
 * handle's cancel eventfd so close() ends it at once.  A domain that has shut down or is
 * gone ends the stream once what it wrote has been read.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "rxc_internal.h"
#include <xenforeignmemory.h>
#include <xen/grant_table.h>
#include <xen/io/console.h>

#define OUT_SIZE ((uint32_t)sizeof(((struct xencons_interface *)0)->out))

struct rxc_ring {
    rxc_session *s;
    uint32_t domid;
    const volatile struct xencons_interface *page;
    xenforeignmemory_handle *fmem; /* set when mapped by frame (the fallback) */
    uint32_t cursor;               /* next out[] index (free-running, like out_prod) to read */
    int started;                   /* the cursor has been placed */
    double attached_at;
};

static xengnttab_handle *session_gnttab(rxc_session *s)
{
    pthread_mutex_lock(&s->gnttab_lock);
    if (!s->gnttab)
        s->gnttab = xengnttab_open(rxc_logger(), 0);
    xengnttab_handle *g = s->gnttab;
    pthread_mutex_unlock(&s->gnttab_lock);
    return g;
}

/* The frame in console/ring-ref, as a decimal number; 0 when absent or not a number. */
static uint64_t ring_ref_frame(rxc_session *s, uint32_t domid)
{
    char path[64];
    snprintf(path, sizeof path, "/local/domain/%u/console/ring-ref", domid);
    unsigned int n = 0;
    char *v = xs_read(s->xsh, XBT_NULL, path, &n);
    uint64_t frame = 0;
    if (v && n > 0 && n < 21) {
        char *end = NULL;
        unsigned long long f = strtoull(v, &end, 10);
        if (end == v + n)
            frame = f;
    }
    free(v);
    return frame;
}

int rxc_ring_open(rxc_session *s, uint32_t domid, rxc_ring **out, double *attached_at, double *attach_ms, rxc_error *err)
{
    rxc_log_begin();
    double t0 = rxc_now_ms();
    rxc_ring *r = calloc(1, sizeof *r);
    if (!r)
        return rxc_fail(err, ENOMEM, "calloc", "out of memory opening the console ring of domain %u", domid);
    r->s = s;
    r->domid = domid;
    xengnttab_handle *g = session_gnttab(s);
    if (g)
        r->page = xengnttab_map_grant_ref(g, domid, GNTTAB_RESERVED_CONSOLE, PROT_READ);
    if (!r->page) {
        /* No grant (or no gntdev): the frame xenstore names, through privcmd. */
        int gerr = errno;
        uint64_t frame = ring_ref_frame(s, domid);
        if (frame == 0) {
            free(r);
            return rxc_fail(err, gerr ? gerr : ENOENT, "xengnttab_map_grant_ref",
                            "cannot map the console ring of domain %u (grant %u, and no console/ring-ref)", domid,
                            GNTTAB_RESERVED_CONSOLE);
        }
        r->fmem = xenforeignmemory_open(rxc_logger(), 0);
        xen_pfn_t pfn = (xen_pfn_t)frame;
        int perr = 0;
        if (r->fmem)
            r->page = xenforeignmemory_map(r->fmem, domid, PROT_READ, 1, &pfn, &perr);
        if (!r->page || perr) {
            int e = perr ? -perr : errno;
            if (r->page)
                xenforeignmemory_unmap(r->fmem, (void *)r->page, 1);
            if (r->fmem)
                xenforeignmemory_close(r->fmem);
            free(r);
            return rxc_fail(err, e > 0 ? e : EIO, "xenforeignmemory_map", "cannot map the console ring of domain %u (frame 0x%llx)",
                            domid, (unsigned long long)frame);
        }
    }
    r->attached_at = rxc_now_ms();
    *attached_at = r->attached_at;
    *attach_ms = r->attached_at - t0;
    *out = r;
    return 0;
}

void rxc_ring_close(rxc_ring *r)
{
    if (!r)
        return;
    if (r->fmem) {
        xenforeignmemory_unmap(r->fmem, (void *)r->page, 1);
        xenforeignmemory_close(r->fmem);
    } else if (r->page) {
        xengnttab_handle *g = session_gnttab(r->s);
        if (g)
            xengnttab_unmap(g, (void *)r->page, 1);
    }
    free(r);
}

/* out_prod as the guest last published it; what it wrote before is visible after this. */
static uint32_t load_prod(const rxc_ring *r)
{
    uint32_t prod = __atomic_load_n(&r->page->out_prod, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    return prod;
}

/* Whether the domain will write no more: shut down, dying, or gone. */
static int domain_finished(rxc_session *s, uint32_t domid)
{
    xc_domaininfo_t info;
    int n = xc_domain_getinfolist(s->xch, domid, 1, &info);
    if (n < 0)
        return 0; /* cannot tell: keep waiting */
    return n == 0 || info.domain != domid || (info.flags & (XEN_DOMINF_shutdown | XEN_DOMINF_dying));
}

/*
 * Copies what the guest wrote past the cursor (at most cap bytes) into buf.  Returns the
 * number of bytes copied; *lost grows by bytes the ring overwrote before they were read.
 */
static uint32_t take(rxc_ring *r, char *buf, uint32_t cap, uint32_t *lost)
{
    for (;;) {
        uint32_t prod = load_prod(r);
        if (!r->started) {
            /* The guest's first byte is out[0] (index 0); a ring already wrapped starts at its oldest byte. */
            r->started = 1;
            r->cursor = prod <= OUT_SIZE ? 0 : prod - OUT_SIZE;
            *lost += prod <= OUT_SIZE ? 0 : prod - OUT_SIZE;
        }
        uint32_t avail = prod - r->cursor;
        if (avail == 0)
            return 0;
        if (avail > 0x80000000u) {
            /* out_prod went backwards: the guest rewrote it.  Nothing before it is trustworthy. */
            r->cursor = prod;
            return 0;
        }
        if (avail > OUT_SIZE) {
            *lost += avail - OUT_SIZE;
            r->cursor = prod - OUT_SIZE;
            avail = OUT_SIZE;
        }
        uint32_t n = avail < cap ? avail : cap;
        for (uint32_t i = 0; i < n; i++)
            buf[i] = r->page->out[MASK_XENCONS_IDX(r->cursor + i, r->page->out)];
        /* Anything the guest wrote past cursor + OUT_SIZE meanwhile overwrote what we copied first. */
        uint32_t after = load_prod(r) - r->cursor;
        uint32_t stale = after > OUT_SIZE && after <= 0x80000000u ? after - OUT_SIZE : 0;
        if (stale >= n) {
            *lost += n;
            r->cursor += n;
            continue;
        }
        if (stale) {
            memmove(buf, buf + stale, n - stale);
            *lost += stale;
        }
        r->cursor += n;
        return n - stale;
    }
}

int rxc_ring_read(rxc_ring *r, int cancel_fd, int timeout_ms, char *buf, uint32_t cap, rxc_ring_chunk *out, rxc_error *err)
{
    rxc_log_begin();
    memset(out, 0, sizeof *out);
    double start = rxc_now_ms();
    double next_check = start + 50;
    for (int polls = 0;; polls++) {
        out->len = take(r, buf, cap, &out->lost);
        if (out->len || out->lost) {
            out->at_ms = rxc_now_ms();
            return 0;
        }
        double now = rxc_now_ms();
        if (now >= next_check) {
            next_check = now + 100;
            if (domain_finished(r->s, r->domid)) {
                /* Its last bytes may have landed between the look above and the check. */
                out->len = take(r, buf, cap, &out->lost);
                out->ended = out->len == 0;
                out->at_ms = rxc_now_ms();
                return 0;
            }
        }
        double left = timeout_ms < 0 ? 1e9 : start + timeout_ms - now;
        if (left <= 0)
            return 0; /* timed out: nothing new */
        int step = polls < 100 ? 1 : polls < 300 ? 3 : 10;
        struct pollfd p = { .fd = cancel_fd, .events = POLLIN };
        int n = poll(&p, cancel_fd >= 0 ? 1 : 0, step < left ? step : (int)left + 1);
        if (n < 0 && errno != EINTR)
            return rxc_fail(err, errno, "poll", "waiting on the console ring of domain %u failed", r->domid);
        if (n > 0 && (p.revents & POLLIN))
            return rxc_fail(err, ECANCELED, "poll", "reading the console ring of domain %u was cancelled (closed)", r->domid);
    }
}
