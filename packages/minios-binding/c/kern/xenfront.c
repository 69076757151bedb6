/*
 * xenfront: the xenbus handshake of a paravirtual frontend; see mk/xenfront.h.
 */
#include <mk/console.h>
#include <mk/lib.h>
#include <mk/mm.h>
#include <mk/sched.h>
#include <mk/time.h>
#include <mk/xenbus.h>
#include <mk/xenfront.h>

#define CONNECT_TIMEOUT_NS (30ULL * 1000000000ULL)
#define POLL_NS 10000000ULL

void *mk_xenfront_set_find(const struct mk_xenfront_set *set, uint32_t id)
{
	for (struct mk_xenfront *f = set->head; f; f = f->set_next)
		if (f->id == id)
			return mk_xenfront_set_dev(set, f);
	return NULL;
}

/* mk_xenfront_set_scan's: a listed id, recorded unless known; false when out of memory. */
static bool set_record(struct mk_xenfront_set *set, uint32_t id, const char *entry)
{
	if (mk_xenfront_set_find(set, id))
		return true;
	char *dev = mk_zalloc(set->size, 0);
	if (!dev) {
		mk_printk("%s: no memory to record %s %s\n", set->driver, set->kind, entry);
		return false;
	}
	struct mk_xenfront *f = (struct mk_xenfront *)(dev + set->xf_offset);
	f->driver = set->driver;
	f->kind = set->kind;
	f->id = id;
	f->name = set->name(dev, id);
	mk_snprintf(f->front, sizeof(f->front), "device/%s/%u", set->kind, id);
	f->set_next = set->head;
	set->head = f;
	return true;
}

unsigned mk_xenfront_set_scan(struct mk_xenfront_set *set)
{
	if (!mk_xenbus_available())
		return 0;
	char dir[32], *names;
	unsigned count;
	mk_snprintf(dir, sizeof(dir), "device/%s", set->kind);
	if (mk_xs_ls(0, dir, &names, &count))
		return 0;
	const char *p = names;
	for (unsigned i = 0; i < count; i++) {
		size_t len = mk_strlen(p);
		uint64_t id;
		if (mk_parse_decimal(p, len, set->max_id, &id) == MK_DECIMAL_OK &&
		    !set_record(set, (uint32_t)id, p))
			break;
		p += len + 1;
	}
	mk_free(names);
	return count;
}

int mk_xenfront_read(const char *dir, const char *key, char **value, size_t *len)
{
	char path[200];
	mk_snprintf(path, sizeof(path), "%s/%s", dir, key);
	return mk_xs_read(0, path, value, len);
}

const char *mk_xenfront_state_name(unsigned s)
{
	static const char *const names[] = { "Unknown", "Initialising", "InitWait",
		"Initialised", "Connected", "Closing", "Closed", "Reconfiguring", "Reconfigured" };
	return s < MK_ARRAY_SIZE(names) ? names[s] : "?";
}

void mk_xenfront_show_value(char *out, size_t size, const char *v, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len && n + 4 < size; i++)
		out[n++] = (v[i] >= 0x20 && v[i] < 0x7f) ? v[i] : '?';
	if (n < len && n + 4 <= size) {
		out[n++] = '.';
		out[n++] = '.';
		out[n++] = '.';
	}
	out[n] = '\0';
}

/* A decimal node of dir at most max; false when missing or not such a number. */
static bool read_uint(const char *dir, const char *key, uint64_t max, uint64_t *out)
{
	char *v;
	size_t len;
	if (mk_xenfront_read(dir, key, &v, &len))
		return false;
	bool ok = mk_parse_decimal(v, len, max, out) == MK_DECIMAL_OK;
	mk_free(v);
	return ok;
}

int mk_xenfront_find_backend(struct mk_xenfront *f)
{
	char *v;
	size_t len;
	if (mk_xenfront_read(f->front, "backend", &v, &len)) {
		mk_printk("%s: %s: xenstore has no %s/backend; the toolstack did not finish "
			"setting up this %s\n", f->driver, f->name, f->front, f->kind);
		return XEN_EIO;
	}
	bool ok = len < sizeof(f->backend) && mk_strncmp(v, "/local/domain/", 14) == 0;
	if (ok)
		mk_strlcpy(f->backend, v, sizeof(f->backend));
	mk_free(v);
	if (!ok) {
		mk_printk("%s: %s: %s/backend is not a /local/domain/ path of fewer than %zu "
			"bytes\n", f->driver, f->name, f->front, sizeof(f->backend));
		return XEN_EIO;
	}
	uint64_t id;
	if (!read_uint(f->front, "backend-id", 0x7fef, &id)) {
		mk_printk("%s: %s: %s/backend-id is missing or not a domain id\n", f->driver,
			f->name, f->front);
		return XEN_EIO;
	}
	f->backend_id = (uint16_t)id;
	return 0;
}

