/*
 * xenfront: a paravirtual frontend's connection to its backend, the xenbus handshake that
 * blkfront and netfront share: where the backend is (front/backend, front/backend-id),
 * waiting for the backend's state, the frontend's nodes written in one transaction, the
 * event channel, and going Closed when the connect fails. The driver keeps its protocol:
 * which nodes, which pages, what it checks of the backend's own nodes.
 *
 * Once connected, a frontend may watch its backend (mk_xenfront_watch_backend): the
 * "xenfront" kernel thread waits on xenstore watches of the backends' state nodes and tells
 * the driver when one says Closing or Closed, or is gone (xl block-detach, network-detach).
 *
 * Everything read from xenstore is copied, then checked (paths bounded, numbers decimal
 * and in range). Every failure a user can cause prints a console line prefixed
 * "<driver>: <device>: " naming the node, what was wrong and where to look.
 */
#ifndef MK_XENFRONT_H
#define MK_XENFRONT_H
#include <mk/blkif.h>	/* MK_XENBUS_* states */
#include <mk/evtchn.h>
#include <mk/gnttab.h>
#include <mk/types.h>
#include <mk/xen.h>

struct mk_xenfront;

/* What mk_xenfront_watch_backend passes when the backend's state node is gone. */
#define MK_XENFRONT_BACKEND_GONE 0xffffffffu

/*
 * The backend left: state is the one its node holds (MK_XENBUS_CLOSING or _CLOSED), or
 * MK_XENFRONT_BACKEND_GONE. Runs on the "xenfront" thread, which has no lwp and holds no
 * rump CPU; it may block (xenstore, sleeps), delaying news of other backends meanwhile.
 */
typedef void (*mk_xenfront_left_fn)(struct mk_xenfront *f, unsigned state, void *arg);

struct mk_xenfront {
	const char *driver;	/* "blkfront": the messages' prefix */
	const char *kind;	/* "vbd", "vif": the device's folder under device/ */
	const char *name;	/* the device's name in messages ("xvda", "vif0") */
	uint32_t id;		/* <id> of device/<kind>/<id> */
	struct mk_xenfront *set_next;	/* the next device of its mk_xenfront_set */
	char front[40];		/* our folder, device/<kind>/<id> */
	char backend[128];	/* the backend's folder, from front/backend */
	uint16_t backend_id;
	uint32_t port;		/* valid when port_bound */
	bool port_bound;
	/* mk_xenfront_watch_backend's */
	struct mk_xenfront *watch_next;
	mk_xenfront_left_fn left;
	void *left_arg;
	bool watched;
};

/* One node the frontend writes under its folder. */
struct mk_xenfront_node {
	const char *key;
	const char *value;
};

/*
 * The devices of one kind a driver has found under this domain's device/<kind>: each is the
 * driver's own struct, allocated zeroed (size bytes) when its id is first listed, with its
 * struct mk_xenfront at xf_offset set up for device/<kind>/<id> (touching no xenstore).
 * name(dev, id) gives the device's name in messages, kept in dev (it must outlive it).
 * Devices are never freed: a domain's devices do not go away.
 */
struct mk_xenfront_set {
	const char *driver;	/* "blkfront" */
	const char *kind;	/* "vbd" */
	uint32_t max_id;	/* ids above it are not the driver's (vif handles are 16 bits) */
	size_t size;
	size_t xf_offset;
	const char *(*name)(void *dev, uint32_t id);
	struct mk_xenfront *head;	/* the devices recorded, newest first */
};

/*
 * Records the ids listed under device/<kind> that set does not have yet. Returns the number
 * of entries listed, ids or not; 0 when there is no such folder or no xenstore (dom0). A
 * device that cannot be allocated is reported and stops the scan. May block.
 */
unsigned mk_xenfront_set_scan(struct mk_xenfront_set *set);

/* The recorded device with this id: its driver struct; NULL when there is none. */
void *mk_xenfront_set_find(const struct mk_xenfront_set *set, uint32_t id);

/* The driver struct around f, a device of set (for walking set->head). */
static inline void *mk_xenfront_set_dev(const struct mk_xenfront_set *set, struct mk_xenfront *f)
{
	return (char *)f - set->xf_offset;
}

