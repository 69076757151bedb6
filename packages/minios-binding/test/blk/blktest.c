/*
 * blkfront and rumpuser's files on Xen, as a DomU with vbds (test/guest-blk.test.ts attaches
 * them). argv[1] picks the set:
 *
 * "data": xvda (64 MiB, read-write), xvdb (1 MiB, read-only, filled by the host with
 * ro_byte()), xvdc (5 GiB sparse, read-write). Names and sizes; transfers through aligned
 * buffers (whole pages granted, indirect requests) and unaligned ones (bounce pages); 40
 * transfers in flight at once, more than the ring's 32 slots; rumpuser_bio completing on its
 * own thread; rumpuser_iovread/iovwrite at odd offsets; flushes; reads past the end; the
 * read-only disk refusing writes with EROFS before the ring; the last sector of the 5 GiB
 * disk. What this writes to xvda (data_byte() at each offset of the regions the host checks)
 * and to xvdc's last sector (the marker) is read back by the host after the domain ended.
 *
 * "inject": xvda..xvde (1 MiB each). Each plays a backend that breaks the protocol once:
 * a response index ahead of the requests, a stale id, a wrong operation, an unknown status,
 * an id out of range (after a correct answer that is accepted). Each must be refused with a
 * message, take only that device out of service (EIO after), and leave the guest running.
 */
#include <mk/blkfront.h>
#include <mk/console.h>
#include <mk/lib.h>
#include <mk/mm.h>
#include <mk/sched.h>
#include <mk/time.h>
#include "rumpuser.h"
#include "rumpxen/netbsd_errno.h"

#include "../../c/test/case.h"

#define MIB (1024UL * 1024UL)

/* What the data cases write at disk offset o of xvda (the host checks the same formula). */
static uint8_t data_byte(uint64_t o)
{
	return (uint8_t)((o >> 9) * 31 + (o & 511) * 7 + 0x5a);
}

/* What the host wrote at offset o of the read-only xvdb. */
static uint8_t ro_byte(uint64_t o)
{
	return (uint8_t)(o * 13 + (o >> 9) + 0xa5);
}

static const char MARKER[] = "rumpxen blkfront: the last sector of a 5 GiB disk";

static void fill(uint8_t *p, size_t len, uint64_t off)
{
	for (size_t i = 0; i < len; i++)
		p[i] = data_byte(off + i);
}

/* Index of the first byte that is not data_byte, or len. */
static size_t first_bad(const uint8_t *p, size_t len, uint64_t off)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != data_byte(off + i))
			return i;
	return len;
}

static struct mk_blkdev *dev_named(const char *name)
{
	struct mk_blkdev *d;
	if (mk_blkfront_lookup(name, &d) || mk_blkfront_connect(d))
		return NULL;
	return d;
}

static bool case_names(void)
{
	uint64_t size = 0;
	int type = -1, rv;
	rv = rumpuser_getfileinfo("/dev/xvda", &size, &type);
	CHECK(rv == 0, "rumpuser_getfileinfo(/dev/xvda) returned %d", rv);
	CHECK(size == 64 * MIB && type == RUMPUSER_FT_BLK, "/dev/xvda: size %lu type %d",
		(unsigned long)size, type);
	rv = rumpuser_getfileinfo("xvdc", &size, &type);
	CHECK(rv == 0 && size == 5 * 1024 * MIB, "xvdc: %d, size %lu", rv, (unsigned long)size);
	rv = rumpuser_getfileinfo("xvdb", NULL, NULL);
	CHECK(rv == 0, "xvdb with NULL outputs: %d", rv);
	rv = rumpuser_getfileinfo("/dev/xvdz", &size, &type);
	CHECK(rv == RUMPXEN_NETBSD_ENOENT, "/dev/xvdz: %d, expected ENOENT", rv);
	int fd;
	rv = rumpuser_open("/dev/xvda.absent", RUMPUSER_OPEN_RDONLY, &fd);
	CHECK(rv == RUMPXEN_NETBSD_ENOENT, "open of /dev/xvda.absent: %d, expected ENOENT", rv);
	rv = rumpuser_open("xvda", RUMPUSER_OPEN_RDWR | RUMPUSER_OPEN_CREATE | RUMPUSER_OPEN_EXCL,
		&fd);
	CHECK(rv == RUMPXEN_NETBSD_EEXIST, "open(CREATE|EXCL) of xvda: %d, expected EEXIST", rv);
	CHECK(rumpuser_close(77) == RUMPXEN_NETBSD_EBADF, "close of a bad descriptor");
	return true;
}

