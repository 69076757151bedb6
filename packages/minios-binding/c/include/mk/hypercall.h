/*
 * Hypercalls through the page Xen fills in (PV: syscall stubs; PVH: vmcall/vmmcall stubs).
 * Arguments go in rdi, rsi, rdx, r10, r8; Xen may clobber any argument register, rcx, r11.
 * Returns Xen's value: >= 0 on success, -XEN_E* on error.
 */
#ifndef MK_HYPERCALL_H
#define MK_HYPERCALL_H
#include <mk/xen.h>

extern char mk_hypercall_page[4096];

static inline long mk_hc5(unsigned long nr_off, unsigned long a1, unsigned long a2,
	unsigned long a3, unsigned long a4, unsigned long a5)
{
	register unsigned long r1 __asm__("rdi") = a1;
	register unsigned long r2 __asm__("rsi") = a2;
	register unsigned long r3 __asm__("rdx") = a3;
	register unsigned long r4 __asm__("r10") = a4;
	register unsigned long r5 __asm__("r8") = a5;
	register unsigned long fn __asm__("rax") = (unsigned long)mk_hypercall_page + nr_off * 32;
	__asm__ __volatile__("call *%%rax"
		: "+r"(fn), "+r"(r1), "+r"(r2), "+r"(r3), "+r"(r4), "+r"(r5)
		:
		: "rcx", "r11", "r9", "memory");
	return (long)fn;
}

#define mk_hypercall(nr, a1, a2, a3, a4, a5) \
	mk_hc5((nr), (unsigned long)(a1), (unsigned long)(a2), (unsigned long)(a3), \
		(unsigned long)(a4), (unsigned long)(a5))

static inline long mk_hc_sched_op(int cmd, void *arg)
{
	return mk_hypercall(XEN_HC_sched_op, cmd, arg, 0, 0, 0);
}
static inline long mk_hc_event_channel_op(int cmd, void *arg)
{
	return mk_hypercall(XEN_HC_event_channel_op, cmd, arg, 0, 0, 0);
}
static inline long mk_hc_console_write(const char *buf, size_t len)
{
	return mk_hypercall(XEN_HC_console_io, XEN_CONSOLEIO_write, len, buf, 0, 0);
}
static inline long mk_hc_set_timer_op(uint64_t deadline_ns)
{
	return mk_hypercall(XEN_HC_set_timer_op, deadline_ns, 0, 0, 0, 0);
}
static inline long mk_hc_mmu_update(struct xen_mmu_update *req, unsigned count)
{
	return mk_hypercall(XEN_HC_mmu_update, req, count, 0, XEN_DOMID_SELF, 0);
}
static inline long mk_hc_mmuext_op(struct xen_mmuext_op *op, unsigned count)
{
	return mk_hypercall(XEN_HC_mmuext_op, op, count, 0, XEN_DOMID_SELF, 0);
}
static inline long mk_hc_update_va_mapping(unsigned long va, uint64_t pte, unsigned long flags)
{
	return mk_hypercall(XEN_HC_update_va_mapping, va, pte, flags, 0, 0);
}
static inline long mk_hc_memory_op(int cmd, void *arg)
{
	return mk_hypercall(XEN_HC_memory_op, cmd, arg, 0, 0, 0);
}
static inline long mk_hc_grant_table_op(int cmd, void *arg, unsigned count)
{
	return mk_hypercall(XEN_HC_grant_table_op, cmd, arg, count, 0, 0);
}
static inline long mk_hc_hvm_op(int cmd, void *arg)
{
	return mk_hypercall(XEN_HC_hvm_op, cmd, arg, 0, 0, 0);
}

#endif
