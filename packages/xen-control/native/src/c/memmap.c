/* Mapping another domain's memory: by grant reference or by guest frame number. */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "rxc_internal.h"
#include <xengnttab.h>
#include <xenforeignmemory.h>

struct rxc_gnttab { xengnttab_handle *xgt; };
struct rxc_fmem { xenforeignmemory_handle *fmem; };

int rxc_gnttab_open(rxc_gnttab **out, rxc_error *err)
{
    rxc_log_begin();
    rxc_gnttab *g = calloc(1, sizeof *g);
    if (!g)
        return rxc_fail(err, ENOMEM, "calloc", "out of memory opening a grant table handle");
    g->xgt = xengnttab_open(rxc_logger(), 0);
    if (!g->xgt) {
        int e = errno;
        free(g);
        return rxc_fail(err, e, "xengnttab_open", "cannot open /dev/xen/gntdev (load the xen-gntdev module; run as root)");
    }
    *out = g;
    return 0;
}

void rxc_gnttab_close(rxc_gnttab *g)
{
    if (!g)
        return;
    xengnttab_close(g->xgt);
    free(g);
}

int rxc_gnttab_map(rxc_gnttab *g, uint32_t domid, const uint32_t *refs, uint32_t count, int writable,
                   void **addr, rxc_error *err)
{
    rxc_log_begin();
    void *a = xengnttab_map_domain_grant_refs(g->xgt, count, domid, (uint32_t *)refs,
                                              PROT_READ | (writable ? PROT_WRITE : 0));
    if (!a)
        return rxc_fail(err, errno, "xengnttab_map_domain_grant_refs", "cannot map %u grant(s) of domain %u (first ref %u)",
                        count, domid, count ? refs[0] : 0);
    *addr = a;
    return 0;
}

int rxc_gnttab_unmap(rxc_gnttab *g, void *addr, uint32_t count, rxc_error *err)
{
    rxc_log_begin();
    if (xengnttab_unmap(g->xgt, addr, count) < 0)
        return rxc_fail(err, errno, "xengnttab_unmap", "cannot unmap %u grant(s)", count);
    return 0;
}

int rxc_fmem_open(rxc_fmem **out, rxc_error *err)
{
    rxc_log_begin();
    rxc_fmem *f = calloc(1, sizeof *f);
    if (!f)
        return rxc_fail(err, ENOMEM, "calloc", "out of memory opening a foreign memory handle");
    f->fmem = xenforeignmemory_open(rxc_logger(), 0);
    if (!f->fmem) {
        int e = errno;
        free(f);
        return rxc_fail(err, e, "xenforeignmemory_open", "cannot open /dev/xen/privcmd for foreign mappings (run as root in dom0)");
    }
    *out = f;
    return 0;
}

void rxc_fmem_close(rxc_fmem *f)
{
    if (!f)
        return;
    xenforeignmemory_close(f->fmem);
    free(f);
}

int rxc_fmem_map(rxc_fmem *f, uint32_t domid, const uint64_t *gfns, uint32_t count, int writable,
                 void **addr, rxc_error *err)
{
    rxc_log_begin();
    xen_pfn_t *arr = calloc(count, sizeof *arr);
    int *errs = calloc(count, sizeof *errs);
    if (!arr || !errs) {
        free(arr);
        free(errs);
        return rxc_fail(err, ENOMEM, "calloc", "out of memory mapping %u frames", count);
    }
    for (uint32_t i = 0; i < count; i++)
        arr[i] = (xen_pfn_t)gfns[i];
    void *a = xenforeignmemory_map(f->fmem, domid, PROT_READ | (writable ? PROT_WRITE : 0), count, arr, errs);
    int result = 0;
    if (!a) {
        result = rxc_fail(err, errno, "xenforeignmemory_map", "cannot map %u frame(s) of domain %u (first gfn 0x%llx)",
                          count, domid, (unsigned long long)gfns[0]);
    } else {
        for (uint32_t i = 0; i < count; i++) {
            if (errs[i]) {
                xenforeignmemory_unmap(f->fmem, a, count);
                result = rxc_fail(err, -errs[i] > 0 ? -errs[i] : errs[i], "xenforeignmemory_map",
                                  "frame 0x%llx of domain %u could not be mapped", (unsigned long long)gfns[i], domid);
                a = NULL;
                break;
            }
        }
    }
    free(arr);
    free(errs);
    if (a)
        *addr = a;
    return result;
}

int rxc_fmem_unmap(rxc_fmem *f, void *addr, uint32_t count, rxc_error *err)
{
    rxc_log_begin();
    if (xenforeignmemory_unmap(f->fmem, addr, count) < 0)
        return rxc_fail(err, errno, "xenforeignmemory_unmap", "cannot unmap %u frame(s)", count);
    return 0;
}
