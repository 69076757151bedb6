/*
 * NetBSD's I/O while a Xen backend goes away: what a program sees when the toolstack detaches
 * its vbd (xl block-detach) or its vif (xl network-detach) in the middle of I/O. blkfront and
 * netfront notice their backend leaving (see @rumpxen/minios-binding's README); this program
 * shows the errors reach NetBSD, within a bounded time, and that it can then end cleanly.
 *
 *   fault blk HOSTPATH SECONDS
 *       the vbd as the raw character device /dev/rxvda (etfs): WORKERS threads, each with a
 *       descriptor of its own, write 64 KiB blocks of a pattern and read each back, cycling
 *       over their own 2 MiB of the disk, until an I/O fails or SECONDS pass; prints
 *       `fault: blk: running` after the first 1 MiB. Every worker's failure must be EIO or
 *       ENXIO, and a later read and write must fail too.
 *   fault net ADDR PREFIX PEER SECONDS
 *       virt0 (vif 0) gets ADDR/PREFIX, pings PEER until it answers, prints `fault: net:
 *       ready`, accepts one TCP connection on port 7 and sends to it without end (a
 *       non-blocking socket, poll for POLLOUT every 500 ms); prints `fault: net: N MiB sent`
 *       after each MiB. When no byte is taken for STALL_MS the link is gone: it reports
 *       that, checks PEER no longer answers a ping, and closes the socket.
 *
 * Times are from the rump kernel's monotonic clock. One `case NAME: PASS|FAIL why` line per
 * step, then `Test result: SUCCESS|FAILURE`.
 */
#include <rumpuser.h>

#include "../netbsd-blk/nbblk.h"
#include "../netbsd-net/nbnet.h"

#define BLOCK (64 * 1024)
#define WORKERS 4
#define SLICE (2 * 1024 * 1024)
#define STALL_MS 5000
#define ECHO_PORT 7

/* sys/filio.h: _IOW('f', 126, int), non-blocking I/O on a descriptor. */
#define NB_FIONBIO 0x8004667eul
enum { NB_EIO = 5, NB_ENXIO = 6, NB_POLLOUT = 0x4 };

static char wbuf[BLOCK] __attribute__((aligned(4096)));

static long ms_since(int64_t t)
{
	return (long)((nb_now_ns() - t) / 1000000);
}

/* Byte i of block n of worker k's pattern. */
static void fill(unsigned k, uint64_t n, char *p)
{
	for (long i = 0; i < BLOCK; i++)
		p[i] = (char)(i * 31 + n * 7 + k * 101 + (i >> 11));
}

