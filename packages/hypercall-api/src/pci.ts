/**
 * rumpcomp_pci: the hypercalls NetBSD's rump PCI component (librumpdev_pci) makes into the
 * host for config space, BAR mapping, interrupts and DMA memory. Facts follow NetBSD's
 * sys/rump/dev/lib/libpci/pci_user.h; contracts are written here. Two optional features are
 * switched on by macros from `rumpcomp_userfeatures_pci.h`.
 */
import type { Constant, Hypercall, Param, StructDef } from './types.js';

const p = (name: string, type: string): Param => ({ name, type });

export const PCI_FEATURE_DMAFREE = 'RUMPCOMP_USERFEATURE_PCI_DMAFREE';
export const PCI_FEATURE_IOSPACE = 'RUMPCOMP_USERFEATURE_PCI_IOSPACE';

function pci(
  name: string, returns: string, params: Param[], contract: string,
  extra: Partial<Hypercall> = {},
): Hypercall {
  return {
    name, symbol: name, interface: 'rumpcomp_pci', area: 'pci', direction: 'hypercall', returns, params,
    mandatory: true, librumpImport: false, contract, ...extra,
  };
}

export const pciFunctions: Hypercall[] = [
  pci('rumpcomp_pci_map', 'void *', [p('addr', 'unsigned long'), p('len', 'unsigned long')],
    'Maps len bytes of device memory at physical (bus) address addr uncached and returns the virtual address, or NULL on failure.'),
  pci('rumpcomp_pci_confread', 'int',
    [p('bus', 'unsigned'), p('dev', 'unsigned'), p('fun', 'unsigned'), p('reg', 'int'), p('valp', 'unsigned int *')],
    'Reads the 32-bit config space register at byte offset reg of bus:dev.fun into *valp; returns 0 or an errno (all-ones data for absent devices).'),
  pci('rumpcomp_pci_confwrite', 'int',
    [p('bus', 'unsigned'), p('dev', 'unsigned'), p('fun', 'unsigned'), p('reg', 'int'), p('val', 'unsigned int')],
    'Writes the 32-bit config space register at byte offset reg of bus:dev.fun; returns 0 or an errno.'),
  pci('rumpcomp_pci_irq_map', 'int',
    [p('bus', 'unsigned'), p('dev', 'unsigned'), p('fun', 'unsigned'), p('intrline', 'int'), p('cookie', 'unsigned')],
    'Associates the device\'s interrupt line intrline with cookie for a later rumpcomp_pci_irq_establish; returns 0 or an errno.'),
  pci('rumpcomp_pci_irq_establish', 'void *',
    [p('cookie', 'unsigned'), p('handler', 'int (*)(void *)'), p('arg', 'void *')],
    'Arranges for handler(arg) to run (in a thread that may enter the rump kernel) whenever the interrupt mapped to cookie fires; returns a handle or NULL.'),
  pci('rumpcomp_pci_dmalloc', 'int',
    [p('size', 'size_t'), p('align', 'size_t'), p('pap', 'unsigned long *'), p('vap', 'unsigned long *')],
    'Allocates size bytes of DMA-able memory, physically contiguous and aligned to align, storing its bus address in *pap and virtual address in *vap; returns 0 or an errno.'),
  pci('rumpcomp_pci_dmafree', 'void', [p('va', 'unsigned long'), p('size', 'size_t')],
    'Frees DMA memory from rumpcomp_pci_dmalloc (only with the DMAFREE feature; without it freeing panics).',
    { feature: PCI_FEATURE_DMAFREE, mandatory: false }),
  pci('rumpcomp_pci_dmamem_map', 'int',
    [p('dss', 'struct rumpcomp_pci_dmaseg *'), p('nseg', 'size_t'), p('totlen', 'size_t'), p('vap', 'void **')],
    'Maps nseg DMA segments totalling totlen bytes into one virtually contiguous range stored in *vap; returns 0 or an errno.'),
  pci('rumpcomp_pci_virt_to_mach', 'unsigned long', [p('va', 'void *')],
    'Returns the bus (machine) address that the device must use for virtual address va.'),
  pci('rumpcomp_pci_iospace_init', 'int', [],
    'Enables access to PCI I/O port space for the calling kernel (only with the IOSPACE feature); returns 0 or an errno.',
    { feature: PCI_FEATURE_IOSPACE, mandatory: false }),
];

export const pciStructs: StructDef[] = [
  {
    name: 'rumpcomp_pci_dmaseg',
    interface: 'rumpcomp_pci',
    meaning: 'One DMA segment handed to rumpcomp_pci_dmamem_map.',
    fields: [
      { name: 'ds_pa', type: 'unsigned long' },
      { name: 'ds_len', type: 'unsigned long' },
      { name: 'ds_vacookie', type: 'unsigned long' },
    ],
  },
];

export const pciConstants: Constant[] = [
  {
    name: PCI_FEATURE_DMAFREE, interface: 'rumpcomp_pci', group: 'feature', value: 1, c: '1',
    meaning: 'The host can free DMA memory: rumpcomp_pci_dmafree exists.',
  },
  {
    name: PCI_FEATURE_IOSPACE, interface: 'rumpcomp_pci', group: 'feature', value: 1, c: '1',
    meaning: 'The host supports PCI I/O space: rumpcomp_pci_iospace_init exists.',
  },
];
