/*
 * Randomness. With RDRAND (CPUID.1:ECX bit 30) every byte comes from the CPU's generator.
 * Without it, a 256-bit state seeded from the TSC, Xen system time and the wallclock is
 * stirred with TSC jitter (timing of a hypercall, low bits) on every request and expanded
 * with a SipHash-style mixer: unpredictable enough for kernel hashing seeds, NOT a
 * cryptographic source. Both paths never block, so NOWAIT and HARD behave the same. The
 * first call says on the console which source this guest has.
 */
#include "xen_int.h"
#include <mk/arch.h>
#include <mk/hypercall.h>
#include <mk/time.h>

static int have_rdrand = -1;
static uint64_t state[4];
static bool seeded;

static bool rdrand64(uint64_t *v)
{
	for (int i = 0; i < 10; i++) {
		unsigned char ok;
		__asm__ __volatile__("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok));
		if (ok)
			return true;
	}
	return false;
}

static inline uint64_t rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

static void sip_round(uint64_t *v)
{
	v[0] += v[1]; v[1] = rotl(v[1], 13); v[1] ^= v[0]; v[0] = rotl(v[0], 32);
	v[2] += v[3]; v[3] = rotl(v[3], 16); v[3] ^= v[2];
	v[0] += v[3]; v[3] = rotl(v[3], 21); v[3] ^= v[0];
	v[2] += v[1]; v[1] = rotl(v[1], 17); v[1] ^= v[2]; v[2] = rotl(v[2], 32);
}

static uint64_t jitter_sample(void)
{
	uint64_t t0 = mk_rdtsc();
	mk_hypercall(XEN_HC_xen_version, XEN_VERSION_version, 0, 0, 0, 0);
	return mk_rdtsc() - t0;
}

static void stir(uint64_t input)
{
	state[3] ^= input;
	sip_round(state);
	sip_round(state);
	state[0] ^= input;
}

static uint64_t soft_next(void)
{
	if (!seeded) {
		state[0] = 0x736f6d6570736575ULL ^ mk_rdtsc();
		state[1] = 0x646f72616e646f6dULL ^ mk_time_wallclock_ns();
		state[2] = 0x6c7967656e657261ULL ^ mk_time_monotonic_ns();
		state[3] = 0x7465646279746573ULL;
		for (int i = 0; i < 16; i++)
			stir(jitter_sample());
		seeded = true;
	}
	stir(jitter_sample() ^ (mk_rdtsc() << 32));
	sip_round(state);
	return state[0] ^ state[1] ^ state[2] ^ state[3];
}

int rumpuser_getrandom(void *buf, size_t buflen, int flags, size_t *retp)
{
	(void)flags;
	if (have_rdrand < 0) {
		uint32_t r[4];
		mk_cpuid(1, 0, r);
		have_rdrand = (r[2] >> 30) & 1;
		rumpuser_dprintf(have_rdrand ? "rumpuser: random source: RDRAND\n" :
		    "rumpuser: random source: TSC-jitter generator (no RDRAND on this CPU; "
		    "not cryptographic)\n");
	}
	unsigned char *out = buf;
	size_t done = 0;
	while (done < buflen) {
		uint64_t v;
		if (!have_rdrand || !rdrand64(&v))
			v = soft_next();
		for (int i = 0; i < 8 && done < buflen; i++, v >>= 8)
			out[done++] = (unsigned char)v;
	}
	*retp = done;
	return 0;
}
