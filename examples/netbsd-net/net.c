/*
 * NetBSD's TCP/IP over a Xen vif: librumpnet_virtif's interface virt0 is the domain's vif 0
 * (netfront under the VIFHYPER_* hypercalls, see @rumpxen/minios-binding's README).
 *
 *   net serve ADDR PREFIX PEER NBYTES [NVIFS]
 *   net dhcp PEER
 *
 * serve creates virt0 (and virt1.. up to NVIFS, default 1, which only come up), gives virt0
 * ADDR/PREFIX, pings PEER with ICMP echo over a raw socket, binds UDP port 7, prints
 * `net: ready`, then serves one TCP connection on port 7: every byte it receives is sent
 * back, and after NBYTES bytes it closes. Then it echoes UDP datagrams on port 7 (each back
 * to its sender, as it came) until a datagram "quit", which it echoes too.
 * dhcp creates virt0 and configures it by DHCP (librumpnet_config's client, over BPF), reads
 * the address and netmask the kernel then has on virt0 back by ioctl and prints them
 * (`net: virt0 dhcp address A.B.C.D netmask M.M.M.M`), pings PEER, binds UDP port 7 on that
 * address, prints `net: ready` and echoes UDP as serve does.
 * Meanwhile PEER may ping the DomU (the kernel answers). Last, both modes check that the
 * kernel acted as a host, not a router: IP forwarding off, nothing forwarded, no ICMP redirect
 * sent (nb_check_not_a_router, which prints the counters). One `case NAME: PASS|FAIL why` line
 * per step, then `Test result: SUCCESS|FAILURE`.
 */
#include <rumpuser.h>

#include "nbnet.h"

#define ECHO_PORT 7
#define WAIT_MS (240 * 1000)

/* TCP reads and whole UDP datagrams (at most 65507 bytes over IPv4). */
static char buf[64 * 1024];


/* ICMP echo to peer: up to 30 requests a second apart, until a reply. */
static int ping_peer(uint32_t peer)
{
	int replies = nb_ping(peer, 0x7278, 30, 1, "net");
	NB_CASE("ping_peer", replies >= 0, "raw ICMP socket");
	nb_report("ping_peer", replies > 0, "no echo reply from the peer in 30 s", 0);
	return replies > 0;
}

/*
 * A UDP socket bound to addr port 7, with buffers for datagrams up to 64 KiB; -1 and the
 * errno of the failed call (the socket left open: the program ends) on failure.
 */
static int udp_open(uint32_t addr)
{
	int s = nb_socket(NB_AF_INET, NB_SOCK_DGRAM, 0);
	if (s < 0)
		return -1;
	/* NetBSD's defaults (9216 to send, 41600 to receive) refuse or drop the big ones. */
	int sndbuf = 128 * 1024, rcvbuf = 192 * 1024;
	struct nb_sockaddr_in sin = { .sin_len = sizeof(sin), .sin_family = NB_AF_INET,
	    .sin_port = nb_htons(ECHO_PORT), .sin_addr = addr };
	if (nb_setsockopt(s, NB_SOL_SOCKET, NB_SO_SNDBUF, &sndbuf, sizeof(sndbuf)) != 0 ||
	    nb_setsockopt(s, NB_SOL_SOCKET, NB_SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) != 0 ||
	    nb_bind(s, &sin, sizeof(sin)) != 0)
		return -1;
	return s;
}

/*
 * Echoes every datagram on s back to its sender until one that is exactly "quit" (echoed
 * too). A failed send (the interface's queue full, say) loses that echo only: the peer
 * sends again. Counts what it saw.
 */
static int udp_echo(int s)
{
	rumpuser_dprintf("net: udp echo on port %d\n", ECHO_PORT);
	uint64_t datagrams = 0, bytes = 0, send_failures = 0;
	size_t largest = 0;
	for (;;) {
		struct nb_pollfd p = { .fd = s, .events = NB_POLLIN };
		NB_CASE("udp_echo", nb_poll(&p, 1, WAIT_MS) == 1, "no datagram within 240 s");
		struct nb_sockaddr_in from;
		nb_socklen_t fromlen = sizeof(from);
		nb_ssize_t n = nb_recvfrom(s, buf, sizeof(buf), 0, &from, &fromlen);
		NB_CASE("udp_echo", n >= 0, "recvfrom");
		if (nb_sendto(s, buf, (size_t)n, 0, &from, fromlen) != n) {
			send_failures++;
			rumpuser_dprintf("net: udp echo of %ld bytes not sent: errno %d\n", (long)n,
			    nb_errno());
		}
		if (n == 4 && buf[0] == 'q' && buf[1] == 'u' && buf[2] == 'i' && buf[3] == 't')
			break;
		datagrams++;
		bytes += (uint64_t)n;
		if ((size_t)n > largest)
			largest = (size_t)n;
	}
	rumpuser_dprintf("net: udp echoed %lu datagrams, %lu bytes, largest %lu bytes; %lu sends "
	    "failed\n", (unsigned long)datagrams, (unsigned long)bytes, (unsigned long)largest,
	    (unsigned long)send_failures);
	/* Let the last echo leave before the domain ends (as for TCP's FIN). */
	struct nb_timespec ts = { 1, 0 };
	nb_nanosleep(&ts, 0);
	nb_close(s);
	nb_report("udp_echo", datagrams > 0, "only \"quit\" came", 0);
	return datagrams > 0;
}

