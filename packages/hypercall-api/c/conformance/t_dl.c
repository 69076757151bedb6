/*
 * rumpuser_dl_bootstrap: the suite carries one entry in the `rump_components` link set,
 * exactly where a rump component puts its own; the target must hand it to compload once.
 * A target without dynamic linking may hand nothing (its contract allows that): skip then.
 */
#include "conf.h"

/* Stand-in for a struct rump_component; only its address matters here. */
static const int conf_component = 0x636f6d70;

__attribute__((section("link_set_rump_components"), used))
static const void *const conf_component_entry = &conf_component;

/*
 * The linker's bounds of the set. Referencing them is what makes the linker define them,
 * as a rump kernel's own link-set walkers do.
 */
extern const void *const __start_link_set_rump_components[] __attribute__((weak));
extern const void *const __stop_link_set_rump_components[] __attribute__((weak));

static int ours_seen, others_seen, symloads, modinits;

static void compload(const struct rump_component *rc)
{
	if ((const void *)rc == (const void *)&conf_component)
		ours_seen++;
	else
		others_seen++;
}

static void modinit(const struct modinfo *const *mi, size_t count)
{
	(void)mi;
	(void)count;
	modinits++;
}

static int symload(void *symtab, uint64_t symsize, char *strtab, uint64_t strsize)
{
	(void)symtab;
	(void)symsize;
	(void)strtab;
	(void)strsize;
	symloads++;
	return 0;
}

static void dl_bootstrap_components(void)
{
	ours_seen = others_seen = symloads = modinits = 0;
	rumpuser_dl_bootstrap(modinit, symload, compload);
	if (ours_seen == 0 && others_seen == 0) {
		conf_skip("rumpuser_dl_bootstrap handed no components (allowed without dynamic linking)");
		return;
	}
	CHECK(ours_seen == 1, "the suite's component was handed to compload %d times, expected 1",
	    ours_seen);
	CHECK(__start_link_set_rump_components != NULL,
	    "the image has no link_set_rump_components bounds");
	CHECK(others_seen == __stop_link_set_rump_components - __start_link_set_rump_components - 1,
	    "compload got %d other components, the link set holds %d other entries", others_seen,
	    (int)(__stop_link_set_rump_components - __start_link_set_rump_components - 1));
}

const struct conf_case conf_cases_dl[] = {
	{ "dl_bootstrap_components", dl_bootstrap_components },
	{ NULL, NULL },
};
