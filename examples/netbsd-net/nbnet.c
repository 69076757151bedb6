/*
 * The TCP echo the NetBSD network examples share (netbsd-net over netfront, netbsd-pci-nic
 * over a passed-through NIC): see nb_tcp_echo in nbnet.h.
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
