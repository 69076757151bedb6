/*
 * Xenstore client over the shared ring. Requests are synchronous for the calling thread
 * (others keep running while it waits). Replies are copied out of the ring and checked
 * before use. Returns 0 or a positive XEN_E* errno-style code.
 */
#ifndef MK_XENBUS_H
#define MK_XENBUS_H
#include <mk/types.h>

typedef uint32_t mk_xs_tx_t; /* 0: no transaction */

void mk_xenbus_init(void *ring, uint32_t port);
bool mk_xenbus_available(void);
/* Reads path into a new NUL-terminated mk_malloc buffer (*len excludes the NUL). */
int mk_xs_read(mk_xs_tx_t tx, const char *path, char **value, size_t *len);
int mk_xs_write(mk_xs_tx_t tx, const char *path, const char *value);
int mk_xs_rm(mk_xs_tx_t tx, const char *path);
/* Lists children: *names is a mk_malloc buffer of *count NUL-separated names. */
int mk_xs_ls(mk_xs_tx_t tx, const char *path, char **names, unsigned *count);
int mk_xs_tx_start(mk_xs_tx_t *tx);
/* Ends a transaction; commit=false aborts. Returns XEN_EAGAIN when it must be retried. */
int mk_xs_tx_end(mk_xs_tx_t tx, bool commit);
/* Registers a watch; events queue until mk_xs_watch_wait takes them. */
int mk_xs_watch(const char *path, const char *token);
int mk_xs_unwatch(const char *path, const char *token);
/* Waits for the next watch event (deadline: monotonic ns, 0 = forever); copies the path. */
int mk_xs_watch_wait(char *path, size_t path_size, char *token, size_t token_size,
	uint64_t deadline_ns);
/*
 * The kernel's own watches use tokens starting with "mk:": mk_xs_watch_wait never returns
 * their events; this waits for the next event with exactly `token` (same results).
 */
int mk_xs_kernel_watch_wait(const char *token, char *path, size_t path_size, uint64_t deadline_ns);
/* This domain's id (from xenstore "domid"), or -1 when unknown. */
int mk_xs_domid(void);

#endif
