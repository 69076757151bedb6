/*
 * PV traps and events: the trap table, the event, failsafe and syscall callbacks, threads in
 * PV user mode with a fault stack of their own, the fault address, and idle (blocking until
 * an event or the timer).
 */
#include <mk/arch.h>
#include <mk/time.h>
#include <mk/crash.h>
#include <mk/hypercall.h>
#include "pv.h"

extern char mk_pv_event_callback[], mk_pv_failsafe_callback[], mk_pv_syscall_callback[];
extern void mk_pv_enter_user_mode(void);
extern const unsigned long mk_trap_stubs[22];

/*
 * Where Xen builds the frame of every trap, event and hypercall that arrives while a thread
 * runs (threads run in PV user mode, see mk_arch_enter_thread_mode), so a thread whose
 * stack overflowed into its guard page still gets our crash report.
 */
#define FAULT_STACK_SIZE 16384
/* The first page is unmapped: an overflow of the fault stack itself stops there. */
static char fault_stack[4096 + FAULT_STACK_SIZE] __attribute__((aligned(4096)));

unsigned long mk_arch_fault_address(void)
{
	return mk_boot.shared_info->vcpu_info[0].cr2;
}

/*
 * SCHEDOP_block unmasks event delivery and returns at once if anything is pending; the
 * upcall that follows re-masks (callback.S), so handlers still run from the scheduler.
 */
void mk_arch_block(uint64_t deadline_ns)
{
	mk_time_set_timer(deadline_ns);
	mk_hc_sched_op(XEN_SCHEDOP_block, NULL);
	mk_boot.shared_info->vcpu_info[0].evtchn_upcall_mask = 1;
}

void mk_pv_register_callbacks(void)
{
	struct xen_callback_register ev = { .type = XEN_CALLBACKTYPE_event,
		.address = (unsigned long)mk_pv_event_callback };
	struct xen_callback_register fs = { .type = XEN_CALLBACKTYPE_failsafe,
		.flags = XEN_CALLBACKF_mask_events,
		.address = (unsigned long)mk_pv_failsafe_callback };
	long rc = mk_hypercall(XEN_HC_callback_op, XEN_CALLBACKOP_register, &ev, 0, 0, 0);
	if (rc)
		mk_pv_early_fail("registering the event callback", rc);
	rc = mk_hypercall(XEN_HC_callback_op, XEN_CALLBACKOP_register, &fs, 0, 0, 0);
	if (rc)
		mk_pv_early_fail("registering the failsafe callback", rc);
	struct xen_callback_register sc = { .type = XEN_CALLBACKTYPE_syscall,
		.flags = XEN_CALLBACKF_mask_events,
		.address = (unsigned long)mk_pv_syscall_callback };
	rc = mk_hypercall(XEN_HC_callback_op, XEN_CALLBACKOP_register, &sc, 0, 0, 0);
	if (rc)
		mk_pv_early_fail("registering the syscall callback", rc);
}

void mk_arch_traps_init(void)
{
	static struct xen_trap_info table[23];
	for (unsigned v = 0; v < 22; v++) {
		table[v].vector = (uint8_t)v;
		/* int3 and into may be raised by code at any privilege. */
		table[v].flags = (v == 3 || v == 4) ? 3 : 0;
		table[v].cs = XEN_FLAT_KERNEL_CS64;
		table[v].address = mk_trap_stubs[v];
	}
	long rc = mk_hypercall(XEN_HC_set_trap_table, table, 0, 0, 0, 0);
	if (rc)
		mk_pv_early_fail("installing the trap table", rc);
}

/*
 * On x86-64 PV a fault in guest kernel mode is delivered on the current stack: after a
 * thread overflowed into its guard page Xen cannot write the frame and kills the domain
 * itself. A fault in guest user mode is delivered on the kernel stack given to
 * HYPERVISOR_stack_switch instead. So threads run in user mode, with the same page tables as
 * kernel mode (all of a PV guest's mappings are user-accessible anyway) and the fault stack
 * as the kernel stack; their hypercalls come back through mk_pv_syscall_callback.
 */
void mk_arch_enter_thread_mode(void)
{
	if (mk_arch_unmap_page((unsigned long)fault_stack))
		mk_panic("cannot unmap the guard page of the fault stack at %p", fault_stack);
	long rc = mk_hypercall(XEN_HC_stack_switch, XEN_FLAT_RING3_SS64,
		fault_stack + sizeof(fault_stack), 0, 0, 0);
	if (rc)
		mk_panic("HYPERVISOR_stack_switch to the fault stack failed: %ld", rc);
	struct xen_mmuext_op op = { .cmd = XEN_MMUEXT_NEW_USER_BASEPTR,
		.arg1.mfn = mk_pv_l4_mfn() };
	rc = mk_hc_mmuext_op(&op, 1);
	if (rc)
		mk_panic("MMUEXT_NEW_USER_BASEPTR with the kernel's L4 failed: %ld", rc);
	mk_pv_enter_user_mode();
}

void mk_pv_bad_syscall(struct mk_trap_frame *f)
{
	mk_crash_frame(f, "syscall instruction at %#lx with rax %#lx: there is no OS kernel to "
		"take a system call here (only the hypercall page may use syscall)", f->rip - 2,
		f->rax);
}

/* What mk_pv_failsafe_callback leaves on the stack. */
struct pv_failsafe_frame {
	unsigned long r15, r14, r13, r12, r11, r10, r9, r8;
	unsigned long rbp, rdi, rsi, rdx, rcx, rbx, rax;
	unsigned long ds, es, fs, gs;
	unsigned long rip, cs, rflags, rsp, ss;
};

void mk_pv_failsafe(const struct pv_failsafe_frame *x)
{
	struct mk_trap_frame f = {
		.r15 = x->r15, .r14 = x->r14, .r13 = x->r13, .r12 = x->r12, .r11 = x->r11,
		.r10 = x->r10, .r9 = x->r9, .r8 = x->r8, .rbp = x->rbp, .rdi = x->rdi,
		.rsi = x->rsi, .rdx = x->rdx, .rcx = x->rcx, .rbx = x->rbx, .rax = x->rax,
		.rip = x->rip, .cs = x->cs, .rflags = x->rflags, .rsp = x->rsp, .ss = x->ss,
	};
	mk_crash_frame(&f, "failsafe callback: Xen could not load the segment registers on "
		"return to the guest (ds %#lx es %#lx fs %#lx gs %#lx)", x->ds & 0xffff,
		x->es & 0xffff, x->fs & 0xffff, x->gs & 0xffff);
}
