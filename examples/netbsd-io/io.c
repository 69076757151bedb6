/*
 * NetBSD's disk and network stacks over several Xen devices at once, and timed I/O over them:
 * a vbd is a raw device node through etfs (host path "/dev/xvdX": blkfront under
 * rumpuser_open/bio), virtN is the domain's vif N (librumpnet_virtif: netfront).
 *
 *   io devices ADDR0 PREFIX0 PEER0 ADDR1 PREFIX1 PEER1
 *        /dev/xvda and /dev/xvdb: the size NetBSD's disk driver reports, and every byte
 *        checked against the pattern of its disk (tag 'a' and 'b', see pattern_*); virt0 and
 *        virt1 created, given ADDR0/PREFIX0 and ADDR1/PREFIX1, their link-layer addresses read
 *        back (they must differ), PEER0 pinged through virt0 and PEER1 through virt1; then
 *        `io: ready` and two TCP connections on port 7 are each answered with the local
 *        address they reached ("10.77.0.2\n") and closed.
 *   io bench NRAND ADDR PREFIX PEER NBYTES
 *        /dev/xvda, timed: written whole with the pattern of tag 'a' in 64 KiB transfers, read
 *        whole (each sector's header checked), NRAND 4 KiB reads at 4 KiB blocks picked by
 *        xorshift32 from a fixed seed (each block's header checked); then virt0 gets
 *        ADDR/PREFIX, pings PEER, prints `io: ready` and serves two TCP connections: on port
 *        5001 it reads NBYTES and closes, on port 5002 it writes NBYTES and closes.
 *        Timings: `io: seqwrite B bytes in N ms`, `io: seqread ...`, `io: randread R reads of
 *        4096 bytes in N ms`, `io: tcp-recv B bytes in N ms`, `io: tcp-send ...` (each on the
 *        platform's clock), and what NetBSD's TCP counters did during each transfer.
 *
 * The pattern: in sector s (512 bytes) of the disk tagged t, bytes 0..7 are the 64-bit
 * little-endian number (t << 56 | s), byte j >= 8 is (j * 7 + t * 97 + 1) mod 256.
 *
 * One `case NAME: PASS|FAIL why` line per step, then `Test result: SUCCESS|FAILURE`.
 */
#include <rumpuser.h>

#include "nbio.h"

#define XFER (64 * 1024)
#define BLOCK 4096
#define WAIT_MS (600 * 1000)
#define RAND_SEED 2463534242u

static char buf[XFER] __attribute__((aligned(4096)));
static unsigned char filler[512];

/* Network byte order to dotted quad. */
static void format_ipv4(char *out, uint32_t net)
{
	uint32_t a = nb_htonl(net);
	int n = 0;
	for (int i = 3; i >= 0; i--) {
		unsigned o = (a >> (8 * i)) & 0xff;
		if (o >= 100)
			out[n++] = (char)('0' + o / 100);
		if (o >= 10)
			out[n++] = (char)('0' + o / 10 % 10);
		out[n++] = (char)('0' + o % 10);
		if (i)
			out[n++] = '.';
	}
	out[n] = '\0';
}

static int64_t ms_since(int64_t t0)
{
	return (nb_platform_ns() - t0) / 1000000;
}

/* --- the disk pattern */

static void pattern_init(int tag)
{
	for (int j = 0; j < 512; j++)
		filler[j] = (unsigned char)(j * 7 + tag * 97 + 1);
}

static uint64_t pattern_header(int tag, uint64_t sector)
{
	return (uint64_t)tag << 56 | sector;
}

static void put_header(unsigned char *p, uint64_t h)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(h >> (8 * i));
}

static uint64_t get_header(const unsigned char *p)
{
	uint64_t h = 0;
	for (int i = 7; i >= 0; i--)
		h = h << 8 | p[i];
	return h;
}

/* n bytes (whole sectors) of the pattern from sector `first`; pattern_init(tag) first. */
static void pattern_fill(int tag, uint64_t first, unsigned char *p, long n)
{
	for (long at = 0; at < n; at += 512) {
		for (int j = 8; j < 512; j++)
			p[at + j] = filler[j];
		put_header(p + at, pattern_header(tag, first + (uint64_t)at / 512));
	}
}

