/**
 * Guest configuration entries for a passed-through device, in the three forms Xen toolstacks
 * read: xl's `pci=[...]` PCI_SPEC_STRING (xl-pci-configuration(5)), libxl's JSON
 * `libxl_device_pci`, and libvirt's `<hostdev>`. The device model and its renderers are
 * @rumpxen/protocol's (the domain renderers write their devices with them); these name them
 * for this package and turn a refused spec into a PciError (BAD_BDF, BAD_OPTION; exit 2).
 */
import { libvirtHostdev, libxlPci, xlPciLine as protocolXlPciLine, xlPciSpec, type LibxlDevicePci, type PassthroughSpec } from '@rumpxen/protocol';
import { pciErrorOf } from './errors.js';

export type { LibxlDevicePci, PassthroughSpec };

/** One xl PCI_SPEC_STRING, e.g. `0000:00:03.0@05,permissive=1`. */
export function xlPciEntry(spec: PassthroughSpec): string {
  return pciErrorOf(() => xlPciSpec(spec));
}

/** The whole xl.cfg line: `pci = [ '...', '...' ]`. */
export function xlPciLine(specs: PassthroughSpec[]): string {
  return pciErrorOf(() => protocolXlPciLine(specs));
}

/** libxl_device_pci as it appears in the `pcidevs` array of libxl's JSON domain config. */
export function libxlPcidev(spec: PassthroughSpec): LibxlDevicePci {
  return pciErrorOf(() => libxlPci(spec));
}

/** `{ "pcidevs": [...] }`, to merge into a libxl JSON domain config. */
export function libxlPcidevs(specs: PassthroughSpec[]): { pcidevs: LibxlDevicePci[] } {
  return { pcidevs: specs.map(libxlPcidev) };
}

/**
 * libvirt `<hostdev mode='subsystem' type='pci' managed='yes'>` for the libxl driver; managed
 * makes libvirt bind pciback itself. `permissive` maps to `writeFiltering='no'`.
 */
export function libvirtHostdevXml(spec: PassthroughSpec & { managed?: boolean }): string {
  return pciErrorOf(() => libvirtHostdev(spec));
}
