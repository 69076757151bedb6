/*
 * A stand-in for a rump kernel component library, for dl_probe: kernel symbols with the
 * rumpns_ prefix, two built-in modules in link set `modules`, one component in link set
 * `rump_components`. Referencing the link-set bounds makes the linker define (and export)
 * them, as rump kernel libraries do.
 */
#include <stddef.h>

struct probe_modinfo {
	const char *name;
};

/* The kernel symbol, and its address inside this library (immune to copy relocation). */
static int marker_storage = 0x52554d50;
extern int rumpns_dl_probe_marker __attribute__((alias("marker_storage")));

const int *dl_module_marker(void)
{
	return &marker_storage;
}

static const struct probe_modinfo mod_a = { "probe_a" }, mod_b = { "probe_b" };
static const int component = 7;

__attribute__((section("link_set_modules"), used))
static const struct probe_modinfo *const mod_a_entry = &mod_a;
__attribute__((section("link_set_modules"), used))
static const struct probe_modinfo *const mod_b_entry = &mod_b;
__attribute__((section("link_set_rump_components"), used))
static const int *const component_entry = &component;

extern const void *const __start_link_set_modules[];
extern const void *const __stop_link_set_modules[];
extern const void *const __start_link_set_rump_components[];
extern const void *const __stop_link_set_rump_components[];

/* How many entries each set holds, seen from inside the library. */
size_t dl_module_sets(size_t *components)
{
	*components = (size_t)(__stop_link_set_rump_components - __start_link_set_rump_components);
	return (size_t)(__stop_link_set_modules - __start_link_set_modules);
}

const int *dl_module_component(void)
{
	return &component;
}
