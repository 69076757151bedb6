/*
 * Host-side check of rumpuser_dl_bootstrap against a real shared object (dl_module.c):
 * prints what each callback received, one fact per line, for test/posix-dl.test.ts.
 */
#include <elf.h>
#include <link.h>
#include <stdio.h>
#include <string.h>

#include "rumpuser.h"

const int *dl_module_marker(void);
size_t dl_module_sets(size_t *components);
const int *dl_module_component(void);

static size_t modules_seen;
static int module_names_ok = 1;
static int components_ours, components_other;
static int marker_found, marker_address_ok;

struct probe_modinfo {
	const char *name;
};

static void modinit(const struct modinfo *const *mi, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		const struct probe_modinfo *m = (const struct probe_modinfo *)mi[i];
		if (strncmp(m->name, "probe_", 6) != 0)
			module_names_ok = 0;
	}
	modules_seen += count;
}

static int symload(void *symtab, uint64_t symsize, char *strtab, uint64_t strsize)
{
	const ElfW(Sym) *sym = symtab;
	for (uint64_t i = 0; i < symsize / sizeof(*sym); i++) {
		if (sym[i].st_name >= strsize)
			continue;
		if (strcmp(strtab + sym[i].st_name, "rumpns_dl_probe_marker") == 0) {
			marker_found = 1;
			marker_address_ok = sym[i].st_value == (uintptr_t)dl_module_marker();
		}
	}
	return 0;
}

static void compload(const struct rump_component *rc)
{
	if ((const void *)rc == (const void *)dl_module_component())
		components_ours++;
	else
		components_other++;
}

int main(void)
{
	size_t components, modules = dl_module_sets(&components);

	rumpuser_dl_bootstrap(modinit, symload, compload);
	printf("sets modules %zu components %zu\n", modules, components);
	printf("modinit %zu names %s\n", modules_seen, module_names_ok ? "ok" : "bad");
	printf("compload ours %d other %d\n", components_ours, components_other);
	printf("symload marker %s address %s\n", marker_found ? "found" : "missing",
	    marker_address_ok ? "ok" : "bad");
	return 0;
}
