/**
 * The domain config a tool hands to `domains.create()`, its validation and its
 * conversion to the addon's flat spec.  Field names follow xl.cfg where one exists.
 */
import { XenConfigError } from './errors.js';
import type { NativeDomainSpec } from './native.js';

/** What happens when the guest powers off or crashes; applied by `waitForShutdown`. */
export type ShutdownAction = 'destroy' | 'preserve';

export interface DiskConfig {
  /** File or block device in dom0. */
  target: string;
  /** Guest device name, e.g. `xvda`. */
  vdev: string;
  /** Default `raw`. */
  format?: 'raw' | 'qcow' | 'qcow2' | 'vhd' | 'qed';
  /** Default false: the guest may write. */
  readonly?: boolean;
  /** Hotplug script (xl.cfg `script=`); implies the phy backend. */
  script?: string;
}

export interface VifConfig {
  /** `00:16:3e:xx:xx:xx`; libxl picks one when absent. */
  mac?: string;
  bridge?: string;
  ip?: string;
  script?: string;
}

export interface DomainConfig {
  /** Unique among running domains. */
  name: string;
  /** Path of the guest image (ELF) in this domain's file system. */
  kernel: string;
  ramdisk?: string;
  /** Default `pv`. */
  type?: 'pv' | 'pvh';
  /** MiB. */
  memory: number;
  /** MiB; default `memory`. */
  maxMemory?: number;
  /** Default 1. */
  vcpus?: number;
  cmdline?: string;
  /** Objects, or xl.cfg disk strings (`target=/x.img,vdev=xvda,format=raw,access=rw` or `/x.img,raw,xvda,rw`). */
  disks?: (DiskConfig | string)[];
  /** Objects, or xl.cfg vif strings (`mac=00:16:3e:00:00:01,bridge=xenbr0`). */
  vifs?: (VifConfig | string)[];
  /** PCI devices as `SSSS:BB:DD.F` or `BB:DD.F`, optionally followed by `,permissive=1`. */
  pci?: string[];
  /** Default `destroy`. */
  on_poweroff?: ShutdownAction;
  /** Default `destroy`. */
  on_crash?: ShutdownAction;
  /** JSON-serialisable; written to `/local/domain/<id>/rumpxen/cfg` before the guest runs. */
  guestConfig?: unknown;
  /** Leave the domain paused after creation. */
  paused?: boolean;
  /**
   * How to build it.  `direct`: libxenctrl + libxenguest's PV builder and the
   * xenstore nodes xenconsoled needs (PV with no disks, vifs or PCI; several
   * times faster than libxl).  `libxl`: libxl_domain_create_new (any config).
   * `auto` (default): direct when it can, libxl otherwise.
   */
  engine?: 'auto' | 'direct' | 'libxl';
}

// libxl enum values (see /usr/include/_libxl_types.h).
const ACTION: Record<ShutdownAction, number> = { destroy: 1, preserve: 4 };
const DISK_FORMAT: Record<NonNullable<DiskConfig['format']>, number> = { qcow: 1, qcow2: 2, vhd: 3, raw: 4, qed: 6 };

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;
const VDEV_RE = /^(xvd|hd|sd)[a-z]{1,2}[0-9]*$/;
const MAC_RE = /^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/;
const BDF_RE = /^(?:([0-9a-fA-F]{1,4}):)?([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})\.([0-7])$/;
const MAX_GUEST_CONFIG = 4096; // one xenstore value: xenstored refuses larger writes by default

function positiveInt(field: string, v: unknown, max: number, unit: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) {
    throw new XenConfigError(field, `must be an integer from 1 to ${max} (${unit}), got ${JSON.stringify(v)}`, `set ${field} to a whole number of ${unit}`);
  }
  return v;
}

function nonEmptyString(field: string, v: unknown, fix: string): string {
  if (typeof v !== 'string' || v.length === 0 || v.includes('\0')) {
    throw new XenConfigError(field, `must be a non-empty string, got ${JSON.stringify(v)}`, fix);
  }
  return v;
}