/* Writes len bytes at off from a buffer at `skew` bytes past a page boundary, reads them back. */
static bool write_read(struct mk_blkdev *d, uint64_t off, size_t len, size_t skew)
{
	size_t pages = (skew + len + 4095) / 4096;
	uint8_t *out = mk_page_alloc(pages, 1), *in = mk_page_alloc(pages, 1);
	CHECK(out && in, "no %zu pages for buffers", 2 * pages);
	fill(out + skew, len, off);
	int err = mk_blkfront_transfer(d, MK_BLK_WRITE, 0, out + skew, len, off);
	CHECK(err == 0, "write of %zu bytes at %lu (buffer +%zu): error %d", len,
		(unsigned long)off, skew, err);
	mk_memset(in, 0, pages * 4096);
	err = mk_blkfront_transfer(d, MK_BLK_READ, 0, in + skew, len, off);
	CHECK(err == 0, "read of %zu bytes at %lu (buffer +%zu): error %d", len,
		(unsigned long)off, skew, err);
	size_t bad = first_bad(in + skew, len, off);
	CHECK(bad == len, "%zu bytes at %lu (buffer +%zu) read back differ at byte %zu", len,
		(unsigned long)off, skew, bad);
	CHECK(skew == 0 || in[skew - 1] == 0, "the byte before the buffer was written");
	CHECK(skew + len == pages * 4096 || in[skew + len] == 0,
		"the byte after the buffer was written");
	mk_page_free(out, pages);
	mk_page_free(in, pages);
	return true;
}

static bool case_rw_aligned(void)
{
	struct mk_blkdev *d = dev_named("xvda");
	CHECK(d, "xvda did not connect");
	const struct mk_blkif_disk *disk = mk_blkfront_disk(d);
	CHECK(disk->sector_size == 512 && !disk->readonly, "xvda: block %u, readonly %d",
		disk->sector_size, disk->readonly);
	mk_printk("blktest: xvda offers %u indirect segments, flush %d, barrier %d\n",
		disk->max_indirect, disk->flush, disk->barrier);
	if (!write_read(d, 1 * MIB, 128 * 1024, 0))	/* 32 pages: indirect, or 3 requests */
		return false;
	if (!write_read(d, 2 * MIB, 1 * MIB, 0))	/* several requests for one transfer */
		return false;
	return write_read(d, 3 * MIB + 4096, 4096, 0);
}

static bool case_rw_unaligned(void)
{
	struct mk_blkdev *d = dev_named("xvda");
	CHECK(d, "xvda did not connect");
	if (!write_read(d, 4 * MIB + 512, 20 * 1024, 7))	/* bytes off: bounce pages only */
		return false;
	if (!write_read(d, 5 * MIB, 36 * 1024, 512))	/* sector aligned: bounce, then whole pages */
		return false;
	return write_read(d, 6 * MIB + 1536, 512, 4000);	/* one sector across a page boundary */
}

struct flight {
	struct mk_blkio io;
	int *completed;
};

static void flight_done(struct mk_blkio *io)
{
	struct flight *f = (struct flight *)io;
	(*f->completed)++;
}

