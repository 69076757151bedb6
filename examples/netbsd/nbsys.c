/* errno and time for programs that call a rump kernel with no C library (see nbsys.h). */
#include <rumpuser.h>

#include "nbsys.h"

/* glibc's, present when the program runs as a posix process. */
extern int *__errno_location(void) __attribute__((weak));

static volatile int last_errno;

/* Xen: the guest kernel's rumpuser_seterrno hands the kernel's errno to this hook. */
void rumpxen_set_errno(int error)
{
	last_errno = error;
}

int nb_errno(void)
{
	return __errno_location ? *__errno_location() : last_errno;
}

int64_t nb_now_ns(void)
{
	struct nb_timespec ts;

	if (nb_clock_gettime(NB_CLOCK_MONOTONIC, &ts) != 0)
		return -1;
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void *thread_main(void *arg)
{
	struct nb_thread *t = arg;

	t->fn(t->arg);
	__atomic_store_n(&t->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

int nb_thread_start(struct nb_thread *t, void *(*fn)(void *), void *arg, const char *name)
{
	void *cookie;

	t->fn = fn;
	t->arg = arg;
	t->done = 0;
	return rumpuser_thread_create(thread_main, t, name, 0, 0, -1, &cookie);
}

void nb_thread_wait(struct nb_thread *t)
{
	const struct nb_timespec tick = { .tv_sec = 0, .tv_nsec = 5 * 1000000L };

	while (!__atomic_load_n(&t->done, __ATOMIC_ACQUIRE))
		nb_nanosleep(&tick, NULL);
}

int nb_failures;

void nb_report(const char *name, int ok, const char *why, int err)
{
	if (ok) {
		rumpuser_dprintf("case %s: PASS\n", name);
	} else {
		rumpuser_dprintf("case %s: FAIL %s (errno %d)\n", name, why, err);
		nb_failures++;
	}
}

int nb_streq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

uint64_t nb_parse_u64(const char *s)
{
	uint64_t v = 0;
	while (*s >= '0' && *s <= '9')
		v = v * 10 + (uint64_t)(*s++ - '0');
	return v;
}

uint32_t nb_parse_ipv4(const char *s)
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

uint16_t nb_inet_cksum(const uint8_t *p, size_t len)
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

int nb_ping(uint32_t peer, uint16_t ident, int tries, int want, const char *log)
{
	int s = nb_socket(NB_AF_INET, NB_SOCK_RAW, NB_IPPROTO_ICMP);
	if (s < 0)
		return -1;
	struct nb_sockaddr_in to = { .sin_len = sizeof(to), .sin_family = NB_AF_INET, .sin_addr = peer };
	int replies = 0;
	for (int seq = 1; seq <= tries && seq <= 0xffff && replies < want; seq++) {
		uint8_t pkt[64] = { NB_ICMP_ECHO, 0, 0, 0, ident >> 8, ident & 0xff,
		    (uint8_t)(seq >> 8), (uint8_t)seq };
		/* A payload of its own for each request, so a reply must carry that request's bytes. */
		for (unsigned i = 8; i < sizeof(pkt); i++)
			pkt[i] = (uint8_t)(i ^ (unsigned)seq);
		uint16_t c = nb_inet_cksum(pkt, sizeof(pkt));
		pkt[2] = c >> 8;
		pkt[3] = c & 0xff;
		nb_sendto(s, pkt, sizeof(pkt), 0, &to, sizeof(to));
		int64_t sent = nb_now_ns(), end = sent + 1000000000LL;
		int answered = 0;
		while (!answered && nb_now_ns() < end) {
			struct nb_pollfd p = { .fd = s, .events = NB_POLLIN };
			if (nb_poll(&p, 1, 200) <= 0)
				continue;
			/* The raw socket hands over the IP header too: its length, then the ICMP header. */
			uint8_t r[256];
			nb_ssize_t n = nb_recvfrom(s, r, sizeof(r), 0, 0, 0);
			if (n < 28)
				continue;
			unsigned hl = (r[0] & 0xf) * 4u;
			uint32_t from;
			__builtin_memcpy(&from, r + 12, 4);
			if (hl < 20 || n < (nb_ssize_t)(hl + sizeof(pkt)) || from != peer)
				continue;
			const uint8_t *icmp = r + hl;
			if (icmp[0] != NB_ICMP_ECHOREPLY || (icmp[4] << 8 | icmp[5]) != ident ||
			    (icmp[6] << 8 | icmp[7]) != seq ||
			    __builtin_memcmp(icmp + 8, pkt + 8, sizeof(pkt) - 8) != 0)
				continue;
			answered = 1;
			replies++;
			if (log)
				rumpuser_dprintf("%s: echo reply from the peer, seq %d, %ld us\n", log, seq,
				    (long)((nb_now_ns() - sent) / 1000));
		}
	}
	nb_close(s);
	return replies;
}

int64_t nb_platform_ns(void)
{
	int64_t sec;
	long nsec;

	if (rumpuser_clock_gettime(RUMPUSER_CLOCK_ABSMONO, &sec, &nsec) != 0)
		return -1;
	return sec * 1000000000LL + nsec;
}
