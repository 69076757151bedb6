/*
 * What the NetBSD network examples share (netbsd-net over netfront, netbsd-pci-nic over a
 * passed-through NIC): the TCP echo (nb_tcp_echo) and the check that the kernel acted as a
 * host, not a router (nb_check_not_a_router); see nbnet.h.
 */
#include <rumpuser.h>

#include "nbnet.h"

int nb_tcp_drain(int c)
{
	nb_shutdown(c, NB_SHUT_WR);
	int queued = -1;
	int64_t end = nb_now_ns() + 60 * 1000000000LL;
	while (nb_ioctl(c, NB_FIONWRITE, &queued) == 0 && queued > 0 && nb_now_ns() < end) {
		struct nb_timespec ts = { 0, 10 * 1000000 };
		nb_nanosleep(&ts, 0);
	}
	return queued == 0;
}

uint32_t nb_if_ipv4(int s, const char *name, unsigned long cmd)
{
	struct nb_ifreq ifr = { .ifr_name = { 0 } };
	for (size_t i = 0; name[i] && i + 1 < sizeof(ifr.ifr_name); i++)
		ifr.ifr_name[i] = name[i];
	if (nb_ioctl(s, cmd, &ifr) != 0 || ifr.ifr_ifru.addr.sin_family != NB_AF_INET)
		return 0;
	return ifr.ifr_ifru.addr.sin_addr;
}

/* What one read takes. */
static char buf[64 * 1024];

int nb_send_all(int fd, const char *p, size_t len)
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

int nb_tcp_echo(const char *prog, uint32_t addr, uint64_t nbytes)
{
	int l = nb_socket(NB_AF_INET, NB_SOCK_STREAM, 0);
	struct nb_sockaddr_in sin = { .sin_len = sizeof(sin), .sin_family = NB_AF_INET,
	    .sin_port = nb_htons(7), .sin_addr = addr };
	NB_CASE("tcp_listen", l >= 0 && nb_bind(l, &sin, sizeof(sin)) == 0 && nb_listen(l, 4) == 0,
	    "socket, bind or listen on port 7");
	nb_report("tcp_listen", 1, "", 0);
	rumpuser_dprintf("%s: ready\n", prog);
	struct nb_pollfd p = { .fd = l, .events = NB_POLLIN };
	NB_CASE("tcp_echo", nb_poll(&p, 1, (240 * 1000)) == 1, "no connection within 240 s");
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
		NB_CASE("tcp_echo", nb_send_all(c, buf, (size_t)n), "write back");
		done += (uint64_t)n;
	}
	int64_t ms = (nb_now_ns() - t0) / 1000000;
	rumpuser_dprintf("%s: tcp echoed %lu bytes in %ld ms\n", prog, (unsigned long)done, (long)ms);
	/* The domain ends when main returns, taking the socket's send queue with it. */
	NB_CASE("tcp_echo", nb_tcp_drain(c), "the peer did not acknowledge every byte within 60 s");
	/* And a little for our FIN. */
	struct nb_timespec fin = { 2, 0 };
	nb_nanosleep(&fin, 0);
	nb_close(c);
	nb_close(l);
	nb_report("tcp_echo", 1, "", 0);
	return 1;
}

enum {
	NB_CTL_NET = 4, NB_PF_INET = 2, NB_PF_INET6 = 24,
	NB_IPPROTO_IP = 0, NB_IPPROTO_IPV6 = 41, NB_IPPROTO_ICMPV6 = 58,
	NB_IPCTL_FORWARDING = 1, NB_IPCTL_FORWSRCRT = 5, NB_IPCTL_STATS = 24, NB_ICMPCTL_STATS = 7,
	NB_IPV6CTL_FORWARDING = 1, NB_IPV6CTL_STATS = 6, NB_ICMPV6CTL_STATS = 1,
	NB_IP_STAT_FORWARD = 9, NB_IP_STAT_CANTFORWARD = 11, NB_IP_STAT_REDIRECTSENT = 12,
	NB_IP_NSTATS = 30,
	NB_ICMP_STAT_OUTHIST = 16, NB_ICMP_NSTATS = 16 + 2 * 41, NB_ICMP_REDIRECT = 5,
	NB_ICMP_TIMXCEED = 11,
	NB_IP6_STAT_FORWARD = 7, NB_IP6_STAT_REDIRECTSENT = 9, NB_IP6_NSTATS = 402,
	NB_ICMP6_STAT_OUTHIST = 3, NB_ICMP6_NSTATS = 542, NB_ND_REDIRECT = 137,
};

/* The counter arrays, as big as the kernel's (sysctl gives ENOMEM for a shorter buffer). */
static uint64_t ipstat[NB_IP_NSTATS], icmpstat[NB_ICMP_NSTATS];
static uint64_t ip6stat[NB_IP6_NSTATS], icmp6stat[NB_ICMP6_NSTATS];

