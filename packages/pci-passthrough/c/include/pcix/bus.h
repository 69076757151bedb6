/*
 * The PCI machine-dependent layer with NetBSD's signatures -- pci(9), bus_space(9),
 * pci_intr(9) and bus_dma(9) -- over the rumpcomp_pci hypercalls and the pcix services, for
 * drivers written against NetBSD's interfaces. x86 semantics: memory and I/O space tags,
 * coherent DMA (syncs are barriers), no bounce buffers: a load that would need one fails.
 */
#ifndef PCIX_BUS_H
#define PCIX_BUS_H
#include <mk/types.h>

typedef uint32_t pcireg_t;
typedef void *pci_chipset_tag_t;
typedef unsigned long pcitag_t;
/* bits 0-31: GSI (INTx) or pirq (MSI); 32-47: bus/dev/fn; 62: MSI; 63: valid. */
typedef uint64_t pci_intr_handle_t;

typedef int bus_space_tag_t;
typedef unsigned long bus_space_handle_t;
typedef uint64_t bus_addr_t;
typedef uint64_t bus_size_t;

#define X86_BUS_SPACE_IO 0
#define X86_BUS_SPACE_MEM 1

#define BUS_SPACE_MAP_CACHEABLE 0x01
#define BUS_SPACE_MAP_LINEAR 0x02
#define BUS_SPACE_MAP_PREFETCHABLE 0x04
#define BUS_SPACE_BARRIER_READ 0x01
#define BUS_SPACE_BARRIER_WRITE 0x02

typedef struct pcix_dma_tag *bus_dma_tag_t;
typedef struct {
	bus_addr_t ds_addr;
	bus_size_t ds_len;
	void *_ds_va; /* where the segment's memory is mapped (bus_dmamem_alloc) */
} bus_dma_segment_t;

struct bus_dmamap {
	bus_size_t _dm_size;
	int _dm_segcnt;
	bus_size_t _dm_maxsegsz;
	bus_size_t _dm_boundary;
	int _dm_flags;
	bus_size_t dm_maxsegsz;
	bus_size_t dm_mapsize;
	int dm_nsegs;
	bus_dma_segment_t dm_segs[];
};
typedef struct bus_dmamap *bus_dmamap_t;

#define BUS_DMA_WAITOK 0x000
#define BUS_DMA_NOWAIT 0x001
#define BUS_DMA_COHERENT 0x004
#define BUS_DMA_STREAMING 0x008
#define BUS_DMA_READ 0x100000
#define BUS_DMA_WRITE 0x200000
#define BUS_DMASYNC_PREREAD 0x01
#define BUS_DMASYNC_POSTREAD 0x02
#define BUS_DMASYNC_PREWRITE 0x04
#define BUS_DMASYNC_POSTWRITE 0x08

struct proc;

struct pci_attach_args {
	pci_chipset_tag_t pa_pc;
	pcitag_t pa_tag;
	int pa_bus, pa_device, pa_function;
	pcireg_t pa_id, pa_class;
	int pa_intrpin; /* 1 = INTA .. 4 = INTD, 0 = none */
	int pa_intrline;
	bus_space_tag_t pa_iot, pa_memt;
	bus_dma_tag_t pa_dmat, pa_dmat64;
};

#define PCI_VENDOR(id) ((id) & 0xffff)
#define PCI_PRODUCT(id) (((id) >> 16) & 0xffff)
#define PCI_ID_REG 0x00
#define PCI_COMMAND_STATUS_REG 0x04
#define PCI_COMMAND_IO_ENABLE 0x01
#define PCI_COMMAND_MEM_ENABLE 0x02
#define PCI_COMMAND_MASTER_ENABLE 0x04
#define PCI_CLASS_REG 0x08
#define PCI_BHLC_REG 0x0c
#define PCI_MAPREG_START 0x10
#define PCI_MAPREG_END 0x28
#define PCI_INTERRUPT_REG 0x3c
#define PCI_MAPREG_TYPE_IO 0x01
#define PCI_MAPREG_TYPE_MEM 0x00
#define PCI_MAPREG_MEM_TYPE_32BIT 0x00
#define PCI_MAPREG_MEM_TYPE_64BIT 0x04

/* pci(9) */
pcitag_t pci_make_tag(pci_chipset_tag_t pc, int bus, int device, int function);
void pci_decompose_tag(pci_chipset_tag_t pc, pcitag_t tag, int *busp, int *devicep,
	int *functionp);
/* All-ones when the register cannot be read (pcix_last_error says why). */
pcireg_t pci_conf_read(pci_chipset_tag_t pc, pcitag_t tag, int reg);
void pci_conf_write(pci_chipset_tag_t pc, pcitag_t tag, int reg, pcireg_t val);
int pci_bus_maxdevs(pci_chipset_tag_t pc, int busno);
/* Sizes and maps BAR reg (pci_mapreg_map(9)); the BAR must be assigned by firmware. */
int pci_mapreg_map(const struct pci_attach_args *pa, int reg, pcireg_t type, int busflags,
	bus_space_tag_t *tagp, bus_space_handle_t *handlep, bus_addr_t *basep, bus_size_t *sizep);
/*
 * Not NetBSD: autoconfiguration's part. Scans bus 0..maxbus for the nth (from 0)
 * vendor:product device and fills pa (tags, interrupt pin/line, DMA tags). 0, or ENODEV
 * with pcix_last_error set.
 */
int pcix_pci_find(int maxbus, unsigned vendor, unsigned product, int nth,
	struct pci_attach_args *pa);

/* bus_space(9) */
int bus_space_map(bus_space_tag_t t, bus_addr_t addr, bus_size_t size, int flags,
	bus_space_handle_t *bshp);
