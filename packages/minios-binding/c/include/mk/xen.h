/*
 * The parts of the Xen public ABI (x86-64, interface 4.x) this kernel uses, written out from
 * the facts in Xen's public headers: numbers, struct layouts and protocol constants only.
 */
#ifndef MK_XEN_H
#define MK_XEN_H
#include <mk/types.h>

/* Hypercall numbers. */
#define XEN_HC_set_trap_table 0
#define XEN_HC_mmu_update 1
#define XEN_HC_stack_switch 3
#define XEN_HC_set_callbacks 4
#define XEN_HC_update_descriptor 10
#define XEN_HC_fpu_taskswitch 5
#define XEN_HC_memory_op 12
#define XEN_HC_update_va_mapping 14
#define XEN_HC_set_timer_op 15
#define XEN_HC_xen_version 17
#define XEN_HC_console_io 18
#define XEN_HC_grant_table_op 20
#define XEN_HC_vm_assist 21
#define XEN_HC_iret 23
#define XEN_HC_vcpu_op 24
#define XEN_HC_set_segment_base 25
#define XEN_HC_mmuext_op 26
#define XEN_HC_sched_op 29
#define XEN_HC_callback_op 30
#define XEN_HC_event_channel_op 32
#define XEN_HC_hvm_op 34

/* Errors come back negated, Linux-style numbering (Xen's errno.h). */
#define XEN_EPERM 1
#define XEN_ENOENT 2
#define XEN_EAGAIN 11
#define XEN_ENOMEM 12
#define XEN_EINVAL 22
#define XEN_E2BIG 7
#define XEN_EIO 5
#define XEN_ENOSYS 38

#define XEN_SHUTDOWN_poweroff 0
#define XEN_SHUTDOWN_reboot 1
#define XEN_SHUTDOWN_suspend 2
#define XEN_SHUTDOWN_crash 3

#define XEN_SCHEDOP_yield 0
#define XEN_SCHEDOP_block 1
#define XEN_SCHEDOP_shutdown 2
#define XEN_SCHEDOP_poll 3

#define XEN_CONSOLEIO_write 0

#define XEN_CALLBACKOP_register 0
#define XEN_CALLBACKTYPE_event 0
#define XEN_CALLBACKTYPE_failsafe 1
#define XEN_CALLBACKTYPE_syscall 2
#define XEN_CALLBACKF_mask_events 1

#define XEN_SEGBASE_FS 0

#define XEN_MMU_NORMAL_PT_UPDATE 0
#define XEN_MMUEXT_PIN_L1_TABLE 0
#define XEN_MMUEXT_UNPIN_TABLE 4
#define XEN_MMUEXT_INVLPG_LOCAL 7
#define XEN_MMUEXT_SET_LDT 13
#define XEN_MMUEXT_NEW_USER_BASEPTR 15
#define XEN_UVMF_INVLPG 2
#define XEN_DOMID_SELF 0x7FF0U

#define XEN_FLAT_KERNEL_CS64 0xe033
/* x86-64 PV: kernel and user mode share these selectors (both run in ring 3). */
#define XEN_FLAT_USER_CS64 0xe033
#define XEN_FLAT_RING3_SS64 0xe02b
#define XEN_MACH2PHYS_VIRT_START 0xFFFF800000000000UL
#define XEN_LEGACY_MAX_VCPUS 32

#define XEN_VIRQ_TIMER 0

#define XEN_EVTCHNOP_bind_interdomain 0
#define XEN_EVTCHNOP_bind_virq 1
#define XEN_EVTCHNOP_close 3
#define XEN_EVTCHNOP_send 4
#define XEN_EVTCHNOP_alloc_unbound 6
#define XEN_EVTCHNOP_unmask 9

#define XEN_SIF_INITDOMAIN (1U << 1)

#define XEN_VERSION_version 0

