/* Xen system time and wallclock; see mk/time.h. */
#include <mk/arch.h>
#include <mk/evtchn.h>
#include <mk/hypercall.h>
#include <mk/time.h>

static uint64_t scale_delta(uint64_t delta, uint32_t mul, int8_t shift)
{
	if (shift < 0)
		delta >>= -shift;
	else
		delta <<= shift;
	return (uint64_t)(((unsigned __int128)delta * mul) >> 32);
}

uint64_t mk_time_monotonic_ns(void)
{
	volatile struct xen_vcpu_time_info *t = &mk_boot.shared_info->vcpu_info[0].time;
	uint32_t version;
	uint64_t ns;
	do {
		version = t->version;
		mk_rmb();
		uint64_t tsc = mk_rdtsc();
		ns = t->system_time + scale_delta(tsc - t->tsc_timestamp, t->tsc_to_system_mul,
			t->tsc_shift);
		mk_rmb();
	} while ((version & 1) || version != t->version);
	return ns;
}

uint64_t mk_time_wallclock_ns(void)
{
	volatile struct xen_shared_info *s = mk_boot.shared_info;
	uint32_t version;
	uint64_t sec, nsec;
	do {
		version = s->wc_version;
		mk_rmb();
		sec = ((uint64_t)s->wc_sec_hi << 32) | s->wc_sec;
		nsec = s->wc_nsec;
		mk_rmb();
	} while ((version & 1) || version != s->wc_version);
	return sec * 1000000000ULL + nsec + mk_time_monotonic_ns();
}

static void timer_event(uint32_t port, void *arg)
{
	(void)port;
	(void)arg;
}

void mk_time_init(void)
{
	mk_evtchn_bind_virq(XEN_VIRQ_TIMER, timer_event, NULL);
}

void mk_time_block_until(uint64_t deadline_ns)
{
	mk_arch_block(deadline_ns);
}