static int same(const char *a, const char *b, long n)
{
	for (long i = 0; i < n; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

/* A failed I/O: -1 and errno EIO or ENXIO (what a detached disk may answer). */
static int is_gone_error(nb_ssize_t r, int err)
{
	return r < 0 && (err == NB_EIO || err == NB_ENXIO);
}

/*
 * One of WORKERS threads, each with a descriptor of its own on /dev/rxvda and its own slice
 * of the disk, so that while one computes another's I/O is on the ring.
 */
struct worker {
	unsigned id;
	long seconds;
	int fd;
	uint64_t bytes;
	nb_ssize_t r;
	int err;
	int mismatch;
	const char *what;
	long call_ms, quiet_ms;
	char wbuf[BLOCK] __attribute__((aligned(4096)));
	char rbuf[BLOCK] __attribute__((aligned(4096)));
};

static struct worker workers[WORKERS];
static volatile uint64_t total_bytes;
static int64_t blk_start;

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	int64_t last_ok = nb_now_ns(), op_start = last_ok;
	uint64_t n = 0;
	w->what = "";
	while (ms_since(blk_start) < w->seconds * 1000) {
		nb_off_t at = (nb_off_t)(w->id * SLICE + (n * BLOCK) % SLICE);
		fill(w->id, n, w->wbuf);
		op_start = nb_now_ns();
		w->what = "write";
		if (nb_lseek(w->fd, at, NB_SEEK_SET) != at ||
		    (w->r = nb_write(w->fd, w->wbuf, BLOCK)) != BLOCK)
			break;
		w->what = "read";
		if (nb_lseek(w->fd, at, NB_SEEK_SET) != at ||
		    (w->r = nb_read(w->fd, w->rbuf, BLOCK)) != BLOCK)
			break;
		last_ok = nb_now_ns();
		if (!same(w->wbuf, w->rbuf, BLOCK)) {
			w->mismatch = 1;
			break;
		}
		w->bytes += BLOCK;
		total_bytes += BLOCK;
		n++;
	}
	w->err = nb_errno();
	w->call_ms = ms_since(op_start);
	w->quiet_ms = ms_since(last_ok);
	return NULL;
}

static int blk(const char *hostpath, long seconds)
{
	static struct nb_thread threads[WORKERS];
	int rv = rump_pub_etfs_register("/dev/rxvda", hostpath, NB_ETFS_CHR);
	NB_CASE("raw_open", rv == 0, "rump_pub_etfs_register failed");
	for (unsigned k = 0; k < WORKERS; k++) {
		workers[k] = (struct worker){ .id = k, .seconds = seconds };
		workers[k].fd = nb_open("/dev/rxvda", NB_O_RDWR, 0);
		NB_CASE("raw_open", workers[k].fd >= 0, "open of /dev/rxvda failed");
	}
	nb_report("raw_open", 1, "", 0);
	blk_start = nb_now_ns();
	unsigned started = 0;
	for (; started < WORKERS; started++)
		if (nb_thread_start(&threads[started], worker_main, &workers[started], "io") != 0)
			break;
	NB_CASE("io_running", started == WORKERS, "a worker thread did not start");
	/* Reported once 1 MiB went through (or the workers ended first). */
	const struct nb_timespec tick = { 0, 20 * 1000000L };
	int running = 0;
	for (;;) {
		int done = 1;
		for (unsigned k = 0; k < WORKERS; k++)
			done &= __atomic_load_n(&threads[k].done, __ATOMIC_ACQUIRE);
		if (!running && total_bytes >= 1024 * 1024) {
			running = 1;
			nb_report("io_running", 1, "", 0);
			rumpuser_dprintf("fault: blk: running\n");
		}
		if (done)
			break;
		nb_nanosleep(&tick, 0);
	}
	int all_gone = 1;
	long longest = 0;
	for (unsigned k = 0; k < WORKERS; k++) {
		struct worker *w = &workers[k];
		rumpuser_dprintf("fault: blk: worker %u: %s failed: %ld, errno %d, after %lu KiB; the "
		    "call took %ld ms, %ld ms since its last I/O that completed\n", k, w->what,
		    (long)w->r, w->err, (unsigned long)(w->bytes >> 10), w->call_ms, w->quiet_ms);
		all_gone &= !w->mismatch && is_gone_error(w->r, w->err);
		if (w->call_ms > longest)
			longest = w->call_ms;
	}
	NB_CASE("io_running", running, "less than 1 MiB went through before the end");
	rumpuser_dprintf("fault: blk: every worker's I/O failed: %s; the longest failing call took "
	    "%ld ms\n", all_gone ? "yes" : "no", longest);
	NB_CASE("io_error", all_gone, "not every worker's I/O failed with EIO or ENXIO in time");
	nb_report("io_error", 1, "", 0);
	/* Whatever comes next fails too, at once. */
	int fd = workers[0].fd;
	int64_t t = nb_now_ns();
	nb_lseek(fd, 0, NB_SEEK_SET);
	nb_ssize_t r = nb_read(fd, workers[0].rbuf, BLOCK);
	int rerr = nb_errno();
	nb_lseek(fd, 0, NB_SEEK_SET);
	nb_ssize_t w = nb_write(fd, wbuf, BLOCK);
	int werr = nb_errno();
	rumpuser_dprintf("fault: blk: later read: %ld, errno %d; later write: %ld, errno %d (%ld ms "
	    "both)\n", (long)r, rerr, (long)w, werr, ms_since(t));
	NB_CASE("later_io_fails", is_gone_error(r, rerr) && is_gone_error(w, werr),
	    "I/O after the failure did not fail with EIO or ENXIO");
	nb_report("later_io_fails", 1, "", 0);
	int closed = 0;
	for (unsigned k = 0; k < WORKERS; k++)
		closed += nb_close(workers[k].fd) == 0;
	NB_CASE("close", closed == WORKERS, "close of /dev/rxvda failed");
	nb_report("close", 1, "", 0);
	return 1;
}

/* ICMP echo requests to peer, one a second, up to tries: 1 on the first reply, 0 on none, -1 on an error. */
static int ping(uint32_t peer, int tries)
{
	int replies = nb_ping(peer, 0x6661, tries, 1, NULL);
	return replies > 0 ? 1 : replies;
}

static int net(const char *addr_s, int prefix, const char *peer_s, long seconds)
{
	uint32_t addr = nb_parse_ipv4(addr_s), peer = nb_parse_ipv4(peer_s);
	NB_CASE("ifconfig", addr && peer && prefix > 0 && prefix <= 32, "bad ADDR, PREFIX or PEER");
	int rv = rump_pub_netconfig_ifcreate("virt0");
	if (rv == 0)
		rv = rump_pub_netconfig_ifup("virt0");
	if (rv == 0)
		rv = rump_pub_netconfig_ipv4_ifaddr_cidr("virt0", addr_s, prefix);
	NB_CASE("ifconfig", rv == 0, "creating virt0 or giving it its address failed");
	nb_report("ifconfig", 1, "", 0);
	NB_CASE("ping_peer", ping(peer, 30) == 1, "no echo reply from the peer in 30 s");
	nb_report("ping_peer", 1, "", 0);
	int l = nb_socket(NB_AF_INET, NB_SOCK_STREAM, 0);
	struct nb_sockaddr_in sin = { .sin_len = sizeof(sin), .sin_family = NB_AF_INET,
	    .sin_port = nb_htons(ECHO_PORT), .sin_addr = addr };
	NB_CASE("tcp_accept", l >= 0 && nb_bind(l, &sin, sizeof(sin)) == 0 && nb_listen(l, 1) == 0,
	    "socket, bind or listen on port 7");
	rumpuser_dprintf("fault: net: ready\n");
	struct nb_pollfd p = { .fd = l, .events = NB_POLLIN };
	NB_CASE("tcp_accept", nb_poll(&p, 1, 240 * 1000) == 1, "no connection within 240 s");
	int c = nb_accept(l, 0, 0);
	int on = 1;
	NB_CASE("tcp_accept", c >= 0 && nb_ioctl(c, NB_FIONBIO, &on) == 0, "accept or FIONBIO");
	nb_report("tcp_accept", 1, "", 0);
	for (int i = 0; i < BLOCK; i++)
		wbuf[i] = (char)('a' + i % 26);
	int64_t start = nb_now_ns(), last_progress = start;
	uint64_t sent = 0, reported = 0;
	int err = 0;
	while (ms_since(start) < seconds * 1000 && ms_since(last_progress) < STALL_MS) {
		nb_ssize_t n = nb_write(c, wbuf, BLOCK);
		if (n > 0) {
			sent += (uint64_t)n;
			last_progress = nb_now_ns();
			if (sent >> 20 > reported >> 20) {
				reported = sent;
				rumpuser_dprintf("fault: net: %lu MiB sent\n", (unsigned long)(sent >> 20));
			}
			continue;
		}
		err = nb_errno();
		if (n < 0 && err != NB_EAGAIN) {
			rumpuser_dprintf("fault: net: write failed: errno %d\n", err);
			break;
		}
		p = (struct nb_pollfd){ .fd = c, .events = NB_POLLOUT };
		nb_poll(&p, 1, 500);
	}
	long quiet = ms_since(last_progress);
	rumpuser_dprintf("fault: net: sent %lu bytes in %ld ms; then nothing for %ld ms (errno %d)\n",
	    (unsigned long)sent, (long)((last_progress - start) / 1000000), quiet, err);
	NB_CASE("stream_started", sent >= 1024 * 1024, "less than 1 MiB went out");
	nb_report("stream_started", 1, "", 0);
	NB_CASE("stream_stops", quiet >= STALL_MS || (err != 0 && err != NB_EAGAIN),
	    "the stream went on for all of SECONDS");
	nb_report("stream_stops", 1, "", 0);
	int64_t t = nb_now_ns();
	int answered = ping(peer, 3);
	rumpuser_dprintf("fault: net: ping after the stall: %s (%ld ms)\n", answered == 1 ?
	    "answered" : answered == 0 ? "no reply" : "error", ms_since(t));
	NB_CASE("peer_unreachable", answered == 0, "the peer still answers");
	nb_report("peer_unreachable", 1, "", 0);
	t = nb_now_ns();
	NB_CASE("close", nb_close(c) == 0 && nb_close(l) == 0, "close of the sockets failed");
	rumpuser_dprintf("fault: net: sockets closed (%ld ms)\n", ms_since(t));
	nb_report("close", 1, "", 0);
	return 1;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	int rv = rump_init();
	if (rv != 0) {
		rumpuser_dprintf("fault: rump_init failed: %d\nTest result: FAILURE\n", rv);
		return 1;
	}
	int64_t t0 = nb_now_ns();
	if (nb_streq(mode, "blk") && argc > 3) {
		blk(argv[2], (long)nb_parse_u64(argv[3]));
	} else if (nb_streq(mode, "net") && argc > 5) {
		net(argv[2], (int)nb_parse_u64(argv[3]), argv[4], (long)nb_parse_u64(argv[5]));
	} else {
		rumpuser_dprintf("fault: unknown mode \"%s\" (blk HOSTPATH SECONDS, net ADDR PREFIX "
		    "PEER SECONDS)\n", mode);
		nb_failures++;
	}
	rumpuser_dprintf("fault: done after %ld ms\n", ms_since(t0));
	rumpuser_dprintf("Test result: %s\n", nb_failures ? "FAILURE" : "SUCCESS");
	return nb_failures ? 1 : 0;
}
