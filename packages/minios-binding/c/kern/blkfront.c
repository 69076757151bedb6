/*
 * blkfront: the Xen block frontend (io/blkif.h), one shared ring page per vbd; see
 * mk/blkfront.h. The checks of everything the backend writes live in blkring.c (pure,
 * fuzzed on the host); this file does the xenbus handshake, grants, bounce pages, the
 * request queue and completion.
 *
 * Transfers wait in a FIFO queue until the ring has a slot, the grant budget allows their
 * next request and pages for bounce buffers are there; each is cut into requests of up to
 * 11 segments (or up to MK_BLKIF_MAX_INDIRECT_SEGS through one indirect page when the
 * backend offers feature-max-indirect-segments). A segment is a whole page of the caller's
 * buffer, granted as it is, or a bounce page of ours: the backend is never granted memory
 * beyond the bytes a request asks for. Responses are handled on the event path (the
 * scheduler runs event handlers in thread context, never in the middle of another thread's
 * call here), which ends the grants, copies bounced reads out, completes transfers and
 * issues what waits.
 *
 * A connected vbd watches its backend (xenfront's watch of the backend's state node). When
 * the backend leaves (Closing or Closed: xl block-detach; or its node is gone), the device
 * goes out of service: transfers with nothing on the ring fail with EIO at once, our state
 * Closed is written (so the backend finishes what it started, lets go of our pages and the
 * toolstack's detach completes), and each transfer still on the ring fails with EIO once
 * every page of its requests is ours again (a grant the backend still maps cannot end).
 * After RECLAIM_NS the rest fail anyway and pages still granted are never reused.
 */
#include <mk/blkfront.h>
#include <mk/console.h>
#include <mk/evtchn.h>
#include <mk/gnttab.h>
#include <mk/lib.h>
#include <mk/mm.h>
#include <mk/sched.h>
#include <mk/time.h>
#include <mk/xenbus.h>
#include <mk/xenfront.h>

#define POLL_NS 10000000ULL
#define MAX_SEGS MK_BLKIF_MAX_INDIRECT_SEGS
/* Grants one device holds at most for requests in flight (the table has a few hundred). */
#define GRANT_BUDGET 256u
#define PAGE 4096u
/* How long a backend that left has to give back the pages of requests it had. */
#define RECLAIM_NS (10ULL * 1000000000ULL)

_Static_assert(MAX_SEGS >= MK_BLKIF_MAX_SEGMENTS_PER_REQUEST, "indirect requests carry more");
_Static_assert(MAX_SEGS <= MK_BLKIF_SEGS_PER_INDIRECT_PAGE, "one indirect page is enough");
_Static_assert(MAX_SEGS + 1 <= GRANT_BUDGET, "a request always fits the budget when alone");

struct seg_shadow {
	void *bounce;		/* our page, or NULL: a page of the caller's buffer */
	uint32_t gref;
	uint32_t len;
	size_t buf_off;
	bool ended;		/* its grant ended after the backend left (reclaim_request) */
};

/* What a ring slot's request holds until its response (indexed like mk_blkring's slots). */
struct req_shadow {
	struct mk_blkio *io;
	uint8_t op;		/* MK_BLKIF_OP_* of the data or flush */
	unsigned nseg;
	uint64_t sector;
	struct seg_shadow seg[MAX_SEGS];
	void *indirect_page;
	uint32_t indirect_gref;
};

/* DEV_BROKEN: refused a value of its backend; DEV_GONE: its backend left. Both for good. */
enum dev_state { DEV_FOUND, DEV_CONNECTING, DEV_CONNECTED, DEV_BROKEN, DEV_GONE };

struct mk_blkdev {
	char name[24];
	struct mk_xenfront xf;	/* xf.id: the vbd's id (the requests' handle) */
	enum dev_state state;
	struct mk_blkif_disk disk;
	struct mk_blkif_sring *sring;
	mk_grant_ref_t ring_ref;
	struct mk_blkring ring;
	struct req_shadow *shadow;
	struct mk_blkio *queue_head, *queue_tail;	/* not yet wholly issued, FIFO */
	struct mk_blkio *active_head, *active_tail;	/* submitted, not completed, in order */
	unsigned grants;
};

/* The vbd's name from its id: xvda for 51712 (mk_blkif_vdev_name), else vbd<id>. */
static const char *vbd_name(void *dev, uint32_t id)
{
	struct mk_blkdev *d = dev;
	if (!mk_blkif_vdev_name(id, d->name, sizeof(d->name)))
		mk_snprintf(d->name, sizeof(d->name), "vbd%u", id);
	return d->name;
}

