/* Shared between the rxctl C files; never seen by the addon. */
#ifndef RXC_INTERNAL_H
#define RXC_INTERNAL_H

#include <pthread.h>

#include <xenctrl.h>
#include <xenstore.h>
#include <xentoollog.h>
#include <libxl.h>
#include <libxl_utils.h>

#include "rxctl.h"

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

#endif