static bool case_in_flight(void)
{
	enum { N = 40, LEN = 8192 };
	struct mk_blkdev *d = dev_named("xvda");
	CHECK(d, "xvda did not connect");
	static struct flight f[N];
	uint8_t *buf = mk_page_alloc(N * 3, 1);
	CHECK(buf, "no pages for %d buffers", N);
	int completed = 0;
	const uint64_t base = 8 * MIB;
	for (int i = 0; i < N; i++) {
		uint8_t *b = buf + i * 3 * 4096 + (i % 4) * 512 + (i % 3 == 0 ? 3 : 0);
		fill(b, LEN, base + (uint64_t)i * LEN);
		f[i] = (struct flight){ .io = { .op = MK_BLK_WRITE, .buf = b, .len = LEN,
			.offset = base + (uint64_t)i * LEN, .done = flight_done }, .completed = &completed };
		int err = mk_blkfront_submit(d, &f[i].io);
		CHECK(err == 0, "submit %d: error %d", i, err);
	}
	/* Nothing completes before this thread blocks: all 40 were queued at once. */
	CHECK(completed == 0, "%d transfers completed inside submit", completed);
	uint64_t deadline = mk_time_monotonic_ns() + 30000000000ULL;
	while (completed < N && mk_time_monotonic_ns() < deadline)
		mk_thread_sleep_until(mk_time_monotonic_ns() + 1000000);
	CHECK(completed == N, "%d of %d transfers completed within 30 s", completed, N);
	for (int i = 0; i < N; i++)
		CHECK(f[i].io.error == 0, "transfer %d: error %d", i, f[i].io.error);
	/* Read them all back in flight at once, into other buffers. */
	mk_memset(buf, 0, N * 3 * 4096);
	completed = 0;
	for (int i = 0; i < N; i++) {
		f[i].io = (struct mk_blkio){ .op = MK_BLK_READ, .buf = buf + i * 3 * 4096 + 4096,
			.len = LEN, .offset = base + (uint64_t)i * LEN, .done = flight_done };
		CHECK(mk_blkfront_submit(d, &f[i].io) == 0, "read submit %d", i);
	}
	while (completed < N && mk_time_monotonic_ns() < deadline + 30000000000ULL)
		mk_thread_sleep_until(mk_time_monotonic_ns() + 1000000);
	CHECK(completed == N, "%d of %d reads completed", completed, N);
	for (int i = 0; i < N; i++) {
		size_t bad = first_bad(f[i].io.buf, LEN, f[i].io.offset);
		CHECK(f[i].io.error == 0 && bad == LEN, "read %d: error %d, differs at %zu", i,
			f[i].io.error, bad);
	}
	mk_page_free(buf, N * 3);
	return true;
}

struct bio_wait {
	struct mk_thread *waiter;
	struct mk_thread *ran_on;
	volatile int done;
	size_t bytes;
	int error;
};

static void bio_done(void *arg, size_t bytes, int error)
{
	struct bio_wait *w = arg;
	w->bytes = bytes;
	w->error = error;
	w->ran_on = mk_thread_self();
	w->done = 1;
	mk_thread_wake(w->waiter);
}

static bool bio_wait(struct bio_wait *w)
{
	uint64_t deadline = mk_time_monotonic_ns() + 30000000000ULL;
	while (!w->done && mk_time_monotonic_ns() < deadline)
		mk_thread_block_until(mk_time_monotonic_ns() + 10000000);
	return w->done;
}

static bool case_bio(void)
{
	int fd, rv = rumpuser_open("/dev/xvda", RUMPUSER_OPEN_RDWR | RUMPUSER_OPEN_BIO, &fd);
	CHECK(rv == 0, "open: %d", rv);
	static uint8_t out[3][4096], in[3][4096];
	struct bio_wait w[3];
	const uint64_t at[3] = { 12 * MIB, 12 * MIB + 8192, 13 * MIB };
	for (int k = 0; k < 3; k++) {
		fill(out[k], sizeof(out[k]), at[k]);
		w[k] = (struct bio_wait){ .waiter = mk_thread_self(), .error = -1 };
		rumpuser_bio(fd, RUMPUSER_BIO_WRITE | (k == 1 ? RUMPUSER_BIO_SYNC : 0), out[k],
			sizeof(out[k]), (int64_t)at[k], bio_done, &w[k]);
	}
	for (int k = 0; k < 3; k++) {
		CHECK(bio_wait(&w[k]), "write %d never completed", k);
		CHECK(w[k].error == 0 && w[k].bytes == 4096, "write %d: error %d, %zu bytes", k,
			w[k].error, w[k].bytes);
		CHECK(w[k].ran_on != mk_thread_self(), "biodone ran on the issuing thread");
		CHECK(!mk_strcmp(mk_thread_name(w[k].ran_on), "rumpuser_bio"),
			"biodone ran on thread '%s'", mk_thread_name(w[k].ran_on));
	}
	for (int k = 0; k < 3; k++) {
		w[k] = (struct bio_wait){ .waiter = mk_thread_self(), .error = -1 };
		rumpuser_bio(fd, RUMPUSER_BIO_READ, in[k], sizeof(in[k]), (int64_t)at[k], bio_done,
			&w[k]);
	}
	for (int k = 0; k < 3; k++) {
		CHECK(bio_wait(&w[k]) && w[k].error == 0 && w[k].bytes == 4096, "read %d", k);
		CHECK(mk_memcmp(in[k], out[k], 4096) == 0, "read %d differs", k);
	}
	/* Not sector aligned: refused by biodone, at once. */
	w[0] = (struct bio_wait){ .waiter = mk_thread_self(), .error = -1 };
	rumpuser_bio(fd, RUMPUSER_BIO_READ, in[0], 100, 12 * MIB + 3, bio_done, &w[0]);
	CHECK(w[0].done && w[0].error == RUMPXEN_NETBSD_EINVAL, "unaligned bio: done %d error %d",
		w[0].done, w[0].error);
	CHECK(rumpuser_close(fd) == 0, "close");
	return true;
}

