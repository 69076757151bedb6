/*
 * Common boot after the arch layer: memory, events, time, console ring and xenstore for a
 * DomU, then the application's main(argc, argv, envp) in the first thread. main's return value
 * is printed as "rumpxen: exit N", written to xenstore data/rumpxen/exit-status (DomU) and
 * becomes the shutdown reason (0: poweroff, else crash). A DomU also gets the control thread,
 * which acts on the toolstack's shutdown requests (kern/control.c).
 */
#include <mk/arch.h>
#include <mk/console.h>
#include <mk/control.h>
#include <mk/crash.h>
#include <mk/evtchn.h>
#include <mk/lib.h>
#include <mk/mm.h>
#include <mk/sched.h>
#include <mk/time.h>
#include <mk/xenbus.h>
#include <mk/appcfg.h>
#include <mk/gnttab.h>

/* The application's entry; the environment comes as a third argument (K=V strings). */
extern int main(int argc, char **argv, char **envp);

static void *main_thread(void *unused)
{
	(void)unused;
	struct mk_app_config cfg;
	mk_appcfg_load(&cfg);
	mk_control_start();
	mk_app_exit(main(cfg.argc, cfg.argv, cfg.envp));
}

MK_NORETURN void mk_kernel_main(void)
{
	mk_evtchn_init();
	/* A DomU's console_io output is dropped by a release Xen: use the ring from the start. */
	if (mk_boot.console_pfn)
		mk_console_ring_attach((void *)(mk_boot.console_pfn << 12), mk_boot.console_evtchn);
	mk_printk("rumpxen: %s guest kernel, %lu MiB, %s\n", mk_boot.target,
		mk_boot.nr_pages >> 8, mk_boot.is_dom0 ? "dom0" : "domU");
	mk_mm_init();
	/* Page 0 stays unmapped so that NULL dereferences fault. */
	mk_arch_unmap_page(0);
	mk_time_init();
	mk_gnttab_init();
	if (mk_boot.store_pfn)
		mk_xenbus_init((void *)(mk_boot.store_pfn << 12), mk_boot.store_evtchn);
	if (!mk_thread_create("main", main_thread, NULL, 256 * 1024, false))
		mk_out_of_memory("the main thread (%zu KiB with its stack)",
			mk_thread_cost(256 * 1024) >> 10);
	mk_sched_start();
}
