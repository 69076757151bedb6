/*
 * What net.c needs of NetBSD beyond ../netbsd/nbsys.h: librumpnet_config's calls (component
 * net_config, NetBSD's brlib/libnetconfig <rump/netconfig.h>: each returns 0 or an errno),
 * ioctl(FIONWRITE), a raw ICMP socket's numbers (netinet/in.h, netinet/ip_icmp.h) and the errors the program
 * expects. Values as NetBSD defines them.
 */
#ifndef RUMPXEN_EXAMPLE_NBNET_H
#define RUMPXEN_EXAMPLE_NBNET_H

#include "../netbsd/nbsys.h"

/* Creates interface name through its cloner ("virt0": librumpnet_virtif, vif 0). */
int rump_pub_netconfig_ifcreate(const char *name);
int rump_pub_netconfig_ifup(const char *name);
int rump_pub_netconfig_ipv4_ifaddr_cidr(const char *name, const char *addr, int prefix);

int nb_ioctl(int fd, unsigned long cmd, void *data) NB_SYSCALL("ioctl");
/* sys/filio.h: _IOR('f', 121, int), bytes in a socket's send queue (sent but not acked too). */
#define NB_FIONWRITE 0x40046679ul

enum {
	NB_SOCK_RAW = 3,
	NB_IPPROTO_ICMP = 1,
	NB_ICMP_ECHO = 8, NB_ICMP_ECHOREPLY = 0,
	NB_EINTR = 4, NB_EAGAIN = 35,
};

#endif
