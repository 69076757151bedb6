/*
 * PV boot: start_info, callbacks and trap table, shared_info mapping, and the page tables
 * extended to map all RAM at virtual == pseudo-physical (mmu_update; PV page-table pages
 * must stay read-only to the guest).
 */
#include <mk/arch.h>
#include <mk/console.h>
#include <mk/crash.h>
#include <mk/hypercall.h>
#include <mk/lib.h>
#include <mk/mm.h>

#define PTE_P 0x001UL
#define PTE_RW 0x002UL
#define PTE_U 0x004UL
#define PTE_A 0x020UL
#define PTE_D 0x040UL
#define PTE_ADDR 0x000ffffffffff000UL
#define PTE_TABLE (PTE_P | PTE_RW | PTE_U | PTE_A)
#define PTE_PAGE (PTE_P | PTE_RW | PTE_U | PTE_A | PTE_D)

struct mk_boot_info mk_boot;
unsigned long mk_arch_mapping_area_start = 0x4000000000UL;
unsigned long mk_arch_mapping_area_end = 0x8000000000UL;

static unsigned long *p2m;
static uint64_t *l4_table;
static unsigned long bump_pfn;
static unsigned long mapped_limit_pfn; /* pages below this are mapped */

extern char mk_image_start[], mk_image_end[];
extern char mk_pv_event_callback[], mk_pv_failsafe_callback[], mk_pv_syscall_callback[];
extern void mk_pv_enter_user_mode(void);
extern const unsigned long mk_trap_stubs[22];

static char shared_info_page[4096] __attribute__((aligned(4096)));

/*
 * Where Xen builds the frame of every trap, event and hypercall that arrives while a thread
 * runs (threads run in PV user mode, see mk_arch_enter_thread_mode), so a thread whose
 * stack overflowed into its guard page still gets our crash report.
 */
#define FAULT_STACK_SIZE 16384
/* The first page is unmapped: an overflow of the fault stack itself stops there. */
static char fault_stack[4096 + FAULT_STACK_SIZE] __attribute__((aligned(4096)));

unsigned long mk_arch_pfn_to_mfn(unsigned long pfn)
{
	return p2m[pfn];
}

unsigned long mk_arch_mfn_to_pfn(unsigned long mfn)
{
	return ((const unsigned long *)XEN_MACH2PHYS_VIRT_START)[mfn];
}

static uint64_t *table_of(uint64_t entry)
{
	return (uint64_t *)(mk_arch_mfn_to_pfn((entry & PTE_ADDR) >> 12) << 12);
}

static void early_fail(const char *what, long rc)
{
	char buf[160];
	int n = mk_snprintf(buf, sizeof(buf), "rumpxen: boot failed: %s (Xen error %ld)\n",
		what, rc);
	mk_hc_console_write(buf, (size_t)n);
	struct xen_sched_shutdown sd = { XEN_SHUTDOWN_crash };
	for (;;)
		mk_hc_sched_op(XEN_SCHEDOP_shutdown, &sd);
}

/* How l1_entry_maddr treats missing page tables. */
enum table_create {
	TABLES_CREATE,		/* made; running out of memory is fatal */
	TABLES_CREATE_OR_FAIL,	/* made; 0 when out of memory (the caller reports ENOMEM) */
};

/*
 * Takes a page for a new page table and makes it read-only: from the mapped boot area during
 * boot, from the page allocator after. 0 when the allocator is out of pages and can_fail.
 */
static unsigned long new_table_page(bool can_fail)
{
	unsigned long pfn;
	if (mk_boot.first_free_pfn) {
		void *p = mk_page_alloc(1, 1);
		if (!p && can_fail)
			return 0;
		if (!p)
			mk_panic("out of memory for a page table");
		pfn = (unsigned long)p >> 12;
	} else {
		pfn = bump_pfn++;
		if (pfn >= mapped_limit_pfn)
			early_fail("no mapped page left for a page table", 0);
	}
	mk_memset((void *)(pfn << 12), 0, 4096);
	long rc = mk_hc_update_va_mapping(pfn << 12, (p2m[pfn] << 12) | PTE_P | PTE_U | PTE_A,
		XEN_UVMF_INVLPG);
	if (rc && mk_boot.first_free_pfn)
		mk_panic("making page %#lx a read-only page table failed: %ld", pfn << 12, rc);
	if (rc)
		early_fail("making a page table read-only", rc);
	return pfn;
}

