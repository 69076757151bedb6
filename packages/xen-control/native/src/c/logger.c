/*
 * The xentoollog logger: messages go to a per-thread buffer (so that an
 * operation's error can carry what the library said while it ran) and to a
 * bounded process-wide ring that the addon drains into a debug log.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rxc_internal.h"

#define THREAD_LOG_SIZE 1536
#define DEBUG_RING_SIZE 16384

static __thread char thread_log[THREAD_LOG_SIZE];
static __thread size_t thread_log_len;

static pthread_mutex_t ring_lock = PTHREAD_MUTEX_INITIALIZER;
static char debug_ring[DEBUG_RING_SIZE];
static size_t debug_ring_len;

static void append_bounded(char *buf, size_t size, size_t *len, const char *text, size_t n)
{
    if (n >= size) {
        text += n - (size - 1);
        n = size - 1;
    }
    if (*len + n >= size) {
        /* Keep the newest lines: drop the oldest bytes. */
        size_t drop = *len + n - (size - 1);
        memmove(buf, buf + drop, *len - drop);
        *len -= drop;
    }
    memcpy(buf + *len, text, n);
    *len += n;
    buf[*len] = '\0';
}

static void logger_vmessage(xentoollog_logger *lg, xentoollog_level level, int errnoval,
                            const char *context, const char *format, va_list al)
{
    char line[768];
    int n = snprintf(line, sizeof line, "%s: %s: ", xtl_level_to_string(level),
                     context ? context : "xen");
    if (n < 0 || (size_t)n >= sizeof line)
        n = 0;
    int m = vsnprintf(line + n, sizeof line - (size_t)n, format, al);
    size_t len = m < 0 ? (size_t)n : strnlen(line, sizeof line - 1);
    if (errnoval >= 0 && len + 2 < sizeof line) {
        int k = snprintf(line + len, sizeof line - len, ": %s", strerror(errnoval));
        if (k > 0)
            len = strnlen(line, sizeof line - 1);
    }
    if (len + 1 < sizeof line)
        line[len++] = '\n';
    (void)lg;

    /* Debug-level chatter is not worth an error message, but keep it for the debug log. */
    if (level >= XTL_INFO)
        append_bounded(thread_log, sizeof thread_log, &thread_log_len, line, len);
    /* The debug log carries a monotonic timestamp so slow steps stand out. */
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    char stamp[32];
    int sn = snprintf(stamp, sizeof stamp, "[%lld.%03ld] ", (long long)now.tv_sec, now.tv_nsec / 1000000);
    pthread_mutex_lock(&ring_lock);
    if (sn > 0)
        append_bounded(debug_ring, sizeof debug_ring, &debug_ring_len, stamp, (size_t)sn);
    append_bounded(debug_ring, sizeof debug_ring, &debug_ring_len, line, len);
    pthread_mutex_unlock(&ring_lock);
}

static void logger_progress(xentoollog_logger *lg, const char *context, const char *doing_what,
                            int percent, unsigned long done, unsigned long total)
{
    (void)lg; (void)context; (void)doing_what; (void)percent; (void)done; (void)total;
}

static void logger_destroy(xentoollog_logger *lg)
{
    (void)lg; /* static: nothing to free */
}

static xentoollog_logger the_logger = {
    .vmessage = logger_vmessage,
    .progress = logger_progress,
    .destroy = logger_destroy,
};

xentoollog_logger *rxc_logger(void)
{
    return &the_logger;
}

void rxc_log_begin(void)
{
    thread_log_len = 0;
    thread_log[0] = '\0';
}

size_t rxc_log_drain(char *buf, size_t len)
{
    pthread_mutex_lock(&ring_lock);
    size_t n = debug_ring_len < len ? debug_ring_len : len;
    memcpy(buf, debug_ring, n);
    memmove(debug_ring, debug_ring + n, debug_ring_len - n);
    debug_ring_len -= n;
    pthread_mutex_unlock(&ring_lock);
    return n;
}

static int fail_v(rxc_error *err, int errnum, const char *call, const char *fmt, va_list ap)
{
    if (errnum <= 0)
        errnum = EIO;
    err->errnum = errnum;
    snprintf(err->call, sizeof err->call, "%s", call);
    int n = vsnprintf(err->detail, sizeof err->detail, fmt, ap);
    if (n < 0)
        n = 0;
    size_t used = strnlen(err->detail, sizeof err->detail);
    if (thread_log_len > 0 && used + 16 < sizeof err->detail) {
        snprintf(err->detail + used, sizeof err->detail - used, "\nlibrary log:\n%s", thread_log);
        used = strnlen(err->detail, sizeof err->detail);
        while (used > 0 && err->detail[used - 1] == '\n')
            err->detail[--used] = '\0';
    }
    return errnum;
}

int rxc_fail(rxc_error *err, int errnum, const char *call, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = fail_v(err, errnum, call, fmt, ap);
    va_end(ap);
    return r;
}

static int libxl_to_errno(int rc)
{
    switch (rc) {
    case ERROR_NOMEM: return ENOMEM;
    case ERROR_INVAL: return EINVAL;
    case ERROR_DOMAIN_NOTFOUND: return ESRCH;
    case ERROR_NOTFOUND: return ENOENT;
    case ERROR_NI: return ENOSYS;
    default: return EIO;
    }
}

int rxc_fail_libxl(rxc_error *err, int libxl_rc, const char *call, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return rxc_fail(err, libxl_to_errno(libxl_rc), call, "%s (libxl %s, %d)", what,
                    libxl_error_to_string((libxl_error)libxl_rc), libxl_rc);
}

int rxc_abi_version(void)
{
    return RXC_ABI_VERSION;
}

void rxc_free(void *p)
{
    free(p);
}
