/*
 * PV boot: start_info, the boot sequence, shared_info. Page tables and machine frames are
 * in mm.c, traps, callbacks and idle in traps.c, thread pointers in tls.c.
 */
#include <mk/arch.h>
#include <mk/console.h>
#include <mk/crash.h>
#include <mk/hypercall.h>
#include <mk/lib.h>
#include "pv.h"

struct mk_boot_info mk_boot;

static char shared_info_page[4096] __attribute__((aligned(4096)));

void mk_pv_early_fail(const char *what, long rc)
{
	char buf[160];
	int n = mk_snprintf(buf, sizeof(buf), "rumpxen: boot failed: %s (Xen error %ld)\n",
		what, rc);
	mk_hc_console_write(buf, (size_t)n);
	struct xen_sched_shutdown sd = { XEN_SHUTDOWN_crash };
	for (;;)
		mk_hc_sched_op(XEN_SCHEDOP_shutdown, &sd);
}

MK_NORETURN void mk_pv_setup(struct xen_start_info *si)
{
	mk_pv_mm_init(si);
	mk_boot.target = "xen-pv";
	mk_boot.nr_pages = si->nr_pages;
	mk_boot.is_dom0 = (si->flags & XEN_SIF_INITDOMAIN) != 0;
	mk_memcpy(mk_boot.cmdline, si->cmd_line, sizeof(mk_boot.cmdline));
	mk_boot.cmdline[sizeof(mk_boot.cmdline) - 1] = 0;

	mk_pv_register_callbacks();
	mk_arch_traps_init();
	mk_hypercall(XEN_HC_fpu_taskswitch, 0, 0, 0, 0, 0);

	if (!mk_boot.is_dom0) {
		mk_boot.store_pfn = mk_arch_mfn_to_pfn(si->store_mfn);
		mk_boot.store_evtchn = si->store_evtchn;
		mk_boot.console_pfn = mk_arch_mfn_to_pfn(si->console.domu.mfn);
		mk_boot.console_evtchn = si->console.domu.evtchn;
	}

	long rc = mk_hc_update_va_mapping((unsigned long)shared_info_page,
		si->shared_info | PTE_PAGE, XEN_UVMF_INVLPG);
	if (rc)
		mk_pv_early_fail("mapping shared_info", rc);
	mk_boot.shared_info = (struct xen_shared_info *)shared_info_page;

	mk_boot.first_free_pfn = mk_pv_map_all_ram();
	mk_boot.low_reserved_pfns = 1;
	mk_kernel_main();
}
