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

/* Builds the PV image into domid; fills the console and xenstore ring frames. */
static int build_pv(rxc_session *s, const rxc_domain_spec *spec, uint32_t domid, unsigned int console_port,
                    unsigned int store_port, xen_pfn_t *console_mfn, xen_pfn_t *store_mfn, rxc_error *err)
{
    struct xc_dom_image *dom = xc_dom_allocate(s->xch, spec->cmdline ? spec->cmdline : "", NULL);
    if (!dom)
        return rxc_fail(err, ENOMEM, "xc_dom_allocate", "cannot start building domain %u", domid);
    dom->container_type = XC_DOM_PV_CONTAINER;
    dom->console_evtchn = console_port;
    dom->xenstore_evtchn = store_port;
    dom->console_domid = 0;
    dom->xenstore_domid = 0;
    dom->max_vcpus = spec->vcpus;
    int result = 0;
    const char *step;
    if ((step = "xc_dom_kernel_file", xc_dom_kernel_file(dom, spec->kernel)) ||
        (spec->ramdisk && (step = "xc_dom_module_file", xc_dom_module_file(dom, spec->ramdisk, NULL))) ||
        (step = "xc_dom_boot_xen_init", xc_dom_boot_xen_init(dom, s->xch, domid)) ||
        (step = "xc_dom_parse_image", xc_dom_parse_image(dom)) ||
        (step = "xc_dom_mem_init", xc_dom_mem_init(dom, (unsigned int)(spec->memory_kb / 1024))) ||
        (step = "xc_dom_boot_mem_init", xc_dom_boot_mem_init(dom)) ||
        (step = "xc_dom_build_image", xc_dom_build_image(dom)) ||
        (step = "xc_dom_boot_image", xc_dom_boot_image(dom)) ||
        (step = "xc_dom_gnttab_init", xc_dom_gnttab_init(dom))) {
        result = rxc_fail(err, errno ? errno : EIO, step, "cannot build domain %u from %s", domid, spec->kernel);
    } else {
        *console_mfn = xc_dom_p2m(dom, dom->console_pfn);
        *store_mfn = xc_dom_p2m(dom, dom->xenstore_pfn);
    }
    xc_dom_release(dom);
    return result;
}

static bool xs_write_str(struct xs_handle *xsh, xs_transaction_t t, const char *dir, const char *key, const char *value)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, key);
    return xs_write(xsh, t, path, value, (unsigned int)strlen(value));
}

