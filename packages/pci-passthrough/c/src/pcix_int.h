/* Internal helpers shared by the PCI service files. */
#ifndef PCIX_INT_H
#define PCIX_INT_H
#include <mk/arch.h>
#include <mk/hypercall.h>
#include <mk/lib.h>
#include <pcix/pcix.h>
#include <pcix/xenpci.h>

/* Records the message returned by pcix_last_error and returns err. */
int pcix_fail(int err, const char *fmt, ...) MK_PRINTF(2, 3);

static inline long pcix_physdev_op(int cmd, void *arg)
{
	return mk_hypercall(PCIX_HC_physdev_op, cmd, arg, 0, 0, 0);
}

/* pcifront (DomU config space and MSI through pciback). */
int pcix_front_init(void);
int pcix_front_conf(bool write, unsigned bus, unsigned dev, unsigned fn, unsigned reg,
	uint32_t *val);
int pcix_front_enable_msi(unsigned bus, unsigned dev, unsigned fn, int *pirq);
int pcix_front_disable_msi(unsigned bus, unsigned dev, unsigned fn);

/* Machine address of va in a special mapping made here (~0 when va is in none). */
uint64_t pcix_mapped_maddr(unsigned long va);
/* Maps RAM frames (ours) one after another in the special-mapping area; NULL when full. */
void *pcix_map_frames(const unsigned long *mfns, unsigned long npages);
/* Unmaps a pcix_map_frames mapping starting at va; false when there is none. */
bool pcix_unmap_frames(void *va);
/* Unmaps every special mapping of a RAM frame in [mfn, mfn+n) (DMA memory being freed). */
void pcix_unmap_frames_of(unsigned long mfn, unsigned long n);

/* Xen/Linux errno -> NetBSD errno. */
int pcix_netbsd_errno(int err);

/* The rump kernel's component hypercalls (rumpuser.h) that intr.c and rumpcomp_pci.c use. */
void rumpuser_component_kthread(void);
void rumpuser_component_kthread_release(void);
void rumpuser_component_schedule(void *cookie);
void *rumpuser_component_unschedule(void);

#endif