/* Machine address of the L1 entry for va, missing tables made as `create` says (0: none). */
static uint64_t l1_entry_maddr(unsigned long va, enum table_create create, uint64_t **entry_va)
{
	uint64_t *table = l4_table;
	unsigned long table_mfn = p2m[((unsigned long)l4_table) >> 12];
	for (int shift = 39; shift > 12; shift -= 9) {
		unsigned idx = (va >> shift) & 511;
		uint64_t e = table[idx];
		if (!(e & PTE_P)) {
			unsigned long pfn = new_table_page(create == TABLES_CREATE_OR_FAIL);
			if (!pfn)
				return 0;
			struct xen_mmu_update u = { (table_mfn << 12) + idx * 8,
				(p2m[pfn] << 12) | PTE_TABLE };
			long rc = mk_hc_mmu_update(&u, 1);
			if (rc && mk_boot.first_free_pfn)
				mk_panic("linking a new page table for va %#lx failed: %ld", va, rc);
			if (rc)
				early_fail("linking a new page table", rc);
			e = table[idx];
		}
		table_mfn = (e & PTE_ADDR) >> 12;
		table = table_of(e);
	}
	unsigned idx = (va >> 12) & 511;
	if (entry_va)
		*entry_va = &table[idx];
	return (table_mfn << 12) + idx * 8;
}

static void set_pte(unsigned long va, uint64_t val)
{
	uint64_t maddr = l1_entry_maddr(va, TABLES_CREATE, NULL);
	struct xen_mmu_update u = { maddr, val };
	long rc = mk_hc_mmu_update(&u, 1);
	if (rc)
		mk_panic("mmu_update of va %#lx to %#lx failed: %ld", va, (unsigned long)val, rc);
	struct xen_mmuext_op op = { .cmd = XEN_MMUEXT_INVLPG_LOCAL, .arg1.linear_addr = va };
	mk_hc_mmuext_op(&op, 1);
}

int mk_arch_unmap_page(unsigned long va)
{
	return (int)mk_hc_update_va_mapping(va, 0, XEN_UVMF_INVLPG);
}

int mk_arch_remap_page(unsigned long va)
{
	return (int)mk_hc_update_va_mapping(va, (p2m[va >> 12] << 12) | PTE_PAGE,
		XEN_UVMF_INVLPG);
}

int mk_arch_map_mfn(unsigned long va, unsigned long mfn)
{
	set_pte(va, (mfn << 12) | PTE_PAGE);
	return 0;
}

unsigned long mk_arch_fault_address(void)
{
	return mk_boot.shared_info->vcpu_info[0].cr2;
}

#define MMU_MACHPHYS_UPDATE 1
#define MMUEXT_TLB_FLUSH_LOCAL 6
#define PTE_PWT 0x008UL
#define PTE_PCD 0x010UL
#define PTE_PAT 0x080UL

/*
 * Batches of 32 pages: one mmu_update with the M2P entries and the L1 entries of the pages'
 * virtual == pseudo-physical addresses, then one local TLB flush.
 */
