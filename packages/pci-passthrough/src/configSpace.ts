import { decodeClassCode, type PciClass } from './classCodes.js';
import { PciError } from './errors.js';
import type { PciResource } from './resources.js';

/**
 * Decoding of a PCI function's configuration space as read from sysfs `config` (or any other
 * copy of it). The bytes are untrusted: every pointer is bounds-checked, the capability walks
 * are bounded and loop-checked, and anything odd is reported in `warnings` instead of thrown.
 */

export type BarKind = 'mem32' | 'mem64' | 'mem1m' | 'io';

export interface PciBar {
  /** BAR register number (0..5; a 64-bit BAR uses `index` and `index + 1`). */
  index: number;
  /** Config-space offset of the (low) BAR register. */
  offset: number;
  kind: BarKind;
  prefetchable: boolean;
  /** Bus address programmed in the register(s). */
  address: bigint;
  /** Size in bytes from the host's resource list; null when no resource list was given. */
  size: bigint | null;
}

export interface ExpansionRom {
  offset: number;
  address: bigint;
  enabled: boolean;
  size: bigint | null;
}

export interface BridgeWindows {
  primaryBus: number;
  secondaryBus: number;
  subordinateBus: number;
  /** Forwarded I/O range, or null when closed (limit below base). */
  io: { base: bigint; limit: bigint } | null;
  memory: { base: bigint; limit: bigint } | null;
  prefetchable: { base: bigint; limit: bigint; is64: boolean } | null;
  bridgeControl: number;
}

interface CapabilityBase {
  id: number;
  name: string;
  /** Offset of the capability in config space. */
  offset: number;
}

export interface PowerManagementCapability extends CapabilityBase {
  kind: 'pm';
  version: number;
  d1Support: boolean;
  d2Support: boolean;
  /** States from which the function can assert PME#. */
  pmeSupport: Array<'D0' | 'D1' | 'D2' | 'D3hot' | 'D3cold'>;
  powerState: 'D0' | 'D1' | 'D2' | 'D3hot';
  noSoftReset: boolean;
}

export interface MsiCapability extends CapabilityBase {
  kind: 'msi';
  enabled: boolean;
  address64: boolean;
  perVectorMasking: boolean;
  /** Vectors the function can use (1, 2, 4 .. 32). */
  multipleMessageCapable: number;
  /** Vectors software enabled. */
  multipleMessageEnabled: number;
  messageAddress: bigint;
  messageData: number;
  /** Mask and pending bits, present only with per-vector masking. */
  maskBits: number | null;
  pendingBits: number | null;
}

export interface MsixCapability extends CapabilityBase {
  kind: 'msix';
  enabled: boolean;
  functionMask: boolean;
  /** Number of table entries (1..2048). */
  tableSize: number;
  tableBar: number;
  tableOffset: number;
  pbaBar: number;
  pbaOffset: number;
}

export type PcieDeviceType =
  | 'endpoint'
  | 'legacy-endpoint'
  | 'root-port'
  | 'upstream-switch-port'
  | 'downstream-switch-port'
  | 'pcie-to-pci-bridge'
  | 'pci-to-pcie-bridge'
  | 'rc-integrated-endpoint'
  | 'rc-event-collector'
  | 'unknown';

export interface PcieCapability extends CapabilityBase {
  kind: 'pcie';
  version: number;
  deviceType: PcieDeviceType;
  slotImplemented: boolean;
  interruptMessageNumber: number;
  maxPayloadSupported: number;
  maxPayload: number;
  maxReadRequest: number;
  /** Link fields; null for types without a link (RC integrated endpoints, event collectors). */
  link: { maxSpeed: string; maxWidth: number; speed: string; width: number } | null;
}

export interface VendorCapability extends CapabilityBase {
  kind: 'vendor';
  length: number;
  /** The capability's bytes after the id/next pair (at most `length` - 2, within config space). */
  data: number[];
  /** Decoded when the function is a virtio device (vendor 0x1af4). */
  virtio: { cfgType: number; cfgTypeName: string; bar: number; offset: number; length: number } | null;
}