static bool case_iov(void)
{
	int fd, rv = rumpuser_open("xvda", RUMPUSER_OPEN_RDWR, &fd);
	CHECK(rv == 0, "open: %d", rv);
	static uint8_t a[100], b[5000], r1[3000], r2[2100];
	const uint64_t off = 14 * MIB + 3;
	fill(a, sizeof(a), off);
	fill(b, sizeof(b), off + sizeof(a));
	struct rumpuser_iovec wv[2] = { { a, sizeof(a) }, { b, sizeof(b) } };
	struct rumpuser_iovec rv2[2] = { { r1, sizeof(r1) }, { r2, sizeof(r2) } };
	size_t n = 0;
	rv = rumpuser_iovwrite(fd, wv, 2, (int64_t)off, &n);
	CHECK(rv == 0 && n == 5100, "iovwrite: %d, %zu bytes", rv, n);
	rv = rumpuser_iovread(fd, rv2, 2, (int64_t)off, &n);
	CHECK(rv == 0 && n == 5100, "iovread: %d, %zu bytes", rv, n);
	CHECK(first_bad(r1, sizeof(r1), off) == sizeof(r1) &&
		first_bad(r2, sizeof(r2), off + sizeof(r1)) == sizeof(r2), "read back differs");
	/* The bytes around the written range are untouched (read-modify-write of the edges). */
	uint8_t edge[2];
	struct rumpuser_iovec ev = { edge, 1 };
	rv = rumpuser_iovread(fd, &ev, 1, (int64_t)off - 1, &n);
	CHECK(rv == 0 && n == 1 && edge[0] == 0, "byte before: %d, %u", rv, edge[0]);
	rv = rumpuser_iovread(fd, &ev, 1, (int64_t)(off + 5100), &n);
	CHECK(rv == 0 && n == 1 && edge[0] == 0, "byte after: %d, %u", rv, edge[0]);
	/* NOSEEK: from the descriptor's position, which moves. */
	uint8_t x[10];
	struct rumpuser_iovec xv = { x, sizeof(x) };
	rv = rumpuser_iovread(fd, &xv, 1, RUMPUSER_IOV_NOSEEK, &n);
	CHECK(rv == 0 && n == 10, "noseek read: %d", rv);
	rv = rumpuser_iovread(fd, &xv, 1, RUMPUSER_IOV_NOSEEK, &n);
	CHECK(rv == 0 && n == 10, "second noseek read: %d", rv);
	CHECK(rumpuser_close(fd) == 0, "close");
	return true;
}