static struct mk_xenfront_set devices = {
	.driver = "blkfront", .kind = "vbd", .max_id = 0xffffffffu,
	.size = sizeof(struct mk_blkdev), .xf_offset = offsetof(struct mk_blkdev, xf),
	.name = vbd_name,
};

static void pump(struct mk_blkdev *d);
static void take_responses(struct mk_blkdev *d);

const char *mk_blkfront_name(const struct mk_blkdev *dev)
{
	return dev->name;
}

const struct mk_blkif_disk *mk_blkfront_disk(const struct mk_blkdev *dev)
{
	return &dev->disk;
}

bool mk_blkfront_broken(const struct mk_blkdev *dev)
{
	return dev->state == DEV_BROKEN || dev->state == DEV_GONE;
}

int mk_blkfront_lookup(const char *name, struct mk_blkdev **dev)
{
	if (!mk_xenfront_set_scan(&devices) && !devices.head)
		return MK_BLK_ENXIO;
	for (struct mk_xenfront *f = devices.head; f; f = f->set_next) {
		if (mk_strcmp(f->name, name) == 0) {
			*dev = mk_xenfront_set_dev(&devices, f);
			return 0;
		}
	}
	return XEN_ENOENT;
}

/* Marks a device out of service after a failed connect (message printed by the caller). */
static int connect_failed(struct mk_blkdev *d)
{
	d->state = DEV_BROKEN;
	return mk_xenfront_close(&d->xf);
}

static void on_event(uint32_t port, void *arg)
{
	(void)port;
	take_responses(arg);
}

static void backend_left(struct mk_xenfront *f, unsigned state, void *arg);

/* Reads the backend's nodes once and checks them into d->disk. */
static int read_disk(struct mk_blkdev *d)
{
	struct mk_blkif_nodes n = { 0 };
	char *values[MK_BLKIF_NODE_COUNT] = { 0 };
	for (unsigned k = 0; k < MK_BLKIF_NODE_COUNT; k++) {
		size_t len;
		if (mk_xenfront_read(d->xf.backend, mk_blkif_node_name(k), &values[k], &len) == 0) {
			n.value[k] = values[k];
			n.len[k] = len;
		}
	}
	enum mk_blkif_node bad, warn_node;
	enum mk_blkif_problem warn;
	enum mk_blkif_problem p = mk_blkif_parse_disk(&n, &d->disk, &bad, &warn, &warn_node);
	char shown[48];
	if (p) {
		mk_xenfront_show_value(shown, sizeof(shown), n.value[bad] ? n.value[bad] : "",
			n.len[bad]);
		mk_printk("blkfront: %s: refused the backend's %s/%s = \"%s\": %s; %s is not used "
			"(fix the backend, or the disk's configuration in the toolstack)\n", d->name,
			d->xf.backend, mk_blkif_node_name(bad), shown, mk_blkif_problem_text(p), d->name);
	} else if (warn) {
		mk_xenfront_show_value(shown, sizeof(shown), n.value[warn_node], n.len[warn_node]);
		mk_printk("blkfront: %s: ignored the backend's %s = \"%s\": %s; the feature stays "
			"off\n", d->name, mk_blkif_node_name(warn_node), shown,
			mk_blkif_problem_text(warn));
	}
	for (unsigned k = 0; k < MK_BLKIF_NODE_COUNT; k++)
		if (values[k])
			mk_free(values[k]);
	return p ? XEN_EIO : 0;
}

