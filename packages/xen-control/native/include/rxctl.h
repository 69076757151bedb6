/*
 * rxctl: the dom0 side of rumpxen in plain C, over libxenctrl, libxenstore,
 * libxenevtchn, libxengnttab, libxenforeignmemory and libxl.
 *
 * Built as its own shared library so that the Node addon, which dlopen()s it
 * on first use, loads on machines without the Xen libraries.  Every function
 * returns 0 on success or a positive errno value, and then fills *err with the
 * call that failed and whatever libxentoollog said while it ran.
 */
#ifndef RXCTL_H
#define RXCTL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RXC_ABI_VERSION 2

typedef struct rxc_error {
    int errnum;           /* errno value; 0 when none applies */
    char call[64];        /* the library call that failed, e.g. "libxl_domain_create_new" */
    char detail[2048];    /* human text plus the libraries' own log lines */
} rxc_error;

typedef struct rxc_session rxc_session;
typedef struct rxc_evtchn rxc_evtchn;
typedef struct rxc_gnttab rxc_gnttab;
typedef struct rxc_fmem rxc_fmem;
typedef struct rxc_watch rxc_watch;
typedef struct rxc_ring rxc_ring;

/* Domain state as libxl reports it. */
typedef struct rxc_domain_info {
    uint32_t domid;
    char name[128];
    char uuid[40];
    uint8_t running, blocked, paused, shutdown, dying;
    int shutdown_reason;     /* LIBXL_SHUTDOWN_REASON_*, -1 unknown */
    uint64_t memory_kb;
    uint64_t max_memory_kb;
    uint32_t vcpus;          /* online vcpus */
    uint64_t cpu_time_ns;
} rxc_domain_info;

typedef struct rxc_disk_spec {
    const char *target;      /* file or device in dom0 */
    const char *vdev;        /* xvda, ... */
    int format;              /* LIBXL_DISK_FORMAT_* */
    int readwrite;
    const char *script;      /* hotplug script; NULL: libxl's default (forces the phy backend when set) */
} rxc_disk_spec;

typedef struct rxc_nic_spec {
    uint8_t mac[6];
    int has_mac;
    const char *bridge;      /* NULL: libxl's default */
    const char *ip;          /* NULL: none */
    const char *script;      /* NULL: libxl's default vif script */
} rxc_nic_spec;

typedef struct rxc_pci_spec {
    uint32_t domain;
    uint8_t bus, dev, func;
    int permissive;
} rxc_pci_spec;

typedef struct rxc_domain_spec {
    const char *name;
    int pvh;                 /* 0: PV, 1: PVH */
    const char *kernel;
    const char *ramdisk;     /* may be NULL */
    const char *cmdline;     /* may be NULL */
    uint64_t memory_kb;
    uint64_t max_memory_kb;
    uint32_t vcpus;
    int on_poweroff;         /* LIBXL_ACTION_ON_SHUTDOWN_* */
    int on_crash;
    const rxc_disk_spec *disks; uint32_t num_disks;
    const rxc_nic_spec *nics;   uint32_t num_nics;
    const rxc_pci_spec *pcis;   uint32_t num_pcis;
    const char *guest_config;   /* written to /local/domain/<id>/rumpxen/cfg before unpause; may be NULL */
    int leave_paused;
} rxc_domain_spec;

/*
 * Milliseconds spent in each step of a create, on the monotonic clock, for benchmarks.
 * build/xenstore/unpause: both paths.  The rest: the direct path's phases (0 for libxl);
 * build_ms = domain + image + memory + load, xenstore_ms = nodes + introduce.
 */
typedef struct rxc_create_timing {
    double build_ms, xenstore_ms, unpause_ms;
    double domain_ms;        /* xc_domain_create, vcpus, CPUID policy, memory limits, event channels */
    double image_ms;         /* kernel (and ramdisk) read and parsed */
    double memory_ms;        /* the guest's memory populated */
    double load_ms;          /* image copied in, page tables, start info, vcpu context, grant table */
    double nodes_ms;         /* the xenstore nodes written */
    double introduce_ms;     /* xs_introduce_domain */
    double attach_ms;        /* both paths, when a ring was asked for: the console page mapped, before unpause */
    double ring_attached_at; /* rxc_now_ms() when it was */
    double started_at, ended_at; /* rxc_now_ms() when the call began and returned (CLOCK_MONOTONIC, ms), both paths */
    int image_cached;        /* the kernel (and ramdisk) came from the image cache, not the file */
    int nodes_batched;       /* the nodes went to xenstored in one pipelined transaction */
    int nodes_tries;         /* transactions run for the nodes (more than 1: xenstored said EAGAIN) */
} rxc_create_timing;

/* What one rxc_ring_read gave: len bytes copied, lost bytes the ring overwrote before they
 * could be read, ended (the domain shut down or is gone and everything it wrote was read),
 * at_ms (rxc_now_ms's monotonic clock when the bytes were seen). */
typedef struct rxc_ring_chunk {
    uint32_t len;
    uint32_t lost;
    int ended;
    double at_ms;
} rxc_ring_chunk;

/* xc_physinfo's page counts (4 KiB pages). */
typedef struct rxc_phys_info {
    uint64_t total_pages, free_pages, scrub_pages, outstanding_pages;
} rxc_phys_info;

typedef struct rxc_perm { uint32_t domid; uint32_t perms; /* XS_PERM_* bits */ } rxc_perm;

/* One watch event: the path that changed and the token it was registered with. */
typedef struct rxc_watch_event { char *path; char *token; } rxc_watch_event;

/*
 * X-macro of every exported function: name, return type, parameters.  The
 * library declares them from this list and the addon builds its table of
 * dlsym()ed pointers from it, so the two cannot drift apart.
 */