export interface OtherCapability extends CapabilityBase {
  kind: 'other';
}

export type PciCapability =
  | PowerManagementCapability
  | MsiCapability
  | MsixCapability
  | PcieCapability
  | VendorCapability
  | OtherCapability;

export interface PciExtendedCapability {
  id: number;
  name: string;
  version: number;
  offset: number;
}

export type HeaderLayout = 'endpoint' | 'bridge' | 'cardbus' | 'unknown';

export interface DecodedConfigSpace {
  /** Bytes decoded (64 when read without privilege, 256 for PCI, 4096 for PCIe). */
  length: number;
  vendorId: number;
  deviceId: number;
  command: number;
  commandFlags: { ioSpace: boolean; memorySpace: boolean; busMaster: boolean; intxDisabled: boolean };
  status: number;
  revision: number;
  classCode: PciClass;
  cacheLineSize: number;
  latencyTimer: number;
  headerType: number;
  headerLayout: HeaderLayout;
  multiFunction: boolean;
  bist: number;
  bars: PciBar[];
  subsystemVendorId: number | null;
  subsystemId: number | null;
  expansionRom: ExpansionRom | null;
  capabilityPointer: number;
  interruptLine: number;
  interruptPin: 'none' | 'INTA' | 'INTB' | 'INTC' | 'INTD' | 'invalid';
  bridge: BridgeWindows | null;
  capabilities: PciCapability[];
  extendedCapabilities: PciExtendedCapability[];
  /** Things that looked wrong (bad pointers, loops, truncation); decoding went on around them. */
  warnings: string[];
}

export interface DecodeOptions {
  /** The device's sysfs resource list: BAR and ROM sizes come from it. */
  resources?: PciResource[];
}

const CAP_NAMES: Record<number, string> = {
  0x01: 'Power Management',
  0x02: 'AGP',
  0x03: 'Vital Product Data',
  0x04: 'Slot Identification',
  0x05: 'MSI',
  0x06: 'CompactPCI Hot Swap',
  0x07: 'PCI-X',
  0x08: 'HyperTransport',
  0x09: 'Vendor Specific',
  0x0a: 'Debug port',
  0x0b: 'CompactPCI central resource control',
  0x0c: 'PCI Hot-Plug',
  0x0d: 'Bridge subsystem vendor ID',
  0x0e: 'AGP 8x',
  0x0f: 'Secure Device',
  0x10: 'PCI Express',
  0x11: 'MSI-X',
  0x12: 'SATA Data/Index Configuration',
  0x13: 'Advanced Features',
  0x14: 'Enhanced Allocation',
  0x15: 'Flattening Portal Bridge',
};

const EXT_CAP_NAMES: Record<number, string> = {
  0x01: 'Advanced Error Reporting',
  0x02: 'Virtual Channel',
  0x03: 'Device Serial Number',
  0x04: 'Power Budgeting',
  0x05: 'Root Complex Link Declaration',
  0x06: 'Root Complex Internal Link Control',
  0x07: 'Root Complex Event Collector Endpoint Association',
  0x08: 'Multi-Function Virtual Channel',
  0x09: 'Virtual Channel (MFVC present)',
  0x0a: 'Root Complex Register Block',
  0x0b: 'Vendor-Specific Extended',
  0x0c: 'Configuration Access Correlation',
  0x0d: 'Access Control Services',
  0x0e: 'Alternative Routing-ID Interpretation',
  0x0f: 'Address Translation Services',
  0x10: 'Single Root I/O Virtualization',
  0x11: 'Multi-Root I/O Virtualization',
  0x12: 'Multicast',
  0x13: 'Page Request Interface',
  0x15: 'Resizable BAR',
  0x16: 'Dynamic Power Allocation',
  0x17: 'TLP Processing Hints',
  0x18: 'Latency Tolerance Reporting',
  0x19: 'Secondary PCI Express',
  0x1a: 'Protocol Multiplexing',
  0x1b: 'Process Address Space ID',
  0x1c: 'LN Requester',
  0x1d: 'Downstream Port Containment',
  0x1e: 'L1 PM Substates',
  0x1f: 'Precision Time Measurement',
  0x20: 'PCI Express over M-PHY',
  0x21: 'FRS Queueing',
  0x22: 'Readiness Time Reporting',
  0x23: 'Designated Vendor-Specific',
  0x24: 'VF Resizable BAR',
  0x25: 'Data Link Feature',
  0x26: 'Physical Layer 16.0 GT/s',
  0x27: 'Lane Margining at the Receiver',
  0x28: 'Hierarchy ID',
  0x29: 'Native PCIe Enclosure Management',
  0x2a: 'Physical Layer 32.0 GT/s',
  0x2b: 'Alternate Protocol',
  0x2c: 'System Firmware Intermediary',
};

