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

/*
 * The one-shot timer (set_timer_op) and whether it fired since it was armed: while it is
 * armed at D and has not fired, the clock reads less than D, which the scheduler uses to
 * skip reading it (see mk_time_deadline_maybe_due).
 */
static uint64_t armed_ns;	/* 0: not armed */
static volatile bool timer_fired;
/* Reading the clock costs an exit to Xen (Xen emulates rdtsc for this domain). */
static bool tsc_emulated;

static void timer_event(uint32_t port, void *arg)
{
	(void)port;
	(void)arg;
	timer_fired = true;
}

/*
 * Xen's CPUID leaves (seen by HVM and PVH guests; a PV guest's plain cpuid shows the host's):
 * leaf base+3, sub-leaf 0, EAX bit 0 says Xen emulates rdtsc.
 */
static bool xen_emulates_tsc(void)
{
	uint32_t r[4];
	for (uint32_t base = 0x40000000; base < 0x40010000; base += 0x100) {
		mk_cpuid(base, 0, r);
		if (r[1] == 0x566e6558 && r[2] == 0x65584d4d && r[3] == 0x4d4d566e) {
			if (r[0] < base + 3)
				return false;
			mk_cpuid(base + 3, 0, r);
			return (r[0] & 1) != 0;
		}
	}
	return false;
}

void mk_time_init(void)
{
	tsc_emulated = xen_emulates_tsc();
	mk_evtchn_bind_virq(XEN_VIRQ_TIMER, timer_event, NULL);
}

bool mk_time_tsc_emulated(void)
{
	return tsc_emulated;
}

void mk_time_set_timer(uint64_t deadline_ns)
{
	timer_fired = false;
	armed_ns = deadline_ns;
	mk_hc_set_timer_op(deadline_ns);
}

bool mk_time_deadline_maybe_due(uint64_t deadline_ns)
{
	if (!tsc_emulated || timer_fired || !armed_ns)
		return true;
	return armed_ns > deadline_ns;
}

void mk_time_arm_for(uint64_t deadline_ns)
{
	if (!tsc_emulated)
		return;
	if (timer_fired || !armed_ns || deadline_ns < armed_ns)
		mk_time_set_timer(deadline_ns);
}

void mk_time_block_until(uint64_t deadline_ns)
{
	mk_arch_block(deadline_ns);
}
