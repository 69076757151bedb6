/*
 * The direct path, for PV domains without devices other than the console:
 * xc_domain_create + libxenguest's PV builder + the few xenstore nodes
 * xenconsoled and the guest read, without libxl's bookkeeping (which costs
 * most of its create time).  Same contract as rxc_domain_create: anything
 * that fails part way is torn down before the error is returned.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rxc_internal.h"
#include <xenguest.h>

#define DIRECT_MAXMEM_SLACK_KB 1024   /* what libxl adds to maxmem for PV guests */
#define DIRECT_MAX_EVTCHN_PORT 1023
#define DIRECT_MAX_GRANT_FRAMES 32
#define DIRECT_MAX_MAPTRACK_FRAMES 1024
#define DIRECT_CONSOLE_LIMIT "1048576"
#define DIRECT_REMEMBERED 1024        /* domains rxc_domain_destroy may destroy without libxl */

/* The domains this process's direct path built: domid and handle (UUID). */
static pthread_mutex_t built_lock = PTHREAD_MUTEX_INITIALIZER;
static struct { uint32_t domid; uint8_t uuid[16]; int used; unsigned long seq; } built[DIRECT_REMEMBERED];
static unsigned long built_seq;

static void remember_built(uint32_t domid, const uint8_t uuid[16])
{
    pthread_mutex_lock(&built_lock);
    int slot = 0;
    for (int i = 0; i < DIRECT_REMEMBERED; i++) {
        if (!built[i].used || built[i].domid == domid) {
            slot = i;
            break;
        }
        if (built[i].seq < built[slot].seq)
            slot = i; /* full: the oldest is forgotten (its destroy goes through libxl) */
    }
    built[slot].used = 1;
    built[slot].domid = domid;
    memcpy(built[slot].uuid, uuid, 16);
    built[slot].seq = ++built_seq;
    pthread_mutex_unlock(&built_lock);
}

int rxc_direct_lookup(uint32_t domid, uint8_t uuid[16])
{
    pthread_mutex_lock(&built_lock);
    int found = 0;
    for (int i = 0; i < DIRECT_REMEMBERED && !found; i++) {
        if (built[i].used && built[i].domid == domid) {
            memcpy(uuid, built[i].uuid, 16);
            found = 1;
        }
    }
    pthread_mutex_unlock(&built_lock);
    return found;
}

void rxc_direct_forget(uint32_t domid)
{
    pthread_mutex_lock(&built_lock);
    for (int i = 0; i < DIRECT_REMEMBERED; i++) {
        if (built[i].used && built[i].domid == domid)
            built[i].used = 0;
    }
    pthread_mutex_unlock(&built_lock);
}