/* Sectors that differ from the pattern: every byte, or the headers only. */
static long pattern_check(int tag, uint64_t first, const unsigned char *p, long n, int headers_only)
{
	long bad = 0;
	for (long at = 0; at < n; at += 512) {
		int ok = get_header(p + at) == pattern_header(tag, first + (uint64_t)at / 512);
		for (int j = 8; ok && !headers_only && j < 512; j++)
			ok = p[at + j] == filler[j];
		bad += !ok;
	}
	return bad;
}

/* --- disks */

/* The raw device /dev/rxvdX for the vbd xvdX, opened; -1 on failure (reported). */
static int open_disk(char letter, int flags, const char *casename)
{
	char key[] = "/dev/rxvd?", host[] = "/dev/xvd?";
	key[9] = letter;
	host[8] = letter;
	int rv = rump_pub_etfs_register(key, host, NB_ETFS_CHR);
	if (rv != 0) {
		rumpuser_dprintf("io: etfs %s -> %s: error %d\n", key, host, rv);
		nb_report(casename, 0, "rump_pub_etfs_register failed", rv);
		return -1;
	}
	int fd = nb_open(key, flags, 0);
	if (fd < 0)
		nb_report(casename, 0, "open of the raw device failed", nb_errno());
	return fd;
}

static int64_t disk_size(int fd)
{
	nb_off_t size = -1;
	return nb_ioctl(fd, NB_DIOCGMEDIASIZE, &size) == 0 ? size : -1;
}

/* devices: the disk's size, and every byte of it against the pattern of tag `letter`. */
static int check_disk(char letter)
{
	char casename[] = "disk_xvd?";
	casename[8] = letter;
	int fd = open_disk(letter, NB_O_RDONLY, casename);
	if (fd < 0)
		return 0;
	int64_t size = disk_size(fd);
	rumpuser_dprintf("io: /dev/xvd%c: %ld bytes\n", letter, (long)size);
	NB_CASE(casename, size > 0 && size % 512 == 0, "DIOCGMEDIASIZE");
	pattern_init(letter);
	long bad = 0;
	int64_t t0 = nb_platform_ns();
	for (int64_t off = 0; off < size; off += XFER) {
		long want = size - off < XFER ? (long)(size - off) : XFER;
		nb_ssize_t got = nb_read(fd, buf, (size_t)want);
		NB_CASE(casename, got == want, "a short or failed read");
		bad += pattern_check(letter, (uint64_t)off / 512, (unsigned char *)buf, want, 0);
	}
	NB_CASE(casename, nb_read(fd, buf, 512) == 0, "the device reads on past its size");
	rumpuser_dprintf("io: /dev/xvd%c: read %ld bytes in %ld ms, %ld sectors differ from the pattern of '%c'\n",
	    letter, (long)size, (long)ms_since(t0), bad, letter);
	NB_CASE(casename, bad == 0, "sectors differ from the disk's pattern");
	nb_close(fd);
	nb_report(casename, 1, "", 0);
	return 1;
}

/* bench: sequential write and read of the whole disk, then random 4 KiB reads. */
static int bench_disk(uint64_t nrand)
{
	int fd = open_disk('a', NB_O_RDWR, "disk_bench");
	if (fd < 0)
		return 0;
	int64_t size = disk_size(fd);
	rumpuser_dprintf("io: /dev/xvda: %ld bytes\n", (long)size);
	NB_CASE("disk_bench", size >= BLOCK && size % XFER == 0, "DIOCGMEDIASIZE (or not a multiple of 64 KiB)");
	pattern_init('a');

	int64_t t0 = nb_platform_ns();
	for (int64_t off = 0; off < size; off += XFER) {
		pattern_fill('a', (uint64_t)off / 512, (unsigned char *)buf, XFER);
		NB_CASE("disk_bench", nb_write(fd, buf, XFER) == XFER, "a sequential write failed");
	}
	rumpuser_dprintf("io: seqwrite %ld bytes in %ld ms\n", (long)size, (long)ms_since(t0));

	NB_CASE("disk_bench", nb_lseek(fd, 0, NB_SEEK_SET) == 0, "lseek to 0");
	long bad = 0;
	t0 = nb_platform_ns();
	for (int64_t off = 0; off < size; off += XFER) {
		NB_CASE("disk_bench", nb_read(fd, buf, XFER) == XFER, "a sequential read failed");
		bad += pattern_check('a', (uint64_t)off / 512, (unsigned char *)buf, XFER, 1);
	}
	rumpuser_dprintf("io: seqread %ld bytes in %ld ms\n", (long)size, (long)ms_since(t0));
	NB_CASE("disk_bench", bad == 0, "the sequential read differs from what was written");

	uint32_t x = RAND_SEED;
	uint64_t nblocks = (uint64_t)size / BLOCK;
	t0 = nb_platform_ns();
	for (uint64_t i = 0; i < nrand; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		uint64_t blk = x % nblocks;
		nb_off_t at = (nb_off_t)(blk * BLOCK);
		NB_CASE("disk_bench", nb_lseek(fd, at, NB_SEEK_SET) == at && nb_read(fd, buf, BLOCK) == BLOCK,
		    "a random read failed");
		bad += pattern_check('a', blk * (BLOCK / 512), (unsigned char *)buf, BLOCK, 1);
	}
	rumpuser_dprintf("io: randread %lu reads of %d bytes in %ld ms\n", (unsigned long)nrand, BLOCK,
	    (long)ms_since(t0));
	NB_CASE("disk_bench", bad == 0, "a random read differs from what was written");
	nb_close(fd);
	nb_report("disk_bench", 1, "", 0);
	return 1;
}