int mk_arch_set_p2m_range(unsigned long pfn, unsigned long mfn, unsigned long n)
{
	if (pfn + n < pfn || pfn + n > mk_boot.nr_pages || pfn < mk_boot.low_reserved_pfns)
		return -XEN_EINVAL;
	struct xen_mmu_update batch[64];
	for (unsigned long done = 0; done < n;) {
		unsigned k = n - done < 32 ? (unsigned)(n - done) : 32;
		for (unsigned i = 0; i < k; i++) {
			unsigned long p = pfn + done + i, m = mfn + done + i;
			batch[2 * i].ptr = (m << 12) | MMU_MACHPHYS_UPDATE;
			batch[2 * i].val = p;
			batch[2 * i + 1].ptr = l1_entry_maddr(p << 12, TABLES_CREATE, NULL) |
				XEN_MMU_NORMAL_PT_UPDATE;
			batch[2 * i + 1].val = (m << 12) | PTE_PAGE;
		}
		long rc = mk_hc_mmu_update(batch, 2 * k);
		if (rc)
			return (int)rc;
		for (unsigned i = 0; i < k; i++)
			p2m[pfn + done + i] = mfn + done + i;
		struct xen_mmuext_op op = { .cmd = MMUEXT_TLB_FLUSH_LOCAL };
		mk_hc_mmuext_op(&op, 1);
		done += k;
	}
	return 0;
}

/* The L1 entry's machine address comes from our own page tables (l4_table), not cr3. */
int mk_arch_map_foreign(unsigned long va, unsigned long mfn, uint16_t domid,
	enum mk_cache_attr cache)
{
	static const unsigned long bits[] = { 0, PTE_PWT, PTE_PCD, PTE_PCD | PTE_PWT, PTE_PAT };
	if ((va & 4095) || va < (mk_boot.nr_pages << 12) || va >= mk_arch_mapping_area_end ||
			(unsigned)cache >= MK_ARRAY_SIZE(bits) || mfn >> 40)
		return -XEN_EINVAL;
	uint64_t l1 = l1_entry_maddr(va, TABLES_CREATE_OR_FAIL, NULL);
	if (!l1)
		return -XEN_ENOMEM;
	struct xen_mmu_update u = { l1 | XEN_MMU_NORMAL_PT_UPDATE,
		(mfn << 12) | PTE_PAGE | bits[cache] };
	long rc = mk_hypercall(XEN_HC_mmu_update, &u, 1, 0, domid, 0);
	if (rc)
		return (int)rc;
	struct xen_mmuext_op op = { .cmd = XEN_MMUEXT_INVLPG_LOCAL, .arg1.linear_addr = va };
	mk_hc_mmuext_op(&op, 1);
	return 0;
}

/*
 * SCHEDOP_block unmasks event delivery and returns at once if anything is pending; the
 * upcall that follows re-masks (callback.S), so handlers still run from the scheduler.
 */
void mk_arch_block(uint64_t deadline_ns)
{
	mk_hc_set_timer_op(deadline_ns);
	mk_hc_sched_op(XEN_SCHEDOP_block, NULL);
	mk_boot.shared_info->vcpu_info[0].evtchn_upcall_mask = 1;
}

/*
 * Thread pointers through the LDT: each thread gets a data-segment descriptor whose base is
 * its thread pointer (RAM is below 4 GiB, and loading %fs in 64-bit mode takes the base from
 * a descriptor's 32 bits), so a thread switch is one `mov` to %fs instead of a
 * set_segment_base hypercall, which from PV user mode (see mk_arch_enter_thread_mode) would
 * cost two guest mode switches more. Xen validates and writes the entries
 * (update_descriptor): the LDT pages are read-only to us. Without a free slot the base is
 * set by hypercall.
 */
#define LDT_PAGES 1
#define LDT_ENTRIES (LDT_PAGES * 512)
static uint64_t *ldt;
static bool ldt_unavailable;
static uint8_t ldt_used[LDT_ENTRIES / 8];

static bool ldt_init(void)
{
	void *p = mk_page_alloc(LDT_PAGES, 1);
	if (!p)
		return false;
	mk_memset(p, 0, LDT_PAGES * 4096);
	for (unsigned i = 0; i < LDT_PAGES; i++) {
		unsigned long va = (unsigned long)p + i * 4096UL;
		if (mk_hc_update_va_mapping(va, (p2m[va >> 12] << 12) | PTE_P | PTE_U | PTE_A,
				XEN_UVMF_INVLPG))
			return false;
	}
	struct xen_mmuext_op op = { .cmd = XEN_MMUEXT_SET_LDT,
		.arg1.linear_addr = (unsigned long)p, .arg2.nr_ents = LDT_ENTRIES };
	if (mk_hc_mmuext_op(&op, 1))
		return false;
	ldt = p;
	ldt_used[0] = 1; /* entry 0 stays empty */
	return true;
}