/* Builds the PV image into domid; fills the console and xenstore ring frames. */
static int build_pv(rxc_session *s, const rxc_domain_spec *spec, uint32_t domid, unsigned int console_port,
                    unsigned int store_port, xen_pfn_t *console_mfn, xen_pfn_t *store_mfn, rxc_create_timing *t,
                    rxc_error *err)
{
    double t0 = rxc_now_ms();
    struct xc_dom_image *dom = xc_dom_allocate(s->xch, spec->cmdline ? spec->cmdline : "", NULL);
    if (!dom)
        return rxc_fail(err, ENOMEM, "xc_dom_allocate", "cannot start building domain %u", domid);
    dom->container_type = XC_DOM_PV_CONTAINER;
    dom->console_evtchn = console_port;
    dom->xenstore_evtchn = store_port;
    dom->console_domid = 0;
    dom->xenstore_domid = 0;
    dom->max_vcpus = spec->vcpus;
    /* The kernel and ramdisk bytes from the cache when it has them (image_cache.c). */
    rxc_image *kernel = NULL, *ramdisk = NULL;
    int kernel_hit = 0, ramdisk_hit = 0;
    if (!(s->disabled & RXC_DISABLE_IMAGE_CACHE)) {
        rxc_image_get(s->xch, spec->kernel, 1, &kernel, &kernel_hit);
        if (spec->ramdisk)
            rxc_image_get(s->xch, spec->ramdisk, 0, &ramdisk, &ramdisk_hit);
    }
    size_t kernel_len = 0, ramdisk_len = 0;
    const void *kernel_data = kernel ? rxc_image_data(kernel, &kernel_len) : NULL;
    const void *ramdisk_data = ramdisk ? rxc_image_data(ramdisk, &ramdisk_len) : NULL;
    int result = 0;
    const char *step;
    double t1 = 0, t2 = 0;
    if ((kernel ? (step = "xc_dom_kernel_mem", xc_dom_kernel_mem(dom, kernel_data, kernel_len))
                : (step = "xc_dom_kernel_file", xc_dom_kernel_file(dom, spec->kernel))) ||
        (spec->ramdisk && (ramdisk ? (step = "xc_dom_module_mem", xc_dom_module_mem(dom, ramdisk_data, ramdisk_len, NULL))
                                   : (step = "xc_dom_module_file", xc_dom_module_file(dom, spec->ramdisk, NULL)))) ||
        (step = "xc_dom_boot_xen_init", xc_dom_boot_xen_init(dom, s->xch, domid)) ||
        (step = "xc_dom_parse_image", xc_dom_parse_image(dom)) ||
        (t1 = rxc_now_ms(), step = "xc_dom_mem_init", xc_dom_mem_init(dom, (unsigned int)(spec->memory_kb / 1024))) ||
        (step = "xc_dom_boot_mem_init", xc_dom_boot_mem_init(dom)) ||
        (t2 = rxc_now_ms(), step = "xc_dom_build_image", xc_dom_build_image(dom)) ||
        (step = "xc_dom_boot_image", xc_dom_boot_image(dom)) ||
        (step = "xc_dom_gnttab_init", xc_dom_gnttab_init(dom))) {
        result = rxc_fail(err, errno ? errno : EIO, step, "cannot build domain %u from %s", domid, spec->kernel);
    } else {
        *console_mfn = xc_dom_p2m(dom, dom->console_pfn);
        *store_mfn = xc_dom_p2m(dom, dom->xenstore_pfn);
    }
    xc_dom_release(dom);
    /* Only now: libxenguest reads the bytes until the image is built. */
    rxc_image_put(kernel);
    rxc_image_put(ramdisk);
    double t3 = rxc_now_ms();
    if (!result) {
        t->image_ms = t1 - t0;
        t->memory_ms = t2 - t1;
        t->load_ms = t3 - t2;
        t->image_cached = kernel_hit && (!spec->ramdisk || ramdisk_hit);
    }
    return result;
}

/*
 * The nodes xenconsoled, xenstored's clients and the guest expect under /local/domain/<id>
 * and /vm/<uuid>, queued in order and sent to xenstored as one transaction (xs_batch.c).
 * Nodes inherit their parent's permissions when created, so each directory gets its
 * permissions before anything is written under it.
 */
static int write_xenstore(rxc_session *s, const rxc_domain_spec *spec, uint32_t domid, const char *uuid,
                          xen_pfn_t console_mfn, unsigned int console_port, rxc_create_timing *t, rxc_error *err)
{
    char dom_path[64], vm_path[96], path[160], num[32], what[48];
    snprintf(dom_path, sizeof dom_path, "/local/domain/%u", domid);
    snprintf(vm_path, sizeof vm_path, "/vm/%s", uuid);
    snprintf(what, sizeof what, "domain %u", domid);
    struct xs_permissions ro[2] = { { .id = 0, .perms = XS_PERM_NONE }, { .id = domid, .perms = XS_PERM_READ } };
    struct xs_permissions rw[1] = { { .id = domid, .perms = XS_PERM_NONE } };
    static const char *const guest_writable[] = { "control", "data", "device", "console" };
#define NODE(fmt, ...) (snprintf(path, sizeof path, fmt, __VA_ARGS__), path)

    rxc_xs_batch b;
    rxc_xsb_init(&b);
    rxc_xsb_rm(&b, dom_path, 1); /* a previous domain's leftovers, if any */
    rxc_xsb_mkdir(&b, dom_path);
    rxc_xsb_set_perms(&b, dom_path, ro, 2);
    rxc_xsb_mkdir(&b, vm_path);
    rxc_xsb_set_perms(&b, vm_path, ro, 2);
    rxc_xsb_write(&b, NODE("%s/name", vm_path), spec->name);
    rxc_xsb_write(&b, NODE("%s/uuid", vm_path), uuid);
    rxc_xsb_write(&b, NODE("%s/name", dom_path), spec->name);
    snprintf(num, sizeof num, "%u", domid);
    rxc_xsb_write(&b, NODE("%s/domid", dom_path), num);
    rxc_xsb_write(&b, NODE("%s/vm", dom_path), vm_path);
    for (size_t i = 0; i < sizeof guest_writable / sizeof guest_writable[0]; i++) {
        rxc_xsb_mkdir(&b, NODE("%s/%s", dom_path, guest_writable[i]));
        rxc_xsb_set_perms(&b, path, rw, 1);
    }
    snprintf(num, sizeof num, "%llu", (unsigned long long)spec->memory_kb);
    rxc_xsb_write(&b, NODE("%s/memory/target", dom_path), num);
    snprintf(num, sizeof num, "%llu", (unsigned long long)spec->max_memory_kb);
    rxc_xsb_write(&b, NODE("%s/memory/static-max", dom_path), num);
    for (uint32_t v = 0; v < spec->vcpus; v++)
        rxc_xsb_write(&b, NODE("%s/cpu/%u/availability", dom_path, v), "online");
    snprintf(num, sizeof num, "%llu", (unsigned long long)console_mfn);
    rxc_xsb_write(&b, NODE("%s/console/ring-ref", dom_path), num);
    snprintf(num, sizeof num, "%u", console_port);
    rxc_xsb_write(&b, NODE("%s/console/port", dom_path), num);
    rxc_xsb_write(&b, NODE("%s/console/limit", dom_path), DIRECT_CONSOLE_LIMIT);
    rxc_xsb_write(&b, NODE("%s/console/type", dom_path), "xenconsoled");
    rxc_xsb_write(&b, NODE("%s/console/output", dom_path), "pty");
    if (spec->guest_config)
        rxc_xsb_write(&b, NODE("%s/rumpxen/cfg", dom_path), spec->guest_config);
#undef NODE
    int result = rxc_xsb_commit(s, &b, what, &t->nodes_batched, &t->nodes_tries, err);
    rxc_xsb_free(&b);
    return result;
}