const PCIE_TYPES: Record<number, PcieDeviceType> = {
  0x0: 'endpoint',
  0x1: 'legacy-endpoint',
  0x4: 'root-port',
  0x5: 'upstream-switch-port',
  0x6: 'downstream-switch-port',
  0x7: 'pcie-to-pci-bridge',
  0x8: 'pci-to-pcie-bridge',
  0x9: 'rc-integrated-endpoint',
  0xa: 'rc-event-collector',
};

const LINK_SPEEDS: Record<number, string> = {
  1: '2.5GT/s',
  2: '5GT/s',
  3: '8GT/s',
  4: '16GT/s',
  5: '32GT/s',
  6: '64GT/s',
};

const VIRTIO_CFG_TYPES: Record<number, string> = {
  1: 'common',
  2: 'notify',
  3: 'isr',
  4: 'device',
  5: 'pci-cfg',
  8: 'shared-memory',
  9: 'vendor',
};

/** Standard header size; capabilities live above it. */
const HEADER_END = 0x40;
/** End of the PCI-compatible region; extended capabilities start here. */
const EXT_START = 0x100;

class OutOfRange extends Error {}

/** Little-endian reads that refuse to run past the bytes that were actually read. */
class ConfigReader {
  constructor(private readonly bytes: Uint8Array) {}
  get length(): number {
    return this.bytes.length;
  }
  u8(off: number): number {
    if (off < 0 || off + 1 > this.bytes.length) throw new OutOfRange(`0x${off.toString(16)}`);
    return this.bytes[off]!;
  }
  u16(off: number): number {
    return this.u8(off) | (this.u8(off + 1) << 8);
  }
  u32(off: number): number {
    return (this.u16(off) | (this.u16(off + 2) << 16)) >>> 0;
  }
}

/**
 * Size in bytes of a BAR from the value read back after writing all ones to it (the classic
 * sizing probe). `highProbe` is the read-back of the upper register of a 64-bit memory BAR.
 * Returns 0 for an unimplemented BAR (read-back 0).
 */
export function barSizeFromProbe(lowProbe: number, highProbe?: number): bigint {
  const low = lowProbe >>> 0;
  if (low & 0x1) {
    let mask = low & 0xfffffffc;
    if (mask === 0) return 0n;
    // I/O BARs may implement only 16 address bits; the upper half then reads back as 0.
    if ((mask & 0xffff0000) === 0) mask = (mask | 0xffff0000) >>> 0;
    return BigInt(((~mask >>> 0) + 1) >>> 0);
  }
  const type = (low >>> 1) & 0x3;
  if (type === 0x2) {
    if (highProbe === undefined) {
      throw new RangeError(`barSizeFromProbe: 0x${low.toString(16)} is a 64-bit memory BAR; pass the upper register's read-back as highProbe`);
    }
    const mask = (BigInt(highProbe >>> 0) << 32n) | BigInt((low & 0xfffffff0) >>> 0);
    if (mask === 0n) return 0n;
    return ((~mask) & 0xffffffffffffffffn) + 1n;
  }
  const mask = (low & 0xfffffff0) >>> 0;
  if (mask === 0) return 0n;
  return BigInt((~mask >>> 0) + 1);
}

/** Size in bytes of an expansion ROM from its sizing probe (address bits 31..11). */
export function romSizeFromProbe(probe: number): bigint {
  const mask = (probe & 0xfffff800) >>> 0;
  if (mask === 0) return 0n;
  return BigInt((~mask >>> 0) + 1);
}