static bool case_flush(void)
{
	int fd, rv = rumpuser_open("xvda", RUMPUSER_OPEN_RDWR, &fd);
	CHECK(rv == 0, "open: %d", rv);
	rv = rumpuser_syncfd(fd, RUMPUSER_SYNCFD_WRITE | RUMPUSER_SYNCFD_SYNC, 0, 0);
	CHECK(rv == 0, "syncfd(WRITE|SYNC): %d", rv);
	rv = rumpuser_syncfd(fd, RUMPUSER_SYNCFD_BARRIER, 0, 4096);
	CHECK(rv == 0, "syncfd(BARRIER): %d", rv);
	struct mk_blkdev *d = dev_named("xvda");
	CHECK(mk_blkfront_transfer(d, MK_BLK_FLUSH, 0, NULL, 0, 0) == 0, "MK_BLK_FLUSH");
	static uint8_t s[4096] __attribute__((aligned(4096)));
	fill(s, sizeof(s), 15 * MIB);
	CHECK(mk_blkfront_transfer(d, MK_BLK_WRITE, MK_BLK_SYNC, s, sizeof(s), 15 * MIB) == 0,
		"SYNC write");
	CHECK(rumpuser_close(fd) == 0, "close");
	CHECK(rumpuser_syncfd(fd, RUMPUSER_SYNCFD_WRITE, 0, 0) == RUMPXEN_NETBSD_EBADF,
		"syncfd of a closed descriptor");
	return true;
}

static bool case_past_end(void)
{
	int fd, rv = rumpuser_open("xvda", RUMPUSER_OPEN_RDWR | RUMPUSER_OPEN_BIO, &fd);
	CHECK(rv == 0, "open: %d", rv);
	const uint64_t size = 64 * MIB;
	static uint8_t buf[4096];
	struct rumpuser_iovec v = { buf, 1000 };
	size_t n = 99;
	rv = rumpuser_iovread(fd, &v, 1, (int64_t)(size - 512), &n);
	CHECK(rv == 0 && n == 512, "iovread across the end: %d, %zu bytes", rv, n);
	rv = rumpuser_iovread(fd, &v, 1, (int64_t)size, &n);
	CHECK(rv == 0 && n == 0, "iovread at the end: %d, %zu bytes", rv, n);
	rv = rumpuser_iovwrite(fd, &v, 1, (int64_t)size, &n);
	CHECK(rv == RUMPXEN_NETBSD_ENOSPC && n == 0, "iovwrite at the end: %d, %zu", rv, n);
	struct bio_wait w = { .waiter = mk_thread_self(), .error = -1 };
	rumpuser_bio(fd, RUMPUSER_BIO_READ, buf, 4096, (int64_t)(size - 1024), bio_done, &w);
	CHECK(bio_wait(&w) && w.error == 0 && w.bytes == 1024, "bio across the end: %d, %zu",
		w.error, w.bytes);
	struct mk_blkdev *d = dev_named("xvda");
	rv = mk_blkfront_transfer(d, MK_BLK_READ, 0, buf, 4096, size - 512);
	CHECK(rv == XEN_EINVAL, "blkfront read beyond the end: %d, expected EINVAL", rv);
	CHECK(rumpuser_close(fd) == 0, "close");
	return true;
}