/* --- network */

/* ICMP echo to peer, once a second for up to 30 s, until a reply comes. */
static int ping(const char *casename, uint32_t peer)
{
	int replied = nb_ping(peer, 0x696f, 30, 1, NULL);
	NB_CASE(casename, replied >= 0, "raw ICMP socket");
	char a[16];
	format_ipv4(a, peer);
	if (replied)
		rumpuser_dprintf("io: echo reply from %s\n", a);
	nb_report(casename, replied > 0, "no echo reply in 30 s", 0);
	return replied > 0;
}

static int ifsetup(const char *name, const char *addr, int prefix)
{
	int rv = rump_pub_netconfig_ifcreate(name);
	if (rv == 0)
		rv = rump_pub_netconfig_ifup(name);
	if (rv == 0)
		rv = rump_pub_netconfig_ipv4_ifaddr_cidr(name, addr, prefix);
	rumpuser_dprintf("io: %s up with %s/%d: %d\n", name, addr, prefix, rv);
	return rv == 0;
}

/* The interface's active link-layer address (6 bytes) through SIOCGLIFADDR; 0 on failure. */
static int link_address(const char *name, uint8_t mac[6])
{
	int s = nb_socket(NB_AF_LINK, NB_SOCK_DGRAM, 0);
	if (s < 0)
		return 0;
	struct nb_if_laddrreq req;
	__builtin_memset(&req, 0, sizeof(req));
	for (int i = 0; name[i] && i < 15; i++)
		req.iflr_name[i] = name[i];
	struct nb_sockaddr_dl *sdl = (struct nb_sockaddr_dl *)&req.addr;
	sdl->sdl_len = sizeof(*sdl);
	sdl->sdl_family = NB_AF_LINK;
	sdl->sdl_alen = 6;
	int rv = nb_ioctl(s, NB_SIOCGLIFADDR, &req);
	int err = nb_errno();
	nb_close(s);
	if (rv != 0 || sdl->sdl_alen != 6) {
		rumpuser_dprintf("io: SIOCGLIFADDR on %s: %d, errno %d, alen %d\n", name, rv, err, sdl->sdl_alen);
		return 0;
	}
	/* sdl_data: the interface's name (sdl_nlen bytes), then the address. */
	const uint8_t *lla = (const uint8_t *)sdl->sdl_data + sdl->sdl_nlen;
	for (int i = 0; i < 6; i++)
		mac[i] = lla[i];
	rumpuser_dprintf("io: %s MAC %02x:%02x:%02x:%02x:%02x:%02x%s\n", name, mac[0], mac[1], mac[2],
	    mac[3], mac[4], mac[5], req.flags & NB_IFLR_ACTIVE ? " (active)" : "");
	return 1;
}

static uint64_t tcpstats[2][NB_TCP_NSTATS];

/* Snapshot i of NetBSD's TCP counters (net.inet.tcp.stats); 0 on failure. */
static int tcp_stats(int i)
{
	const int mib[] = { NB_CTL_NET, NB_PF_INET, NB_IPPROTO_TCP, NB_TCPCTL_STATS };
	size_t len = sizeof(tcpstats[i]);
	return nb_sysctl(mib, 4, tcpstats[i], &len, 0, 0) == 0 && len == sizeof(tcpstats[i]);
}

