/*
 * The fast path: build a libxl_domain_config in C, create the domain paused,
 * write the guest's config to xenstore, unpause.  Whatever fails part way
 * destroys the domain it made, so no half-built domain is left behind.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rxc_internal.h"

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static int build_config(rxc_session *s, const rxc_domain_spec *spec, libxl_domain_config *cfg, rxc_error *err)
{
    libxl_domain_create_info *c = &cfg->c_info;
    libxl_domain_build_info *b = &cfg->b_info;
    libxl_domain_type type = spec->pvh ? LIBXL_DOMAIN_TYPE_PVH : LIBXL_DOMAIN_TYPE_PV;

    c->type = type;
    c->name = strdup(spec->name);
    libxl_uuid_generate(&c->uuid);

    libxl_domain_build_info_init_type(b, type);
    b->max_vcpus = (int)spec->vcpus;
    if (libxl_cpu_bitmap_alloc(s->ctx, &b->avail_vcpus, (int)spec->vcpus))
        return rxc_fail(err, ENOMEM, "libxl_cpu_bitmap_alloc", "cannot allocate the vcpu map for %u vcpus", spec->vcpus);
    libxl_bitmap_set_none(&b->avail_vcpus);
    for (uint32_t i = 0; i < spec->vcpus; i++)
        libxl_bitmap_set(&b->avail_vcpus, (int)i);
    b->max_memkb = spec->max_memory_kb;
    b->target_memkb = spec->memory_kb;
    b->kernel = strdup(spec->kernel);
    b->ramdisk = dup_or_null(spec->ramdisk);
    b->cmdline = dup_or_null(spec->cmdline);
    if (!c->name || !b->kernel || (spec->ramdisk && !b->ramdisk) || (spec->cmdline && !b->cmdline))
        return rxc_fail(err, ENOMEM, "strdup", "out of memory building the config of \"%s\"", spec->name);

    if (spec->num_disks) {
        cfg->disks = calloc(spec->num_disks, sizeof *cfg->disks);
        if (!cfg->disks)
            return rxc_fail(err, ENOMEM, "calloc", "out of memory for %u disks", spec->num_disks);
        for (uint32_t i = 0; i < spec->num_disks; i++) {
            libxl_device_disk *d = &cfg->disks[i];
            libxl_device_disk_init(d);
            cfg->num_disks++;
            d->pdev_path = strdup(spec->disks[i].target);
            d->vdev = strdup(spec->disks[i].vdev);
            d->format = (libxl_disk_format)spec->disks[i].format;
            d->readwrite = spec->disks[i].readwrite;
            if (spec->disks[i].script) {
                d->script = strdup(spec->disks[i].script);
                d->backend = LIBXL_DISK_BACKEND_PHY;
            }
            if (!d->pdev_path || !d->vdev || (spec->disks[i].script && !d->script))
                return rxc_fail(err, ENOMEM, "strdup", "out of memory for disk %u", i);
        }
    }
    if (spec->num_nics) {
        cfg->nics = calloc(spec->num_nics, sizeof *cfg->nics);
        if (!cfg->nics)
            return rxc_fail(err, ENOMEM, "calloc", "out of memory for %u vifs", spec->num_nics);
        for (uint32_t i = 0; i < spec->num_nics; i++) {
            libxl_device_nic *n = &cfg->nics[i];
            const rxc_nic_spec *ns = &spec->nics[i];
            libxl_device_nic_init(n);
            cfg->num_nics++;
            n->devid = (libxl_devid)i;
            n->nictype = LIBXL_NIC_TYPE_VIF;
            if (ns->has_mac)
                memcpy(n->mac, ns->mac, sizeof n->mac);
            n->bridge = dup_or_null(ns->bridge);
            n->ip = dup_or_null(ns->ip);
            n->script = dup_or_null(ns->script);
        }
    }
    if (spec->num_pcis) {
        cfg->pcidevs = calloc(spec->num_pcis, sizeof *cfg->pcidevs);
        if (!cfg->pcidevs)
            return rxc_fail(err, ENOMEM, "calloc", "out of memory for %u PCI devices", spec->num_pcis);
        for (uint32_t i = 0; i < spec->num_pcis; i++) {
            libxl_device_pci *p = &cfg->pcidevs[i];
            libxl_device_pci_init(p);
            cfg->num_pcidevs++;
            p->domain = (int)spec->pcis[i].domain;
            p->bus = spec->pcis[i].bus;
            p->dev = spec->pcis[i].dev;
            p->func = spec->pcis[i].func;
            p->permissive = spec->pcis[i].permissive != 0;
        }
        /* PV passthrough needs the guest's e820 to leave room for BARs. */
        if (!spec->pvh)
            libxl_defbool_set(&b->u.pv.e820_host, true);
        c->passthrough = LIBXL_PASSTHROUGH_ENABLED;
    }

    cfg->on_poweroff = (libxl_action_on_shutdown)spec->on_poweroff;
    cfg->on_crash = (libxl_action_on_shutdown)spec->on_crash;
    cfg->on_reboot = LIBXL_ACTION_ON_SHUTDOWN_DESTROY;
    cfg->on_watchdog = LIBXL_ACTION_ON_SHUTDOWN_DESTROY;
    cfg->on_soft_reset = LIBXL_ACTION_ON_SHUTDOWN_SOFT_RESET;
    return 0;
}

