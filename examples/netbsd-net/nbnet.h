/*
 * What net.c needs of NetBSD beyond ../netbsd/nbsys.h: librumpnet_config's calls (component
 * net_config, NetBSD's brlib/libnetconfig <rump/netconfig.h>: each returns 0 or an errno),
 * ioctl(FIONWRITE) and an interface's IPv4 address and netmask by ioctl (sys/sockio.h,
 * net/if.h's struct ifreq), setsockopt's socket buffer sizes (sys/socket.h), a raw ICMP
 * socket's numbers (netinet/in.h, netinet/ip_icmp.h), the errors the program expects, and the
 * IP forwarding switches and counters read by sysctl. Values as NetBSD defines them.
 */
#ifndef RUMPXEN_EXAMPLE_NBNET_H
#define RUMPXEN_EXAMPLE_NBNET_H

#include "../netbsd/nbsys.h"

/* Creates interface name through its cloner ("virt0": librumpnet_virtif, vif 0). */
int rump_pub_netconfig_ifcreate(const char *name);
int rump_pub_netconfig_ifup(const char *name);
int rump_pub_netconfig_ipv4_ifaddr_cidr(const char *name, const char *addr, int prefix);
/*
 * DHCP (discover, offer, request, ack) on an interface that exists, through BPF (component
 * dev_bpf); configures the leased address and netmask (and routes) on it. 0 or an errno
 * (EADDRNOTAVAIL when no offer or ack came in 10 tries, 5 s each).
 */
int rump_pub_netconfig_dhcp_ipv4_oneshot(const char *name);

int nb_ioctl(int fd, unsigned long cmd, void *data) NB_SYSCALL("ioctl");
/* sys/filio.h: _IOR('f', 121, int), bytes in a socket's send queue (sent but not acked too). */
#define NB_FIONWRITE 0x40046679ul

/* sys/ioccom.h: _IOWR(group, num, len) */
#define NB_IOWR(g, n, len) (0xc0000000ul | ((unsigned long)(len) & 0x1fff) << 16 | \
	(unsigned long)(g) << 8 | (n))

/* net/if.h: struct ifreq, the union at its largest being a struct sockaddr_storage (128). */
struct nb_ifreq {
	char ifr_name[16];                      /* IFNAMSIZ */
	union {
		struct nb_sockaddr_in addr;     /* ifr_addr, for AF_INET */
		uint8_t space[128];
		int64_t align;
	} ifr_ifru;
};
_Static_assert(sizeof(struct nb_ifreq) == 144, "NetBSD's struct ifreq is 144 bytes on x86-64");
/* sys/sockio.h: the interface's (first) IPv4 address and its netmask, on an AF_INET socket. */
#define NB_SIOCGIFADDR NB_IOWR('i', 33, sizeof(struct nb_ifreq))
#define NB_SIOCGIFNETMASK NB_IOWR('i', 37, sizeof(struct nb_ifreq))

int nb_setsockopt(int fd, int level, int name, const void *val, nb_socklen_t len) NB_SYSCALL("setsockopt");

enum {
	NB_SOL_SOCKET = 0xffff, NB_SO_SNDBUF = 0x1001, NB_SO_RCVBUF = 0x1002,
	NB_EINTR = 4, NB_EAGAIN = 35,
};

/*
 * A TCP echo server on addr port 7 (nbnet.c): prints "PROG: ready" once listening, takes one
 * connection within 240 s and sends back every byte of nbytes, then waits until the peer has
 * acknowledged them all. Reports case tcp_listen and tcp_echo; 1 when both passed.
 */
int nb_tcp_echo(const char *prog, uint32_t addr, uint64_t nbytes);
/*
 * Ends what we send on connection c (FIN), then waits up to 60 s until the peer has
 * acknowledged every byte (FIONWRITE counts sent but unacknowledged bytes too): the domain's
 * end takes the send queue with it. 1 when all were acknowledged.
 */
int nb_tcp_drain(int c);
/* Writes all of len bytes to fd; 0 when a write fails or writes nothing. */
int nb_send_all(int fd, const char *p, size_t len);
/* The IPv4 address (cmd NB_SIOCGIFADDR) or netmask (NB_SIOCGIFNETMASK) of interface name; 0 when none. */
uint32_t nb_if_ipv4(int s, const char *name, unsigned long cmd);

/*
 * What a host must not do and a router does, read from the kernel by sysctl: the IPv4
 * forwarding switches and counters (net.inet.ip.forwarding and .forwsrcrt, net.inet.ip.stats, the ICMP output
 * histogram of net.inet.icmp.stats), and the IPv6 ones when the image has IPv6 (component
 * net_netinet6). Numbers as NetBSD defines them (netinet/in.h, ip_var.h, icmp_var.h,
 * netinet6/in6.h, ip6_var.h, netinet/icmp6.h).
 */
struct nb_ip_counters {
	int forwarding;           /* net.inet.ip.forwarding */
	int forwsrcrt;            /* net.inet.ip.forwsrcrt: forward source-routed packets for us */
	uint64_t forwarded;       /* IP_STAT_FORWARD: packets not for us sent on */
	uint64_t cantforward;     /* IP_STAT_CANTFORWARD: packets not for us dropped */
	uint64_t redirects;       /* IP_STAT_REDIRECTSENT: forwarded out of the interface they came in on */
	uint64_t icmp_redirects;  /* ICMP redirects sent (ICMP_STAT_OUTHIST + ICMP_REDIRECT) */
	uint64_t icmp_timxceed;   /* ICMP time exceeded sent (a forwarded packet's TTL ran out) */
	int inet6;                /* 1 when the kernel has IPv6; the fields below are then read */
	int forwarding6;          /* net.inet6.ip6.forwarding */
	uint64_t forwarded6;      /* IP6_STAT_FORWARD */
	uint64_t redirects6;      /* IP6_STAT_REDIRECTSENT */
	uint64_t icmp6_redirects; /* ICMPv6 redirects sent (ICMP6_STAT_OUTHIST + ND_REDIRECT) */
};
/* Fills c; 1 on success, 0 when a sysctl failed (errno from nb_errno). */
int nb_ip_counters(struct nb_ip_counters *c);
/*
 * Reads c and prints it as one line, "PROG: ip counters WHEN: forwarding F, source-routed S,
 * forwarded N, not forwarded N, redirects sent N (icmp N), time exceeded sent N; " and then
 * "ipv6 forwarding F, forwarded N, redirects sent N (icmp6 N)" or "no ipv6". 1 on success.
 */
int nb_print_ip_counters(const char *prog, const char *when, struct nb_ip_counters *c);
/*
 * Reports case not_a_router, for the end of a run (after its traffic): forwarding off (also
 * of source-routed packets) and nothing forwarded, no redirect sent (IPv4, and IPv6 when the kernel has it). Prints the
 * counters first (WHEN "at the end"). 1 when the case passed.
 */
int nb_check_not_a_router(const char *prog);

#endif