/* What the TCP counters did since snapshot 0 (taken again as snapshot 1). */
static void tcp_stats_line(const char *what)
{
	if (!tcp_stats(1)) {
		rumpuser_dprintf("io: %s: net.inet.tcp.stats unreadable (errno %d)\n", what, nb_errno());
		return;
	}
#define D(k) (unsigned long)(tcpstats[1][k] - tcpstats[0][k])
	rumpuser_dprintf("io: %s: TCP data packets sent %lu (retransmitted %lu, retransmit timeouts %lu), "
	    "received in order %lu (out of order %lu, duplicate %lu), duplicate ACKs received %lu\n", what,
	    D(NB_TCP_STAT_SNDPACK), D(NB_TCP_STAT_SNDREXMITPACK), D(NB_TCP_STAT_REXMTTIMEO),
	    D(NB_TCP_STAT_RCVPACK), D(NB_TCP_STAT_RCVOOPACK), D(NB_TCP_STAT_RCVDUPPACK),
	    D(NB_TCP_STAT_RCVDUPACK));
#undef D
}

static int listen_on(uint16_t port)
{
	int l = nb_socket(NB_AF_INET, NB_SOCK_STREAM, 0);
	struct nb_sockaddr_in sin = { .sin_len = sizeof(sin), .sin_family = NB_AF_INET,
	    .sin_port = nb_htons(port), .sin_addr = NB_INADDR_ANY };
	if (l < 0 || nb_bind(l, &sin, sizeof(sin)) != 0 || nb_listen(l, 4) != 0)
		return -1;
	return l;
}

/* The next connection on l, within WAIT_MS; -1 if none. */
static int accept_one(int l)
{
	struct nb_pollfd p = { .fd = l, .events = NB_POLLIN };
	if (nb_poll(&p, 1, WAIT_MS) != 1)
		return -1;
	return nb_accept(l, 0, 0);
}

/*
 * Ends a connection we sent on: FIN, then wait until the peer acknowledged every byte
 * (FIONWRITE counts sent but unacknowledged bytes too), since the domain's end takes the send
 * queue with it.
 */
static int finish(int c)
{
	int drained = nb_tcp_drain(c);
	nb_close(c);
	return drained;
}

static int devices(char **argv)
{
	uint32_t addr0 = nb_parse_ipv4(argv[0]), peer0 = nb_parse_ipv4(argv[2]);
	uint32_t addr1 = nb_parse_ipv4(argv[3]), peer1 = nb_parse_ipv4(argv[5]);
	int prefix0 = (int)nb_parse_u64(argv[1]), prefix1 = (int)nb_parse_u64(argv[4]);
	NB_CASE("args", addr0 && peer0 && addr1 && peer1 && prefix0 > 0 && prefix0 <= 32 &&
	    prefix1 > 0 && prefix1 <= 32, "bad ADDR, PREFIX or PEER");

	check_disk('a');
	check_disk('b');

	NB_CASE("ifconfig", ifsetup("virt0", argv[0], prefix0) && ifsetup("virt1", argv[3], prefix1),
	    "creating virt0/virt1 or giving them their addresses");
	nb_report("ifconfig", 1, "", 0);
	uint8_t mac0[6], mac1[6];
	NB_CASE("macs_differ", link_address("virt0", mac0) && link_address("virt1", mac1),
	    "SIOCGLIFADDR");
	int same = 1;
	for (int i = 0; i < 6; i++)
		same &= mac0[i] == mac1[i];
	NB_CASE("macs_differ", !same, "virt0 and virt1 have the same link-layer address");
	nb_report("macs_differ", 1, "", 0);
	ping("ping_peer0", peer0);
	ping("ping_peer1", peer1);

	int l = listen_on(7);
	NB_CASE("tcp_local_addr", l >= 0, "socket, bind or listen on port 7");
	rumpuser_dprintf("io: ready\n");
	for (int i = 0; i < 2; i++) {
		int c = accept_one(l);
		NB_CASE("tcp_local_addr", c >= 0, "no connection on port 7 within 600 s");
		struct nb_sockaddr_in me;
		nb_socklen_t len = sizeof(me);
		NB_CASE("tcp_local_addr", nb_getsockname(c, &me, &len) == 0, "getsockname");
		char text[20];
		format_ipv4(text, me.sin_addr);
		rumpuser_dprintf("io: connection %d reached %s\n", i + 1, text);
		int n = 0;
		while (text[n])
			n++;
		text[n++] = '\n';
		NB_CASE("tcp_local_addr", nb_send_all(c, text, (size_t)n) && finish(c), "the answer");
	}
	nb_close(l);
	nb_report("tcp_local_addr", 1, "", 0);
	return 1;
}