static bool case_readonly(void)
{
	int fd, rv;
	uint64_t size;
	rv = rumpuser_getfileinfo("xvdb", &size, NULL);
	CHECK(rv == 0 && size == 1 * MIB, "xvdb: %d, size %lu", rv, (unsigned long)size);
	rv = rumpuser_open("/dev/xvdb", RUMPUSER_OPEN_RDWR | RUMPUSER_OPEN_BIO, &fd);
	CHECK(rv == RUMPXEN_NETBSD_EROFS, "open(RDWR) of the read-only xvdb: %d, expected EROFS", rv);
	rv = rumpuser_open("/dev/xvdb", RUMPUSER_OPEN_WRONLY, &fd);
	CHECK(rv == RUMPXEN_NETBSD_EROFS, "open(WRONLY): %d, expected EROFS", rv);
	rv = rumpuser_open("/dev/xvdb", RUMPUSER_OPEN_RDONLY | RUMPUSER_OPEN_BIO, &fd);
	CHECK(rv == 0, "open(RDONLY): %d", rv);
	static uint8_t buf[8192];
	struct rumpuser_iovec v = { buf, 512 };
	size_t n = 99;
	rv = rumpuser_iovwrite(fd, &v, 1, 0, &n);
	CHECK(rv == RUMPXEN_NETBSD_EROFS && n == 0, "iovwrite: %d, expected EROFS", rv);
	struct bio_wait w = { .waiter = mk_thread_self(), .error = -1 };
	rumpuser_bio(fd, RUMPUSER_BIO_WRITE, buf, 512, 0, bio_done, &w);
	CHECK(w.done && w.error == RUMPXEN_NETBSD_EROFS, "bio write: done %d, error %d", w.done,
		w.error);
	struct mk_blkdev *d = dev_named("xvdb");
	CHECK(d && mk_blkfront_disk(d)->readonly, "xvdb is not read-only");
	struct mk_blkio io = { .op = MK_BLK_WRITE, .buf = buf, .len = 512, .offset = 0 };
	rv = mk_blkfront_submit(d, &io);
	CHECK(rv == MK_BLK_EROFS, "blkfront write: %d, expected EROFS", rv);
	CHECK(mk_blkfront_transfer(d, MK_BLK_FLUSH, 0, NULL, 0, 0) == 0, "a flush of a read-only disk");
	/* What the host wrote is there, at a few places. */
	const uint64_t at[] = { 0, 4096 + 7, 512 * 1023 };
	for (unsigned i = 0; i < MK_ARRAY_SIZE(at); i++) {
		struct rumpuser_iovec r = { buf, 300 };
		rv = rumpuser_iovread(fd, &r, 1, (int64_t)at[i], &n);
		CHECK(rv == 0 && n == 300, "iovread at %lu: %d", (unsigned long)at[i], rv);
		for (size_t j = 0; j < 300; j++)
			CHECK(buf[j] == ro_byte(at[i] + j), "xvdb byte %lu is %u, the host wrote %u",
				(unsigned long)(at[i] + j), buf[j], ro_byte(at[i] + j));
	}
	CHECK(rumpuser_close(fd) == 0, "close");
	return true;
}

static bool case_big_disk(void)
{
	int fd, rv = rumpuser_open("/dev/xvdc", RUMPUSER_OPEN_RDWR | RUMPUSER_OPEN_BIO, &fd);
	CHECK(rv == 0, "open: %d", rv);
	const uint64_t size = 5 * 1024 * MIB, last = size - 512;
	static uint8_t s[512], r[512];
	mk_memset(s, 0, sizeof(s));
	mk_memcpy(s, MARKER, sizeof(MARKER));
	for (int i = 0; i < 8; i++)	/* the sector number, little-endian, at the end */
		s[504 + i] = (uint8_t)((last >> 9) >> (8 * i));
	struct bio_wait w = { .waiter = mk_thread_self(), .error = -1 };
	rumpuser_bio(fd, RUMPUSER_BIO_WRITE | RUMPUSER_BIO_SYNC, s, 512, (int64_t)last, bio_done, &w);
	CHECK(bio_wait(&w) && w.error == 0 && w.bytes == 512, "write of the last sector: %d",
		w.error);
	w = (struct bio_wait){ .waiter = mk_thread_self(), .error = -1 };
	rumpuser_bio(fd, RUMPUSER_BIO_READ, r, 512, (int64_t)last, bio_done, &w);
	CHECK(bio_wait(&w) && w.error == 0 && w.bytes == 512, "read of the last sector: %d", w.error);
	CHECK(mk_memcmp(r, s, 512) == 0, "the last sector reads back differently");
	/* Beyond 4 GiB but not the last sector: still zero (no 32-bit wrap onto sector 0 or here). */
	struct rumpuser_iovec v = { r, 512 };
	size_t n;
	rv = rumpuser_iovread(fd, &v, 1, (int64_t)(4 * 1024 * MIB), &n);
	CHECK(rv == 0 && n == 512, "read at 4 GiB: %d", rv);
	for (int i = 0; i < 512; i++)
		CHECK(r[i] == 0, "byte %d at 4 GiB is %u", i, r[i]);
	rv = rumpuser_iovread(fd, &v, 1, (int64_t)(last - 4 * 1024 * MIB), &n);
	CHECK(rv == 0 && n == 512 && r[0] == 0, "the sector 4 GiB below the last: %d, %u", rv, r[0]);
	CHECK(rumpuser_close(fd) == 0, "close");
	return true;
}