function capName(id: number): string {
  return CAP_NAMES[id] ?? `Unknown capability 0x${id.toString(16).padStart(2, '0')}`;
}

function decodeBars(r: ConfigReader, count: number, resources: PciResource[] | undefined, warnings: string[]): PciBar[] {
  const bars: PciBar[] = [];
  for (let i = 0; i < count; i++) {
    const offset = 0x10 + 4 * i;
    const low = r.u32(offset);
    const resource = resources?.[i];
    const size = resources ? (resource?.size ?? 0n) : null;
    // A BAR that reads 0 and has no host resource is not implemented.
    if (low === 0 && (size === null || size === 0n)) continue;
    if (low & 0x1) {
      bars.push({ index: i, offset, kind: 'io', prefetchable: false, address: BigInt((low & 0xfffffffc) >>> 0), size });
      continue;
    }
    const type = (low >>> 1) & 0x3;
    const prefetchable = (low & 0x8) !== 0;
    const base = BigInt((low & 0xfffffff0) >>> 0);
    if (type === 0x2) {
      if (i + 1 >= count) {
        warnings.push(`BAR${i} at 0x${offset.toString(16)} claims to be 64-bit but is the last BAR; its upper half is missing`);
        bars.push({ index: i, offset, kind: 'mem64', prefetchable, address: base, size });
        continue;
      }
      const high = r.u32(offset + 4);
      bars.push({ index: i, offset, kind: 'mem64', prefetchable, address: (BigInt(high) << 32n) | base, size });
      i++;
      continue;
    }
    if (type === 0x3) warnings.push(`BAR${i} at 0x${offset.toString(16)} has the reserved memory type 3`);
    bars.push({ index: i, offset, kind: type === 0x1 ? 'mem1m' : 'mem32', prefetchable, address: base, size });
  }
  return bars;
}

function decodeBridge(r: ConfigReader): BridgeWindows {
  const ioBaseReg = r.u8(0x1c);
  const ioLimitReg = r.u8(0x1d);
  const io32 = (ioBaseReg & 0xf) === 0x1;
  const ioBase = BigInt(((ioBaseReg & 0xf0) << 8) | (io32 ? r.u16(0x30) << 16 : 0)) & 0xffffffffn;
  const ioLimit = (BigInt(((ioLimitReg & 0xf0) << 8) | (io32 ? r.u16(0x32) << 16 : 0)) & 0xffffffffn) | 0xfffn;
  const memBase = BigInt((r.u16(0x20) & 0xfff0) << 16 >>> 0);
  const memLimit = BigInt((r.u16(0x22) & 0xfff0) << 16 >>> 0) | 0xfffffn;
  const pfBaseReg = r.u16(0x24);
  const pfLimitReg = r.u16(0x26);
  const pf64 = (pfBaseReg & 0xf) === 0x1;
  const pfBase = BigInt(((pfBaseReg & 0xfff0) << 16) >>> 0) | (pf64 ? BigInt(r.u32(0x28)) << 32n : 0n);
  const pfLimit = BigInt(((pfLimitReg & 0xfff0) << 16) >>> 0) | 0xfffffn | (pf64 ? BigInt(r.u32(0x2c)) << 32n : 0n);
  return {
    primaryBus: r.u8(0x18),
    secondaryBus: r.u8(0x19),
    subordinateBus: r.u8(0x1a),
    io: ioLimit >= ioBase ? { base: ioBase, limit: ioLimit } : null,
    memory: memLimit >= memBase ? { base: memBase, limit: memLimit } : null,
    prefetchable: pfLimit >= pfBase ? { base: pfBase, limit: pfLimit, is64: pf64 } : null,
    bridgeControl: r.u16(0x3e),
  };
}

