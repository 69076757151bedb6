/*
 * What io.c needs of NetBSD beyond ../netbsd-blk/nbblk.h (etfs) and ../netbsd-net/nbnet.h
 * (netconfig, ioctl, raw ICMP): a disk's size (sys/dkio.h), an interface's link-layer address
 * through an AF_LINK socket (net/if.h's struct if_laddrreq, net/if_dl.h's struct sockaddr_dl,
 * sys/sockio.h), and sys/socket.h's sockaddr_storage. Values as NetBSD defines them.
 */
#ifndef RUMPXEN_EXAMPLE_NBIO_H
#define RUMPXEN_EXAMPLE_NBIO_H

#include "../netbsd-blk/nbblk.h"
#include "../netbsd-net/nbnet.h"

/* sys/dkio.h: _IOR('d', 132, off_t), the medium's size in bytes. */
#define NB_DIOCGMEDIASIZE 0x40086484ul

/* sys/socket.h: struct sockaddr_storage (128 bytes, 8-byte aligned). */
struct nb_sockaddr_storage {
	uint8_t ss_len;
	uint8_t ss_family;
	char pad1[6];
	int64_t align;
	char pad2[112];
};

/* net/if_dl.h */
struct nb_sockaddr_dl {
	uint8_t sdl_len;
	uint8_t sdl_family;
	uint16_t sdl_index;
	uint8_t sdl_type;
	uint8_t sdl_nlen;      /* the interface's name comes first in sdl_data */
	uint8_t sdl_alen;      /* then the link-level address */
	uint8_t sdl_slen;
	char sdl_data[12];
};

/* net/if.h: SIOCGLIFADDR's argument. */
struct nb_if_laddrreq {
	char iflr_name[16];    /* IFNAMSIZ */
	unsigned int flags;
	unsigned int prefixlen;
	struct nb_sockaddr_storage addr;
	struct nb_sockaddr_storage dstaddr;
};

/* sys/sockio.h: _IOWR('i', 29, struct if_laddrreq). */
#define NB_SIOCGLIFADDR 0xc118691dul

/*
 * netinet/tcp_var.h: sysctl net.inet.tcp.stats ({CTL_NET, PF_INET, IPPROTO_TCP, TCPCTL_STATS}),
 * TCP_NSTATS 64-bit counters; the indexes io.c prints.
 */
enum {
	NB_CTL_NET = 4, NB_PF_INET = 2, NB_IPPROTO_TCP = 6, NB_TCPCTL_STATS = 30, NB_TCP_NSTATS = 76,
	NB_TCP_STAT_REXMTTIMEO = 10, NB_TCP_STAT_SNDPACK = 19, NB_TCP_STAT_SNDREXMITPACK = 21,
	NB_TCP_STAT_RCVPACK = 29, NB_TCP_STAT_RCVDUPPACK = 35, NB_TCP_STAT_RCVOOPACK = 39,
	NB_TCP_STAT_RCVDUPACK = 45,
};

enum {
	NB_AF_LINK = 18,
	NB_IFLR_ACTIVE = 0x4000,
	NB_INADDR_ANY = 0,
};

_Static_assert(sizeof(struct nb_sockaddr_storage) == 128, "sockaddr_storage is 128 bytes");
_Static_assert(sizeof(struct nb_if_laddrreq) == 280, "SIOCGLIFADDR encodes 280 bytes");

#endif