static int do_connect(struct mk_blkdev *d)
{
	if (mk_xenfront_find_backend(&d->xf) ||
	    mk_xenfront_wait_backend(&d->xf, MK_XENBUS_INITWAIT,
		    "; check blkback and the disk's hotplug script in dom0"))
		return connect_failed(d);
	d->shadow = mk_zalloc(MK_BLKIF_RING_SIZE * sizeof(struct req_shadow), 0);
	d->sring = mk_page_alloc(1, 1);
	if (!d->shadow || !d->sring) {
		mk_printk("blkfront: %s: no memory for the ring (%zu bytes)\n", d->name,
			PAGE + MK_BLKIF_RING_SIZE * sizeof(struct req_shadow));
		return connect_failed(d);
	}
	mk_memset(d->sring, 0, PAGE);
	d->sring->req_event = 1;
	d->sring->rsp_event = 1;
	mk_blkring_init(&d->ring);
	if (mk_xenfront_grant_page(&d->xf, d->sring, false, &d->ring_ref)) {
		mk_printk("blkfront: %s: no free grant entry for the ring page\n", d->name);
		return connect_failed(d);
	}
	if (mk_xenfront_bind_event(&d->xf, on_event, d))
		return connect_failed(d);
	char ring_ref[24], port[24], state[4];
	mk_snprintf(ring_ref, sizeof(ring_ref), "%u", d->ring_ref);
	mk_snprintf(port, sizeof(port), "%u", d->xf.port);
	mk_snprintf(state, sizeof(state), "%u", MK_XENBUS_INITIALISED);
	const struct mk_xenfront_node nodes[] = {
		{ "ring-ref", ring_ref }, { "event-channel", port },
		{ "protocol", MK_BLKIF_PROTOCOL_X86_64 }, { "state", state },
	};
	if (mk_xenfront_publish(&d->xf, nodes, MK_ARRAY_SIZE(nodes),
		"ring-ref, event-channel, protocol and state"))
		return connect_failed(d);
	if (mk_xenfront_wait_backend(&d->xf, MK_XENBUS_CONNECTED,
		" after we published the ring; see blkback's messages in dom0"))
		return connect_failed(d);
	if (read_disk(d) || d->state == DEV_BROKEN) /* broken: the ring was refused meanwhile */
		return connect_failed(d);
	if (mk_xenfront_set_state(&d->xf, MK_XENBUS_CONNECTED))
		return connect_failed(d);
	d->state = DEV_CONNECTED;
	mk_printk("blkfront: %s: %lu bytes (%lu sectors of 512), logical block %u, %s, flush: %s, "
		"indirect segments: %u; backend %s\n", d->name,
		(unsigned long)(d->disk.sectors << MK_BLKIF_SECTOR_SHIFT),
		(unsigned long)d->disk.sectors, d->disk.sector_size,
		d->disk.readonly ? "read-only" : "read-write",
		d->disk.flush ? "cache flush" : d->disk.barrier ? "barrier" : "none",
		d->disk.max_indirect, d->xf.backend);
	mk_xenfront_watch_backend(&d->xf, backend_left, d);	/* a failure is reported */
	return 0;
}

int mk_blkfront_connect(struct mk_blkdev *d)
{
	while (d->state == DEV_CONNECTING)	/* another thread is at it */
		mk_thread_sleep_until(mk_time_monotonic_ns() + POLL_NS);
	if (d->state == DEV_CONNECTED)
		return 0;
	if (d->state == DEV_BROKEN || d->state == DEV_GONE)
		return XEN_EIO;
	d->state = DEV_CONNECTING;
	return do_connect(d);
}

static void queue_push(struct mk_blkdev *d, struct mk_blkio *io, bool front)
{
	io->queue_next = NULL;
	if (!d->queue_head) {
		d->queue_head = d->queue_tail = io;
	} else if (front) {
		io->queue_next = d->queue_head;
		d->queue_head = io;
	} else {
		d->queue_tail->queue_next = io;
		d->queue_tail = io;
	}
}

static void queue_pop(struct mk_blkdev *d)
{
	struct mk_blkio *io = d->queue_head;
	d->queue_head = io->queue_next;
	if (!d->queue_head)
		d->queue_tail = NULL;
	io->queue_next = NULL;
}

static void active_remove(struct mk_blkdev *d, struct mk_blkio *io)
{
	if (io->active_prev)
		io->active_prev->active_next = io->active_next;
	else
		d->active_head = io->active_next;
	if (io->active_next)
		io->active_next->active_prev = io->active_prev;
	else
		d->active_tail = io->active_prev;
	io->active_prev = io->active_next = NULL;
}

static bool needs_flush(const struct mk_blkdev *d)
{
	/* blkback refuses any write-class request on a read-only vbd, flushes included. */
	return !d->disk.readonly && (d->disk.flush || d->disk.barrier);
}

/* Completes io if nothing of it is left to issue or in flight (a SYNC write flushes first). */
static void maybe_finish(struct mk_blkdev *d, struct mk_blkio *io)
{
	if (io->in_flight)
		return;
	bool data_done = io->op == MK_BLK_FLUSH ? io->flush_issued : io->issued >= io->len;
	if (!data_done || (io->flush_phase && !io->flush_issued))
		return;
	if (io->op == MK_BLK_WRITE && (io->flags & MK_BLK_SYNC) && !io->error && !io->flush_phase &&
	    needs_flush(d)) {
		io->flush_phase = true;
		queue_push(d, io, true);
		return;
	}
	active_remove(d, io);
	io->done(io);
}

/* Ends a request's grants and frees its pages; false when the backend still maps one. */
static bool release_request(struct mk_blkdev *d, struct req_shadow *sh, bool copy_out)
{
	bool all_ended = true;
	for (unsigned i = 0; i < sh->nseg; i++) {
		struct seg_shadow *s = &sh->seg[i];
		if (!mk_gnttab_end_access(s->gref)) {
			all_ended = false;	/* the page stays the backend's: never reused */
			continue;
		}
		d->grants--;
		if (s->bounce) {
			if (copy_out)
				mk_memcpy((char *)sh->io->buf + s->buf_off, s->bounce, s->len);
			mk_page_free(s->bounce, 1);
		}
	}
	if (sh->indirect_page) {
		if (mk_gnttab_end_access(sh->indirect_gref)) {
			d->grants--;
			mk_page_free(sh->indirect_page, 1);
		} else {
			all_ended = false;
		}
	}
	sh->nseg = 0;
	sh->indirect_page = NULL;
	sh->io = NULL;
	return all_ended;
}

