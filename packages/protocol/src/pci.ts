/**
 * A PCI device passed through to a Xen guest: its host address (`[DDDD:]BB:DD.F`, read by the
 * one BDF parser here), its options, and its entry in the three forms Xen toolstacks read:
 * xl's PCI_SPEC_STRING (xl-pci-configuration(5)), libxl's JSON `libxl_device_pci`, and
 * libvirt's `<hostdev>`. The domain renderers (`domain.ts`) write their devices with these;
 * `@rumpxen/pci-passthrough` exports them under its own names, with its own error class.
 */

/** A PCI address: segment (domain), bus, device (slot) and function. */
export interface PciAddress {
  domain: number;
  bus: number;
  device: number;
  function: number;
}

/** libxl's reserved device memory policy (xl's `rdm_policy=`). */
export type RdmPolicy = 'strict' | 'relaxed';

/** A device to pass through: its address and the options xl-pci-configuration(5) gives it. Only the options given are written. */
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
  rdmPolicy?: RdmPolicy;
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
  rdm_policy?: RdmPolicy;
}

/** What was wrong with a device spec: its address (its form, or a device number past the bus's 32 slots) or an option. */
export type PciSpecProblem = 'bdf' | 'device-number' | 'vslot' | 'rdm_policy';

/**
 * A device spec was refused. `input` is the text or value refused, `problem` which part was
 * wrong, `value` the offending number or word (the device number, vslot or rdm_policy); the
 * message names the input, what was wrong and the fix.
 */
export class PciSpecError extends Error {
  override readonly name: string = 'PciSpecError';
  constructor(
    message: string,
    readonly problem: PciSpecProblem,
    readonly input: string,
    readonly value?: unknown,
  ) {
    super(message);
  }
}

/** A bus has 32 device slots. */
const PCI_MAX_DEVICE = 0x1f;

const BDF_RE = /^(?:([0-9a-fA-F]{1,4}):)?([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})\.([0-7])$/;
const BDF_FIX = "write it as DDDD:BB:DD.F with hex digits, e.g. 0000:00:03.0 (see 'lspci -D' or /sys/bus/pci/devices)";

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

/**
 * Parses `[DDDD:]BB:DD.F` (the form lspci, sysfs and xl use; hex fields, domain 0 when
 * omitted; whitespace around it ignored). Throws PciSpecError (`bdf` or `device-number`)
 * naming the input and the expected form.
 */
export function parseBdf(text: string): PciAddress {
  const m = BDF_RE.exec(text.trim());
  if (!m) throw new PciSpecError(`malformed PCI address '${text}': expected [DDDD:]BB:DD.F; ${BDF_FIX}`, 'bdf', text);
  const address: PciAddress = {
    domain: m[1] === undefined ? 0 : parseInt(m[1], 16),
    bus: parseInt(m[2]!, 16),
    device: parseInt(m[3]!, 16),
    function: parseInt(m[4]!, 10),
  };
  if (address.device > PCI_MAX_DEVICE) {
    throw new PciSpecError(
      `malformed PCI address '${text}': device number 0x${hex(address.device, 1)} is above 0x1f (a bus has 32 device slots); ${BDF_FIX}`,
      'device-number',
      text,
      address.device,
    );
  }
  return address;
}

/** Canonical `DDDD:BB:DD.F`, the name of the device's folder in /sys/bus/pci/devices. */
export function formatBdf(address: PciAddress): string {
  return `${hex(address.domain, 4)}:${hex(address.bus, 2)}:${hex(address.device, 2)}.${address.function}`;
}

/** The spec's address, parsed; its options checked. Throws PciSpecError naming the bad one and the allowed values. */
export function checkPassthrough(spec: PassthroughSpec): PciAddress {
  const address = typeof spec.bdf === 'string' ? parseBdf(spec.bdf) : spec.bdf;
  if (spec.vslot !== undefined && (!Number.isInteger(spec.vslot) || spec.vslot < 0 || spec.vslot > PCI_MAX_DEVICE)) {
    throw new PciSpecError(`vslot ${spec.vslot} for ${formatBdf(address)} is not a guest slot number; use an integer 0..31`, 'vslot', formatBdf(address), spec.vslot);
  }
  if (spec.rdmPolicy !== undefined && spec.rdmPolicy !== 'strict' && spec.rdmPolicy !== 'relaxed') {
    throw new PciSpecError(`rdm_policy '${String(spec.rdmPolicy)}' for ${formatBdf(address)} is not valid; use 'strict' or 'relaxed'`, 'rdm_policy', formatBdf(address), spec.rdmPolicy);
  }
  return address;
}

const flag = (v: boolean) => (v ? '1' : '0');

/** One xl PCI_SPEC_STRING, e.g. `0000:00:03.0@05,permissive=1`: the canonical BDF, the guest slot, then each option given. */
export function xlPciSpec(spec: PassthroughSpec): string {
  const address = checkPassthrough(spec);
  let entry = formatBdf(address);
  if (spec.vslot !== undefined) entry += `@${hex(spec.vslot, 2)}`;
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
  return `pci = [ ${specs.map((s) => `'${xlPciSpec(s)}'`).join(', ')} ]`;
}

/** The device's libxl_device_pci (vdevfn, the guest devfn, from the guest slot), with the options given. */
export function libxlPci(spec: PassthroughSpec): LibxlDevicePci {
  const a = checkPassthrough(spec);
  const out: LibxlDevicePci = { func: a.function, dev: a.device, bus: a.bus, domain: a.domain };
  if (spec.vslot !== undefined) out.vdevfn = (spec.vslot << 3) | a.function;
  if (spec.msitranslate !== undefined) out.msitranslate = spec.msitranslate;
  if (spec.powerMgmt !== undefined) out.power_mgmt = spec.powerMgmt;
  if (spec.permissive !== undefined) out.permissive = spec.permissive;
  if (spec.seize !== undefined) out.seize = spec.seize;
  if (spec.rdmPolicy !== undefined) out.rdm_policy = spec.rdmPolicy;
  return out;
}

/**
 * libvirt `<hostdev mode='subsystem' type='pci'>` for the libxl driver. `managed` (default)
 * makes libvirt bind pciback itself; `permissive` is `writeFiltering='no'`; a guest slot is
 * the guest-side `<address>`.
 */
export function libvirtHostdev(spec: PassthroughSpec & { managed?: boolean }): string {
  const a = checkPassthrough(spec);
  const h = (n: number, w: number) => `0x${hex(n, w)}`;
  const lines = [
    `<hostdev mode='subsystem' type='pci' managed='${spec.managed === false ? 'no' : 'yes'}'>`,
    "  <driver name='xen'/>",
    spec.permissive ? "  <source writeFiltering='no'>" : '  <source>',
    `    <address domain='${h(a.domain, 4)}' bus='${h(a.bus, 2)}' slot='${h(a.device, 2)}' function='${h(a.function, 1)}'/>`,
    '  </source>',
  ];
  if (spec.vslot !== undefined) lines.push(`  <address type='pci' domain='0x0000' bus='0x00' slot='${h(spec.vslot, 2)}' function='${h(a.function, 1)}'/>`);
  lines.push('</hostdev>');
  return lines.join('\n');
}