int mk_xenfront_wait_backend(struct mk_xenfront *f, unsigned want, const char *advice)
{
	uint64_t deadline = mk_time_monotonic_ns() + CONNECT_TIMEOUT_NS;
	unsigned state = MK_XENBUS_UNKNOWN;
	int err;
	for (;;) {
		uint64_t s;
		bool known = read_uint(f->backend, "state", MK_XENBUS_RECONFIGURED, &s);
		if (known)
			state = (unsigned)s;
		if (known && state >= want && state <= MK_XENBUS_CONNECTED)
			return 0;
		if (known && state >= MK_XENBUS_CLOSING) {
			err = XEN_EIO;
			break;
		}
		if (mk_time_monotonic_ns() >= deadline) {
			err = XEN_EAGAIN;
			break;
		}
		mk_thread_sleep_until(mk_time_monotonic_ns() + POLL_NS);
	}
	const char *what = err == XEN_EIO ? "is closing" : want >= MK_XENBUS_CONNECTED ?
		"did not connect within 30 s" : "did not get ready within 30 s";
	mk_printk("%s: %s: the backend at %s %s (state %u, %s)%s\n", f->driver, f->name,
		f->backend, what, state, mk_xenfront_state_name(state), advice);
	return err;
}

int mk_xenfront_grant_page(const struct mk_xenfront *f, void *page, bool readonly,
	mk_grant_ref_t *ref)
{
	long r = mk_gnttab_grant_access(f->backend_id, page, readonly);
	if (r < 0)
		return XEN_ENOMEM;
	*ref = (mk_grant_ref_t)r;
	return 0;
}

int mk_xenfront_bind_event(struct mk_xenfront *f, mk_evtchn_handler_t h, void *arg)
{
	long port = mk_evtchn_alloc_unbound(f->backend_id, h, arg);
	if (port < 0) {
		mk_printk("%s: %s: allocating an event channel failed (Xen error %ld)\n",
			f->driver, f->name, port);
		return XEN_EIO;
	}
	f->port = (uint32_t)port;
	f->port_bound = true;
	return 0;
}

/*
 * Runs body in a xenstore transaction, again while the store answers EAGAIN (another writer
 * got in between), at most 8 times. body's error aborts the transaction and is returned.
 */
static int in_transaction(int (*body)(mk_xs_tx_t tx, const void *arg), const void *arg)
{
	int err = 0;
	for (int attempt = 0; attempt < 8; attempt++) {
		mk_xs_tx_t tx;
		if ((err = mk_xs_tx_start(&tx)))
			return err;
		err = body(tx, arg);
		int end = mk_xs_tx_end(tx, err == 0);
		if (err)
			return err;
		if (end != XEN_EAGAIN)
			return end;
	}
	return XEN_EAGAIN;
}

struct nodes_write {
	const struct mk_xenfront *f;
	const struct mk_xenfront_node *nodes;
	unsigned n;
};

static int write_nodes_tx(mk_xs_tx_t tx, const void *arg)
{
	const struct nodes_write *w = arg;
	char path[80];
	int err = 0;
	for (unsigned i = 0; i < w->n && !err; i++) {
		mk_snprintf(path, sizeof(path), "%s/%s", w->f->front, w->nodes[i].key);
		err = mk_xs_write(tx, path, w->nodes[i].value);
	}
	return err;
}

static int write_nodes(const struct mk_xenfront *f, const struct mk_xenfront_node *nodes,
	unsigned n)
{
	const struct nodes_write w = { f, nodes, n };
	return in_transaction(write_nodes_tx, &w);
}

int mk_xenfront_publish(const struct mk_xenfront *f, const struct mk_xenfront_node *nodes,
	unsigned n, const char *what)
{
	int err = write_nodes(f, nodes, n);
	if (err)
		mk_printk("%s: %s: writing %s to %s failed (xenstore error %d)\n", f->driver,
			f->name, what, f->front, err);
	return err;
}

static int write_state(const struct mk_xenfront *f, unsigned state)
{
	char path[64], value[4];
	mk_snprintf(path, sizeof(path), "%s/state", f->front);
	mk_snprintf(value, sizeof(value), "%u", state);
	return mk_xs_write(0, path, value);
}

int mk_xenfront_set_state(const struct mk_xenfront *f, unsigned state)
{
	int err = write_state(f, state);
	if (err)
		mk_printk("%s: %s: writing state %s failed (xenstore error %d)\n", f->driver,
			f->name, mk_xenfront_state_name(state), err);
	return err;
}

void mk_xenfront_stop_events(const struct mk_xenfront *f)
{
	if (f->port_bound)
		mk_evtchn_mask(f->port);
}

int mk_xenfront_close(const struct mk_xenfront *f)
{
	mk_xenfront_stop_events(f);
	write_state(f, MK_XENBUS_CLOSED);
	return XEN_EIO;
}

/*
 * Backends leaving. One kernel thread for every watched frontend: it waits on the xenstore
 * watches of their backends' state nodes (one token, the path tells them apart) and reads
 * the node whenever it changes. Frontends are never freed, so the list only grows and
 * shrinks by the thread and mk_xenfront_watch_backend, both in thread context.
 */