/* Takes the device out of service: every transfer fails with EIO, events are ignored. */
static void dev_break(struct mk_blkdev *d)
{
	d->state = DEV_BROKEN;
	mk_evtchn_mask(d->xf.port);
	for (unsigned i = 0; i < MK_BLKIF_RING_SIZE; i++)
		if (d->ring.slot[i].busy && d->shadow[i].io)
			release_request(d, &d->shadow[i], false);
	d->queue_head = d->queue_tail = NULL;
	while (d->active_head) {
		struct mk_blkio *io = d->active_head;
		active_remove(d, io);
		io->error = XEN_EIO;
		io->done(io);
	}
}

static void refuse_index(struct mk_blkdev *d, uint32_t rsp_prod, enum mk_blkring_verdict v)
{
	mk_printk("blkfront: %s: refused the backend's response index rsp_prod %u (ours: rsp_cons "
		"%u, %u requests outstanding): %s; %s is out of service, every transfer on it fails "
		"with EIO\n", d->name, rsp_prod, d->ring.rsp_cons, d->ring.busy,
		mk_blkring_verdict_text(v), d->name);
	dev_break(d);
}

static void refuse_response(struct mk_blkdev *d, const struct mk_blkif_response *r,
	enum mk_blkring_verdict v)
{
	mk_printk("blkfront: %s: refused the backend's response at ring index %u (id 0x%lx, "
		"operation %u, status %d): %s; %s is out of service, every transfer on it fails "
		"with EIO\n", d->name, d->ring.rsp_cons, (unsigned long)r->id, r->operation,
		r->status, mk_blkring_verdict_text(v), d->name);
	dev_break(d);
}

static const char *op_name(uint8_t op)
{
	switch (op) {
	case MK_BLKIF_OP_READ: return "read";
	case MK_BLKIF_OP_WRITE: return "write";
	case MK_BLKIF_OP_WRITE_BARRIER: return "write barrier";
	case MK_BLKIF_OP_FLUSH_DISKCACHE: return "cache flush";
	default: return "?";
	}
}

/* A checked response for slot: end its grants, account the status, complete its transfer. */
static void complete_slot(struct mk_blkdev *d, unsigned slot, int16_t status)
{
	struct req_shadow *sh = &d->shadow[slot];
	struct mk_blkio *io = sh->io;
	uint8_t op = sh->op;
	uint64_t sector = sh->sector;
	bool ok = status == MK_BLKIF_RSP_OKAY;
	if (!release_request(d, sh, ok && op == MK_BLKIF_OP_READ)) {
		mk_printk("blkfront: %s: the backend answered a %s at sector %lu but still maps its "
			"pages; %s is out of service, every transfer on it fails with EIO\n", d->name,
			op_name(op), (unsigned long)sector, d->name);
		io->in_flight--;
		dev_break(d);
		return;
	}
	if (status == MK_BLKIF_RSP_EOPNOTSUPP &&
	    (op == MK_BLKIF_OP_FLUSH_DISKCACHE || op == MK_BLKIF_OP_WRITE_BARRIER)) {
		/* As Linux's blkfront does: the backend took the feature back; writes completed are what there is. */
		mk_printk("blkfront: %s: the backend refused a %s as not supported; %s stays off\n",
			d->name, op_name(op), op_name(op));
		if (op == MK_BLKIF_OP_FLUSH_DISKCACHE)
			d->disk.flush = false;
		else
			d->disk.barrier = false;
	} else if (!ok) {
		mk_printk("blkfront: %s: the backend failed a %s at sector %lu (status %d)\n",
			d->name, op_name(op), (unsigned long)sector, status);
		if (!io->error)
			io->error = XEN_EIO;
	}
	io->in_flight--;
	maybe_finish(d, io);
}

