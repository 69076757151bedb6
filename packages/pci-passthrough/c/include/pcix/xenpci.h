/*
 * The parts of Xen's public ABI (x86-64) the PCI layer needs beyond the guest kernel's
 * mk/xen.h: physdev operations, pirq binding, memory exchange, the machine memory map, and
 * the pcifront/pciback shared page (io/pciif.h). Numbers and layouts only.
 */
#ifndef PCIX_XENPCI_H
#define PCIX_XENPCI_H
#include <mk/xen.h>

#define PCIX_HC_update_va_mapping_otherdomain 22
#define PCIX_HC_update_va_mapping_otherdomain 22
#define PCIX_HC_physdev_op 33
#define PCIX_DOMID_IO 0x7FF1U

#define PCIX_PHYSDEVOP_irq_status_query 5
#define PCIX_PHYSDEVOP_set_iopl 6
#define PCIX_PHYSDEVOP_eoi 12
#define PCIX_PHYSDEVOP_map_pirq 13
#define PCIX_PHYSDEVOP_unmap_pirq 14
#define PCIX_PHYSDEVOP_setup_gsi 21
#define PCIX_PHYSDEVOP_pci_device_add 25

#define PCIX_MAP_PIRQ_TYPE_MSI 0
#define PCIX_MAP_PIRQ_TYPE_GSI 1
#define PCIX_XENIRQSTAT_needs_eoi 1

struct pcix_physdev_set_iopl {
	uint32_t iopl;
};
struct pcix_physdev_eoi {
	uint32_t irq;
};
struct pcix_physdev_irq_status_query {
	uint32_t irq;
	uint32_t flags;
};
struct pcix_physdev_map_pirq {
	uint16_t domid;
	int type;
	int index;
	int pirq;
	int bus;
	int devfn;
	int entry_nr;
	uint64_t table_base;
};
struct pcix_physdev_unmap_pirq {
	uint16_t domid;
	int pirq;
};
struct pcix_physdev_setup_gsi {
	int gsi;
	uint8_t triggering; /* 1: level */
	uint8_t polarity;   /* 1: active low */
};

/* Tells Xen about a device (dom0's job; Xen without an IOMMU does not scan the bus). */
struct pcix_physdev_pci_device_add {
	uint16_t seg;
	uint8_t bus;
	uint8_t devfn;
	uint32_t flags;
	struct {
		uint8_t bus;
		uint8_t devfn;
	} physfn;
	uint32_t optarr[1];
};

#define PCIX_EVTCHNOP_bind_pirq 2
#define PCIX_BIND_PIRQ_WILL_SHARE 1
struct pcix_evtchn_bind_pirq {
	uint32_t pirq;
	uint32_t flags;
	uint32_t port;
};

#define PCIX_XENMEM_exchange 11
#define PCIX_XENMEM_machine_memory_map 10
struct pcix_memory_reservation {
	unsigned long *extent_start;
	unsigned long nr_extents;
	unsigned int extent_order;
	unsigned int mem_flags; /* low 8 bits: address bits (0 = no limit) */
	uint16_t domid;
};
struct pcix_memory_exchange {
	struct pcix_memory_reservation in;
	struct pcix_memory_reservation out;
	unsigned long nr_exchanged;
};
struct pcix_memory_map {
	unsigned int nr_entries;
	void *buffer;
};
struct pcix_e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type; /* 1: RAM */
} __attribute__((packed));

/* io/pciif.h: one operation at a time on a shared page. */
#define PCIX_PCIFRONT_OP_ACTIVE_BIT 0 /* in flags: an op is waiting for the backend */
#define PCIX_XEN_PCI_OP_conf_read 0
#define PCIX_XEN_PCI_OP_conf_write 1
#define PCIX_XEN_PCI_OP_enable_msi 2
#define PCIX_XEN_PCI_OP_disable_msi 3
#define PCIX_XEN_PCI_ERR_success 0
#define PCIX_XEN_PCI_ERR_dev_not_found (-1)
#define PCIX_XEN_PCI_ERR_invalid_offset (-2)
#define PCIX_XEN_PCI_ERR_access_denied (-3)
#define PCIX_XEN_PCI_ERR_not_implemented (-4)
#define PCIX_XEN_PCI_ERR_op_failed (-5)
#define PCIX_SH_INFO_MAX_VEC 128

struct pcix_msix_entry {
	uint16_t vector;
	uint16_t entry;
};
struct pcix_xen_pci_op {
	uint32_t cmd;
	int32_t err;
	uint32_t domain;
	uint32_t bus;
	uint32_t devfn;
	int32_t offset;
	int32_t size;
	uint32_t value;
	uint32_t info;
	struct pcix_msix_entry msix_entries[PCIX_SH_INFO_MAX_VEC];
};
/* AER op, filled by the backend only; pcifront neither sends nor reads it. */
struct pcix_xen_pcie_aer_op {
	uint32_t cmd;
	int32_t err;
	uint32_t domain;
	uint32_t bus;
	uint32_t devfn;
};
struct pcix_xen_pci_sharedinfo {
	uint32_t flags;
	struct pcix_xen_pci_op op;
	struct pcix_xen_pcie_aer_op aer_op;
};

#endif