struct xen_start_info {
	char magic[32];
	unsigned long nr_pages;
	unsigned long shared_info;
	uint32_t flags;
	unsigned long store_mfn;
	uint32_t store_evtchn;
	union {
		struct {
			unsigned long mfn;
			uint32_t evtchn;
		} domu;
		struct {
			uint32_t info_off;
			uint32_t info_size;
		} dom0;
	} console;
	unsigned long pt_base;
	unsigned long nr_pt_frames;
	unsigned long mfn_list;
	unsigned long mod_start;
	unsigned long mod_len;
	char cmd_line[1024];
	unsigned long first_p2m_pfn;
	unsigned long nr_p2m_frames;
};

struct xen_vcpu_time_info {
	uint32_t version;
	uint32_t pad0;
	uint64_t tsc_timestamp;
	uint64_t system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags;
	uint8_t pad1[2];
};

struct xen_vcpu_info {
	uint8_t evtchn_upcall_pending;
	uint8_t evtchn_upcall_mask;
	unsigned long evtchn_pending_sel;
	unsigned long cr2;
	unsigned long arch_pad;
	struct xen_vcpu_time_info time;
};

struct xen_shared_info {
	struct xen_vcpu_info vcpu_info[XEN_LEGACY_MAX_VCPUS];
	unsigned long evtchn_pending[64];
	unsigned long evtchn_mask[64];
	uint32_t wc_version;
	uint32_t wc_sec;
	uint32_t wc_nsec;
	uint32_t wc_sec_hi;
	unsigned long max_pfn;
	unsigned long pfn_to_mfn_frame_list_list;
	unsigned long nmi_reason;
	unsigned long p2m_cr3;
	unsigned long p2m_vaddr;
	unsigned long p2m_generation;
};
#define XEN_NR_EVENT_CHANNELS (64 * 64)

struct xen_trap_info {
	uint8_t vector;
	uint8_t flags;
	uint16_t cs;
	unsigned long address;
};

struct xen_mmu_update {
	uint64_t ptr;
	uint64_t val;
};

struct xen_mmuext_op {
	unsigned int cmd;
	union {
		unsigned long mfn;
		unsigned long linear_addr;
	} arg1;
	union {
		unsigned int nr_ents;
		const void *vcpumask;
		unsigned long src_mfn;
	} arg2;
};

struct xen_callback_register {
	uint16_t type;
	uint16_t flags;
	unsigned long address;
};

struct xen_sched_shutdown {
	unsigned int reason;
};

struct xen_sched_poll {
	uint32_t *ports;
	unsigned int nr_ports;
	uint64_t timeout;
};

struct xen_evtchn_alloc_unbound {
	uint16_t dom, remote_dom;
	uint32_t port;
};
struct xen_evtchn_bind_interdomain {
	uint16_t remote_dom;
	uint32_t remote_port;
	uint32_t local_port;
};
struct xen_evtchn_bind_virq {
	uint32_t virq;
	uint32_t vcpu;
	uint32_t port;
};
struct xen_evtchn_port_op {
	uint32_t port;
};

/* Shared console ring (io/console.h). */
struct xen_cons_ring {
	char in[1024];
	char out[2048];
	uint32_t in_cons, in_prod;
	uint32_t out_cons, out_prod;
};

/* Shared xenstore ring (io/xs_wire.h). */
#define XEN_XS_RING_SIZE 1024
#define XEN_XS_PAYLOAD_MAX 4096
struct xen_xs_ring {
	char req[XEN_XS_RING_SIZE];
	char rsp[XEN_XS_RING_SIZE];
	uint32_t req_cons, req_prod;
	uint32_t rsp_cons, rsp_prod;
	uint32_t server_features;
	uint32_t connection;
	uint32_t error;
};
struct xen_xs_msg {
	uint32_t type;
	uint32_t req_id;
	uint32_t tx_id;
	uint32_t len;
};
enum {
	XEN_XS_DIRECTORY = 1,
	XEN_XS_READ = 2,
	XEN_XS_WATCH = 4,
	XEN_XS_UNWATCH = 5,
	XEN_XS_TRANSACTION_START = 6,
	XEN_XS_TRANSACTION_END = 7,
	XEN_XS_GET_DOMAIN_PATH = 10,
	XEN_XS_WRITE = 11,
	XEN_XS_MKDIR = 12,
	XEN_XS_RM = 13,
	XEN_XS_WATCH_EVENT = 15,
	XEN_XS_ERROR = 16,
};

#endif