static void take_responses(struct mk_blkdev *d)
{
	if (d->state != DEV_CONNECTED && d->state != DEV_CONNECTING)
		return;
	for (;;) {
		uint32_t prod = MK_READ_ONCE(d->sring->rsp_prod);
		mk_rmb();
		uint32_t count;
		enum mk_blkring_verdict v = mk_blkring_pending(&d->ring, prod, &count);
		if (v) {
			refuse_index(d, prod, v);
			return;
		}
		while (count--) {
			struct mk_blkif_response rsp;
			/* The one read of the entry; only the copy is looked at. */
			mk_memcpy(&rsp, (const void *)&d->sring->ring[d->ring.rsp_cons &
				(MK_BLKIF_RING_SIZE - 1)].rsp, sizeof(rsp));
			unsigned slot;
			v = mk_blkring_check(&d->ring, &rsp, &slot);
			if (v) {
				refuse_response(d, &rsp, v);
				return;
			}
			mk_blkring_complete(&d->ring, slot);
			complete_slot(d, slot, rsp.status);
			if (d->state == DEV_BROKEN)
				return;
		}
		MK_WRITE_ONCE(d->sring->rsp_event, d->ring.rsp_cons + 1);
		mk_mb();
		if (MK_READ_ONCE(d->sring->rsp_prod) == d->ring.rsp_cons)
			break;
	}
	pump(d);
}

enum issue { ISSUED, WAIT, FAILED };

static void put_request(struct mk_blkdev *d, const union mk_blkif_sring_entry *e)
{
	mk_memcpy((void *)&d->sring->ring[d->ring.req_prod_pvt & (MK_BLKIF_RING_SIZE - 1)], e,
		sizeof(*e));
	d->ring.req_prod_pvt++;
}

/* Slot's shadow, made to hold a new request of io with no segments yet. */
static struct req_shadow *start_shadow(struct mk_blkdev *d, int slot, struct mk_blkio *io,
	uint8_t op, uint64_t sector)
{
	struct req_shadow *sh = &d->shadow[slot];
	sh->io = io;
	sh->op = op;
	sh->nseg = 0;
	sh->sector = sector;
	sh->indirect_page = NULL;
	return sh;
}

static enum issue issue_flush(struct mk_blkdev *d, struct mk_blkio *io)
{
	uint8_t op = d->disk.flush ? MK_BLKIF_OP_FLUSH_DISKCACHE : MK_BLKIF_OP_WRITE_BARRIER;
	uint64_t id;
	int slot = mk_blkring_take(&d->ring, op, false, &id);
	if (slot < 0)
		return WAIT;
	start_shadow(d, slot, io, op, 0);
	union mk_blkif_sring_entry e = { .req = { .operation = op, .nr_segments = 0,
		.handle = (uint16_t)d->xf.id, .id = id, .sector_number = 0 } };
	put_request(d, &e);
	io->in_flight++;
	return ISSUED;
}

/* The next request of a read or write: up to the device's segment limit from io->issued. */
static enum issue issue_data(struct mk_blkdev *d, struct mk_blkio *io)
{
	bool write = io->op == MK_BLK_WRITE;
	uint8_t op = write ? MK_BLKIF_OP_WRITE : MK_BLKIF_OP_READ;
	unsigned max = d->disk.max_indirect ? d->disk.max_indirect :
		MK_BLKIF_MAX_SEGMENTS_PER_REQUEST;
	struct mk_blkif_seg plan[MAX_SEGS];
	unsigned n = 0;
	size_t off = io->issued;
	while (n < max && off < io->len) {
		mk_blkif_next_seg((uintptr_t)io->buf + off, off, io->len - off, d->disk.sector_size,
			&plan[n]);
		off += plan[n].len;
		n++;
	}
	bool indirect = n > MK_BLKIF_MAX_SEGMENTS_PER_REQUEST;
	if (d->grants + n + (indirect ? 1 : 0) > GRANT_BUDGET)
		return d->ring.busy ? WAIT : FAILED;
	uint64_t id;
	int slot = mk_blkring_take(&d->ring, op, indirect, &id);
	if (slot < 0)
		return WAIT;
	struct req_shadow *sh = start_shadow(d, slot, io, op,
		(io->offset + io->issued) >> MK_BLKIF_SECTOR_SHIFT);
	for (unsigned i = 0; i < n; i++) {
		struct seg_shadow *s = &sh->seg[i];
		char *data = (char *)io->buf + plan[i].buf_off;
		void *page = data;
		s->bounce = NULL;
		s->buf_off = plan[i].buf_off;
		s->len = plan[i].len;
		if (!plan[i].direct) {
			if (!(page = mk_page_alloc(1, 1)))
				goto undo;
			s->bounce = page;
			if (write)
				mk_memcpy(page, data, s->len);
		}
		long ref = mk_gnttab_grant_access(d->xf.backend_id, page, write);
		if (ref < 0) {
			if (s->bounce)
				mk_page_free(s->bounce, 1);
			goto undo;
		}
		s->gref = (uint32_t)ref;
		s->ended = false;
		sh->nseg++;
		d->grants++;
	}
	union mk_blkif_sring_entry e;
	mk_memset(&e, 0, sizeof(e));
	if (indirect) {
		struct mk_blkif_request_segment *segs = mk_page_alloc(1, 1);
		if (!segs)
			goto undo;
		mk_memset(segs, 0, PAGE);
		for (unsigned i = 0; i < n; i++)
			segs[i] = (struct mk_blkif_request_segment){ .gref = sh->seg[i].gref,
				.first_sect = 0, .last_sect = (uint8_t)(sh->seg[i].len / 512 - 1) };
		long ref = mk_gnttab_grant_access(d->xf.backend_id, segs, true);
		if (ref < 0) {
			mk_page_free(segs, 1);
			goto undo;
		}
		sh->indirect_page = segs;
		sh->indirect_gref = (uint32_t)ref;
		d->grants++;
		e.ind.operation = MK_BLKIF_OP_INDIRECT;
		e.ind.indirect_op = op;
		e.ind.nr_segments = (uint16_t)n;
		e.ind.id = id;
		e.ind.sector_number = sh->sector;
		e.ind.handle = (uint16_t)d->xf.id;
		e.ind.indirect_grefs[0] = sh->indirect_gref;
	} else {
		e.req.operation = op;
		e.req.nr_segments = (uint8_t)n;
		e.req.handle = (uint16_t)d->xf.id;
		e.req.id = id;
		e.req.sector_number = sh->sector;
		for (unsigned i = 0; i < n; i++)
			e.req.seg[i] = (struct mk_blkif_request_segment){ .gref = sh->seg[i].gref,
				.first_sect = 0, .last_sect = (uint8_t)(sh->seg[i].len / 512 - 1) };
	}
	put_request(d, &e);
	io->issued = off;
	io->in_flight++;
	return ISSUED;
undo:
	/* Nothing of this request reached the ring: its grants end at once. */
	release_request(d, sh, false);
	mk_blkring_untake(&d->ring, (unsigned)slot);
	return d->ring.busy ? WAIT : FAILED;
}

