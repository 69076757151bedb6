import { parseBdf, formatBdf, type PciAddress } from './bdf.js';
import { PciError } from './errors.js';

/**
 * Guest configuration entries for a passed-through device, in the three forms Xen toolstacks
 * read: xl's `pci=[...]` PCI_SPEC_STRING (xl-pci-configuration(5)), libxl's JSON
 * `libxl_device_pci`, and libvirt's `<hostdev>`.
 */
export interface PassthroughSpec {
  bdf: string | PciAddress;
  /** Guest slot (device number on the guest's bus, 0..31). */
  vslot?: number;
  /** Let the guest write config-space registers pciback does not emulate (less safe). */
  permissive?: boolean;
  /** HVM only: translate MSI to INTx in the device model. */
  msitranslate?: boolean;
  /** Make the device assignable (pciback) as part of `xl create`. */
  seize?: boolean;
  /** Let the guest control the device's power state (HVM). */
  powerMgmt?: boolean;
  /** Reserved device memory conflict policy (HVM). */
  rdmPolicy?: 'strict' | 'relaxed';
}

function checkSpec(spec: PassthroughSpec): PciAddress {
  const address = typeof spec.bdf === 'string' ? parseBdf(spec.bdf) : spec.bdf;
  if (spec.vslot !== undefined && (!Number.isInteger(spec.vslot) || spec.vslot < 0 || spec.vslot > 0x1f)) {
    throw new PciError('BAD_OPTION', `vslot ${spec.vslot} for ${formatBdf(address)} is not a guest slot number; use an integer 0..31`, 2);
  }
  if (spec.rdmPolicy !== undefined && spec.rdmPolicy !== 'strict' && spec.rdmPolicy !== 'relaxed') {
    throw new PciError('BAD_OPTION', `rdm_policy '${String(spec.rdmPolicy)}' for ${formatBdf(address)} is not valid; use 'strict' or 'relaxed'`, 2);
  }
  return address;
}

const flag = (v: boolean) => (v ? '1' : '0');

/** One xl PCI_SPEC_STRING, e.g. `0000:00:03.0@05,permissive=1`. */
export function xlPciEntry(spec: PassthroughSpec): string {
  const address = checkSpec(spec);
  let entry = formatBdf(address);
  if (spec.vslot !== undefined) entry += `@${spec.vslot.toString(16).padStart(2, '0')}`;
  const opts: string[] = [];
  if (spec.permissive !== undefined) opts.push(`permissive=${flag(spec.permissive)}`);
  if (spec.msitranslate !== undefined) opts.push(`msitranslate=${flag(spec.msitranslate)}`);
  if (spec.seize !== undefined) opts.push(`seize=${flag(spec.seize)}`);
  if (spec.powerMgmt !== undefined) opts.push(`power_mgmt=${flag(spec.powerMgmt)}`);
  if (spec.rdmPolicy !== undefined) opts.push(`rdm_policy=${spec.rdmPolicy}`);
  return [entry, ...opts].join(',');
}

/** The whole xl.cfg line: `pci = [ '...', '...' ]`. */
export function xlPciLine(specs: PassthroughSpec[]): string {
  return `pci = [ ${specs.map((s) => `'${xlPciEntry(s)}'`).join(', ')} ]`;
}

/** libxl_device_pci as it appears in the `pcidevs` array of libxl's JSON domain config. */
export interface LibxlDevicePci {
  func: number;
  dev: number;
  bus: number;
  domain: number;
  vdevfn?: number;
  msitranslate?: boolean;
  power_mgmt?: boolean;
  permissive?: boolean;
  seize?: boolean;
  rdm_policy?: 'strict' | 'relaxed';
}

export function libxlPcidev(spec: PassthroughSpec): LibxlDevicePci {
  const a = checkSpec(spec);
  const out: LibxlDevicePci = { func: a.function, dev: a.device, bus: a.bus, domain: a.domain };
  // vdevfn is the guest devfn: slot << 3 | function.
  if (spec.vslot !== undefined) out.vdevfn = (spec.vslot << 3) | a.function;
  if (spec.msitranslate !== undefined) out.msitranslate = spec.msitranslate;
  if (spec.powerMgmt !== undefined) out.power_mgmt = spec.powerMgmt;
  if (spec.permissive !== undefined) out.permissive = spec.permissive;
  if (spec.seize !== undefined) out.seize = spec.seize;
  if (spec.rdmPolicy !== undefined) out.rdm_policy = spec.rdmPolicy;
  return out;
}

/** `{ "pcidevs": [...] }`, to merge into a libxl JSON domain config. */
export function libxlPcidevs(specs: PassthroughSpec[]): { pcidevs: LibxlDevicePci[] } {
  return { pcidevs: specs.map(libxlPcidev) };
}

const hex = (n: number, w: number) => `0x${n.toString(16).padStart(w, '0')}`;

/**
 * libvirt `<hostdev mode='subsystem' type='pci' managed='yes'>` for the libxl driver; managed
 * makes libvirt bind pciback itself. `permissive` maps to `writeFiltering='no'`.
 */
export function libvirtHostdevXml(spec: PassthroughSpec & { managed?: boolean }): string {
  const a = checkSpec(spec);
  const managed = spec.managed === false ? 'no' : 'yes';
  const source = spec.permissive ? `<source writeFiltering='no'>` : `<source>`;
  const lines = [
    `<hostdev mode='subsystem' type='pci' managed='${managed}'>`,
    `  <driver name='xen'/>`,
    `  ${source}`,
    `    <address domain='${hex(a.domain, 4)}' bus='${hex(a.bus, 2)}' slot='${hex(a.device, 2)}' function='${hex(a.function, 1)}'/>`,
    `  </source>`,
  ];
  if (spec.vslot !== undefined) {
    lines.push(`  <address type='pci' domain='0x0000' bus='0x00' slot='${hex(spec.vslot, 2)}' function='${hex(a.function, 1)}'/>`);
  }
  lines.push(`</hostdev>`);
  return lines.join('\n');
}