static int bench(char **argv)
{
	uint64_t nrand = nb_parse_u64(argv[0]);
	uint32_t addr = nb_parse_ipv4(argv[1]), peer = nb_parse_ipv4(argv[3]);
	int prefix = (int)nb_parse_u64(argv[2]);
	uint64_t nbytes = nb_parse_u64(argv[4]);
	NB_CASE("args", addr && peer && prefix > 0 && prefix <= 32 && nbytes > 0, "bad ADDR, PREFIX, PEER or NBYTES");
	if (!bench_disk(nrand))
		return 0;

	NB_CASE("ifconfig", ifsetup("virt0", argv[1], prefix), "virt0");
	nb_report("ifconfig", 1, "", 0);
	if (!ping("ping_peer0", peer))
		return 0;
	int sink = listen_on(5001), source = listen_on(5002);
	NB_CASE("tcp_bench", sink >= 0 && source >= 0, "socket, bind or listen on ports 5001 and 5002");
	rumpuser_dprintf("io: ready\n");

	/* Port 5001: read NBYTES, timed from the connection to the last byte. */
	int c = accept_one(sink);
	NB_CASE("tcp_bench", c >= 0, "no connection on port 5001 within 600 s");
	tcp_stats(0);
	int64_t t0 = nb_platform_ns();
	uint64_t done = 0;
	while (done < nbytes) {
		size_t want = nbytes - done < XFER ? (size_t)(nbytes - done) : XFER;
		struct nb_pollfd p = { .fd = c, .events = NB_POLLIN };
		NB_CASE("tcp_bench", nb_poll(&p, 1, 60 * 1000) == 1, "no data for 60 s");
		nb_ssize_t n = nb_read(c, buf, want);
		NB_CASE("tcp_bench", n > 0, "the connection ended before NBYTES bytes");
		done += (uint64_t)n;
	}
	rumpuser_dprintf("io: tcp-recv %lu bytes in %ld ms\n", (unsigned long)done, (long)ms_since(t0));
	tcp_stats_line("tcp-recv");
	nb_close(c);

	/* Port 5002: write NBYTES, timed from the connection until the peer acknowledged all. */
	c = accept_one(source);
	NB_CASE("tcp_bench", c >= 0, "no connection on port 5002 within 600 s");
	for (int i = 0; i < XFER; i++)
		buf[i] = (char)(i * 13 + 5);
	tcp_stats(0);
	t0 = nb_platform_ns();
	done = 0;
	while (done < nbytes) {
		size_t n = nbytes - done < XFER ? (size_t)(nbytes - done) : XFER;
		NB_CASE("tcp_bench", nb_send_all(c, buf, n), "a write failed");
		done += n;
	}
	NB_CASE("tcp_bench", finish(c), "the peer did not acknowledge every byte within 60 s");
	rumpuser_dprintf("io: tcp-send %lu bytes in %ld ms\n", (unsigned long)done, (long)ms_since(t0));
	tcp_stats_line("tcp-send");
	nb_close(sink);
	nb_close(source);
	nb_report("tcp_bench", 1, "", 0);
	return 1;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	int rv = rump_init();
	if (rv != 0) {
		rumpuser_dprintf("io: rump_init failed: %d\nTest result: FAILURE\n", rv);
		return 1;
	}
	if (nb_streq(mode, "devices") && argc == 8)
		devices(argv + 2);
	else if (nb_streq(mode, "bench") && argc == 7)
		bench(argv + 2);
	else {
		rumpuser_dprintf("io: unknown mode or wrong arguments \"%s\" (devices ADDR0 PREFIX0 PEER0 "
		    "ADDR1 PREFIX1 PEER1, bench NRAND ADDR PREFIX PEER NBYTES)\n", mode);
		nb_failures++;
	}
	/* What the peer has not read yet goes with the domain: give the last FIN a moment. */
	struct nb_timespec ts = { 1, 0 };
	nb_nanosleep(&ts, 0);
	rumpuser_dprintf("Test result: %s\n", nb_failures ? "FAILURE" : "SUCCESS");
	return nb_failures ? 1 : 0;
}