static void push(struct mk_blkdev *d)
{
	mk_wmb();
	MK_WRITE_ONCE(d->sring->req_prod, d->ring.req_prod_pvt);
	mk_mb();
	mk_evtchn_notify(d->xf.port);
}

/* Issues what the queue holds while the ring, the grant budget and memory allow. */
static void pump(struct mk_blkdev *d)
{
	bool pushed = false;
	while (d->state == DEV_CONNECTED && d->queue_head) {
		struct mk_blkio *io = d->queue_head;
		enum issue r;
		if (io->op == MK_BLK_FLUSH || io->flush_phase) {
			/* A flush of its own waits for everything submitted before it. */
			if (io->op == MK_BLK_FLUSH && d->active_head != io)
				break;
			if (!needs_flush(d)) {
				queue_pop(d);
				io->flush_issued = true;
				maybe_finish(d, io);
				continue;
			}
			if ((r = issue_flush(d, io)) != ISSUED)
				break;
			queue_pop(d);
			io->flush_issued = true;
			pushed = true;
			continue;
		}
		r = issue_data(d, io);
		if (r == WAIT)
			break;
		if (r == FAILED) {
			/* Nothing in flight will free memory or grants for it. */
			mk_printk("blkfront: %s: no memory or grant entries for a %zu-byte %s; it "
				"fails with ENOMEM\n", d->name, io->len, io->op == MK_BLK_WRITE ?
				"write" : "read");
			queue_pop(d);
			io->error = XEN_ENOMEM;
			io->issued = io->len;
			maybe_finish(d, io);
			continue;
		}
		pushed = true;
		if (io->issued >= io->len)
			queue_pop(d);
	}
	if (pushed)
		push(d);
}

int mk_blkfront_submit(struct mk_blkdev *d, struct mk_blkio *io)
{
	if (d->state != DEV_CONNECTED)
		return XEN_EIO;
	if (io->op == MK_BLK_WRITE && d->disk.readonly)
		return MK_BLK_EROFS;
	if (io->op != MK_BLK_FLUSH) {
		uint64_t size = d->disk.sectors << MK_BLKIF_SECTOR_SHIFT;
		if (io->op != MK_BLK_READ && io->op != MK_BLK_WRITE)
			return XEN_EINVAL;
		if (io->len == 0 || io->offset % d->disk.sector_size ||
		    io->len % d->disk.sector_size || io->offset > size || io->len > size - io->offset)
			return XEN_EINVAL;
	}
	io->error = 0;
	io->issued = 0;
	io->in_flight = 0;
	io->flush_phase = false;
	io->flush_issued = false;
	io->active_next = NULL;
	io->active_prev = d->active_tail;
	if (d->active_tail)
		d->active_tail->active_next = io;
	else
		d->active_head = io;
	d->active_tail = io;
	queue_push(d, io, false);
	pump(d);
	return 0;
}