static long ldt_write(unsigned idx, uint64_t desc)
{
	unsigned long va = (unsigned long)&ldt[idx];
	uint64_t maddr = (p2m[va >> 12] << 12) | (va & 4095);
	return mk_hypercall(XEN_HC_update_descriptor, maddr, desc, 0, 0, 0);
}

unsigned long mk_arch_tls_attach(unsigned long base)
{
	if (base >> 32 || ldt_unavailable)
		return 0;
	if (!ldt && !ldt_init()) {
		ldt_unavailable = true;
		return 0;
	}
	for (unsigned i = 1; i < LDT_ENTRIES; i++) {
		if (ldt_used[i / 8] & (1 << (i % 8)))
			continue;
		/* Present, DPL 3, read/write data; limit 4 GiB (ignored in 64-bit mode). */
		uint64_t desc = 0xffffUL | ((base & 0xffffffUL) << 16) | (0xf2UL << 40) |
			(0xcfUL << 48) | ((base >> 24) << 56);
		if (ldt_write(i, desc))
			return 0;
		ldt_used[i / 8] |= (uint8_t)(1 << (i % 8));
		return (i << 3) | 4 | 3; /* LDT selector, RPL 3 */
	}
	return 0;
}

void mk_arch_tls_detach(unsigned long token)
{
	if (!token)
		return;
	unsigned i = (unsigned)(token >> 3);
	ldt_write(i, 0);
	ldt_used[i / 8] &= (uint8_t)~(1 << (i % 8));
}

void mk_arch_set_tls(unsigned long base, unsigned long token)
{
	__asm__ __volatile__("movw %w0, %%fs" :: "r"(token) : "memory");
	if (!token)
		mk_hypercall(XEN_HC_set_segment_base, XEN_SEGBASE_FS, base, 0, 0, 0);
}

/* Maps every RAM page not yet in the bootstrap mapping, 512 entries per mmu_update. */
static void map_all_ram(void)
{
	unsigned long nr = mk_boot.nr_pages;
	static struct xen_mmu_update batch[512];
	unsigned long pfn = 0;
	while (pfn < nr) {
		unsigned n = 0;
		unsigned long chunk_end = MK_ALIGN_UP(pfn + 1, 512UL);
		if (chunk_end > nr)
			chunk_end = nr;
		for (; pfn < chunk_end; pfn++) {
			uint64_t *entry;
			uint64_t maddr = l1_entry_maddr(pfn << 12, TABLES_CREATE, &entry);
			if (*entry & PTE_P)
				continue;
			batch[n].ptr = maddr;
			batch[n].val = (p2m[pfn] << 12) | PTE_PAGE;
			n++;
		}
		if (n) {
			long rc = mk_hc_mmu_update(batch, n);
			if (rc)
				early_fail("mapping RAM", rc);
		}
		if (chunk_end > mapped_limit_pfn)
			mapped_limit_pfn = chunk_end;
	}
}

static void register_callbacks(void)
{
	struct xen_callback_register ev = { .type = XEN_CALLBACKTYPE_event,
		.address = (unsigned long)mk_pv_event_callback };
	struct xen_callback_register fs = { .type = XEN_CALLBACKTYPE_failsafe,
		.flags = XEN_CALLBACKF_mask_events,
		.address = (unsigned long)mk_pv_failsafe_callback };
	long rc = mk_hypercall(XEN_HC_callback_op, XEN_CALLBACKOP_register, &ev, 0, 0, 0);
	if (rc)
		early_fail("registering the event callback", rc);
	rc = mk_hypercall(XEN_HC_callback_op, XEN_CALLBACKOP_register, &fs, 0, 0, 0);
	if (rc)
		early_fail("registering the failsafe callback", rc);
	struct xen_callback_register sc = { .type = XEN_CALLBACKTYPE_syscall,
		.flags = XEN_CALLBACKF_mask_events,
		.address = (unsigned long)mk_pv_syscall_callback };
	rc = mk_hypercall(XEN_HC_callback_op, XEN_CALLBACKOP_register, &sc, 0, 0, 0);
	if (rc)
		early_fail("registering the syscall callback", rc);
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
		early_fail("installing the trap table", rc);
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
		.arg1.mfn = p2m[(unsigned long)l4_table >> 12] };
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