function decodeCapability(r: ConfigReader, id: number, offset: number, vendorId: number): PciCapability {
  const base = { id, name: capName(id), offset };
  switch (id) {
    case 0x01: {
      const pmc = r.u16(offset + 2);
      const pmcsr = r.u16(offset + 4);
      const states = ['D0', 'D1', 'D2', 'D3hot', 'D3cold'] as const;
      return {
        ...base,
        kind: 'pm',
        version: pmc & 0x7,
        d1Support: (pmc & 0x200) !== 0,
        d2Support: (pmc & 0x400) !== 0,
        pmeSupport: states.filter((_, bit) => (pmc >>> (11 + bit)) & 1),
        powerState: (['D0', 'D1', 'D2', 'D3hot'] as const)[pmcsr & 0x3]!,
        noSoftReset: (pmcsr & 0x8) !== 0,
      };
    }
    case 0x05: {
      const ctl = r.u16(offset + 2);
      const address64 = (ctl & 0x80) !== 0;
      const perVectorMasking = (ctl & 0x100) !== 0;
      const addrLow = BigInt(r.u32(offset + 4));
      const addrHigh = address64 ? BigInt(r.u32(offset + 8)) : 0n;
      const dataOff = offset + (address64 ? 0x0c : 0x08);
      return {
        ...base,
        kind: 'msi',
        enabled: (ctl & 0x1) !== 0,
        address64,
        perVectorMasking,
        multipleMessageCapable: 1 << Math.min((ctl >>> 1) & 0x7, 5),
        multipleMessageEnabled: 1 << Math.min((ctl >>> 4) & 0x7, 5),
        messageAddress: (addrHigh << 32n) | addrLow,
        messageData: r.u16(dataOff),
        maskBits: perVectorMasking ? r.u32(dataOff + 4) : null,
        pendingBits: perVectorMasking ? r.u32(dataOff + 8) : null,
      };
    }
    case 0x11: {
      const ctl = r.u16(offset + 2);
      const table = r.u32(offset + 4);
      const pba = r.u32(offset + 8);
      return {
        ...base,
        kind: 'msix',
        enabled: (ctl & 0x8000) !== 0,
        functionMask: (ctl & 0x4000) !== 0,
        tableSize: (ctl & 0x7ff) + 1,
        tableBar: table & 0x7,
        tableOffset: (table & 0xfffffff8) >>> 0,
        pbaBar: pba & 0x7,
        pbaOffset: (pba & 0xfffffff8) >>> 0,
      };
    }
    case 0x10: {
      const caps = r.u16(offset + 2);
      const devCap = r.u32(offset + 4);
      const devCtl = r.u16(offset + 8);
      const typeCode = (caps >>> 4) & 0xf;
      const deviceType = PCIE_TYPES[typeCode] ?? 'unknown';
      const hasLink = deviceType !== 'rc-integrated-endpoint' && deviceType !== 'rc-event-collector';
      let link: PcieCapability['link'] = null;
      if (hasLink) {
        const linkCap = r.u32(offset + 0x0c);
        const linkStatus = r.u16(offset + 0x12);
        const speed = (code: number) => LINK_SPEEDS[code] ?? `unknown(${code})`;
        link = {
          maxSpeed: speed(linkCap & 0xf),
          maxWidth: (linkCap >>> 4) & 0x3f,
          speed: speed(linkStatus & 0xf),
          width: (linkStatus >>> 4) & 0x3f,
        };
      }
      return {
        ...base,
        kind: 'pcie',
        version: caps & 0xf,
        deviceType,
        slotImplemented: (caps & 0x100) !== 0,
        interruptMessageNumber: (caps >>> 9) & 0x1f,
        maxPayloadSupported: 128 << Math.min(devCap & 0x7, 5),
        maxPayload: 128 << Math.min((devCtl >>> 5) & 0x7, 5),
        maxReadRequest: 128 << Math.min((devCtl >>> 12) & 0x7, 5),
        link,
      };
    }
    case 0x09: {
      const length = r.u8(offset + 2);
      const data: number[] = [];
      const end = Math.min(offset + Math.max(length, 3), EXT_START, r.length);
      for (let o = offset + 2; o < end; o++) data.push(r.u8(o));
      let virtio: VendorCapability['virtio'] = null;
      if (vendorId === 0x1af4 && length >= 16) {
        const cfgType = r.u8(offset + 3);
        virtio = {
          cfgType,
          cfgTypeName: VIRTIO_CFG_TYPES[cfgType] ?? `unknown(${cfgType})`,
          bar: r.u8(offset + 4),
          offset: r.u32(offset + 8),
          length: r.u32(offset + 12),
        };
      }
      return { ...base, kind: 'vendor', length, data, virtio };
    }
    default:
      return { ...base, kind: 'other' };
  }
}