struct sync_wait {
	struct mk_thread *thread;
	bool done;
};

static void sync_done(struct mk_blkio *io)
{
	struct sync_wait *w = io->arg;
	w->done = true;
	mk_thread_wake(w->thread);
}

int mk_blkfront_transfer(struct mk_blkdev *d, enum mk_blk_op op, unsigned flags, void *buf,
	size_t len, uint64_t offset)
{
	struct sync_wait w = { .thread = mk_thread_self(), .done = false };
	struct mk_blkio io = { .op = op, .flags = flags, .buf = buf, .len = len,
		.offset = offset, .done = sync_done, .arg = &w };
	int err = mk_blkfront_submit(d, &io);
	if (err)
		return err;
	while (!w.done)
		mk_thread_block();
	return io.error;
}

/* Fails a transfer that has nothing left on the ring. */
static void fail_transfer(struct mk_blkdev *d, struct mk_blkio *io)
{
	active_remove(d, io);
	io->error = XEN_EIO;
	io->done(io);
}

/*
 * Ends what is left of a request's grants after its backend left, freeing bounce and
 * indirect pages whose grant ended; true once every one ended (the request's pages are all
 * ours again). May be called again for the rest.
 */
static bool reclaim_request(struct mk_blkdev *d, struct req_shadow *sh)
{
	bool all_ended = true;
	for (unsigned i = 0; i < sh->nseg; i++) {
		struct seg_shadow *s = &sh->seg[i];
		if (s->ended)
			continue;
		if (!mk_gnttab_end_access(s->gref)) {
			all_ended = false;
			continue;
		}
		s->ended = true;
		d->grants--;
		if (s->bounce) {
			mk_page_free(s->bounce, 1);
			s->bounce = NULL;
		}
	}
	if (sh->indirect_page) {
		if (mk_gnttab_end_access(sh->indirect_gref)) {
			d->grants--;
			mk_page_free(sh->indirect_page, 1);
			sh->indirect_page = NULL;
		} else {
			all_ended = false;
		}
	}
	return all_ended;
}

/* Pages of a request the backend still maps: ours (bounce, indirect) and the caller's. */
static void count_held(const struct req_shadow *sh, unsigned *ours, unsigned *callers)
{
	for (unsigned i = 0; i < sh->nseg; i++)
		if (!sh->seg[i].ended)
			(*(sh->seg[i].bounce ? ours : callers))++;
	if (sh->indirect_page)
		(*ours)++;
}

/*
 * The backend left (xenfront's thread; see the top of this file). Transfers with nothing on
 * the ring fail at once; our state Closed is written; transfers on the ring fail as the
 * backend gives their pages back (polled every POLL_NS, for up to RECLAIM_NS).
 */