function action(field: string, v: unknown): number {
  if (v === undefined) return ACTION.destroy;
  if (v === 'destroy' || v === 'preserve') return ACTION[v];
  throw new XenConfigError(
    field,
    `unsupported action ${JSON.stringify(v)}`,
    "use 'destroy' or 'preserve' (restart and coredump actions belong to a toolstack daemon, which this API is not)",
  );
}

/** Splits an xl.cfg `key=value,...` string; bare words are returned positionally. */
function xlPairs(spec: string): { keys: Map<string, string>; positional: string[] } {
  const keys = new Map<string, string>();
  const positional: string[] = [];
  for (const part of spec.split(',').map((p) => p.trim()).filter((p) => p.length > 0)) {
    const eq = part.indexOf('=');
    if (eq > 0) keys.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
    else positional.push(part);
  }
  return { keys, positional };
}

/** Parses an xl.cfg disk string into a DiskConfig. */
export function parseDiskSpec(spec: string, field = 'disk'): DiskConfig {
  const { keys, positional } = xlPairs(spec);
  const [pTarget, pFormat, pVdev, pAccess] = positional;
  const target = keys.get('target') ?? pTarget;
  const vdev = keys.get('vdev') ?? pVdev;
  const format = keys.get('format') ?? pFormat ?? 'raw';
  const access = keys.get('access') ?? pAccess ?? 'rw';
  const script = keys.get('script');
  if (!target || !vdev) {
    throw new XenConfigError(field, `${JSON.stringify(spec)} names no target or no vdev`, "write it as 'target=/path.img,vdev=xvda,format=raw,access=rw'");
  }
  if (!(format in DISK_FORMAT)) {
    throw new XenConfigError(field, `unknown disk format ${JSON.stringify(format)}`, `use one of ${Object.keys(DISK_FORMAT).join(', ')}`);
  }
  if (!['rw', 'w', 'ro', 'r'].includes(access)) {
    throw new XenConfigError(field, `unknown access ${JSON.stringify(access)}`, 'use rw or ro');
  }
  const disk: DiskConfig = { target, vdev, format: format as DiskConfig['format'], readonly: access === 'ro' || access === 'r' };
  if (script !== undefined) disk.script = script;
  return disk;
}

/** Parses an xl.cfg vif string into a VifConfig. */
export function parseVifSpec(spec: string, field = 'vif'): VifConfig {
  const { keys, positional } = xlPairs(spec);
  if (positional.length > 0) {
    throw new XenConfigError(field, `${JSON.stringify(positional[0])} is not key=value`, "write it as 'mac=00:16:3e:00:00:01,bridge=xenbr0'");
  }
  const out: VifConfig = {};
  for (const [k, v] of keys) {
    if (k === 'mac' || k === 'bridge' || k === 'ip' || k === 'script') out[k] = v;
    else throw new XenConfigError(field, `unsupported vif key ${JSON.stringify(k)}`, 'use mac, bridge, ip or script');
  }
  return out;
}

/** Parses `SSSS:BB:DD.F[,permissive=1]`. */
export function parsePciSpec(spec: string, field = 'pci'): NativeDomainSpec['pcis'][number] {
  const [bdf = '', ...opts] = spec.split(',').map((s) => s.trim());
  const m = BDF_RE.exec(bdf);
  if (!m) {
    throw new XenConfigError(field, `${JSON.stringify(spec)} is not a PCI address`, "write it as '0000:00:03.0' (domain:bus:device.function)");
  }
  let permissive = 0;
  for (const o of opts) {
    if (o === 'permissive=1') permissive = 1;
    else if (o === 'permissive=0') permissive = 0;
    else throw new XenConfigError(field, `unsupported PCI option ${JSON.stringify(o)}`, 'only permissive=0|1 is supported');
  }
  const dev = parseInt(m[3]!, 16);
  if (dev > 0x1f) throw new XenConfigError(field, `device number 0x${dev.toString(16)} is above 0x1f`, 'check the address with lspci');
  return { domain: parseInt(m[1] ?? '0', 16), bus: parseInt(m[2]!, 16), dev, func: parseInt(m[4]!, 10), permissive };
}

