/*
 * Creations in flight, so that a process that ends while one runs leaves no half-built
 * domain.  Each create registers the UUID it gives the domain before anything reaches Xen
 * (and the domid once known); rxc_abort_creations(), which the Node side calls
 * synchronously from its exit and signal hooks on the JavaScript thread while the create
 * itself is still running on a worker thread, destroys those domains with handles of its
 * own (the worker's handles may be mid-call) and sets a flag the creates check after each
 * step, so a create that gets past the abort destroys what it made instead of finishing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rxc_internal.h"

#define MAX_INFLIGHT 64
/* How long an abort waits for a creation that has not reached Xen yet to get there. */
#define ABORT_GRACE_MS 2000

struct inflight {
    int used;
    uint8_t uuid[16];
    uint32_t domid;          /* INVALID_DOMID until the create knows it */
    int ended;               /* the create returned after an abort began */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct inflight slots[MAX_INFLIGHT];
static volatile int aborting;

int rxc_inflight_begin(const uint8_t uuid[16])
{
    pthread_mutex_lock(&lock);
    int slot = -1;
    if (aborting) {
        pthread_mutex_unlock(&lock);
        return -2;
    }
    for (int i = 0; i < MAX_INFLIGHT; i++) {
        if (!slots[i].used) {
            slots[i].used = 1;
            memcpy(slots[i].uuid, uuid, 16);
            slots[i].domid = (uint32_t)INVALID_DOMID;
            slots[i].ended = 0;
            slot = i;
            break;
        }
    }
    pthread_mutex_unlock(&lock);
    return slot;
}

void rxc_inflight_set_domid(int slot, uint32_t domid)
{
    if (slot < 0)
        return;
    pthread_mutex_lock(&lock);
    slots[slot].domid = domid;
    pthread_mutex_unlock(&lock);
}

void rxc_inflight_end(int slot)
{
    if (slot < 0)
        return;
    pthread_mutex_lock(&lock);
    if (!aborting)
        slots[slot].used = 0;
    else
        slots[slot].ended = 1; /* the abort still checks that nothing of it is left in Xen */
    pthread_mutex_unlock(&lock);
}

int rxc_inflight_aborted(void)
{
    return aborting;
}

void rxc_test_create_delay(void)
{
    const char *v = getenv("RUMPXEN_TEST_CREATE_DELAY_MS");
    if (!v || !*v)
        return;
    long ms = strtol(v, NULL, 10);
    for (long waited = 0; waited < ms && !aborting; waited += 10) {
        struct timespec ts = { 0, 10 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
}

/* Removes the toolstack's xenstore entries of a destroyed domain. */
static void remove_nodes(struct xs_handle *xsh, uint32_t domid, const uint8_t uuid[16])
{
    if (!xsh)
        return;
    char path[128];
    snprintf(path, sizeof path, "/local/domain/%u", domid);
    xs_rm(xsh, XBT_NULL, path);
    snprintf(path, sizeof path, "/libxl/%u", domid);
    xs_rm(xsh, XBT_NULL, path);
    snprintf(path, sizeof path, "/vm/" LIBXL_UUID_FMT, uuid[0], uuid[1], uuid[2], uuid[3], uuid[4], uuid[5], uuid[6],
             uuid[7], uuid[8], uuid[9], uuid[10], uuid[11], uuid[12], uuid[13], uuid[14], uuid[15]);
    xs_rm(xsh, XBT_NULL, path);
    unsigned int n = 0;
    char **types = xs_directory(xsh, XBT_NULL, "/local/domain/0/backend", &n);
    for (unsigned int i = 0; types && i < n; i++) {
        snprintf(path, sizeof path, "/local/domain/0/backend/%s/%u", types[i], domid);
        xs_rm(xsh, XBT_NULL, path);
    }
    free(types);
}

/* The domid Xen gave the domain with this handle (UUID), or INVALID_DOMID. */
static uint32_t find_by_uuid(xc_interface *xch, const uint8_t uuid[16])
{
    xc_domaininfo_t info[64];
    uint32_t next = 1;
    for (;;) {
        int n = xc_domain_getinfolist(xch, next, 64, info);
        if (n <= 0)
            return (uint32_t)INVALID_DOMID;
        for (int i = 0; i < n; i++) {
            if (memcmp(info[i].handle, uuid, 16) == 0)
                return info[i].domain;
        }
        next = info[n - 1].domain + 1;
        if (n < 64)
            return (uint32_t)INVALID_DOMID;
    }
}

int rxc_abort_creations(uint32_t *destroyed, rxc_error *err)
{
    rxc_log_begin();
    *destroyed = 0;
    pthread_mutex_lock(&lock);
    aborting = 1;
    pthread_mutex_unlock(&lock);
    xc_interface *xch = NULL;
    struct xs_handle *xsh = NULL;
    int result = 0;
    double deadline = rxc_now_ms() + ABORT_GRACE_MS;
    for (;;) {
        struct inflight now[MAX_INFLIGHT];
        pthread_mutex_lock(&lock);
        memcpy(now, slots, sizeof now);
        pthread_mutex_unlock(&lock);
        int waiting = 0;
        for (int i = 0; i < MAX_INFLIGHT; i++) {
            if (!now[i].used)
                continue;
            if (!xch) {
                xch = xc_interface_open(rxc_logger(), rxc_logger(), 0);
                xsh = xs_open(0);
                if (!xch) {
                    result = rxc_fail(err, errno, "xc_interface_open", "cannot open libxenctrl to destroy the domains being created");
                    goto out;
                }
            }
            uint32_t domid = now[i].domid;
            if (domid == (uint32_t)INVALID_DOMID || domid == 0)
                domid = find_by_uuid(xch, now[i].uuid);
            if (domid == (uint32_t)INVALID_DOMID || domid == 0) {
                if (now[i].ended) {
                    /* The create returned, with nothing in Xen (it undid its own work). */
                    pthread_mutex_lock(&lock);
                    slots[i].used = 0;
                    pthread_mutex_unlock(&lock);
                } else {
                    waiting = 1; /* not in Xen yet: it may get there any moment */
                }
                continue;
            }
            if (xc_domain_destroy(xch, domid) == 0) {
                (*destroyed)++;
                remove_nodes(xsh, domid, now[i].uuid);
            } else if (errno != ESRCH) {
                result = rxc_fail(err, errno, "xc_domain_destroy", "cannot destroy domain %u, which was being created", domid);
            }
            /* Destroyed (or gone): stop watching this slot, the create will find out. */
            pthread_mutex_lock(&lock);
            if (slots[i].used && memcmp(slots[i].uuid, now[i].uuid, 16) == 0)
                slots[i].used = 0;
            pthread_mutex_unlock(&lock);
        }
        if (!waiting || rxc_now_ms() >= deadline)
            break;
        struct timespec ts = { 0, 10 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
out:
    if (xsh)
        xs_close(xsh);
    if (xch)
        xc_interface_close(xch);
    return result;
}