#define RXC_FUNCTIONS(X) \
    X(abi_version, int, (void)) \
    X(session_open, int, (rxc_session **out, rxc_error *err)) \
    X(session_close, void, (rxc_session *s)) \
    X(log_drain, size_t, (char *buf, size_t len)) \
    X(free, void, (void *p)) \
    X(domain_list, int, (rxc_session *s, rxc_domain_info **out, uint32_t *count, rxc_error *err)) \
    X(domain_get, int, (rxc_session *s, uint32_t domid, rxc_domain_info *out, rxc_error *err)) \
    X(domain_lookup, int, (rxc_session *s, const char *name, uint32_t *domid, rxc_error *err)) \
    X(domain_pause, int, (rxc_session *s, uint32_t domid, rxc_error *err)) \
    X(domain_unpause, int, (rxc_session *s, uint32_t domid, rxc_error *err)) \
    X(domain_shutdown, int, (rxc_session *s, uint32_t domid, int reboot, rxc_error *err)) \
    X(domain_destroy, int, (rxc_session *s, uint32_t domid, rxc_error *err)) \
    X(domain_create, int, (rxc_session *s, const rxc_domain_spec *spec, uint32_t *domid, rxc_create_timing *t, rxc_ring **ring, rxc_error *err)) \
    X(domain_create_direct, int, (rxc_session *s, const rxc_domain_spec *spec, uint32_t *domid, rxc_create_timing *t, rxc_ring **ring, rxc_error *err)) \
    X(abort_creations, int, (uint32_t *destroyed, rxc_error *err)) \
    X(domain_wait_shutdown, int, (rxc_session *s, uint32_t domid, int cancel_fd, int *reason, rxc_error *err)) \
    X(free_memory, int, (rxc_session *s, uint64_t *free_kb, rxc_error *err)) \
    X(physinfo, int, (rxc_session *s, rxc_phys_info *out, rxc_error *err)) \
    X(ring_open, int, (rxc_session *s, uint32_t domid, rxc_ring **out, double *attached_at, double *attach_ms, rxc_error *err)) \
    X(ring_read, int, (rxc_ring *r, int cancel_fd, int timeout_ms, char *buf, uint32_t cap, rxc_ring_chunk *out, rxc_error *err)) \
    X(ring_close, void, (rxc_ring *r)) \
    X(xs_read, int, (rxc_session *s, uint32_t tx, const char *path, char **value, size_t *len, rxc_error *err)) \
    X(xs_write, int, (rxc_session *s, uint32_t tx, const char *path, const void *value, size_t len, rxc_error *err)) \
    X(xs_mkdir, int, (rxc_session *s, uint32_t tx, const char *path, rxc_error *err)) \
    X(xs_rm, int, (rxc_session *s, uint32_t tx, const char *path, rxc_error *err)) \
    X(xs_ls, int, (rxc_session *s, uint32_t tx, const char *path, char ***names, uint32_t *count, rxc_error *err)) \
    X(xs_get_perms, int, (rxc_session *s, uint32_t tx, const char *path, rxc_perm **perms, uint32_t *count, rxc_error *err)) \
    X(xs_set_perms, int, (rxc_session *s, uint32_t tx, const char *path, const rxc_perm *perms, uint32_t count, rxc_error *err)) \
    X(xs_tx_start, int, (rxc_session *s, uint32_t *tx, rxc_error *err)) \
    X(xs_tx_end, int, (rxc_session *s, uint32_t tx, int abort, rxc_error *err)) \
    X(watch_open, int, (const char *path, const char *token, rxc_watch **out, rxc_error *err)) \
    X(watch_next, int, (rxc_watch *w, int cancel_fd, rxc_watch_event *ev, rxc_error *err)) \
    X(watch_close, void, (rxc_watch *w)) \
    X(evtchn_open, int, (rxc_evtchn **out, rxc_error *err)) \
    X(evtchn_close, void, (rxc_evtchn *e)) \
    X(evtchn_bind_interdomain, int, (rxc_evtchn *e, uint32_t domid, uint32_t remote_port, uint32_t *port, rxc_error *err)) \
    X(evtchn_bind_unbound, int, (rxc_evtchn *e, uint32_t domid, uint32_t *port, rxc_error *err)) \
    X(evtchn_unbind, int, (rxc_evtchn *e, uint32_t port, rxc_error *err)) \
    X(evtchn_notify, int, (rxc_evtchn *e, uint32_t port, rxc_error *err)) \
    X(evtchn_wait, int, (rxc_evtchn *e, int cancel_fd, int timeout_ms, int32_t *port, rxc_error *err)) \
    X(gnttab_open, int, (rxc_gnttab **out, rxc_error *err)) \
    X(gnttab_close, void, (rxc_gnttab *g)) \
    X(gnttab_map, int, (rxc_gnttab *g, uint32_t domid, const uint32_t *refs, uint32_t count, int writable, void **addr, rxc_error *err)) \
    X(gnttab_unmap, int, (rxc_gnttab *g, void *addr, uint32_t count, rxc_error *err)) \
    X(fmem_open, int, (rxc_fmem **out, rxc_error *err)) \
    X(fmem_close, void, (rxc_fmem *f)) \
    X(fmem_map, int, (rxc_fmem *f, uint32_t domid, const uint64_t *gfns, uint32_t count, int writable, void **addr, rxc_error *err)) \
    X(fmem_unmap, int, (rxc_fmem *f, void *addr, uint32_t count, rxc_error *err))

#ifndef RXC_EXPORT
#define RXC_EXPORT
#endif
#define RXC_DECLARE(name, ret, params) RXC_EXPORT ret rxc_##name params;
RXC_FUNCTIONS(RXC_DECLARE)
#undef RXC_DECLARE

#ifdef __cplusplus
}
#endif

#endif