#define WATCH_TOKEN "mk:xenfront"
#define WATCH_PATH_MAX 200

static struct mk_xenfront *watched;
static struct mk_thread *watch_thread;

static void state_path(const struct mk_xenfront *f, char *out, size_t size)
{
	mk_snprintf(out, size, "%s/state", f->backend);
}

static void unlink_watched(struct mk_xenfront *f)
{
	for (struct mk_xenfront **p = &watched; *p; p = &(*p)->watch_next) {
		if (*p == f) {
			*p = f->watch_next;
			break;
		}
	}
	f->watch_next = NULL;
	f->watched = false;
}

void mk_xenfront_left_text(char *out, size_t size, unsigned state)
{
	if (state == MK_XENFRONT_BACKEND_GONE)
		mk_snprintf(out, size, "its state node is gone");
	else
		mk_snprintf(out, size, "state %u, %s", state, mk_xenfront_state_name(state));
}

/* The event for path: the watched frontend whose backend state node it is, if any, looked at. */
static void backend_changed(const char *path)
{
	struct mk_xenfront *f;
	char want[WATCH_PATH_MAX];
	for (f = watched; f; f = f->watch_next) {
		state_path(f, want, sizeof(want));
		if (mk_strcmp(want, path) == 0)
			break;
	}
	if (!f)
		return;	/* a watch just ended, or not ours */
	char *v;
	size_t len;
	unsigned state;
	int rc = mk_xs_read(0, want, &v, &len);
	if (rc == XEN_ENOENT) {
		state = MK_XENFRONT_BACKEND_GONE;
	} else if (rc) {
		return;	/* xenstore trouble: the node is looked at again on its next change */
	} else {
		uint64_t s;
		bool ok = mk_parse_decimal(v, len, MK_XENBUS_RECONFIGURED, &s) == MK_DECIMAL_OK;
		mk_free(v);
		if (!ok || (s != MK_XENBUS_CLOSING && s != MK_XENBUS_CLOSED))
			return;	/* not a close (a bad value is the backend's problem, not a close) */
		state = (unsigned)s;
	}
	if (!f->watched)
		return;	/* the read blocked; someone else acted meanwhile */
	unlink_watched(f);
	mk_xs_unwatch(want, WATCH_TOKEN);
	f->left(f, state, f->left_arg);
}

static void *watch_main(void *unused)
{
	(void)unused;
	char path[WATCH_PATH_MAX];
	int rc;
	while ((rc = mk_xs_kernel_watch_wait(WATCH_TOKEN, path, sizeof(path), 0)) == 0)
		backend_changed(path);
	mk_printk("xenfront: xenstore failed (error %d): backends that leave are not noticed from "
		"now on\n", rc);
	watch_thread = NULL;
	return NULL;
}

int mk_xenfront_watch_backend(struct mk_xenfront *f, mk_xenfront_left_fn left, void *arg)
{
	if (f->watched)
		return 0;
	if (!watch_thread) {
		watch_thread = mk_thread_create("xenfront", watch_main, NULL,
			MK_THREAD_STACK_DEFAULT, false);
		if (!watch_thread) {
			mk_printk("%s: %s: no memory for the xenfront thread: if the backend leaves, "
				"%s will not notice\n", f->driver, f->name, f->name);
			return XEN_ENOMEM;
		}
	}
	f->left = left;
	f->left_arg = arg;
	/* Listed first: xenstore fires the new watch at once, and the thread must know it. */
	f->watch_next = watched;
	watched = f;
	f->watched = true;
	char path[WATCH_PATH_MAX];
	state_path(f, path, sizeof(path));
	int rc = mk_xs_watch(path, WATCH_TOKEN);
	if (rc) {
		unlink_watched(f);
		mk_printk("%s: %s: cannot watch %s (xenstore error %d): if the backend leaves, %s "
			"will not notice\n", f->driver, f->name, path, rc, f->name);
	}
	return rc;
}

/* Writes Closed to the front's state node, but only while that node still exists. */
static int close_if_present_tx(mk_xs_tx_t tx, const void *arg)
{
	const struct mk_xenfront *f = arg;
	char path[64], value[4], *v;
	mk_snprintf(path, sizeof(path), "%s/state", f->front);
	mk_snprintf(value, sizeof(value), "%u", MK_XENBUS_CLOSED);
	int err = mk_xs_read(tx, path, &v, NULL);
	if (err)
		return err;
	mk_free(v);
	return mk_xs_write(tx, path, value);
}

int mk_xenfront_close_after_backend(const struct mk_xenfront *f)
{
	return in_transaction(close_if_present_tx, f);
}

void mk_xenfront_release_event(struct mk_xenfront *f)
{
	if (!f->port_bound)
		return;
	mk_evtchn_mask(f->port);
	mk_evtchn_close(f->port);
	f->port_bound = false;
}
