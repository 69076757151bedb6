/*
 * Xenstore client over the shared ring (io/xs_wire.h). One request is in flight at a time
 * (a sleeping lock serialises callers); whichever thread waits pumps the response ring,
 * filing replies by req_id and watch events into a queue. Everything read from the ring is
 * copied out first and its header checked (type, length <= XENSTORE_PAYLOAD_MAX) before use.
 */
#include <mk/arch.h>
#include <mk/console.h>
#include <mk/crash.h>
#include <mk/evtchn.h>
#include <mk/lib.h>
#include <mk/mm.h>
#include <mk/time.h>
#include <mk/waitq.h>
#include <mk/xenbus.h>

struct xs_event {
	struct xs_event *next;
	char *path, *token;
};

static struct xen_xs_ring *ring;
/*
 * Our own ring indices. The shared page holds copies for xenstored to read; we never read
 * them back, so a backend that rewrites them cannot move our position.
 */
static uint32_t rsp_cons_own, req_prod_own;
static uint32_t xs_port;
static struct mk_waitq ring_waiters;
static struct mk_waitq request_lock_q;
static bool request_busy;
static uint32_t next_req_id = 1;
static uint32_t pending_req_id;
static char *reply_buf;		/* payload + NUL, mk_malloc'd */
static struct xen_xs_msg reply_hdr;
static bool reply_ready;
static struct xs_event *events_head, *events_tail;
static unsigned events_queued;
/* Events nobody takes are dropped beyond this, so a flood cannot eat all memory. */
#define MAX_QUEUED_EVENTS 256
static int cached_domid = -1;
static bool ring_broken;

static void xs_event_handler(uint32_t port, void *arg)
{
	(void)port;
	(void)arg;
	mk_waitq_wake_all(&ring_waiters);
}

void mk_xenbus_init(void *r, uint32_t port)
{
	ring = r;
	xs_port = port;
	/* Where the domain builder left the ring: read once, checked in pump and req_write. */
	rsp_cons_own = MK_READ_ONCE(ring->rsp_cons);
	req_prod_own = MK_READ_ONCE(ring->req_prod);
	mk_evtchn_set_handler(port, xs_event_handler, NULL);
}

bool mk_xenbus_available(void)
{
	return ring != NULL && !ring_broken;
}

static void wait_ring_for(uint64_t bound_ns)
{
	struct mk_waiter w;
	mk_waitq_add(&ring_waiters, &w);
	/* Bounded, so a lost notification cannot hang us; the caller re-checks the ring. */
	mk_waitq_wait(&ring_waiters, &w, mk_time_monotonic_ns() + bound_ns);
}

static void wait_ring(void)
{
	wait_ring_for(100000000ULL);
}

static void ring_failed(const char *what)
{
	if (!ring_broken)
		mk_printk("rumpxen: xenstore ring unusable: %s; xenstore is off from now on\n", what);
	ring_broken = true;
	mk_waitq_wake_all(&ring_waiters);
}

/* Copies len bytes out of the response ring; the caller checked they are available. */
static void rsp_copy(char *dst, uint32_t cons, size_t len)
{
	for (size_t i = 0; i < len; i++)
		dst[i] = ring->rsp[(cons + i) % XEN_XS_RING_SIZE];
}

static bool pumping;
static void pump_locked(void);

/* Takes every complete message off the response ring (one pumping thread at a time). */
static void pump(void)
{
	if (pumping)
		return;
	pumping = true;
	pump_locked();
	pumping = false;
}

