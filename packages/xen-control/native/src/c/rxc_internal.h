/* Shared between the rxctl C files; never seen by the addon. */
#ifndef RXC_INTERNAL_H
#define RXC_INTERNAL_H

#include <pthread.h>

#include <xenctrl.h>
#include <xenstore.h>
#include <xentoollog.h>
#include <libxl.h>
#include <libxl_utils.h>
#include <xengnttab.h>

#include "rxctl.h"

/*
 * The fast path's parts, each of which RUMPXEN_XEN_DISABLE (a comma-separated list of their
 * names) turns off for a session, so a benchmark can show what each one is worth.
 */
#define RXC_DISABLE_IMAGE_CACHE   1u  /* "image-cache": read the kernel file on every create */
#define RXC_DISABLE_XS_BATCH      2u  /* "xs-batch": one libxenstore round trip per node */
#define RXC_DISABLE_DIRECT_DESTROY 4u /* "direct-destroy": libxl_domain_destroy for every domain */

struct rxc_session {
    xc_interface *xch;
    struct xs_handle *xsh;
    libxl_ctx *ctx;
    /*
     * libxl forks hotplug scripts; libuv owns SIGCHLD in Node, so libxl runs
     * in "mainloop" mode and this thread tells it to reap its own children.
     */
    pthread_t reaper;
    int reaper_running;
    pthread_mutex_t reaper_lock;
    pthread_cond_t reaper_stop;
    int stopping;
    /* A connection of our own to xenstored's socket for batched requests (xs_batch.c). */
    int xsb_fd;
    pthread_mutex_t xsb_lock;
    /* RXC_DISABLE_* bits from RUMPXEN_XEN_DISABLE, read when the session opens (benchmarks). */
    unsigned int disabled;
    /* Opened on first use by the console ring reader (console_ring.c). */
    xengnttab_handle *gnttab;
    pthread_mutex_t gnttab_lock;
};

/* The one logger every handle is opened with: it never writes to stderr. */
xentoollog_logger *rxc_logger(void);

/* Forget what the libraries said on this thread; call at the start of each operation. */
void rxc_log_begin(void);

/* Fill *err (call, errno, formatted detail plus this thread's captured log) and return errnum (never 0). */
int rxc_fail(rxc_error *err, int errnum, const char *call, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Same, for a libxl error code (negative ERROR_*), mapped to the nearest errno. */
int rxc_fail_libxl(rxc_error *err, int libxl_rc, const char *call, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* poll() for fd readable or cancel_fd readable; 1 readable, 0 timeout, -ECANCELED, or -errno. */
int rxc_poll_readable(int fd, int cancel_fd, int timeout_ms);

/*
 * Creations in flight (inflight.c).  begin: a slot for the domain's UUID, before anything
 * reaches Xen; -2 when the process is ending (rxc_abort_creations ran): refuse the create.
 * A slot of -1 (table full) still works, unprotected.  aborted: the create must destroy
 * what it made and fail.  test_create_delay: sleeps RUMPXEN_TEST_CREATE_DELAY_MS (a test
 * hook that holds a create half-built), cut short by an abort.
 */
int rxc_inflight_begin(const uint8_t uuid[16]);
void rxc_inflight_set_domid(int slot, uint32_t domid);
void rxc_inflight_end(int slot);
int rxc_inflight_aborted(void);
void rxc_test_create_delay(void);

/* Monotonic milliseconds, for the create timings. */
double rxc_now_ms(void);

/*
 * The domains this process's direct path built (create_direct.c), which rxc_domain_destroy
 * destroys without libxl: lookup fills the handle (UUID) it was given; forget drops it.
 */
int rxc_direct_lookup(uint32_t domid, uint8_t uuid[16]);
void rxc_direct_forget(uint32_t domid);

/*
 * Batched xenstore requests (xs_batch.c): queue operations, then send them in one write on
 * the session's own socket connection to xenstored and read the replies together.
 * rxc_xsb_commit: inside one transaction (2 round trips; the whole batch is rerun on
 * EAGAIN, up to 8 times: *tries); *batched says whether it went that way.  rxc_xsb_run: without a
 * transaction (1 round trip).  Without xenstored's socket both replay the queue through
 * libxenstore, one round trip per request.  A queueing failure (ENOMEM, a payload over
 * XENSTORE_PAYLOAD_MAX) is reported by either.
 */
typedef struct rxc_xs_batch {
    char *buf;
    size_t len, cap;
    uint32_t count, flags_cap;
    uint8_t *may_fail;       /* per request: an error reply is not a failure (rm of an absent node) */
    int broken;              /* errno of a request that could not be queued */
} rxc_xs_batch;
void rxc_xsb_init(rxc_xs_batch *b);
void rxc_xsb_free(rxc_xs_batch *b);
void rxc_xsb_write(rxc_xs_batch *b, const char *path, const char *value);
void rxc_xsb_mkdir(rxc_xs_batch *b, const char *path);
void rxc_xsb_rm(rxc_xs_batch *b, const char *path, int may_fail);
void rxc_xsb_set_perms(rxc_xs_batch *b, const char *path, const struct xs_permissions *perms, unsigned int n);
int rxc_xsb_commit(rxc_session *s, rxc_xs_batch *b, const char *what, int *batched, int *tries, rxc_error *err);
int rxc_xsb_run(rxc_session *s, rxc_xs_batch *b, const char *what, rxc_error *err);

/*
 * Kernel and ramdisk bytes kept across creates (image_cache.c), keyed by path, device,
 * inode, size, mtime and ctime (checked with one stat() per use); a kernel's gzip already
 * undone (gunzip), a ramdisk's kept.  rxc_image_get sets *img (hold it until the build is
 * done, then rxc_image_put) and *hit (it was cached), or leaves *img NULL when the file is
 * not cacheable (missing, unreadable, being rewritten, over 32 MiB): build from the file
 * then, so the builder reports what is wrong with it.  Returns 0.
 */
typedef struct rxc_image rxc_image;
int rxc_image_get(xc_interface *xch, const char *path, int gunzip, rxc_image **img, int *hit);
const void *rxc_image_data(const rxc_image *img, size_t *size);
void rxc_image_put(rxc_image *img);

#endif