static unsigned long page_end(unsigned long va)
{
	return MK_ALIGN_UP(va, 4096UL) >> 12;
}

MK_NORETURN void mk_pv_setup(struct xen_start_info *si)
{
	p2m = (unsigned long *)si->mfn_list;
	l4_table = (uint64_t *)si->pt_base;
	mk_boot.target = "xen-pv";
	mk_boot.nr_pages = si->nr_pages;
	mk_boot.is_dom0 = (si->flags & XEN_SIF_INITDOMAIN) != 0;
	mk_memcpy(mk_boot.cmdline, si->cmd_line, sizeof(mk_boot.cmdline));
	mk_boot.cmdline[sizeof(mk_boot.cmdline) - 1] = 0;

	register_callbacks();
	mk_arch_traps_init();
	mk_hypercall(XEN_HC_fpu_taskswitch, 0, 0, 0, 0, 0);

	/* Boot elements follow the image: p2m, start_info, store/console, tables, stack. */
	unsigned long end = page_end((unsigned long)mk_image_end);
	unsigned long e;
	if ((e = page_end(si->mfn_list + si->nr_pages * 8)) > end)
		end = e;
	if ((e = page_end((unsigned long)si + sizeof(*si))) > end)
		end = e;
	if ((e = (si->pt_base >> 12) + si->nr_pt_frames) > end)
		end = e;
	end += 4; /* Xen's bootstrap stack */
	/* At least 512 KiB past the last boot element is mapped (Xen's guarantee). */
	mapped_limit_pfn = end + 128;
	if (mapped_limit_pfn > si->nr_pages)
		mapped_limit_pfn = si->nr_pages;
	bump_pfn = end;

	if (!mk_boot.is_dom0) {
		mk_boot.store_pfn = mk_arch_mfn_to_pfn(si->store_mfn);
		mk_boot.store_evtchn = si->store_evtchn;
		mk_boot.console_pfn = mk_arch_mfn_to_pfn(si->console.domu.mfn);
		mk_boot.console_evtchn = si->console.domu.evtchn;
	}

	long rc = mk_hc_update_va_mapping((unsigned long)shared_info_page,
		si->shared_info | PTE_PAGE, XEN_UVMF_INVLPG);
	if (rc)
		early_fail("mapping shared_info", rc);
	mk_boot.shared_info = (struct xen_shared_info *)shared_info_page;

	map_all_ram();
	mk_boot.first_free_pfn = bump_pfn;
	mk_boot.low_reserved_pfns = 1;
	mk_kernel_main();
}

struct gnttab_setup_table {
	uint16_t dom;
	uint32_t nr_frames;
	int16_t status;
	unsigned long *frame_list;
};

/* PV: Xen hands out the machine frames of the table; map them at va. */
int mk_arch_gnttab_map(void *va, unsigned nr)
{
	unsigned long frames[8];
	struct gnttab_setup_table st = { .dom = XEN_DOMID_SELF, .nr_frames = nr,
		.frame_list = frames };
	if (nr > MK_ARRAY_SIZE(frames))
		return -XEN_EINVAL;
	long rc = mk_hc_grant_table_op(2 /* GNTTABOP_setup_table */, &st, 1);
	if (rc)
		return (int)rc;
	if (st.status)
		return st.status;
	for (unsigned i = 0; i < nr; i++)
		mk_arch_map_mfn((unsigned long)va + i * 4096UL, frames[i]);
	return 0;
}
