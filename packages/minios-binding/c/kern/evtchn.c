/* 2-level event channel ABI over shared_info; see mk/evtchn.h. */
#include <mk/arch.h>
#include <mk/crash.h>
#include <mk/evtchn.h>
#include <mk/hypercall.h>
#include <mk/time.h>

struct evtchn_slot {
	mk_evtchn_handler_t handler;
	void *arg;
};
static struct evtchn_slot slots[MK_EVTCHN_MAX_PORTS];

static inline void bit_set(unsigned long *w, unsigned bit)
{
	__asm__ __volatile__("lock btsq %1, %0" : "+m"(*w) : "r"((unsigned long)bit) : "memory");
}
static inline void bit_clear(unsigned long *w, unsigned bit)
{
	__asm__ __volatile__("lock btrq %1, %0" : "+m"(*w) : "r"((unsigned long)bit) : "memory");
}
static inline bool bit_test_and_clear(unsigned long *w, unsigned bit)
{
	bool old;
	__asm__ __volatile__("lock btrq %2, %0" : "+m"(*w), "=@ccc"(old)
		: "r"((unsigned long)bit) : "memory");
	return old;
}

void mk_evtchn_init(void)
{
	struct xen_shared_info *s = mk_boot.shared_info;
	/* Masked until a handler is bound; keeps stray ports from waking the idle loop. */
	for (unsigned i = 0; i < 64; i++)
		s->evtchn_mask[i] = ~0UL;
	s->vcpu_info[0].evtchn_upcall_mask = 1;
}

void mk_evtchn_mask(uint32_t port)
{
	bit_set(&mk_boot.shared_info->evtchn_mask[port / 64], port % 64);
}

void mk_evtchn_unmask(uint32_t port)
{
	struct xen_evtchn_port_op op = { .port = port };
	/*
	 * Xen clears the mask bit itself and re-raises the event if it became pending while
	 * masked; clearing it here first would make Xen skip that.
	 */
	mk_hc_event_channel_op(XEN_EVTCHNOP_unmask, &op);
}

bool mk_evtchn_test_and_clear(uint32_t port)
{
	return bit_test_and_clear(&mk_boot.shared_info->evtchn_pending[port / 64], port % 64);
}

void mk_evtchn_set_handler(uint32_t port, mk_evtchn_handler_t h, void *arg)
{
	if (port >= MK_EVTCHN_MAX_PORTS)
		mk_panic("event channel port %u above the supported %u", port,
			MK_EVTCHN_MAX_PORTS);
	slots[port].handler = h;
	slots[port].arg = arg;
	mk_evtchn_unmask(port);
}

long mk_evtchn_bind_virq(uint32_t virq, mk_evtchn_handler_t h, void *arg)
{
	struct xen_evtchn_bind_virq op = { .virq = virq, .vcpu = 0 };
	long rc = mk_hc_event_channel_op(XEN_EVTCHNOP_bind_virq, &op);
	if (rc < 0)
		return rc;
	mk_evtchn_set_handler(op.port, h, arg);
	return op.port;
}

long mk_evtchn_alloc_unbound(uint16_t remote_dom, mk_evtchn_handler_t h, void *arg)
{
	struct xen_evtchn_alloc_unbound op = { .dom = XEN_DOMID_SELF, .remote_dom = remote_dom };
	long rc = mk_hc_event_channel_op(XEN_EVTCHNOP_alloc_unbound, &op);
	if (rc < 0)
		return rc;
	mk_evtchn_set_handler(op.port, h, arg);
	return op.port;
}

long mk_evtchn_bind_interdomain(uint16_t remote_dom, uint32_t remote_port,
	mk_evtchn_handler_t h, void *arg)
{
	struct xen_evtchn_bind_interdomain op = { .remote_dom = remote_dom,
		.remote_port = remote_port };
	long rc = mk_hc_event_channel_op(XEN_EVTCHNOP_bind_interdomain, &op);
	if (rc < 0)
		return rc;
	mk_evtchn_set_handler(op.local_port, h, arg);
	return op.local_port;
}

long mk_evtchn_close(uint32_t port)
{
	struct xen_evtchn_port_op op = { .port = port };
	mk_evtchn_mask(port);
	if (port < MK_EVTCHN_MAX_PORTS)
		slots[port].handler = NULL;
	return mk_hc_event_channel_op(XEN_EVTCHNOP_close, &op);
}

long mk_evtchn_notify(uint32_t port)
{
	struct xen_evtchn_port_op op = { .port = port };
	return mk_hc_event_channel_op(XEN_EVTCHNOP_send, &op);
}

int mk_evtchn_dispatch(void)
{
	struct xen_shared_info *s = mk_boot.shared_info;
	struct xen_vcpu_info *v = &s->vcpu_info[0];
	int ran = 0;
	MK_WRITE_ONCE(v->evtchn_upcall_pending, 0);
	unsigned long sel = __atomic_exchange_n(&v->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
	while (sel) {
		unsigned word = (unsigned)__builtin_ctzl(sel);
		sel &= sel - 1;
		unsigned long bits;
		while ((bits = MK_READ_ONCE(s->evtchn_pending[word]) &
				~MK_READ_ONCE(s->evtchn_mask[word])) != 0) {
			unsigned bit = (unsigned)__builtin_ctzl(bits);
			uint32_t port = word * 64 + bit;
			bit_clear(&s->evtchn_pending[word], bit);
			if (port < MK_EVTCHN_MAX_PORTS && slots[port].handler) {
				slots[port].handler(port, slots[port].arg);
				ran++;
			}
		}
	}
	return ran;
}

void mk_evtchn_poll_once(uint32_t port, uint64_t timeout_ns)
{
	uint32_t ports[1] = { port };
	struct xen_sched_poll p = { .ports = ports, .nr_ports = 1,
		.timeout = mk_time_monotonic_ns() + timeout_ns };
	mk_hc_sched_op(XEN_SCHEDOP_poll, &p);
}

/*
 * Masked ports are left out: Xen's poll wakes on a pending bit whatever the mask, so a port
 * held masked and pending would turn idle into a busy loop. Xen polls at most 128 ports at a
 * time; with more handlers, the sleep is cut to a millisecond so the others are looked at.
 */
void mk_evtchn_poll_bound(uint64_t deadline_ns)
{
	static uint32_t ports[128];
	struct xen_shared_info *s = mk_boot.shared_info;
	unsigned n = 0;
	bool more = false;
	for (uint32_t p = 1; p < MK_EVTCHN_MAX_PORTS; p++) {
		if (!slots[p].handler || (MK_READ_ONCE(s->evtchn_mask[p / 64]) >> (p % 64)) & 1)
			continue;
		if (n == MK_ARRAY_SIZE(ports)) {
			more = true;
			break;
		}
		ports[n++] = p;
	}
	if (more) {
		uint64_t soon = mk_time_monotonic_ns() + 1000000ULL;
		if (soon < deadline_ns)
			deadline_ns = soon;
	}
	struct xen_sched_poll poll = { .ports = ports, .nr_ports = n, .timeout = deadline_ns };
	mk_hc_sched_op(XEN_SCHEDOP_poll, &poll);
}