/* The nodes xenconsoled, xenstored's clients and the guest expect under /local/domain/<id> and /vm/<uuid>. */
static int write_xenstore(rxc_session *s, const rxc_domain_spec *spec, uint32_t domid, const char *uuid,
                          xen_pfn_t console_mfn, unsigned int console_port, rxc_error *err)
{
    char dom_path[64], vm_path[96], sub[128], num[32];
    snprintf(dom_path, sizeof dom_path, "/local/domain/%u", domid);
    snprintf(vm_path, sizeof vm_path, "/vm/%s", uuid);
    struct xs_permissions ro[2] = { { .id = 0, .perms = XS_PERM_NONE }, { .id = domid, .perms = XS_PERM_READ } };
    struct xs_permissions rw[1] = { { .id = domid, .perms = XS_PERM_NONE } };
    /* Kept to what is read: each node is a round trip to xenstored. */
    static const char *const guest_writable[] = { "control", "data", "device", "console" };

    for (int attempt = 0; attempt < 8; attempt++) {
        xs_transaction_t t = xs_transaction_start(s->xsh);
        if (t == XBT_NULL)
            return rxc_fail(err, errno, "xs_transaction_start", "cannot write the xenstore nodes of domain %u", domid);
        bool ok = true;
        xs_rm(s->xsh, t, dom_path);
        ok = ok && xs_mkdir(s->xsh, t, dom_path) && xs_set_permissions(s->xsh, t, dom_path, ro, 2);
        ok = ok && xs_mkdir(s->xsh, t, vm_path) && xs_set_permissions(s->xsh, t, vm_path, ro, 2);
        ok = ok && xs_write_str(s->xsh, t, vm_path, "name", spec->name) && xs_write_str(s->xsh, t, vm_path, "uuid", uuid);
        snprintf(num, sizeof num, "%u", domid);
        ok = ok && xs_write_str(s->xsh, t, dom_path, "name", spec->name) && xs_write_str(s->xsh, t, dom_path, "domid", num) &&
             xs_write_str(s->xsh, t, dom_path, "vm", vm_path);
        for (size_t i = 0; ok && i < sizeof guest_writable / sizeof guest_writable[0]; i++) {
            snprintf(sub, sizeof sub, "%s/%s", dom_path, guest_writable[i]);
            ok = xs_mkdir(s->xsh, t, sub) && xs_set_permissions(s->xsh, t, sub, rw, 1);
        }
        snprintf(num, sizeof num, "%llu", (unsigned long long)spec->memory_kb);
        snprintf(sub, sizeof sub, "%s/memory", dom_path);
        ok = ok && xs_write_str(s->xsh, t, sub, "target", num);
        snprintf(num, sizeof num, "%llu", (unsigned long long)spec->max_memory_kb);
        ok = ok && xs_write_str(s->xsh, t, sub, "static-max", num);
        for (uint32_t v = 0; ok && v < spec->vcpus; v++) {
            snprintf(sub, sizeof sub, "%s/cpu/%u", dom_path, v);
            ok = xs_write_str(s->xsh, t, sub, "availability", "online");
        }
        snprintf(sub, sizeof sub, "%s/console", dom_path);
        snprintf(num, sizeof num, "%llu", (unsigned long long)console_mfn);
        ok = ok && xs_write_str(s->xsh, t, sub, "ring-ref", num);
        snprintf(num, sizeof num, "%u", console_port);
        ok = ok && xs_write_str(s->xsh, t, sub, "port", num) && xs_write_str(s->xsh, t, sub, "limit", DIRECT_CONSOLE_LIMIT) &&
             xs_write_str(s->xsh, t, sub, "type", "xenconsoled") && xs_write_str(s->xsh, t, sub, "output", "pty");
        if (ok && spec->guest_config)
            ok = xs_write_str(s->xsh, t, dom_path, "rumpxen/cfg", spec->guest_config);
        if (!ok) {
            int e = errno;
            xs_transaction_end(s->xsh, t, true);
            return rxc_fail(err, e, "xs_write", "cannot write the xenstore nodes of domain %u", domid);
        }
        if (xs_transaction_end(s->xsh, t, false))
            return 0;
        if (errno != EAGAIN)
            return rxc_fail(err, errno, "xs_transaction_end", "cannot commit the xenstore nodes of domain %u", domid);
    }
    return rxc_fail(err, EAGAIN, "xs_transaction_end", "xenstore stayed busy while writing the nodes of domain %u", domid);
}

int rxc_domain_create_direct(rxc_session *s, const rxc_domain_spec *spec, uint32_t *domid_out,
                             rxc_create_timing *t, rxc_error *err)
{
    rxc_log_begin();
    memset(t, 0, sizeof *t);
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
    result = build_pv(s, spec, domid, (unsigned)console_port, (unsigned)store_port, &console_mfn, &store_mfn, err);
    if (result)
        goto undo;
    t->build_ms = rxc_now_ms() - t0;

    t0 = rxc_now_ms();
    result = write_xenstore(s, spec, domid, uuid_str, console_mfn, (unsigned)console_port, err);
    if (result)
        goto undo;
    rxc_test_create_delay();
    if (rxc_inflight_aborted()) {
        result = rxc_fail(err, ECANCELED, "rxc_domain_create_direct", "domain %u (\"%s\") was destroyed: the process is ending", domid, spec->name);
        goto undo;
    }
    /* xenstored connects the guest's ring and fires @introduceDomain, which wakes xenconsoled. */
    if (!xs_introduce_domain(s->xsh, domid, store_mfn, (unsigned)store_port)) {
        result = rxc_fail(err, errno, "xs_introduce_domain", "xenstored refused to introduce domain %u", domid);
        goto undo;
    }
    t->xenstore_ms = rxc_now_ms() - t0;

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
    *domid_out = domid;
    return 0;

undo: {
        char path[96];
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
