/*
 * The NetBSD bench (packages/image-linker/bench/netbsd.mjs runs it on posix, xen-pv and
 * xen-pvh): how long rump_init takes, what a system call round trip (getpid) costs, what an
 * empty function call costs (the yardstick for the CPU or its emulation), and a UDP ping-pong
 * over lo0 in one thread. One "bench NAME VALUE ..." line per figure, values
 * in integers with a fixed number of decimals (the Xen console's printf has no %f), then
 * "Test result: SUCCESS".
 */
#include <rumpuser.h>

#include "nbsys.h"

/* Stop a timed loop after this long or this many calls, whichever comes first. */
#define GETPID_MIN_NS (2 * 1000000000LL)
#define GETPID_MAX_CALLS 5000000L
#define GETPID_BATCH 1000L
#define CALL_MIN_NS (500 * 1000000LL)
#define CALL_MAX_CALLS 2000000000L
#define CALL_BATCH 100000L
#define UDP_ROUNDS 1000
#define UDP_WARMUP 20

static int fail(const char *what)
{
	rumpuser_dprintf("bench: %s failed (errno %d)\nTest result: FAILURE\n", what, nb_errno());
	return 1;
}

/* Hundredths of `total / n` (printed as "%ld.%02ld"). */
static long hundredths(int64_t total, int64_t n)
{
	return (long)(total * 100 / n);
}

static int bench_getpid(void)
{
	int pid = nb_getpid();
	int64_t t0, elapsed;
	long calls = 0, h;

	if (pid <= 0)
		return fail("getpid");
	for (long i = 0; i < 10000; i++)
		(void)nb_getpid();
	t0 = nb_platform_ns();
	do {
		for (long i = 0; i < GETPID_BATCH; i++)
			if (nb_getpid() != pid)
				return fail("getpid (another pid)");
		calls += GETPID_BATCH;
		elapsed = nb_platform_ns() - t0;
	} while (elapsed < GETPID_MIN_NS && calls < GETPID_MAX_CALLS);
	h = hundredths(elapsed, calls);
	rumpuser_dprintf("bench getpid_ns %ld.%02ld calls %ld ms %ld\n", h / 100, h % 100, calls, (long)(elapsed / 1000000));
	return 0;
}

/*
 * The yardstick for the system call: an empty function called through a pointer the compiler
 * cannot see through, timed the same way. It says how fast this CPU (or QEMU's emulation of
 * it) runs plain code, so targets can be compared net of that.
 */
static unsigned __attribute__((noinline)) empty_call(unsigned x)
{
	__asm__ volatile("" ::: "memory");
	return x + 1;
}

static unsigned (*volatile call_ptr)(unsigned) = empty_call;

static int bench_call(void)
{
	int64_t t0 = nb_platform_ns(), elapsed;
	unsigned acc = 0;
	long calls = 0, h;

	do {
		for (long i = 0; i < CALL_BATCH; i++)
			acc = call_ptr(acc);
		calls += CALL_BATCH;
		elapsed = nb_platform_ns() - t0;
	} while (elapsed < CALL_MIN_NS && calls < CALL_MAX_CALLS);
	if (acc != (unsigned)calls)
		return fail("the empty call loop (wrong count)");
	h = hundredths(elapsed, calls);
	rumpuser_dprintf("bench call_ns %ld.%02ld calls %ld ms %ld\n", h / 100, h % 100, calls, (long)(elapsed / 1000000));
	return 0;
}

static int loopback_udp(struct nb_sockaddr_in *sin)
{
	nb_socklen_t len = sizeof(*sin);
	int s = nb_socket(NB_AF_INET, NB_SOCK_DGRAM, 0);

	*sin = (struct nb_sockaddr_in){ .sin_len = sizeof(*sin), .sin_family = NB_AF_INET, .sin_addr = nb_htonl(NB_INADDR_LOOPBACK) };
	if (s < 0 || nb_bind(s, sin, sizeof(*sin)) != 0 || nb_getsockname(s, sin, &len) != 0)
		return -1;
	return s;
}

/* One round trip: A sends to B, B receives and answers, A receives. */
static int round_trip(int sa, int sb, const struct nb_sockaddr_in *a, const struct nb_sockaddr_in *b, unsigned i)
{
	unsigned char out[32], in[64];
	struct nb_sockaddr_in from;
	nb_socklen_t flen = sizeof(from);

	for (unsigned k = 0; k < sizeof(out); k++)
		out[k] = (unsigned char)(i + k);
	if (nb_sendto(sa, out, sizeof(out), 0, b, sizeof(*b)) != (nb_ssize_t)sizeof(out) ||
	    nb_recvfrom(sb, in, sizeof(in), 0, &from, &flen) != (nb_ssize_t)sizeof(out) || in[0] != out[0])
		return -1;
	flen = sizeof(from);
	if (nb_sendto(sb, in, sizeof(out), 0, a, sizeof(*a)) != (nb_ssize_t)sizeof(out) ||
	    nb_recvfrom(sa, in, sizeof(in), 0, &from, &flen) != (nb_ssize_t)sizeof(out) || in[sizeof(out) - 1] != out[sizeof(out) - 1])
		return -1;
	return 0;
}

static int bench_udp(void)
{
	struct nb_sockaddr_in a, b;
	int sa = loopback_udp(&a), sb = loopback_udp(&b);
	int64_t t0, elapsed;
	long h;

	if (sa < 0 || sb < 0)
		return fail("binding UDP sockets to 127.0.0.1");
	for (unsigned i = 0; i < UDP_WARMUP; i++)
		if (round_trip(sa, sb, &a, &b, i) != 0)
			return fail("UDP round trip (warm-up)");
	t0 = nb_platform_ns();
	for (unsigned i = 0; i < UDP_ROUNDS; i++)
		if (round_trip(sa, sb, &a, &b, i) != 0)
			return fail("UDP round trip");
	elapsed = nb_platform_ns() - t0;
	nb_close(sa);
	nb_close(sb);
	h = hundredths(elapsed, UDP_ROUNDS * 1000LL); /* microseconds per round trip */
	rumpuser_dprintf("bench udp_pingpong_us %ld.%02ld rounds %d ms %ld\n", h / 100, h % 100, UDP_ROUNDS, (long)(elapsed / 1000000));
	return 0;
}

int main(void)
{
	int64_t start = nb_platform_ns(), now;
	int rv = rump_init();

	now = nb_platform_ns();
	/* First line after rump_init: the host timestamps its arrival. */
	rumpuser_dprintf("bench rump_init_ms %ld uptime_ms %ld\n", (long)((now - start) / 1000000), (long)(now / 1000000));
	if (rv != 0) {
		rumpuser_dprintf("bench: rump_init failed: %d\nTest result: FAILURE\n", rv);
		return 1;
	}
	if (bench_getpid() != 0 || bench_call() != 0 || bench_udp() != 0)
		return 1;
	rumpuser_dprintf("Test result: SUCCESS\n");
	return 0;
}