static void pump_locked(void)
{
	for (;;) {
		uint32_t cons = rsp_cons_own;
		uint32_t prod = MK_READ_ONCE(ring->rsp_prod);
		mk_rmb();
		uint32_t avail = prod - cons;
		if (avail > XEN_XS_RING_SIZE) {
			ring_failed("response producer index out of range");
			return;
		}
		struct xen_xs_msg hdr;
		if (avail < sizeof(hdr))
			return;
		rsp_copy((char *)&hdr, cons, sizeof(hdr));
		if (hdr.len > XEN_XS_PAYLOAD_MAX) {
			ring_failed("response longer than XENSTORE_PAYLOAD_MAX");
			return;
		}
		/* A message may exceed what is in the ring now: read it as it arrives. */
		char *body = mk_malloc(hdr.len + 1, 1);
		if (!body) {
			ring_failed("out of memory for a response");
			return;
		}
		uint32_t got = 0;
		cons += sizeof(hdr);
		rsp_cons_own = cons;
		ring->rsp_cons = cons;
		while (got < hdr.len) {
			prod = MK_READ_ONCE(ring->rsp_prod);
			mk_rmb();
			if (prod - cons > XEN_XS_RING_SIZE) {
				mk_free(body);
				ring_failed("response producer index out of range");
				return;
			}
			uint32_t n = prod - cons;
			if (n > hdr.len - got)
				n = hdr.len - got;
			if (n == 0) {
				mk_evtchn_notify(xs_port);
				wait_ring();
				if (ring_broken) {
					mk_free(body);
					return;
				}
				continue;
			}
			rsp_copy(body + got, cons, n);
			mk_mb();
			cons += n;
			got += n;
			rsp_cons_own = cons;
			ring->rsp_cons = cons;
		}
		body[hdr.len] = 0;
		mk_evtchn_notify(xs_port);
		if (hdr.type == XEN_XS_WATCH_EVENT) {
			size_t plen = mk_strnlen(body, hdr.len);
			struct xs_event *ev = mk_malloc(sizeof(*ev), 0);
			if (!ev || plen >= hdr.len || events_queued >= MAX_QUEUED_EVENTS) {
				mk_free(ev);
				mk_free(body);
				continue; /* malformed or no memory: drop the event */
			}
			ev->path = body;
			ev->token = body + plen + 1;
			ev->next = NULL;
			if (events_tail)
				events_tail->next = ev;
			else
				events_head = ev;
			events_tail = ev;
			events_queued++;
			mk_waitq_wake_all(&ring_waiters);
		} else if (hdr.req_id == pending_req_id && !reply_ready) {
			reply_hdr = hdr;
			reply_buf = body;
			reply_ready = true;
		} else {
			mk_free(body); /* a reply nobody waits for */
		}
	}
}

static void req_write(const char *data, size_t len)
{
	while (len) {
		uint32_t cons = MK_READ_ONCE(ring->req_cons);
		uint32_t prod = req_prod_own;
		mk_mb();
		if (prod - cons > XEN_XS_RING_SIZE) {
			ring_failed("request consumer index out of range");
			return;
		}
		uint32_t space = XEN_XS_RING_SIZE - (prod - cons);
		if (!space) {
			mk_evtchn_notify(xs_port);
			wait_ring();
			if (ring_broken)
				return;
			continue;
		}
		uint32_t n = space < len ? space : (uint32_t)len;
		for (uint32_t i = 0; i < n; i++)
			ring->req[(prod + i) % XEN_XS_RING_SIZE] = data[i];
		mk_wmb();
		req_prod_own = prod + n;
		ring->req_prod = req_prod_own;
		mk_evtchn_notify(xs_port);
		data += n;
		len -= n;
	}
}

static int error_code(const char *name)
{
	static const struct { const char *name; int code; } map[] = {
		{ "EINVAL", 22 }, { "EACCES", 13 }, { "EEXIST", 17 }, { "EISDIR", 21 },
		{ "ENOENT", 2 }, { "ENOMEM", 12 }, { "ENOSPC", 28 }, { "EIO", 5 },
		{ "ENOTEMPTY", 39 }, { "ENOSYS", 38 }, { "EROFS", 30 }, { "EBUSY", 16 },
		{ "EAGAIN", 11 }, { "EISCONN", 106 }, { "E2BIG", 7 }, { "EPERM", 1 },
	};
	for (size_t i = 0; i < MK_ARRAY_SIZE(map); i++)
		if (!mk_strcmp(map[i].name, name))
			return map[i].code;
	return 5;
}