function walkCapabilities(r: ConfigReader, start: number, vendorId: number, warnings: string[]): PciCapability[] {
  const caps: PciCapability[] = [];
  const seen = new Set<number>();
  const limit = Math.min(r.length, EXT_START);
  // Each capability takes at least 4 bytes of 0x40..0xff: more entries than that is a loop.
  const maxEntries = (EXT_START - HEADER_END) / 4;
  let ptr = start & 0xfc;
  while (ptr !== 0) {
    if (ptr < HEADER_END) {
      warnings.push(`capability pointer 0x${ptr.toString(16)} points into the standard header; list ignored from there`);
      break;
    }
    if (ptr + 2 > limit) {
      warnings.push(`capability pointer 0x${ptr.toString(16)} is beyond the ${limit} bytes of config space read; list ignored from there`);
      break;
    }
    if (seen.has(ptr)) {
      warnings.push(`capability list loops back to 0x${ptr.toString(16)}; walk stopped`);
      break;
    }
    if (caps.length >= maxEntries) {
      warnings.push(`capability list longer than ${maxEntries} entries; walk stopped`);
      break;
    }
    seen.add(ptr);
    const id = r.u8(ptr);
    const next = r.u8(ptr + 1) & 0xfc;
    try {
      caps.push(decodeCapability(r, id, ptr, vendorId));
    } catch (e) {
      if (!(e instanceof OutOfRange)) throw e;
      warnings.push(`${capName(id)} capability at 0x${ptr.toString(16)} extends past the ${r.length} bytes read; fields not decoded`);
      caps.push({ id, name: capName(id), offset: ptr, kind: 'other' });
    }
    ptr = next;
  }
  return caps;
}

function walkExtendedCapabilities(r: ConfigReader, warnings: string[]): PciExtendedCapability[] {
  const caps: PciExtendedCapability[] = [];
  if (r.length < EXT_START + 4) return caps;
  const seen = new Set<number>();
  const maxEntries = (r.length - EXT_START) / 4;
  let ptr = EXT_START;
  for (;;) {
    if (ptr + 4 > r.length) {
      warnings.push(`extended capability pointer 0x${ptr.toString(16)} is beyond the ${r.length} bytes read; walk stopped`);
      break;
    }
    if (seen.has(ptr)) {
      warnings.push(`extended capability list loops back to 0x${ptr.toString(16)}; walk stopped`);
      break;
    }
    if (caps.length >= maxEntries) {
      warnings.push(`extended capability list longer than ${maxEntries} entries; walk stopped`);
      break;
    }
    seen.add(ptr);
    const header = r.u32(ptr);
    // An all-zero or all-ones header at 0x100 means there are no extended capabilities.
    if (header === 0 || header === 0xffffffff) break;
    const id = header & 0xffff;
    caps.push({
      id,
      name: EXT_CAP_NAMES[id] ?? `Unknown extended capability 0x${id.toString(16).padStart(4, '0')}`,
      version: (header >>> 16) & 0xf,
      offset: ptr,
    });
    const next = (header >>> 20) & 0xffc;
    if (next === 0) break;
    if (next < EXT_START) {
      warnings.push(`extended capability at 0x${ptr.toString(16)} points to 0x${next.toString(16)}, below 0x100; walk stopped`);
      break;
    }
    ptr = next;
  }
  return caps;
}

/**
 * Decodes a configuration space image (at least the 64-byte header). Type 0 (endpoint) and
 * type 1 (bridge) headers are decoded fully; a CardBus header only up to its capability list.
 * BAR sizes come from `options.resources` (the sysfs `resource` lines), since sizing a BAR needs
 * a write. Throws PciError BAD_CONFIG_SPACE only when the header itself is missing.
 */
