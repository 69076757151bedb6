import { readFile, readdir, readlink, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { formatBdf, parseBdf, type PciAddress } from './bdf.js';
import { decodeClassCode, type PciClass } from './classCodes.js';
import { decodeConfigSpace, type DecodedConfigSpace } from './configSpace.js';
import { PciError } from './errors.js';
import { parseResourceFile, type PciResource } from './resources.js';

/** Where to find sysfs; tests point it at a tree they built, a dom0 uses the default. */
export interface SysfsOptions {
  /** Mount point of sysfs (default `/sys`). */
  sysfsRoot?: string;
}

/** One PCI function as the host kernel sees it. */
export interface PciDevice {
  bdf: string;
  address: PciAddress;
  vendorId: number;
  deviceId: number;
  subsystemVendorId: number | null;
  subsystemDeviceId: number | null;
  classCode: PciClass;
  revision: number | null;
  /** Name of the bound driver (`pciback` when assignable to a Xen guest), null when unbound. */
  driver: string | null;
  /** Host IOMMU group; null when the host kernel does not manage an IOMMU (always so under Xen). */
  iommuGroup: number | null;
  numaNode: number | null;
  /** The kernel's enable count is non-zero (a driver enabled the function). */
  enabled: boolean | null;
  irq: number | null;
  resources: PciResource[];
  /** The device's sysfs folder. */
  sysfsPath: string;
}

/** The PCI pciback driver name under /sys/bus/pci/drivers (module xen-pciback). */
export const PCIBACK_DRIVER = 'pciback';

export function sysfsRootOf(options: SysfsOptions): string {
  return options.sysfsRoot ?? '/sys';
}

export function devicesDir(options: SysfsOptions): string {
  return join(sysfsRootOf(options), 'bus/pci/devices');
}

export function driversDir(options: SysfsOptions): string {
  return join(sysfsRootOf(options), 'bus/pci/drivers');
}

async function readText(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

async function readNumberAttr(path: string, radix: 10 | 16): Promise<number | null> {
  const text = await readText(path);
  if (text === null) return null;
  const value = radix === 16 ? Number.parseInt(text.trim().replace(/^0x/i, ''), 16) : Number.parseInt(text.trim(), 10);
  if (Number.isNaN(value)) throw new Error(`${path}: expected a ${radix === 16 ? 'hex' : 'decimal'} number, read '${text.trim()}'`);
  return value;
}

async function linkName(path: string): Promise<string | null> {
  try {
    return basename(await readlink(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EINVAL') return null;
    throw e;
  }
}

/** The name of the driver bound to `bdf` right now, or null. */
export async function currentDriver(bdf: string, options: SysfsOptions = {}): Promise<string | null> {
  return linkName(join(devicesDir(options), bdf, 'driver'));
}

async function listBdfs(options: SysfsOptions): Promise<string[]> {
  const dir = devicesDir(options);
  try {
    return (await readdir(dir)).filter((n) => !n.startsWith('.')).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new PciError(
        'NO_SUCH_DEVICE',
        `no PCI bus in sysfs: '${dir}' does not exist; mount sysfs (mount -t sysfs sysfs /sys) or pass the right sysfsRoot`,
      );
    }
    throw e;
  }
}

async function readDeviceAt(bdf: string, options: SysfsOptions): Promise<PciDevice> {
  const dir = join(devicesDir(options), bdf);
  const vendorId = await readNumberAttr(join(dir, 'vendor'), 16);
  const deviceId = await readNumberAttr(join(dir, 'device'), 16);
  const classCode = await readNumberAttr(join(dir, 'class'), 16);
  if (vendorId === null || deviceId === null || classCode === null) {
    throw new Error(`${dir}: vendor, device or class attribute missing; is this a PCI device folder?`);
  }
  const numa = await readNumberAttr(join(dir, 'numa_node'), 10);
  const enable = await readNumberAttr(join(dir, 'enable'), 10);
  const groupName = await linkName(join(dir, 'iommu_group'));
  const resourceText = await readText(join(dir, 'resource'));
  return {
    bdf,
    address: parseBdf(bdf),
    vendorId,
    deviceId,
    subsystemVendorId: await readNumberAttr(join(dir, 'subsystem_vendor'), 16),
    subsystemDeviceId: await readNumberAttr(join(dir, 'subsystem_device'), 16),
    classCode: decodeClassCode(classCode),
    revision: await readNumberAttr(join(dir, 'revision'), 16),
    driver: await linkName(join(dir, 'driver')),
    iommuGroup: groupName === null ? null : Number.parseInt(groupName, 10),
    numaNode: numa === null || numa < 0 ? null : numa,
    enabled: enable === null ? null : enable !== 0,
    irq: await readNumberAttr(join(dir, 'irq'), 10),
    resources: resourceText === null ? [] : parseResourceFile(resourceText, join(dir, 'resource')),
    sysfsPath: dir,
  };
}

/** Every PCI function in sysfs, sorted by BDF. */
export async function listDevices(options: SysfsOptions = {}): Promise<PciDevice[]> {
  const bdfs = await listBdfs(options);
  return Promise.all(bdfs.map((bdf) => readDeviceAt(bdf, options)));
}

function noSuchDevice(input: string, bdf: string, present: string[], options: SysfsOptions): PciError {
  const shown = present.length === 0 ? 'none' : present.slice(0, 16).join(', ') + (present.length > 16 ? ', ...' : '');
  return new PciError(
    'NO_SUCH_DEVICE',
    `no PCI device '${input}' (${bdf}) in ${devicesDir(options)} (present: ${shown}); ` +
      `pick one from 'image-linker pci list' or 'lspci -D', and check the device is given to this host (e.g. QEMU -device)`,
    2,
  );
}

/** One device by address (any spelling parseBdf accepts). Throws BAD_BDF or NO_SUCH_DEVICE. */
export async function readDevice(bdf: string | PciAddress, options: SysfsOptions = {}): Promise<PciDevice> {
  const input = typeof bdf === 'string' ? bdf : formatBdf(bdf);
  const canonical = formatBdf(typeof bdf === 'string' ? parseBdf(bdf) : bdf);
  try {
    await stat(join(devicesDir(options), canonical));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    throw noSuchDevice(input, canonical, await listBdfs(options), options);
  }
  return readDeviceAt(canonical, options);
}

/**
 * The raw config space bytes from sysfs `config`: 64 bytes for an unprivileged reader, 256 or
 * 4096 for root.
 */
export async function readConfigSpace(bdf: string | PciAddress, options: SysfsOptions = {}): Promise<Uint8Array> {
  const device = await readDevice(bdf, options);
  return new Uint8Array(await readFile(join(device.sysfsPath, 'config')));
}

/** A device with its decoded config space (BAR sizes from its resource lines). */
export async function inspectDevice(
  bdf: string | PciAddress,
  options: SysfsOptions = {},
): Promise<{ device: PciDevice; config: DecodedConfigSpace }> {
  const device = await readDevice(bdf, options);
  const bytes = new Uint8Array(await readFile(join(device.sysfsPath, 'config')));
  return { device, config: decodeConfigSpace(bytes, device.resources.length > 0 ? { resources: device.resources } : {}) };
}