/*
 * Sends one request made of nparts strings (each sent with its NUL when with_nul) and waits
 * for its reply; on success *reply is the mk_malloc'd payload (NUL-terminated) unless NULL.
 */
static int xs_request(uint32_t type, mk_xs_tx_t tx, const char *const *parts, int nparts,
	bool last_nul, char **reply, size_t *reply_len, uint32_t *reply_type)
{
	if (!mk_xenbus_available())
		return XEN_ENOSYS;
	while (request_busy) {
		struct mk_waiter w;
		mk_waitq_add(&request_lock_q, &w);
		mk_waitq_wait(&request_lock_q, &w, 0);
	}
	request_busy = true;
	struct xen_xs_msg hdr = { .type = type, .req_id = next_req_id++, .tx_id = tx, .len = 0 };
	for (int i = 0; i < nparts; i++)
		hdr.len += (uint32_t)mk_strlen(parts[i]) + ((i < nparts - 1 || last_nul) ? 1 : 0);
	int rc = 0;
	if (hdr.len > XEN_XS_PAYLOAD_MAX) {
		rc = XEN_E2BIG;
		goto out;
	}
	pending_req_id = hdr.req_id;
	reply_ready = false;
	req_write((const char *)&hdr, sizeof(hdr));
	for (int i = 0; i < nparts; i++)
		req_write(parts[i], mk_strlen(parts[i]) + ((i < nparts - 1 || last_nul) ? 1 : 0));
	while (!reply_ready && !ring_broken) {
		pump();
		if (!reply_ready && !ring_broken)
			wait_ring();
	}
	if (!reply_ready) {
		rc = XEN_EIO;
		goto out;
	}
	if (reply_hdr.type == XEN_XS_ERROR) {
		rc = error_code(reply_buf);
		mk_free(reply_buf);
	} else if (reply_hdr.type != type) {
		rc = XEN_EIO;
		mk_free(reply_buf);
	} else {
		if (reply_type)
			*reply_type = reply_hdr.type;
		if (reply_len)
			*reply_len = reply_hdr.len;
		if (reply)
			*reply = reply_buf;
		else
			mk_free(reply_buf);
	}
	reply_buf = NULL;
out:
	pending_req_id = 0;
	reply_ready = false;
	request_busy = false;
	mk_waitq_wake_one(&request_lock_q);
	return rc;
}

int mk_xs_read(mk_xs_tx_t tx, const char *path, char **value, size_t *len)
{
	const char *parts[] = { path };
	return xs_request(XEN_XS_READ, tx, parts, 1, true, value, len, NULL);
}

int mk_xs_write(mk_xs_tx_t tx, const char *path, const char *value)
{
	const char *parts[] = { path, value };
	return xs_request(XEN_XS_WRITE, tx, parts, 2, false, NULL, NULL, NULL);
}

int mk_xs_rm(mk_xs_tx_t tx, const char *path)
{
	const char *parts[] = { path };
	return xs_request(XEN_XS_RM, tx, parts, 1, true, NULL, NULL, NULL);
}

int mk_xs_ls(mk_xs_tx_t tx, const char *path, char **names, unsigned *count)
{
	const char *parts[] = { path };
	size_t len;
	int rc = xs_request(XEN_XS_DIRECTORY, tx, parts, 1, true, names, &len, NULL);
	if (rc)
		return rc;
	unsigned n = 0;
	for (size_t i = 0; i < len; i++)
		if ((*names)[i] == 0)
			n++;
	*count = n;
	return 0;
}