/* sysctl of the 4-level name {CTL_NET, pf, proto, what} into out, exactly len bytes. */
static int net_sysctl(int pf, int proto, int what, void *out, size_t len)
{
	const int mib[] = { NB_CTL_NET, pf, proto, what };
	size_t got = len;
	return nb_sysctl(mib, 4, out, &got, 0, 0) == 0 && got == len;
}

int nb_ip_counters(struct nb_ip_counters *c)
{
	*c = (struct nb_ip_counters){ 0 };
	if (!net_sysctl(NB_PF_INET, NB_IPPROTO_IP, NB_IPCTL_FORWARDING, &c->forwarding, sizeof(c->forwarding)) ||
	    !net_sysctl(NB_PF_INET, NB_IPPROTO_IP, NB_IPCTL_FORWSRCRT, &c->forwsrcrt, sizeof(c->forwsrcrt)) ||
	    !net_sysctl(NB_PF_INET, NB_IPPROTO_IP, NB_IPCTL_STATS, ipstat, sizeof(ipstat)) ||
	    !net_sysctl(NB_PF_INET, NB_IPPROTO_ICMP, NB_ICMPCTL_STATS, icmpstat, sizeof(icmpstat)))
		return 0;
	c->forwarded = ipstat[NB_IP_STAT_FORWARD];
	c->cantforward = ipstat[NB_IP_STAT_CANTFORWARD];
	c->redirects = ipstat[NB_IP_STAT_REDIRECTSENT];
	c->icmp_redirects = icmpstat[NB_ICMP_STAT_OUTHIST + NB_ICMP_REDIRECT];
	c->icmp_timxceed = icmpstat[NB_ICMP_STAT_OUTHIST + NB_ICMP_TIMXCEED];
	/* No net.inet6 (ENOENT): the image has no IPv6, so it cannot forward IPv6 either. */
	if (!net_sysctl(NB_PF_INET6, NB_IPPROTO_IPV6, NB_IPV6CTL_FORWARDING, &c->forwarding6, sizeof(c->forwarding6)))
		return nb_errno() == NB_ENOENT;
	c->inet6 = 1;
	if (!net_sysctl(NB_PF_INET6, NB_IPPROTO_IPV6, NB_IPV6CTL_STATS, ip6stat, sizeof(ip6stat)) ||
	    !net_sysctl(NB_PF_INET6, NB_IPPROTO_ICMPV6, NB_ICMPV6CTL_STATS, icmp6stat, sizeof(icmp6stat)))
		return 0;
	c->forwarded6 = ip6stat[NB_IP6_STAT_FORWARD];
	c->redirects6 = ip6stat[NB_IP6_STAT_REDIRECTSENT];
	c->icmp6_redirects = icmp6stat[NB_ICMP6_STAT_OUTHIST + NB_ND_REDIRECT];
	return 1;
}

int nb_print_ip_counters(const char *prog, const char *when, struct nb_ip_counters *c)
{
	if (!nb_ip_counters(c)) {
		rumpuser_dprintf("%s: ip counters %s: sysctl failed, errno %d\n", prog, when, nb_errno());
		return 0;
	}
	rumpuser_dprintf("%s: ip counters %s: forwarding %d, source-routed %d, forwarded %lu, "
	    "not forwarded %lu, redirects sent %lu (icmp %lu), time exceeded sent %lu; ", prog, when,
	    c->forwarding, c->forwsrcrt, (unsigned long)c->forwarded, (unsigned long)c->cantforward, (unsigned long)c->redirects,
	    (unsigned long)c->icmp_redirects, (unsigned long)c->icmp_timxceed);
	if (c->inet6)
		rumpuser_dprintf("ipv6 forwarding %d, forwarded %lu, redirects sent %lu (icmp6 %lu)\n",
		    c->forwarding6, (unsigned long)c->forwarded6, (unsigned long)c->redirects6,
		    (unsigned long)c->icmp6_redirects);
	else
		rumpuser_dprintf("no ipv6\n");
	return 1;
}

int nb_check_not_a_router(const char *prog)
{
	struct nb_ip_counters c;
	NB_CASE("not_a_router", nb_print_ip_counters(prog, "at the end", &c),
	    "sysctl of net.inet.ip or net.inet6.ip6");
	const char *why = c.forwarding || c.forwsrcrt || c.forwarding6 ?
	    "IP forwarding is on (net.inet.ip.forwarding, .forwsrcrt or net.inet6.ip6.forwarding)" :
	    c.forwarded || c.forwarded6 ? "the kernel forwarded packets" :
	    c.redirects || c.icmp_redirects || c.redirects6 || c.icmp6_redirects ?
	    "the kernel sent ICMP redirects" : 0;
	nb_report("not_a_router", !why, why ? why : "", 0);
	return !why;
}