export function decodeConfigSpace(buffer: Uint8Array, options: DecodeOptions = {}): DecodedConfigSpace {
  if (buffer.length < HEADER_END) {
    throw new PciError(
      'BAD_CONFIG_SPACE',
      `config space of ${buffer.length} bytes is shorter than the 64-byte standard header; pass the whole sysfs 'config' file (at least 64 bytes)`,
      2,
    );
  }
  const r = new ConfigReader(buffer);
  const warnings: string[] = [];
  const vendorId = r.u16(0x00);
  if (vendorId === 0xffff || vendorId === 0x0000) {
    warnings.push(`vendor id 0x${vendorId.toString(16)} means no function answered at this address`);
  }
  const command = r.u16(0x04);
  const status = r.u16(0x06);
  const headerType = r.u8(0x0e);
  const layoutCode = headerType & 0x7f;
  const headerLayout: HeaderLayout = layoutCode === 0 ? 'endpoint' : layoutCode === 1 ? 'bridge' : layoutCode === 2 ? 'cardbus' : 'unknown';
  if (headerLayout === 'unknown') warnings.push(`header type ${layoutCode} is not 0, 1 or 2; only the common fields were decoded`);

  const barCount = headerLayout === 'endpoint' ? 6 : headerLayout === 'bridge' ? 2 : 0;
  const bars = decodeBars(r, barCount, options.resources, warnings);

  let expansionRom: ExpansionRom | null = null;
  const romOffset = headerLayout === 'endpoint' ? 0x30 : headerLayout === 'bridge' ? 0x38 : -1;
  if (romOffset >= 0) {
    const rom = r.u32(romOffset);
    const romResource = options.resources?.[6];
    const size = options.resources ? (romResource?.size ?? 0n) : null;
    if (rom !== 0 || (size !== null && size > 0n)) {
      expansionRom = { offset: romOffset, address: BigInt((rom & 0xfffff800) >>> 0), enabled: (rom & 1) !== 0, size };
    }
  }

  const capPtrOffset = headerLayout === 'cardbus' ? 0x14 : 0x34;
  const capabilityPointer = headerLayout === 'unknown' ? 0 : r.u8(capPtrOffset);
  let capabilities: PciCapability[] = [];
  if (status & 0x10) {
    if (buffer.length <= HEADER_END) {
      warnings.push(`only the 64-byte header was read (sysfs gives more to root only); capabilities not decoded`);
    } else {
      capabilities = walkCapabilities(r, capabilityPointer, vendorId, warnings);
    }
  }

  const pinCode = r.u8(0x3d);
  const pins = ['none', 'INTA', 'INTB', 'INTC', 'INTD'] as const;
  return {
    length: buffer.length,
    vendorId,
    deviceId: r.u16(0x02),
    command,
    commandFlags: {
      ioSpace: (command & 0x1) !== 0,
      memorySpace: (command & 0x2) !== 0,
      busMaster: (command & 0x4) !== 0,
      intxDisabled: (command & 0x400) !== 0,
    },
    status,
    revision: r.u8(0x08),
    classCode: decodeClassCode((r.u8(0x0b) << 16) | (r.u8(0x0a) << 8) | r.u8(0x09)),
    cacheLineSize: r.u8(0x0c),
    latencyTimer: r.u8(0x0d),
    headerType,
    headerLayout,
    multiFunction: (headerType & 0x80) !== 0,
    bist: r.u8(0x0f),
    bars,
    subsystemVendorId: headerLayout === 'endpoint' ? r.u16(0x2c) : null,
    subsystemId: headerLayout === 'endpoint' ? r.u16(0x2e) : null,
    expansionRom,
    capabilityPointer,
    interruptLine: r.u8(0x3c),
    interruptPin: pins[pinCode] ?? 'invalid',
    bridge: headerLayout === 'bridge' ? decodeBridge(r) : null,
    capabilities,
    extendedCapabilities: walkExtendedCapabilities(r, warnings),
    warnings,
  };
}