int rxc_domain_create(rxc_session *s, const rxc_domain_spec *spec, uint32_t *domid_out,
                      rxc_create_timing *t, rxc_ring **ring, rxc_error *err)
{
    if (ring)
        *ring = NULL;
    rxc_log_begin();
    memset(t, 0, sizeof *t);
    t->started_at = rxc_now_ms();
    libxl_domain_config cfg;
    libxl_domain_config_init(&cfg);
    uint32_t domid = (uint32_t)INVALID_DOMID;
    int slot = -1;
    int result = build_config(s, spec, &cfg, err);
    if (result)
        goto out;
    /* Registered by UUID before libxl reaches Xen, so an exit hook can find the domain. */
    slot = rxc_inflight_begin(cfg.c_info.uuid.uuid);
    if (slot == -2) {
        result = rxc_fail(err, ECANCELED, "rxc_domain_create", "not creating \"%s\": the process is ending", spec->name);
        goto out;
    }

    double t0 = rxc_now_ms();
    int rc = libxl_domain_create_new(s->ctx, &cfg, &domid, NULL, NULL);
    t->build_ms = rxc_now_ms() - t0;
    if (rc) {
        result = rxc_fail_libxl(err, rc, "libxl_domain_create_new", "cannot create domain \"%s\" from %s",
                                spec->name, spec->kernel);
        goto undo;
    }
    rxc_inflight_set_domid(slot, domid);
    rxc_test_create_delay();
    if (rxc_inflight_aborted()) {
        result = rxc_fail(err, ECANCELED, "rxc_domain_create", "domain %u (\"%s\") was destroyed: the process is ending", domid, spec->name);
        goto undo;
    }

    t0 = rxc_now_ms();
    if (spec->guest_config) {
        char path[96];
        snprintf(path, sizeof path, "/local/domain/%u/rumpxen/cfg", domid);
        if (!xs_write(s->xsh, XBT_NULL, path, spec->guest_config, (unsigned)strlen(spec->guest_config))) {
            result = rxc_fail(err, errno, "xs_write", "cannot write the guest config to %s", path);
            goto undo;
        }
    }
    t->xenstore_ms = rxc_now_ms() - t0;
    /* The console ring, mapped while the guest has not run yet (libxl seeded grant 0 too). */
    if (ring) {
        result = rxc_ring_open(s, domid, ring, &t->ring_attached_at, &t->attach_ms, err);
        if (result)
            goto undo;
    }

    if (!spec->leave_paused) {
        t0 = rxc_now_ms();
        rc = libxl_domain_unpause(s->ctx, domid, NULL);
        t->unpause_ms = rxc_now_ms() - t0;
        if (rc) {
            result = rxc_fail_libxl(err, rc, "libxl_domain_unpause", "cannot start domain %u (\"%s\")", domid, spec->name);
            goto undo;
        }
    }
    if (rxc_inflight_aborted()) {
        result = rxc_fail(err, ECANCELED, "rxc_domain_create", "domain %u (\"%s\") was destroyed: the process is ending", domid, spec->name);
        goto undo;
    }
    *domid_out = domid;
    t->ended_at = rxc_now_ms();
    goto out;

undo:
    if (ring && *ring) {
        rxc_ring_close(*ring); /* before the destroy: a mapped page keeps the domain */
        *ring = NULL;
    }
    /* libxl may leave a half-built domain (ERROR_ABORTED and friends): remove it. */
    if (domid != (uint32_t)INVALID_DOMID && domid != 0) {
        libxl_dominfo d;
        libxl_dominfo_init(&d);
        int gone = libxl_domain_info(s->ctx, &d, domid) == ERROR_DOMAIN_NOTFOUND;
        libxl_dominfo_dispose(&d);
        size_t used0 = strnlen(err->detail, sizeof err->detail);
        if (gone) {
            snprintf(err->detail + used0, sizeof err->detail - used0,
                     "\n(libxl already removed the half-built domain %u)", domid);
            goto out;
        }
        const char *how = "libxl";
        int drc = libxl_domain_destroy(s->ctx, domid, NULL);
        if (drc) {
            /* libxl could not (e.g. its lock file is unusable): ask the hypervisor directly. */
            how = "xc_domain_destroy";
            drc = xc_domain_destroy(s->xch, domid);
            char path[64];
            snprintf(path, sizeof path, "/local/domain/%u", domid);
            xs_rm(s->xsh, XBT_NULL, path);
        }
        size_t used = strnlen(err->detail, sizeof err->detail);
        snprintf(err->detail + used, sizeof err->detail - used,
                 drc ? "\n(destroying the half-built domain %u also failed, last via %s)"
                     : "\n(the half-built domain %u was destroyed via %s)", domid, how);
    }
out:
    rxc_inflight_end(slot);
    libxl_domain_config_dispose(&cfg);
    return result;
}
