/*
 * PCI passthrough services of the rumpxen guest kernel (xen-pv): config space, device
 * memory, interrupts and DMA memory, as dom0 (port I/O, physdev) or as a DomU (pcifront).
 * Errors are positive Xen/Linux errno numbers (mk/xen.h XEN_E*); 0 is success.
 * The NetBSD-shaped MD layer (pcix/bus.h) and rumpcomp_pci_* sit on top of this.
 */
#ifndef PCIX_PCIX_H
#define PCIX_PCIX_H
#include <mk/types.h>

#define PCIX_EEXIST 17
#define PCIX_EFBIG 27
#define PCIX_ERANGE 34
#define PCIX_ENODEV 19
#define PCIX_EBUSY 16

/* Sets up config space access (dom0: I/O privilege; DomU: pcifront). Idempotent. */
int pcix_init(void);
/* True as the hardware domain (direct config space and I/O ports). */
bool pcix_is_dom0(void);
/* "dom0 port I/O" or "pcifront" once pcix_init succeeded, else "none". */
const char *pcix_config_mechanism(void);

/* 32-bit config register reg (4-aligned, < 256) of bus:dev.fn. Absent devices read all-ones. */
int pcix_conf_read(unsigned bus, unsigned dev, unsigned fn, unsigned reg, uint32_t *val);
int pcix_conf_write(unsigned bus, unsigned dev, unsigned fn, unsigned reg, uint32_t val);

/*
 * Maps len bytes of device memory at machine address maddr uncached (DOMID_IO mapping) and
 * returns the virtual address of maddr, or NULL with *err set: XEN_EINVAL for RAM or a bad
 * range (the message on the console names the address), XEN_ENOMEM without virtual space.
 */
void *pcix_map_mmio(uint64_t maddr, uint64_t len, int *err);
void pcix_unmap_mmio(void *va, uint64_t len);
/*
 * How the last BAR frame was mapped: "mmu_update DOMID_IO", "update_va_mapping
 * (mmu_update DOMID_IO refused: E)" (a DomU whose XSM policy refuses DOMID_IO), or "none".
 */
const char *pcix_mmio_mechanism(void);
/* True when [maddr, maddr+len) overlaps RAM (the machine map as dom0, our own frames always). */
bool pcix_range_is_ram(uint64_t maddr, uint64_t len);
/* Enables port I/O for this kernel (dom0 only; a DomU has no I/O ports). */
int pcix_iospace_init(void);
static inline uint32_t pcix_inl(uint16_t port)
{
	uint32_t v;
	__asm__ __volatile__("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline void pcix_outl(uint16_t port, uint32_t v)
{
	__asm__ __volatile__("outl %0, %1" : : "a"(v), "Nd"(port));
}

/* Interrupts: a pirq per source, delivered on its own event channel. */
enum pcix_intr_kind { PCIX_INTR_INTX = 1, PCIX_INTR_MSI = 2 };
/* INTx: routes the device's GSI (its interrupt line) as a level, active-high pirq. */
int pcix_intr_map_intx(unsigned bus, unsigned dev, unsigned fn, unsigned gsi, int *pirq);
/* MSI: one vector; Xen (dom0) or pciback (DomU) programs the capability; enabled on return. */
int pcix_intr_map_msi(unsigned bus, unsigned dev, unsigned fn, int *pirq);
int pcix_intr_unmap_msi(unsigned bus, unsigned dev, unsigned fn, int pirq);

struct pcix_intr;
/*
 * Binds pirq to an event channel and runs handler(arg) in a kernel thread of its own each
 * time it fires (never in the upcall). shareable: a level INTx line that other domains (or
 * dom0's pciback) may bind too. take_rump_cpu: the thread enters the rump kernel
 * (rumpuser_component_kthread / schedule) around the handler. NULL with *err on failure.
 */
struct pcix_intr *pcix_intr_establish(int pirq, bool shareable, int (*handler)(void *),
	void *arg, bool take_rump_cpu, const char *name, int *err);
void pcix_intr_disestablish(struct pcix_intr *ih);
/* TSC at the last event-channel notification for ih (handler entry latency bench). */
uint64_t pcix_intr_last_event_tsc(const struct pcix_intr *ih);
uint64_t pcix_intr_count(const struct pcix_intr *ih);

/*
 * DMA memory: size bytes, machine-contiguous, machine-aligned to align (power of two, 0 =
 * page), not crossing a multiple of boundary (power of two, 0 = none), below 2^addr_bits
 * (0 = no limit). Zeroed. XEN_EINVAL for impossible constraints, XEN_ENOMEM when Xen has no
 * such memory.
 */
int pcix_dma_alloc(size_t size, size_t align, size_t boundary, unsigned addr_bits,
	void **va, uint64_t *maddr);
void pcix_dma_free(void *va, size_t size);
/*
 * Bounce buffers for a DMA map whose device reaches only machine addresses below 2^addr_bits
 * (bounce.c). The map's loader calls pcix_bounce_beyond on each segment it made; when one is
 * beyond, it describes the load again with pcix_bounce_reset and pcix_bounce_add (virtual
 * pieces, in order) and loads the area pcix_bounce_start returns instead: on the first such
 * load, maxsize bytes (rounded up to pages) of machine-contiguous DMA memory below the limit,
 * kept until pcix_bounce_destroy. pcix_bounce_sync copies bytes [off, off+len) of the load
 * into the area (to_area: before the device reads) or back (after the device wrote); it does
 * nothing unless the map's current load is bounced. pcix_bounce_reset forgets the load (unload).
 * One map's calls must not run concurrently (bus_dma(9)'s rule for a map).
 */
struct pcix_bounce;
int pcix_bounce_create(unsigned addr_bits, size_t maxsize, struct pcix_bounce **out);
void pcix_bounce_destroy(struct pcix_bounce *b);
bool pcix_bounce_beyond(const struct pcix_bounce *b, uint64_t maddr, uint64_t len);
void pcix_bounce_reset(struct pcix_bounce *b);
/* PCIX_EFBIG past maxsize, XEN_ENOMEM without heap. */
int pcix_bounce_add(struct pcix_bounce *b, void *va, size_t len);
/* The area and the load's length; pcix_dma_alloc's errors when the area cannot be had. */
int pcix_bounce_start(struct pcix_bounce *b, void **va, size_t *len);
void pcix_bounce_sync(struct pcix_bounce *b, size_t off, size_t len, bool to_area);
/* Totals since boot, for tests and diagnostics. */
struct pcix_bounce_stats {
	uint64_t maps;            /* bounce states created (maps that may bounce) */
	uint64_t loads;           /* loads that went through a bounce area */
	uint64_t bytes_to_area;   /* copied by syncs before the device reads */
	uint64_t bytes_from_area; /* copied by syncs after the device wrote */
	uint64_t area_bytes;      /* bounce areas allocated (low memory taken) */
};
void pcix_bounce_get_stats(struct pcix_bounce_stats *out);
/* Machine address of any mapped RAM virtual address (DMA memory included). */
uint64_t pcix_virt_to_mach(const void *va);
/* The last error message (names the input, what was wrong and the fix). */
const char *pcix_last_error(void);

#endif
