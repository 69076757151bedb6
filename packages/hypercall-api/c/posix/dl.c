/*
 * Bootstrap a dynamically linked rump kernel: walk every loaded object and hand the kernel
 * what each one carries for it: its dynamic symbols (for ksyms and module linking), its
 * built-in modules (link set `modules`) and its components (link set `rump_components`).
 * The link set bounds are the linker's __start_/__stop_ symbols in the object's own
 * dynamic symbol table, so a set is attributed to the object that holds it.
 */
#include <elf.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>

#include "posix_int.h"

struct dl_bootstrap_fns {
	rump_modinit_fn modinit;
	rump_symload_fn symload;
	rump_compload_fn compload;
};

/* ld.so relocates most dynamic entries in place; the vDSO's stay relative. */
static uintptr_t dyn_addr(const struct dl_phdr_info *info, ElfW(Addr) ptr)
{
	return ptr < info->dlpi_addr ? info->dlpi_addr + ptr : ptr;
}

static size_t symbols_from_gnu_hash(const uint32_t *gh)
{
	uint32_t nbuckets = gh[0], symoffset = gh[1], bloom_words = gh[2];
	const uint32_t *buckets = (const uint32_t *)((const ElfW(Addr) *)(gh + 4) + bloom_words);
	const uint32_t *chain = buckets + nbuckets;
	uint32_t last = 0, i;

	for (i = 0; i < nbuckets; i++)
		if (buckets[i] > last)
			last = buckets[i];
	if (last < symoffset)
		return symoffset;
	while ((chain[last - symoffset] & 1) == 0)
		last++;
	return (size_t)last + 1;
}

static int dl_visit(struct dl_phdr_info *info, size_t size, void *arg)
{
	const struct dl_bootstrap_fns *fns = arg;
	const ElfW(Dyn) *dyn = NULL;
	const ElfW(Sym) *symtab = NULL;
	const char *strtab = NULL;
	size_t strsz = 0, nsyms = 0, i;
	uintptr_t mod_start = 0, mod_stop = 0, comp_start = 0, comp_stop = 0;
	int has_kernel_syms = 0;

	(void)size;
	for (i = 0; i < info->dlpi_phnum; i++)
		if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
			dyn = (const ElfW(Dyn) *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
	if (dyn == NULL)
		return 0;
	for (; dyn->d_tag != DT_NULL; dyn++) {
		switch (dyn->d_tag) {
		case DT_SYMTAB:
			symtab = (const ElfW(Sym) *)dyn_addr(info, dyn->d_un.d_ptr);
			break;
		case DT_STRTAB:
			strtab = (const char *)dyn_addr(info, dyn->d_un.d_ptr);
			break;
		case DT_STRSZ:
			strsz = dyn->d_un.d_val;
			break;
		case DT_HASH:
			nsyms = ((const uint32_t *)dyn_addr(info, dyn->d_un.d_ptr))[1];
			break;
		case DT_GNU_HASH:
			if (nsyms == 0)
				nsyms = symbols_from_gnu_hash(
				    (const uint32_t *)dyn_addr(info, dyn->d_un.d_ptr));
			break;
		}
	}
	if (symtab == NULL || strtab == NULL || nsyms == 0)
		return 0;

	for (i = 0; i < nsyms; i++) {
		const char *name = strtab + symtab[i].st_name;
		uintptr_t addr = info->dlpi_addr + symtab[i].st_value;

		if (symtab[i].st_shndx == SHN_UNDEF || symtab[i].st_name >= strsz)
			continue;
		if (strncmp(name, "rumpns_", 7) == 0)
			has_kernel_syms = 1;
		else if (strcmp(name, "__start_link_set_modules") == 0)
			mod_start = addr;
		else if (strcmp(name, "__stop_link_set_modules") == 0)
			mod_stop = addr;
		else if (strcmp(name, "__start_link_set_rump_components") == 0)
			comp_start = addr;
		else if (strcmp(name, "__stop_link_set_rump_components") == 0)
			comp_stop = addr;
	}

	/* ksyms wants absolute addresses: give it a relocated copy it may keep. */
	if (has_kernel_syms && fns->symload != NULL) {
		ElfW(Sym) *copy = malloc(nsyms * sizeof(*copy));
		if (copy != NULL) {
			memcpy(copy, symtab, nsyms * sizeof(*copy));
			for (i = 0; i < nsyms; i++)
				if (copy[i].st_shndx != SHN_UNDEF && copy[i].st_shndx < SHN_LORESERVE)
					copy[i].st_value += info->dlpi_addr;
			fns->symload(copy, nsyms * sizeof(*copy), (char *)strtab, strsz);
		}
	}
	if (mod_start != 0 && mod_stop > mod_start && fns->modinit != NULL)
		fns->modinit((const struct modinfo *const *)mod_start,
		    (mod_stop - mod_start) / sizeof(void *));
	if (comp_start != 0 && comp_stop > comp_start && fns->compload != NULL) {
		const struct rump_component *const *comp;
		for (comp = (const void *)comp_start; (uintptr_t)comp < comp_stop; comp++)
			fns->compload(*comp);
	}
	return 0;
}

void rumpuser_dl_bootstrap(rump_modinit_fn domodinit, rump_symload_fn symload,
    rump_compload_fn compload)
{
	struct dl_bootstrap_fns fns = { domodinit, symload, compload };

	dl_iterate_phdr(dl_visit, &fns);
}