static void backend_left(struct mk_xenfront *f, unsigned bstate, void *arg)
{
	struct mk_blkdev *d = arg;
	char why[40];
	mk_xenfront_left_text(why, sizeof(why), bstate);
	if (d->state != DEV_CONNECTED) {
		/* Out of service already (a refused value): its transfers failed then. */
		int err = mk_xenfront_close_after_backend(f);
		mk_xenfront_release_event(f);
		mk_printk("blkfront: %s: the backend at %s left (%s); %s was out of service already; "
			"state Closed %s\n", d->name, f->backend, why, d->name,
			err == 0 ? "written" : err == XEN_ENOENT ? "not written (our folder is gone)" :
			"could not be written");
		return;
	}
	uint64_t t0 = mk_time_monotonic_ns();
	d->state = DEV_GONE;	/* from now on: submit says EIO, events are ignored */
	mk_xenfront_stop_events(f);
	unsigned queued = 0, in_flight = 0;
	d->queue_head = d->queue_tail = NULL;	/* every queued transfer is on the active list */
	for (struct mk_blkio *io = d->active_head, *next; io; io = next) {
		next = io->active_next;
		if (io->in_flight) {
			in_flight++;
		} else {
			queued++;
			fail_transfer(d, io);
		}
	}
	int err = mk_xenfront_close_after_backend(f);
	uint64_t deadline = mk_time_monotonic_ns() + RECLAIM_NS;
	bool all_back;
	for (;;) {
		all_back = true;
		for (unsigned i = 0; i < MK_BLKIF_RING_SIZE; i++) {
			struct req_shadow *sh = &d->shadow[i];
			if (!d->ring.slot[i].busy || !sh->io)
				continue;
			if (!reclaim_request(d, sh)) {
				all_back = false;
				continue;
			}
			struct mk_blkio *io = sh->io;
			sh->io = NULL;
			sh->nseg = 0;
			mk_blkring_untake(&d->ring, i);
			if (--io->in_flight == 0)
				fail_transfer(d, io);
		}
		if (all_back || mk_time_monotonic_ns() >= deadline)
			break;
		mk_thread_sleep_until(mk_time_monotonic_ns() + POLL_NS);
	}
	unsigned ours = 0, callers = 0;
	if (!all_back) {
		/* Never hang: they fail anyway; our pages the backend holds are never reused. */
		for (unsigned i = 0; i < MK_BLKIF_RING_SIZE; i++) {
			struct req_shadow *sh = &d->shadow[i];
			if (!d->ring.slot[i].busy || !sh->io)
				continue;
			count_held(sh, &ours, &callers);
			struct mk_blkio *io = sh->io;
			sh->io = NULL;
			if (--io->in_flight == 0)
				fail_transfer(d, io);
		}
	}
	char held[128] = "";
	if (!all_back)
		mk_snprintf(held, sizeof(held), ", though the backend still maps %u of our pages "
			"(never reused) and %u of the transfers' own", ours, callers);
	mk_printk("blkfront: %s: the backend at %s left (%s): %s is out of service; %u transfers "
		"failed with EIO (%u on the ring, %u queued) in %u ms%s, later ones fail with EIO; "
		"state Closed %s\n", d->name, f->backend, why, d->name, queued + in_flight, in_flight,
		queued, (unsigned)((mk_time_monotonic_ns() - t0) / 1000000), held,
		err == 0 ? "written" : err == XEN_ENOENT ? "not written (our folder is gone)" :
		"could not be written");
	/* The ring page: the backend unmaps it when it has disconnected. */
	bool ring_back;
	while (!(ring_back = mk_gnttab_end_access(d->ring_ref)) &&
	       mk_time_monotonic_ns() < deadline)
		mk_thread_sleep_until(mk_time_monotonic_ns() + POLL_NS);
	if (ring_back) {
		mk_page_free(d->sring, 1);
		d->sring = NULL;
	} else {
		mk_printk("blkfront: %s: the backend still maps the ring page %u s after it left; "
			"the page is never reused\n", d->name, (unsigned)(RECLAIM_NS / 1000000000ULL));
	}
	if (all_back) {
		mk_free(d->shadow);
		d->shadow = NULL;
	}
	mk_xenfront_release_event(f);
}

/*
 * For test/blk/blktest.c only (which declares them itself), to play a misbehaving backend
 * on an idle device. mk_blkfront_test_hold makes a one-sector read outstanding that the
 * backend never sees (its slot is taken, our producer index moves, the shared one does
 * not) and returns its id; answering it with that id, BLKIF_OP_READ and BLKIF_RSP_OKAY
 * completes it (the device must then see no more I/O: the backend never saw that request's
 * ring entry). mk_blkfront_test_inject writes rsp as the next response, moves the shared
 * rsp_prod delta entries past our consumer index and handles the ring as an event would;
 * it returns whether the device is now out of service.
 */
uint64_t mk_blkfront_test_hold(struct mk_blkdev *d);
bool mk_blkfront_test_inject(struct mk_blkdev *d, const struct mk_blkif_response *rsp,
	uint32_t delta);

static void test_hold_done(struct mk_blkio *io)
{
	(void)io;
}

uint64_t mk_blkfront_test_hold(struct mk_blkdev *d)
{
	static struct mk_blkio held;
	static char sector[512];
	uint64_t id;
	int slot = d->state == DEV_CONNECTED ?
		mk_blkring_take(&d->ring, MK_BLKIF_OP_READ, false, &id) : -1;
	if (slot < 0)
		return 0;
	held = (struct mk_blkio){ .op = MK_BLK_READ, .buf = sector, .len = sizeof(sector),
		.done = test_hold_done, .issued = sizeof(sector), .in_flight = 1,
		.active_prev = d->active_tail };
	if (d->active_tail)
		d->active_tail->active_next = &held;
	else
		d->active_head = &held;
	d->active_tail = &held;
	d->shadow[slot] = (struct req_shadow){ .io = &held, .op = MK_BLKIF_OP_READ };
	d->ring.req_prod_pvt++;
	return id;
}

bool mk_blkfront_test_inject(struct mk_blkdev *d, const struct mk_blkif_response *rsp,
	uint32_t delta)
{
	if (d->state != DEV_CONNECTED)
		return d->state == DEV_BROKEN;
	mk_memcpy((void *)&d->sring->ring[d->ring.rsp_cons & (MK_BLKIF_RING_SIZE - 1)].rsp, rsp,
		sizeof(*rsp));
	mk_wmb();
	MK_WRITE_ONCE(d->sring->rsp_prod, d->ring.rsp_cons + delta);
	take_responses(d);
	return d->state == DEV_BROKEN;
}