int mk_xs_tx_start(mk_xs_tx_t *tx)
{
	const char *parts[] = { "" };
	char *id;
	int rc = xs_request(XEN_XS_TRANSACTION_START, 0, parts, 1, true, &id, NULL, NULL);
	if (rc)
		return rc;
	const char *end;
	*tx = (mk_xs_tx_t)mk_strtoul(id, &end, 10);
	bool ok = end != id && *tx != 0;
	mk_free(id);
	return ok ? 0 : XEN_EIO;
}

int mk_xs_tx_end(mk_xs_tx_t tx, bool commit)
{
	const char *parts[] = { commit ? "T" : "F" };
	return xs_request(XEN_XS_TRANSACTION_END, tx, parts, 1, true, NULL, NULL, NULL);
}

int mk_xs_watch(const char *path, const char *token)
{
	const char *parts[] = { path, token };
	return xs_request(XEN_XS_WATCH, 0, parts, 2, true, NULL, NULL, NULL);
}

int mk_xs_unwatch(const char *path, const char *token)
{
	const char *parts[] = { path, token };
	return xs_request(XEN_XS_UNWATCH, 0, parts, 2, true, NULL, NULL, NULL);
}

/* Kernel watches use tokens starting with this; applications never see their events. */
#define KERNEL_TOKEN_PREFIX "mk:"

static bool token_wanted(const char *ev_token, const char *want)
{
	if (want)
		return mk_strcmp(ev_token, want) == 0;
	return mk_strncmp(ev_token, KERNEL_TOKEN_PREFIX, sizeof(KERNEL_TOKEN_PREFIX) - 1) != 0;
}

/* The first queued event for `want` (NULL: any application token), unlinked; NULL if none. */
static struct xs_event *take_event(const char *want)
{
	struct xs_event *prev = NULL;
	for (struct xs_event *ev = events_head; ev; prev = ev, ev = ev->next) {
		if (!token_wanted(ev->token, want))
			continue;
		if (prev)
			prev->next = ev->next;
		else
			events_head = ev->next;
		if (events_tail == ev)
			events_tail = prev;
		events_queued--;
		return ev;
	}
	return NULL;
}

static int watch_wait(const char *want, char *path, size_t path_size, char *token, size_t token_size,
	uint64_t deadline_ns)
{
	/*
	 * A kernel watch waits long between checks: its thread stays blocked (no periodic
	 * wake-ups) until xenstore traffic or an event wakes the ring's waiters.
	 */
	uint64_t bound = want ? 10000000000ULL : 100000000ULL;
	struct xs_event *ev;
	while (!(ev = take_event(want))) {
		if (!mk_xenbus_available())
			return XEN_EIO;
		if (!request_busy)
			pump();
		if ((ev = take_event(want)))
			break;
		uint64_t now = mk_time_monotonic_ns();
		if (deadline_ns && now >= deadline_ns)
			return XEN_EAGAIN;
		wait_ring_for(deadline_ns && deadline_ns - now < bound ? deadline_ns - now : bound);
	}
	mk_strlcpy(path, ev->path, path_size);
	if (token)
		mk_strlcpy(token, ev->token, token_size);
	mk_free(ev->path);
	mk_free(ev);
	return 0;
}

int mk_xs_watch_wait(char *path, size_t path_size, char *token, size_t token_size,
	uint64_t deadline_ns)
{
	return watch_wait(NULL, path, path_size, token, token_size, deadline_ns);
}

int mk_xs_kernel_watch_wait(const char *token, char *path, size_t path_size, uint64_t deadline_ns)
{
	return watch_wait(token, path, path_size, NULL, 0, deadline_ns);
}

int mk_xs_domid(void)
{
	if (cached_domid >= 0)
		return cached_domid;
	char *v;
	if (mk_xs_read(0, "domid", &v, NULL) != 0)
		return -1;
	const char *end;
	unsigned long id = mk_strtoul(v, &end, 10);
	if (end != v && *end == 0 && id < 0x7ff0)
		cached_domid = (int)id;
	mk_free(v);
	return cached_domid;
}