/*
 * Reads dir/key (a copy the caller frees with mk_free, NUL-terminated, len without the
 * NUL). Returns 0 or the xenstore error; the value is unchecked. May block.
 */
int mk_xenfront_read(const char *dir, const char *key, char **value, size_t *len);

/* The name of xenbus state s ("InitWait"), "?" beyond Reconfigured. */
const char *mk_xenfront_state_name(unsigned s);

/*
 * Copies len bytes of an untrusted value into out (size > 4) for a message: unprintable
 * bytes as '?', cut with "..." when longer than out holds; always terminated.
 */
void mk_xenfront_show_value(char *out, size_t size, const char *v, size_t len);

/*
 * Reads front/backend (a /local/domain/ path shorter than f->backend) and front/backend-id
 * (a domain id, at most 0x7fef) into f. Returns 0, or XEN_EIO after printing which node
 * is missing or wrong. May block.
 */
int mk_xenfront_find_backend(struct mk_xenfront *f);

/*
 * Waits (up to 30 s, polling every 10 ms) until the backend's state is from want to
 * Connected. Returns 0; or XEN_EIO (the backend is Closing or Closed) or XEN_EAGAIN (time
 * out), after printing the state it stopped in followed by advice, e.g. "; check blkback
 * and the disk's hotplug script in dom0". Blocks the calling thread.
 */
int mk_xenfront_wait_backend(struct mk_xenfront *f, unsigned want, const char *advice);

/*
 * Grants the backend access to one of our pages. Returns 0 and the reference, or
 * XEN_ENOMEM when the grant table is full (nothing printed).
 */
int mk_xenfront_grant_page(const struct mk_xenfront *f, void *page, bool readonly,
	mk_grant_ref_t *ref);

/*
 * Allocates an unbound event channel for the backend with handler h(port, arg) into
 * f->port. Returns 0, or XEN_EIO after printing Xen's error.
 */
int mk_xenfront_bind_event(struct mk_xenfront *f, mk_evtchn_handler_t h, void *arg);

/*
 * Writes n nodes under f->front in one transaction, in order (retried up to 8 times when
 * xenstore reports a conflict). Returns 0, or the xenstore error after printing
 * "writing <what> to <front> failed"; nothing of a failed attempt stays written.
 */
int mk_xenfront_publish(const struct mk_xenfront *f, const struct mk_xenfront_node *nodes,
	unsigned n, const char *what);

/*
 * Writes our state (MK_XENBUS_*) outside a transaction. Returns 0, or the xenstore error
 * after printing "writing state <name> failed".
 */
int mk_xenfront_set_state(const struct mk_xenfront *f, unsigned state);

/* Ignores the event channel from now on (masks it if bound). */
void mk_xenfront_stop_events(const struct mk_xenfront *f);

/*
 * Watches the backend's state node (a xenstore watch, token "mk:xenfront") for a connected
 * frontend: once the node says Closing or Closed, or is gone, left(f, state, arg) runs once
 * on the "xenfront" thread (started by the first call) and the watch ends. The node is
 * looked at once when the watch is registered, so a backend that left before is noticed
 * too. Values read are checked: a state that is not a decimal up to Reconfigured, or any
 * other state, is ignored. Returns 0, or an error after printing that a backend leaving
 * will not be noticed. May block (xenstore).
 */
int mk_xenfront_watch_backend(struct mk_xenfront *f, mk_xenfront_left_fn left, void *arg);

/* "state 5, Closing" or "its state node is gone", for messages. */
void mk_xenfront_left_text(char *out, size_t size, unsigned state);

/*
 * After the backend left: writes our state Closed (in a transaction, and only while our
 * own folder still has its state node: the toolstack may have removed the folder already,
 * and a write would leave a stray node behind). Returns 0, XEN_ENOENT (our folder is gone:
 * nothing written) or the xenstore error. Prints nothing.
 */
int mk_xenfront_close_after_backend(const struct mk_xenfront *f);

/* Masks and closes the event channel (the backend's end becomes unbound). */
void mk_xenfront_release_event(struct mk_xenfront *f);

/*
 * After a failed connect: stops events and writes our state Closed, so the backend lets
 * go of what we granted (a failure to write is not reported). Returns XEN_EIO.
 */
int mk_xenfront_close(const struct mk_xenfront *f);

#endif