uint64_t mk_blkfront_test_hold(struct mk_blkdev *d);
bool mk_blkfront_test_inject(struct mk_blkdev *d, const struct mk_blkif_response *rsp,
	uint32_t delta);

/* Plays a backend breaking the protocol on `name`; the device must refuse it, and only it. */
static bool inject(const char *name, bool hold, uint64_t id_xor, uint64_t id_set, uint8_t op,
	int16_t status, uint32_t delta)
{
	struct mk_blkdev *d = dev_named(name);
	CHECK(d, "%s did not connect", name);
	uint64_t id = hold ? mk_blkfront_test_hold(d) : 0;
	CHECK(!hold || id, "%s: no slot to hold", name);
	struct mk_blkif_response rsp = { .id = id_set ? id_set : id ^ id_xor, .operation = op,
		.status = status };
	CHECK(mk_blkfront_test_inject(d, &rsp, delta), "%s accepted the bad response", name);
	CHECK(mk_blkfront_broken(d), "%s is still in service", name);
	static uint8_t buf[512];
	int err = mk_blkfront_transfer(d, MK_BLK_READ, 0, buf, 512, 0);
	CHECK(err == XEN_EIO, "a read on %s after: %d, expected EIO", name, err);
	int fd;
	err = rumpuser_open(name, RUMPUSER_OPEN_RDONLY, &fd);
	CHECK(err == RUMPXEN_NETBSD_EIO, "open of %s after: %d, expected EIO", name, err);
	return true;
}

static bool case_rsp_prod_ahead(void)
{
	return inject("xvda", false, 0, 0, MK_BLKIF_OP_READ, 0, 1000);
}

static bool case_stale_id(void)
{
	return inject("xvdb", true, 1u << 8, 0, MK_BLKIF_OP_READ, 0, 1);
}

static bool case_wrong_op(void)
{
	return inject("xvdc", true, 0, 0, MK_BLKIF_OP_WRITE, 0, 1);
}

static bool case_unknown_status(void)
{
	return inject("xvdd", true, 0, 0, MK_BLKIF_OP_READ, 7, 1);
}

static bool case_id_range(void)
{
	struct mk_blkdev *d = dev_named("xvde");
	CHECK(d, "xvde did not connect");
	/* A correct answer first: accepted, and the device stays in service. */
	uint64_t id = mk_blkfront_test_hold(d);
	struct mk_blkif_response ok = { .id = id, .operation = MK_BLKIF_OP_READ, .status = 0 };
	CHECK(!mk_blkfront_test_inject(d, &ok, 1), "a correct response was refused");
	return inject("xvde", true, 0, 200, MK_BLKIF_OP_READ, 0, 1);
}

static bool case_others_unharmed(void)
{
	/* The guest runs on: threads, memory, xenstore. */
	struct mk_blkdev *d;
	CHECK(mk_blkfront_lookup("xvda", &d) == 0, "lookup after");
	void *p = mk_page_alloc(4, 1);
	CHECK(p, "no pages after");
	mk_page_free(p, 4);
	return true;
}

int main(int argc, char **argv)
{
	const char *set = argc > 1 ? argv[1] : "data";
	if (!mk_strcmp(set, "inject")) {
		case_run("rsp_prod_ahead", case_rsp_prod_ahead);
		case_run("stale_id", case_stale_id);
		case_run("wrong_op", case_wrong_op);
		case_run("unknown_status", case_unknown_status);
		case_run("id_range", case_id_range);
		case_run("others_unharmed", case_others_unharmed);
		return case_finish();
	}
	case_run("names", case_names);
	case_run("rw_aligned", case_rw_aligned);
	case_run("rw_unaligned", case_rw_unaligned);
	case_run("in_flight", case_in_flight);
	case_run("bio", case_bio);
	case_run("iov", case_iov);
	case_run("flush", case_flush);
	case_run("past_end", case_past_end);
	case_run("readonly", case_readonly);
	case_run("big_disk", case_big_disk);
	return case_finish();
}