static int create_vifs(int nvifs)
{
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
	return 1;
}

static int dhcp(const char *peer_s)
{
	uint32_t peer = nb_parse_ipv4(peer_s);
	NB_CASE("dhcp", peer, "bad PEER");
	if (!create_vifs(1))
		return 0;
	int64_t t0 = nb_now_ns();
	int rv = rump_pub_netconfig_dhcp_ipv4_oneshot("virt0");
	rumpuser_dprintf("net: virt0 dhcp: %d after %ld ms\n", rv, (long)((nb_now_ns() - t0) / 1000000));
	NB_CASE("dhcp", rv == 0, "rump_pub_netconfig_dhcp_ipv4_oneshot on virt0");
	nb_report("dhcp", 1, "", 0);
	/* What the kernel now has on virt0, not what the DHCP client said. */
	int s = nb_socket(NB_AF_INET, NB_SOCK_DGRAM, 0);
	NB_CASE("dhcp_addr", s >= 0, "a socket for the ioctls");
	uint32_t addr = nb_if_ipv4(s, "virt0", NB_SIOCGIFADDR);
	uint32_t mask = addr ? nb_if_ipv4(s, "virt0", NB_SIOCGIFNETMASK) : 0;
	nb_close(s);
	NB_CASE("dhcp_addr", addr != 0, "SIOCGIFADDR on virt0");
	const uint8_t *a = (const uint8_t *)&addr, *m = (const uint8_t *)&mask;
	rumpuser_dprintf("net: virt0 dhcp address %u.%u.%u.%u netmask %u.%u.%u.%u\n",
	    a[0], a[1], a[2], a[3], m[0], m[1], m[2], m[3]);
	nb_report("dhcp_addr", 1, "", 0);
	ping_peer(peer);
	int u = udp_open(addr);
	NB_CASE("udp_bind", u >= 0, "UDP socket on port 7");
	nb_report("udp_bind", 1, "", 0);
	struct nb_ip_counters c;
	nb_print_ip_counters("net", "before dom0's traffic", &c);
	rumpuser_dprintf("net: ready\n");
	return udp_echo(u) && nb_check_not_a_router("net");
}

static int serve(const char *addr_s, int prefix, const char *peer_s, uint64_t nbytes, int nvifs)
{
	uint32_t addr = nb_parse_ipv4(addr_s), peer = nb_parse_ipv4(peer_s);
	NB_CASE("ifconfig", addr && peer && prefix > 0 && prefix <= 32, "bad ADDR, PREFIX or PEER");
	if (!create_vifs(nvifs))
		return 0;
	int rv = rump_pub_netconfig_ipv4_ifaddr_cidr("virt0", addr_s, prefix);
	rumpuser_dprintf("net: virt0 %s/%d: %d\n", addr_s, prefix, rv);
	NB_CASE("ifconfig", rv == 0, "the address on virt0");
	nb_report("ifconfig", 1, "", 0);
	ping_peer(peer);
	int u = udp_open(addr);
	NB_CASE("udp_bind", u >= 0, "UDP socket on port 7");
	nb_report("udp_bind", 1, "", 0);
	struct nb_ip_counters c;
	nb_print_ip_counters("net", "before dom0's traffic", &c);
	if (!nb_tcp_echo("net", addr, nbytes)) {
		nb_close(u);
		return 0;
	}
	return udp_echo(u) && nb_check_not_a_router("net");
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
		int nvifs = argc > 6 ? (int)nb_parse_u64(argv[6]) : 1;
		serve(argv[2], (int)nb_parse_u64(argv[3]), argv[4], nb_parse_u64(argv[5]),
		    nvifs < 1 || nvifs > 9 ? 1 : nvifs);
	} else if (nb_streq(mode, "dhcp") && argc > 2) {
		dhcp(argv[2]);
	} else {
		rumpuser_dprintf("net: unknown mode \"%s\" (serve ADDR PREFIX PEER NBYTES [NVIFS] | "
		    "dhcp PEER)\n", mode);
		nb_failures++;
	}
	rumpuser_dprintf("Test result: %s\n", nb_failures ? "FAILURE" : "SUCCESS");
	return nb_failures ? 1 : 0;
}