function macBytes(field: string, mac: string): number[] {
  if (!MAC_RE.test(mac)) throw new XenConfigError(field, `${JSON.stringify(mac)} is not a MAC address`, 'write it as 00:16:3e:xx:xx:xx');
  const bytes = mac.split(':').map((b) => parseInt(b, 16));
  if ((bytes[0]! & 1) !== 0) throw new XenConfigError(field, `${mac} is a multicast address`, 'use a unicast MAC such as 00:16:3e:xx:xx:xx');
  return bytes;
}

/** Checks a DomainConfig and converts it to the addon's spec; throws XenConfigError naming the bad field. */
export function toNativeSpec(cfg: DomainConfig): NativeDomainSpec {
  if (typeof cfg !== 'object' || cfg === null) {
    throw new XenConfigError('config', 'must be an object', 'pass a DomainConfig such as { name, kernel, memory }');
  }
  const name = nonEmptyString('name', cfg.name, 'name the domain (letters, digits, _ . : -)');
  if (!NAME_RE.test(name)) {
    throw new XenConfigError('name', `${JSON.stringify(name)} has characters xl and xenstore do not accept or is over 64 long`, 'use letters, digits and _ . : - only');
  }
  const kernel = nonEmptyString('kernel', cfg.kernel, 'set kernel to the path of the guest image');
  const type = cfg.type ?? 'pv';
  if (type !== 'pv' && type !== 'pvh') throw new XenConfigError('type', `unknown type ${JSON.stringify(type)}`, "use 'pv' or 'pvh'");
  const memory = positiveInt('memory', cfg.memory, 1 << 20, 'MiB');
  const maxMemory = cfg.maxMemory === undefined ? memory : positiveInt('maxMemory', cfg.maxMemory, 1 << 20, 'MiB');
  if (maxMemory < memory) {
    throw new XenConfigError('maxMemory', `${maxMemory} MiB is below memory (${memory} MiB)`, 'raise maxMemory or lower memory');
  }
  const vcpus = cfg.vcpus === undefined ? 1 : positiveInt('vcpus', cfg.vcpus, 128, 'vcpus');

  const vdevs = new Set<string>();
  const disks = (cfg.disks ?? []).map((d, i) => {
    const field = `disks[${i}]`;
    const disk = typeof d === 'string' ? parseDiskSpec(d, field) : d;
    nonEmptyString(`${field}.target`, disk.target, 'set target to a file or block device in dom0');
    nonEmptyString(`${field}.vdev`, disk.vdev, 'set vdev, e.g. xvda');
    if (!VDEV_RE.test(disk.vdev)) throw new XenConfigError(`${field}.vdev`, `${JSON.stringify(disk.vdev)} is not a disk name`, 'use xvda, xvdb, ...');
    if (vdevs.has(disk.vdev)) throw new XenConfigError(`${field}.vdev`, `${disk.vdev} is used twice`, 'give each disk its own vdev');
    vdevs.add(disk.vdev);
    const format = disk.format ?? 'raw';
    if (!(format in DISK_FORMAT)) throw new XenConfigError(`${field}.format`, `unknown format ${JSON.stringify(format)}`, `use one of ${Object.keys(DISK_FORMAT).join(', ')}`);
    const out: NativeDomainSpec['disks'][number] = { target: disk.target, vdev: disk.vdev, format: DISK_FORMAT[format], readwrite: disk.readonly ? 0 : 1 };
    if (disk.script !== undefined) out.script = nonEmptyString(`${field}.script`, disk.script, 'name a hotplug script, or leave it out');
    return out;
  });

  const nics = (cfg.vifs ?? []).map((v, i) => {
    const field = `vifs[${i}]`;
    const vif = typeof v === 'string' ? parseVifSpec(v, field) : v;
    const nic: NativeDomainSpec['nics'][number] = {};
    if (vif.mac !== undefined) nic.mac = macBytes(`${field}.mac`, vif.mac);
    if (vif.bridge !== undefined) nic.bridge = nonEmptyString(`${field}.bridge`, vif.bridge, 'name a bridge in dom0, e.g. xenbr0');
    if (vif.ip !== undefined) nic.ip = nonEmptyString(`${field}.ip`, vif.ip, 'give an IPv4 address');
    if (vif.script !== undefined) nic.script = nonEmptyString(`${field}.script`, vif.script, 'name a hotplug script');
    return nic;
  });

  const pcis = (cfg.pci ?? []).map((p, i) => {
    if (typeof p !== 'string') throw new XenConfigError(`pci[${i}]`, 'must be a string', "write it as '0000:00:03.0'");
    return parsePciSpec(p, `pci[${i}]`);
  });

  let guestConfig: string | undefined;
  if (cfg.guestConfig !== undefined) {
    try {
      guestConfig = JSON.stringify(cfg.guestConfig);
    } catch (e) {
      throw new XenConfigError('guestConfig', `cannot be serialised as JSON (${(e as Error).message})`, 'pass plain data');
    }
    if (guestConfig === undefined) throw new XenConfigError('guestConfig', 'serialises to nothing', 'pass plain data (an object, array, string or number)');
    if (Buffer.byteLength(guestConfig) > MAX_GUEST_CONFIG) {
      throw new XenConfigError('guestConfig', `is ${Buffer.byteLength(guestConfig)} bytes of JSON, over xenstore's ${MAX_GUEST_CONFIG}`, 'shrink it, or put bulk data on a disk');
    }
  }
  if (cfg.cmdline !== undefined && (typeof cfg.cmdline !== 'string' || cfg.cmdline.includes('\0') || cfg.cmdline.length > 1023)) {
    throw new XenConfigError('cmdline', 'must be a string of at most 1023 characters without NUL', "shorten it (Xen's start_info cmd_line holds 1024 bytes)");
  }
  if (cfg.ramdisk !== undefined) nonEmptyString('ramdisk', cfg.ramdisk, 'set ramdisk to a path or leave it out');

  const engine = cfg.engine ?? 'auto';
  if (engine !== 'auto' && engine !== 'direct' && engine !== 'libxl') {
    throw new XenConfigError('engine', `unknown engine ${JSON.stringify(engine)}`, "use 'auto', 'direct' or 'libxl'");
  }
  const directPossible = type === 'pv' && disks.length === 0 && nics.length === 0 && pcis.length === 0;
  if (engine === 'direct' && !directPossible) {
    throw new XenConfigError('engine', "'direct' builds PV domains without disks, vifs or PCI devices", "use engine 'libxl' (or 'auto') for this config");
  }

  const spec: NativeDomainSpec = {
    name,
    direct: engine === 'libxl' ? 0 : directPossible ? 1 : 0,
    kernel,
    pvh: type === 'pvh' ? 1 : 0,
    memoryKb: memory * 1024,
    maxMemoryKb: maxMemory * 1024,
    vcpus,
    onPoweroff: action('on_poweroff', cfg.on_poweroff),
    onCrash: action('on_crash', cfg.on_crash),
    leavePaused: cfg.paused ? 1 : 0,
    disks,
    nics,
    pcis,
  };
  if (cfg.ramdisk !== undefined) spec.ramdisk = cfg.ramdisk;
  if (cfg.cmdline !== undefined) spec.cmdline = cfg.cmdline;
  if (guestConfig !== undefined) spec.guestConfig = guestConfig;
  return spec;
}

/** The action to apply for a shutdown reason, from a config (defaults: destroy). */
export function actionFor(cfg: Pick<DomainConfig, 'on_poweroff' | 'on_crash'>, reason: string): ShutdownAction {
  if (reason === 'crash' || reason === 'watchdog') return cfg.on_crash ?? 'destroy';
  return cfg.on_poweroff ?? 'destroy';
}