void bus_space_unmap(bus_space_tag_t t, bus_space_handle_t bsh, bus_size_t size);
int bus_space_subregion(bus_space_tag_t t, bus_space_handle_t bsh, bus_size_t offset,
	bus_size_t size, bus_space_handle_t *nbshp);
uint8_t bus_space_read_1(bus_space_tag_t t, bus_space_handle_t h, bus_size_t o);
uint16_t bus_space_read_2(bus_space_tag_t t, bus_space_handle_t h, bus_size_t o);
uint32_t bus_space_read_4(bus_space_tag_t t, bus_space_handle_t h, bus_size_t o);
uint64_t bus_space_read_8(bus_space_tag_t t, bus_space_handle_t h, bus_size_t o);
void bus_space_write_1(bus_space_tag_t t, bus_space_handle_t h, bus_size_t o, uint8_t v);
void bus_space_write_2(bus_space_tag_t t, bus_space_handle_t h, bus_size_t o, uint16_t v);
void bus_space_write_4(bus_space_tag_t t, bus_space_handle_t h, bus_size_t o, uint32_t v);
void bus_space_write_8(bus_space_tag_t t, bus_space_handle_t h, bus_size_t o, uint64_t v);
#define PCIX_BUS_SPACE_MULTI_REGION(n, type) \
	void bus_space_read_multi_##n(bus_space_tag_t t, bus_space_handle_t h, bus_size_t o, \
		type *buf, bus_size_t count); \
	void bus_space_write_multi_##n(bus_space_tag_t t, bus_space_handle_t h, bus_size_t o, \
		const type *buf, bus_size_t count); \
	void bus_space_read_region_##n(bus_space_tag_t t, bus_space_handle_t h, bus_size_t o, \
		type *buf, bus_size_t count); \
	void bus_space_write_region_##n(bus_space_tag_t t, bus_space_handle_t h, bus_size_t o, \
		const type *buf, bus_size_t count);
PCIX_BUS_SPACE_MULTI_REGION(1, uint8_t)
PCIX_BUS_SPACE_MULTI_REGION(2, uint16_t)
PCIX_BUS_SPACE_MULTI_REGION(4, uint32_t)
PCIX_BUS_SPACE_MULTI_REGION(8, uint64_t)
void bus_space_barrier(bus_space_tag_t t, bus_space_handle_t h, bus_size_t offset,
	bus_size_t len, int flags);

/* pci_intr(9) */
#define IPL_NET 5
#define IPL_BIO 6
#define IPL_VM 7
typedef enum { PCI_INTR_TYPE_INTX = 0, PCI_INTR_TYPE_MSI = 1, PCI_INTR_TYPE_MSIX = 2 } pci_intr_type_t;
int pci_intr_map(const struct pci_attach_args *pa, pci_intr_handle_t *ihp);
const char *pci_intr_string(pci_chipset_tag_t pc, pci_intr_handle_t ih, char *buf, size_t len);
pci_intr_type_t pci_intr_type(pci_chipset_tag_t pc, pci_intr_handle_t ih);
/* handler runs in a thread of its own per interrupt, never in the event upcall. */
void *pci_intr_establish(pci_chipset_tag_t pc, pci_intr_handle_t ih, int level,
	int (*func)(void *), void *arg);
void *pci_intr_establish_xname(pci_chipset_tag_t pc, pci_intr_handle_t ih, int level,
	int (*func)(void *), void *arg, const char *xname);
void pci_intr_disestablish(pci_chipset_tag_t pc, void *cookie);
/* MSI: count vectors (1 is what Xen's per-device MSI mapping gives) or an errno. */
int pci_msi_alloc_exact(const struct pci_attach_args *pa, pci_intr_handle_t **ihps, int count);
void pci_intr_release(pci_chipset_tag_t pc, pci_intr_handle_t *ihs, int count);
/* Not NetBSD: bench hooks (TSC of the last event for the cookie, handler runs). */
uint64_t pcix_intr_cookie_event_tsc(void *cookie);

/* bus_dma(9) */
/* A tag limited to [min_addr, max_addr] (bus_dmatag_subregion(9)); how DMA masks are given. */
int bus_dmatag_subregion(bus_dma_tag_t tag, bus_addr_t min_addr, bus_addr_t max_addr,
	bus_dma_tag_t *newtag, int flags);
void bus_dmatag_destroy(bus_dma_tag_t tag);
int bus_dmamap_create(bus_dma_tag_t tag, bus_size_t size, int nsegments, bus_size_t maxsegsz,
	bus_size_t boundary, int flags, bus_dmamap_t *dmamp);
void bus_dmamap_destroy(bus_dma_tag_t tag, bus_dmamap_t dmam);
int bus_dmamap_load(bus_dma_tag_t tag, bus_dmamap_t dmam, void *buf, bus_size_t buflen,
	struct proc *p, int flags);
void bus_dmamap_unload(bus_dma_tag_t tag, bus_dmamap_t dmam);
void bus_dmamap_sync(bus_dma_tag_t tag, bus_dmamap_t dmam, bus_addr_t offset, bus_size_t len,
	int ops);
int bus_dmamem_alloc(bus_dma_tag_t tag, bus_size_t size, bus_size_t alignment,
	bus_size_t boundary, bus_dma_segment_t *segs, int nsegs, int *rsegs, int flags);
void bus_dmamem_free(bus_dma_tag_t tag, bus_dma_segment_t *segs, int nsegs);
int bus_dmamem_map(bus_dma_tag_t tag, bus_dma_segment_t *segs, int nsegs, size_t size,
	void **kvap, int flags);
void bus_dmamem_unmap(bus_dma_tag_t tag, void *kva, size_t size);

#endif
