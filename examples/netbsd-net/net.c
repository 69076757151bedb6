/*
 * NetBSD's TCP/IP over a Xen vif: librumpnet_virtif's interface virt0 is the domain's vif 0
 * (netfront under the VIFHYPER_* hypercalls, see @rumpxen/minios-binding's README).
 *
 *   net serve ADDR PREFIX PEER NBYTES [NVIFS]
 *
 * creates virt0 (and virt1.. up to NVIFS, default 1, which only come up), gives virt0
 * ADDR/PREFIX, pings PEER with ICMP echo over a raw socket, prints `net: ready`, then serves
 * one TCP connection on port 7: every byte it receives is sent back, and after NBYTES bytes
 * it closes. Meanwhile PEER may ping ADDR (the kernel answers). One `case NAME: PASS|FAIL
 * why` line per step, then `Test result: SUCCESS|FAILURE`.
 */
#include <rumpuser.h>

#include "nbnet.h"

#define ECHO_PORT 7
#define WAIT_MS (240 * 1000)

static char buf[32 * 1024];


static uint64_t parse_u64(const char *s)
{
	uint64_t v = 0;
	while (*s >= '0' && *s <= '9')
		v = v * 10 + (uint64_t)(*s++ - '0');
	return v;
}

/* Dotted quad to network byte order; 0 when malformed. */
static uint32_t parse_ipv4(const char *s)
{
	uint32_t a = 0;
	for (int i = 0; i < 4; i++) {
		if (*s < '0' || *s > '9')
			return 0;
		uint32_t o = 0;
		while (*s >= '0' && *s <= '9')
			o = o * 10 + (uint32_t)(*s++ - '0');
		if (o > 255 || (i < 3 && *s++ != '.'))
			return 0;
		a = a << 8 | o;
	}
	return *s ? 0 : nb_htonl(a);
}