int rxc_domain_create_direct(rxc_session *s, const rxc_domain_spec *spec, uint32_t *domid_out,
                             rxc_create_timing *t, rxc_ring **ring, rxc_error *err)
{
    if (ring)
        *ring = NULL;
    rxc_log_begin();
    memset(t, 0, sizeof *t);
    t->started_at = rxc_now_ms();
    if (spec->pvh || spec->num_disks || spec->num_nics || spec->num_pcis)
        return rxc_fail(err, EINVAL, "rxc_domain_create_direct",
                        "the direct path builds PV domains without disks, vifs or PCI devices; use libxl for \"%s\"", spec->name);

    libxl_uuid uuid;
    libxl_uuid_generate(&uuid);
    char uuid_str[40];
    snprintf(uuid_str, sizeof uuid_str, LIBXL_UUID_FMT, LIBXL_UUID_BYTES(uuid));

    struct xen_domctl_createdomain config = {
        .ssidref = 0,
        .flags = 0,
        .max_vcpus = spec->vcpus,
        .max_evtchn_port = DIRECT_MAX_EVTCHN_PORT,
        .max_grant_frames = DIRECT_MAX_GRANT_FRAMES,
        .max_maptrack_frames = DIRECT_MAX_MAPTRACK_FRAMES,
        .grant_opts = XEN_DOMCTL_GRANT_version(2),
    };
    memcpy(config.handle, uuid.uuid, sizeof config.handle);

    /* Registered by UUID (the domain handle) before Xen sees it, so an exit hook can find it. */
    int slot = rxc_inflight_begin(uuid.uuid);
    if (slot == -2)
        return rxc_fail(err, ECANCELED, "rxc_domain_create_direct", "not creating \"%s\": the process is ending", spec->name);
    double t0 = rxc_now_ms();
    uint32_t domid = 0;
    if (xc_domain_create(s->xch, &domid, &config)) {
        int e = errno;
        rxc_inflight_end(slot);
        return rxc_fail(err, e, "xc_domain_create", "cannot create domain \"%s\"", spec->name);
    }
    rxc_inflight_set_domid(slot, domid);

    int result = 0;
    xen_pfn_t console_mfn = 0, store_mfn = 0;
    int console_port = -1, store_port = -1;
    /* Creation only records max_vcpus; this allocates the vcpus themselves. */
    if (xc_domain_max_vcpus(s->xch, domid, spec->vcpus)) {
        result = rxc_fail(err, errno, "xc_domain_max_vcpus", "cannot allocate %u vcpus for domain %u", spec->vcpus, domid);
        goto undo;
    }
    /* The CPUID policy libxl would apply to a PV guest (PAE on, no invariant TSC, no nested virt). */
    if (xc_cpuid_apply_policy(s->xch, domid, false, NULL, 0, true, false, false, NULL, NULL)) {
        result = rxc_fail(err, errno, "xc_cpuid_apply_policy", "cannot set the CPUID policy of domain %u", domid);
        goto undo;
    }
    if (xc_domain_setmaxmem(s->xch, domid, spec->max_memory_kb + DIRECT_MAXMEM_SLACK_KB)) {
        result = rxc_fail(err, errno, "xc_domain_setmaxmem", "cannot set the memory limit of domain %u", domid);
        goto undo;
    }
    if (xc_domain_set_memmap_limit(s->xch, domid, spec->max_memory_kb)) {
        result = rxc_fail(err, errno, "xc_domain_set_memmap_limit", "cannot set the memory map of domain %u", domid);
        goto undo;
    }
    console_port = xc_evtchn_alloc_unbound(s->xch, domid, 0);
    store_port = xc_evtchn_alloc_unbound(s->xch, domid, 0);
    if (console_port < 0 || store_port < 0) {
        result = rxc_fail(err, errno, "xc_evtchn_alloc_unbound", "cannot allocate the console and xenstore ports of domain %u", domid);
        goto undo;
    }
    t->domain_ms = rxc_now_ms() - t0;
    result = build_pv(s, spec, domid, (unsigned)console_port, (unsigned)store_port, &console_mfn, &store_mfn, t, err);
    if (result)
        goto undo;
    t->build_ms = rxc_now_ms() - t0;

    t0 = rxc_now_ms();
    result = write_xenstore(s, spec, domid, uuid_str, console_mfn, (unsigned)console_port, t, err);
    if (result)
        goto undo;
    t->nodes_ms = rxc_now_ms() - t0;
    rxc_test_create_delay();
    if (rxc_inflight_aborted()) {
        result = rxc_fail(err, ECANCELED, "rxc_domain_create_direct", "domain %u (\"%s\") was destroyed: the process is ending", domid, spec->name);
        goto undo;
    }
    double ti = rxc_now_ms();
    /* xenstored connects the guest's ring and fires @introduceDomain, which wakes xenconsoled. */
    if (!xs_introduce_domain(s->xsh, domid, store_mfn, (unsigned)store_port)) {
        result = rxc_fail(err, errno, "xs_introduce_domain", "xenstored refused to introduce domain %u", domid);
        goto undo;
    }
    t->introduce_ms = rxc_now_ms() - ti;
    t->xenstore_ms = t->nodes_ms + t->introduce_ms;
    /* The console ring, mapped while the guest has not run yet. */
    if (ring) {
        result = rxc_ring_open(s, domid, ring, &t->ring_attached_at, &t->attach_ms, err);
        if (result)
            goto undo;
    }

    if (!spec->leave_paused) {
        t0 = rxc_now_ms();
        if (xc_domain_unpause(s->xch, domid)) {
            result = rxc_fail(err, errno, "xc_domain_unpause", "cannot start domain %u (\"%s\")", domid, spec->name);
            goto undo;
        }
        t->unpause_ms = rxc_now_ms() - t0;
    }
    if (rxc_inflight_aborted()) {
        result = rxc_fail(err, ECANCELED, "rxc_domain_create_direct", "domain %u (\"%s\") was destroyed: the process is ending", domid, spec->name);
        goto undo;
    }
    rxc_inflight_end(slot);
    remember_built(domid, uuid.uuid);
    *domid_out = domid;
    t->ended_at = rxc_now_ms();
    return 0;

undo: {
        char path[96];
        if (ring && *ring) {
            rxc_ring_close(*ring); /* before the destroy: a mapped page keeps the domain */
            *ring = NULL;
        }
        int drc = xc_domain_destroy(s->xch, domid);
        snprintf(path, sizeof path, "/local/domain/%u", domid);
        xs_rm(s->xsh, XBT_NULL, path);
        snprintf(path, sizeof path, "/vm/%s", uuid_str);
        xs_rm(s->xsh, XBT_NULL, path);
        size_t used = strnlen(err->detail, sizeof err->detail);
        snprintf(err->detail + used, sizeof err->detail - used,
                 drc ? "\n(destroying the half-built domain %u also failed)" : "\n(the half-built domain %u was destroyed)", domid);
    }
    rxc_inflight_end(slot);
    return result;
}
