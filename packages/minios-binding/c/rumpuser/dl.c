/*
 * A rumpxen image is one static ELF: its kernel modules and rump components are the link
 * sets `modules` and `rump_components` (the linker's __start_/__stop_ symbols, weak so an
 * image without them links), and its symbol table is the one Xen loaded after the image.
 */
#include "xen_int.h"
#include <mk/crash.h>

extern const struct modinfo *const __start_link_set_modules[] __attribute__((weak));
extern const struct modinfo *const __stop_link_set_modules[] __attribute__((weak));
extern const struct rump_component *const __start_link_set_rump_components[]
	__attribute__((weak));
extern const struct rump_component *const __stop_link_set_rump_components[]
	__attribute__((weak));

void rumpuser_dl_bootstrap(rump_modinit_fn domodinit, rump_symload_fn symload,
    rump_compload_fn compload)
{
	const struct modinfo *const *mod_start = __start_link_set_modules;
	const struct modinfo *const *mod_stop = __stop_link_set_modules;
	const struct rump_component *const *comp = __start_link_set_rump_components;
	const struct rump_component *const *comp_stop = __stop_link_set_rump_components;
	void *sym;
	uint64_t symsize, strsize;
	char *str;

	if (symload && mk_symbol_table(&sym, &symsize, &str, &strsize))
		symload(sym, symsize, str, strsize);
	if (domodinit && mod_start && mod_stop > mod_start)
		domodinit(mod_start, (size_t)(mod_stop - mod_start));
	if (compload && comp)
		for (; comp < comp_stop; comp++)
			compload(*comp);
}