static uint16_t inet_cksum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)(p[len - 1] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* ICMP echo to peer over a raw socket: up to 30 tries a second apart, until a reply. */
static int ping_peer(uint32_t peer)
{
	int s = nb_socket(NB_AF_INET, NB_SOCK_RAW, NB_IPPROTO_ICMP);
	NB_CASE("ping_peer", s >= 0, "raw ICMP socket");
	struct nb_sockaddr_in to = { .sin_len = sizeof(to), .sin_family = NB_AF_INET, .sin_addr = peer };
	const uint16_t ident = 0x7278;
	int replies = 0;
	for (uint16_t seq = 1; seq <= 30 && !replies; seq++) {
		uint8_t pkt[64] = { NB_ICMP_ECHO, 0, 0, 0, ident >> 8, ident & 0xff, seq >> 8, seq & 0xff };
		for (unsigned i = 8; i < sizeof(pkt); i++)
			pkt[i] = (uint8_t)i;
		uint16_t c = inet_cksum(pkt, sizeof(pkt));
		pkt[2] = c >> 8;
		pkt[3] = c & 0xff;
		NB_CASE("ping_peer", nb_sendto(s, pkt, sizeof(pkt), 0, &to, sizeof(to)) == sizeof(pkt),
		    "sendto of the echo request");
		int64_t end = nb_now_ns() + 1000000000LL;
		while (!replies && nb_now_ns() < end) {
			struct nb_pollfd p = { .fd = s, .events = NB_POLLIN };
			if (nb_poll(&p, 1, 200) <= 0)
				continue;
			uint8_t r[256];
			nb_ssize_t n = nb_recvfrom(s, r, sizeof(r), 0, 0, 0);
			if (n < 28)
				continue;
			unsigned hl = (r[0] & 0xf) * 4u;
			if (hl < 20 || n < (nb_ssize_t)(hl + 8))
				continue;
			const uint8_t *icmp = r + hl;
			if (icmp[0] == NB_ICMP_ECHOREPLY && (icmp[4] << 8 | icmp[5]) == ident &&
			    (icmp[6] << 8 | icmp[7]) == seq) {
				replies++;
				rumpuser_dprintf("net: echo reply from the peer, seq %u\n", seq);
			}
		}
	}
	nb_close(s);
	nb_report("ping_peer", replies > 0, "no echo reply from the peer in 30 s", 0);
	return replies > 0;
}

/* Sends all of len bytes. */
static int send_all(int fd, const char *p, size_t len)
{
	while (len) {
		nb_ssize_t n = nb_write(fd, p, len);
		if (n <= 0)
			return 0;
		p += n;
		len -= (size_t)n;
	}
	return 1;
}

static int tcp_echo(uint32_t addr, uint64_t nbytes)
{
	int l = nb_socket(NB_AF_INET, NB_SOCK_STREAM, 0);
	struct nb_sockaddr_in sin = { .sin_len = sizeof(sin), .sin_family = NB_AF_INET,
	    .sin_port = nb_htons(ECHO_PORT), .sin_addr = addr };
	NB_CASE("tcp_listen", l >= 0 && nb_bind(l, &sin, sizeof(sin)) == 0 && nb_listen(l, 4) == 0,
	    "socket, bind or listen on port 7");
	nb_report("tcp_listen", 1, "", 0);
	rumpuser_dprintf("net: ready\n");
	struct nb_pollfd p = { .fd = l, .events = NB_POLLIN };
	NB_CASE("tcp_echo", nb_poll(&p, 1, WAIT_MS) == 1, "no connection within 240 s");
	int c = nb_accept(l, 0, 0);
	NB_CASE("tcp_echo", c >= 0, "accept");
	uint64_t done = 0;
	int64_t t0 = nb_now_ns();
	while (done < nbytes) {
		size_t want = nbytes - done < sizeof(buf) ? (size_t)(nbytes - done) : sizeof(buf);
		p = (struct nb_pollfd){ .fd = c, .events = NB_POLLIN };
		NB_CASE("tcp_echo", nb_poll(&p, 1, 60 * 1000) == 1, "no data for 60 s");
		nb_ssize_t n = nb_read(c, buf, want);
		NB_CASE("tcp_echo", n > 0, "the connection ended before NBYTES bytes");
		NB_CASE("tcp_echo", send_all(c, buf, (size_t)n), "write back");
		done += (uint64_t)n;
	}
	int64_t ms = (nb_now_ns() - t0) / 1000000;
	rumpuser_dprintf("net: tcp echoed %lu bytes in %ld ms\n", (unsigned long)done, (long)ms);
	nb_shutdown(c, NB_SHUT_WR);
	/*
	 * The domain ends when main returns, taking the socket's send queue with it: wait until
	 * the peer acknowledged every byte (FIONWRITE counts sent but unacknowledged bytes too),
	 * then a little for our FIN.
	 */
	int queued = -1;
	int64_t drain_end = nb_now_ns() + 60 * 1000000000LL;
	while (nb_ioctl(c, NB_FIONWRITE, &queued) == 0 && queued > 0 && nb_now_ns() < drain_end) {
		struct nb_timespec ts = { 0, 20 * 1000000 };
		nb_nanosleep(&ts, 0);
	}
	NB_CASE("tcp_echo", queued == 0, "the peer did not acknowledge every byte within 60 s");
	struct nb_timespec fin = { 2, 0 };
	nb_nanosleep(&fin, 0);
	nb_close(c);
	nb_close(l);
	nb_report("tcp_echo", 1, "", 0);
	return 1;
}

static int serve(const char *addr_s, int prefix, const char *peer_s, uint64_t nbytes, int nvifs)
{
	uint32_t addr = parse_ipv4(addr_s), peer = parse_ipv4(peer_s);
	NB_CASE("ifconfig", addr && peer && prefix > 0 && prefix <= 32, "bad ADDR, PREFIX or PEER");
	for (int i = 0; i < nvifs; i++) {
		char name[8] = "virt0";
		name[4] = (char)('0' + i);
		int rv = rump_pub_netconfig_ifcreate(name);
		if (rv == 0)
			rv = rump_pub_netconfig_ifup(name);
		rumpuser_dprintf("net: %s created and up: %d\n", name, rv);
		NB_CASE("ifcreate", rv == 0, "creating an interface failed");
	}
	nb_report("ifcreate", 1, "", 0);
	int rv = rump_pub_netconfig_ipv4_ifaddr_cidr("virt0", addr_s, prefix);
	rumpuser_dprintf("net: virt0 %s/%d: %d\n", addr_s, prefix, rv);
	NB_CASE("ifconfig", rv == 0, "the address on virt0");
	nb_report("ifconfig", 1, "", 0);
	ping_peer(peer);
	return tcp_echo(addr, nbytes);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	int rv = rump_init();
	if (rv != 0) {
		rumpuser_dprintf("net: rump_init failed: %d\nTest result: FAILURE\n", rv);
		return 1;
	}
	if (nb_streq(mode, "serve") && argc > 5) {
		int nvifs = argc > 6 ? (int)parse_u64(argv[6]) : 1;
		serve(argv[2], (int)parse_u64(argv[3]), argv[4], parse_u64(argv[5]),
		    nvifs < 1 || nvifs > 9 ? 1 : nvifs);
	} else {
		rumpuser_dprintf("net: unknown mode \"%s\" (serve ADDR PREFIX PEER NBYTES [NVIFS])\n",
		    mode);
		nb_failures++;
	}
	rumpuser_dprintf("Test result: %s\n", nb_failures ? "FAILURE" : "SUCCESS");
	return nb_failures ? 1 : 0;
}
