/**
 * The one model of a Xen domain's configuration, `DomainConfig`, its check, and its three
 * renderings: xl.cfg (xl.cfg(5)), libxl's JSON `libxl_domain_config`, and libvirt's domain
 * XML (driver `xen`). The dom0 API (`@rumpxen/xen-control`) builds domains from the checked
 * form; the image-linker's `config` and `run` map their flags onto it; the testbed writes its
 * DomUs' xl.cfg with `renderXlCfg`. Field names follow xl.cfg where one exists. PCI devices
 * are read and written by `pci.ts`.
 */

import { formatBdf, libvirtHostdev, libxlPci, parseBdf, PciSpecError, xlPciLine, type PassthroughSpec, type PciAddress } from './pci.js';

export type DomainType = 'pv' | 'pvh';
/**
 * What happens when the guest powers off, reboots or crashes. Both keep the toolstack out of
 * it: `destroy` removes the domain, `preserve` keeps it, shut down, for inspection. (Restart
 * and core dump actions belong to a toolstack daemon, which no consumer of this model is.)
 */
export type ShutdownAction = 'destroy' | 'preserve';
export type DiskFormat = 'raw' | 'qcow' | 'qcow2' | 'vhd' | 'qed';

export interface DiskConfig {
  /** File or block device in dom0. */
  target: string;
  /** Guest device name, e.g. `xvda`. */
  vdev: string;
  /** Default `raw`. */
  format?: DiskFormat;
  /** Default false: the guest may write. */
  readonly?: boolean;
  /** Hotplug script (xl.cfg `script=`); implies the phy backend. */
  script?: string;
}

export interface VifConfig {
  /** `00:16:3e:xx:xx:xx`; the toolstack picks one when absent. */
  mac?: string;
  /** Bridge in dom0; the toolstack's default when absent. */
  bridge?: string;
  ip?: string;
  /** Hotplug script (xl.cfg vif `script=`). */
  script?: string;
}

export interface DomainConfig {
  /** Unique among running domains: 1-64 letters, digits, `_ . : -`, starting with a letter or digit. */
  name: string;
  /** Path of the guest image (ELF) in dom0's file system. */
  kernel: string;
  ramdisk?: string;
  /** Default `pv`. */
  type?: DomainType;
  /** MiB. */
  memory: number;
  /** MiB; default `memory`. */
  maxMemory?: number;
  /** Default 1. */
  vcpus?: number;
  /** The kernel command line (at most 1023 bytes: start_info's cmd_line holds 1024). */
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
  on_reboot?: ShutdownAction;
  /** Default `destroy`. */
  on_crash?: ShutdownAction;
  /**
   * The rumpxen guest's own configuration, JSON-serialisable, at most 4096 bytes of JSON (one
   * xenstore value): written to `/local/domain/<id>/rumpxen/cfg` before the guest runs. No
   * rendering carries it (xl.cfg, libxl and libvirt have no place for it).
   */
  guestConfig?: unknown;
}

/** A PCI device to pass through, parsed. */
export interface PciDevice {
  /** Canonical `DDDD:BB:DD.F`. */
  bdf: string;
  domain: number;
  bus: number;
  dev: number;
  func: number;
  /** Let the guest write config-space registers pciback does not emulate. */
  permissive: boolean;
}

/** A disk with every default filled in. */
export interface CheckedDisk {
  target: string;
  vdev: string;
  format: DiskFormat;
  readonly: boolean;
  script?: string;
}

/**
 * A DomainConfig after `checkDomainConfig`: the same fields with every default filled in,
 * xl.cfg strings parsed into objects, MACs in lower case, PCI addresses parsed, and the guest
 * config serialised. What the renderers render and what the dom0 addon builds a domain from.
 */
export interface CheckedDomainConfig {
  name: string;
  kernel: string;
  ramdisk?: string;
  cmdline?: string;
  type: DomainType;
  memory: number;
  maxMemory: number;
  vcpus: number;
  disks: CheckedDisk[];
  vifs: VifConfig[];
  pci: PciDevice[];
  on_poweroff: ShutdownAction;
  on_reboot: ShutdownAction;
  on_crash: ShutdownAction;
  /** `guestConfig` as the JSON text written to xenstore. */
  guestConfigJson?: string;
}

/** A domain config was refused. `field` is the offending input (`disks[0].vdev`); the message says the problem and the fix. */
export class DomainConfigError extends Error {
  override readonly name: string = 'DomainConfigError';
  readonly code: string = 'ERR_DOMAIN_CONFIG';
  constructor(
    readonly field: string,
    readonly problem: string,
    readonly fix: string,
  ) {
    super(`${field}: ${problem}; ${fix}`);
  }
}

export const DISK_FORMATS: readonly DiskFormat[] = ['raw', 'qcow', 'qcow2', 'vhd', 'qed'];
/** One xenstore value: xenstored refuses larger writes by default. */
export const MAX_GUEST_CONFIG_BYTES = 4096;
/** Xen's start_info command line holds 1024 bytes including the NUL. */
export const MAX_CMDLINE_BYTES = 1023;

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;
const VDEV_RE = /^(xvd|hd|sd)[a-z]{1,2}[0-9]*$/;
const MAC_RE = /^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/;
const ACTIONS: readonly ShutdownAction[] = ['destroy', 'preserve'];

function positiveInt(field: string, v: unknown, max: number, unit: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) {
    throw new DomainConfigError(field, `must be an integer from 1 to ${max} (${unit}), got ${JSON.stringify(v)}`, `set ${field} to a whole number of ${unit}`);
  }
  return v;
}

function nonEmptyString(field: string, v: unknown, fix: string): string {
  if (typeof v !== 'string' || v.length === 0 || v.includes('\0')) {
    throw new DomainConfigError(field, `must be a non-empty string, got ${JSON.stringify(v)}`, fix);
  }
  return v;
}

function action(field: string, v: unknown): ShutdownAction {
  if (v === undefined) return 'destroy';
  if (ACTIONS.includes(v as ShutdownAction)) return v as ShutdownAction;
  throw new DomainConfigError(
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
    throw new DomainConfigError(field, `${JSON.stringify(spec)} names no target or no vdev`, "write it as 'target=/path.img,vdev=xvda,format=raw,access=rw'");
  }
  if (!DISK_FORMATS.includes(format as DiskFormat)) {
    throw new DomainConfigError(field, `unknown disk format ${JSON.stringify(format)}`, `use one of ${DISK_FORMATS.join(', ')}`);
  }
  if (!['rw', 'w', 'ro', 'r'].includes(access)) {
    throw new DomainConfigError(field, `unknown access ${JSON.stringify(access)}`, 'use rw or ro');
  }
  const disk: DiskConfig = { target, vdev, format: format as DiskFormat, readonly: access === 'ro' || access === 'r' };
  if (script !== undefined) disk.script = script;
  return disk;
}

/** Parses an xl.cfg vif string into a VifConfig. */
export function parseVifSpec(spec: string, field = 'vif'): VifConfig {
  const { keys, positional } = xlPairs(spec);
  if (positional.length > 0) {
    throw new DomainConfigError(field, `${JSON.stringify(positional[0])} is not key=value`, "write it as 'mac=00:16:3e:00:00:01,bridge=xenbr0'");
  }
  const out: VifConfig = {};
  for (const [k, v] of keys) {
    if (k === 'mac' || k === 'bridge' || k === 'ip' || k === 'script') out[k] = v;
    else throw new DomainConfigError(field, `unsupported vif key ${JSON.stringify(k)}`, 'use mac, bridge, ip or script');
  }
  return out;
}

/** Parses `SSSS:BB:DD.F[,permissive=1]` (the segment may be left out). */
export function parsePciSpec(spec: string, field = 'pci'): PciDevice {
  const [bdf = '', ...opts] = spec.split(',').map((s) => s.trim());
  let address: PciAddress;
  try {
    address = parseBdf(bdf);
  } catch (e) {
    if (!(e instanceof PciSpecError)) throw e;
    if (e.problem === 'device-number') throw new DomainConfigError(field, `device number 0x${(e.value as number).toString(16)} is above 0x1f`, 'check the address with lspci');
    throw new DomainConfigError(field, `${JSON.stringify(spec)} is not a PCI address`, "write it as '0000:00:03.0' (domain:bus:device.function)");
  }
  let permissive = false;
  for (const o of opts) {
    if (o === 'permissive=1') permissive = true;
    else if (o === 'permissive=0') permissive = false;
    else throw new DomainConfigError(field, `unsupported PCI option ${JSON.stringify(o)}`, 'only permissive=0|1 is supported');
  }
  return { bdf: formatBdf(address), domain: address.domain, bus: address.bus, dev: address.device, func: address.function, permissive };
}

function checkMac(field: string, mac: string): string {
  if (!MAC_RE.test(mac)) throw new DomainConfigError(field, `${JSON.stringify(mac)} is not a MAC address`, 'write it as 00:16:3e:xx:xx:xx');
  if ((parseInt(mac.slice(0, 2), 16) & 1) !== 0) throw new DomainConfigError(field, `${mac} is a multicast address`, 'use a unicast MAC such as 00:16:3e:xx:xx:xx');
  return mac.toLowerCase();
}

/**
 * Checks a DomainConfig and fills in its defaults; throws DomainConfigError naming the first
 * bad field, what is wrong with it and what to write instead.
 */
export function checkDomainConfig(cfg: DomainConfig): CheckedDomainConfig {
  if (typeof cfg !== 'object' || cfg === null) {
    throw new DomainConfigError('config', 'must be an object', 'pass a DomainConfig such as { name, kernel, memory }');
  }
  const name = nonEmptyString('name', cfg.name, 'name the domain (letters, digits, _ . : -)');
  if (!NAME_RE.test(name)) {
    throw new DomainConfigError('name', `${JSON.stringify(name)} has characters xl and xenstore do not accept or is over 64 long`, 'use letters, digits and _ . : - only');
  }
  const kernel = nonEmptyString('kernel', cfg.kernel, 'set kernel to the path of the guest image');
  const type = cfg.type ?? 'pv';
  if (type !== 'pv' && type !== 'pvh') throw new DomainConfigError('type', `unknown type ${JSON.stringify(type)}`, "use 'pv' or 'pvh'");
  const memory = positiveInt('memory', cfg.memory, 1 << 20, 'MiB');
  const maxMemory = cfg.maxMemory === undefined ? memory : positiveInt('maxMemory', cfg.maxMemory, 1 << 20, 'MiB');
  if (maxMemory < memory) {
    throw new DomainConfigError('maxMemory', `${maxMemory} MiB is below memory (${memory} MiB)`, 'raise maxMemory or lower memory');
  }
  const vcpus = cfg.vcpus === undefined ? 1 : positiveInt('vcpus', cfg.vcpus, 128, 'vcpus');

  const vdevs = new Set<string>();
  const disks = (cfg.disks ?? []).map((d, i): CheckedDisk => {
    const field = `disks[${i}]`;
    const disk = typeof d === 'string' ? parseDiskSpec(d, field) : d;
    if (typeof disk !== 'object' || disk === null) throw new DomainConfigError(field, 'must be an object or an xl.cfg disk string', "write { target: '/x.img', vdev: 'xvda' }");
    nonEmptyString(`${field}.target`, disk.target, 'set target to a file or block device in dom0');
    nonEmptyString(`${field}.vdev`, disk.vdev, 'set vdev, e.g. xvda');
    if (!VDEV_RE.test(disk.vdev)) throw new DomainConfigError(`${field}.vdev`, `${JSON.stringify(disk.vdev)} is not a disk name`, 'use xvda, xvdb, ...');
    if (vdevs.has(disk.vdev)) throw new DomainConfigError(`${field}.vdev`, `${disk.vdev} is used twice`, 'give each disk its own vdev');
    vdevs.add(disk.vdev);
    const format = disk.format ?? 'raw';
    if (!DISK_FORMATS.includes(format)) throw new DomainConfigError(`${field}.format`, `unknown format ${JSON.stringify(format)}`, `use one of ${DISK_FORMATS.join(', ')}`);
    const out: CheckedDisk = { target: disk.target, vdev: disk.vdev, format, readonly: Boolean(disk.readonly) };
    if (disk.script !== undefined) out.script = nonEmptyString(`${field}.script`, disk.script, 'name a hotplug script, or leave it out');
    return out;
  });

  const vifs = (cfg.vifs ?? []).map((v, i): VifConfig => {
    const field = `vifs[${i}]`;
    const vif = typeof v === 'string' ? parseVifSpec(v, field) : v;
    if (typeof vif !== 'object' || vif === null) throw new DomainConfigError(field, 'must be an object or an xl.cfg vif string', "write { bridge: 'xenbr0' }");
    const out: VifConfig = {};
    if (vif.mac !== undefined) out.mac = checkMac(`${field}.mac`, vif.mac);
    if (vif.bridge !== undefined) out.bridge = nonEmptyString(`${field}.bridge`, vif.bridge, 'name a bridge in dom0, e.g. xenbr0');
    if (vif.ip !== undefined) out.ip = nonEmptyString(`${field}.ip`, vif.ip, 'give an IPv4 address');
    if (vif.script !== undefined) out.script = nonEmptyString(`${field}.script`, vif.script, 'name a hotplug script');
    return out;
  });

  const pci = (cfg.pci ?? []).map((p, i) => {
    if (typeof p !== 'string') throw new DomainConfigError(`pci[${i}]`, 'must be a string', "write it as '0000:00:03.0'");
    return parsePciSpec(p, `pci[${i}]`);
  });

  let guestConfigJson: string | undefined;
  if (cfg.guestConfig !== undefined) {
    try {
      guestConfigJson = JSON.stringify(cfg.guestConfig);
    } catch (e) {
      throw new DomainConfigError('guestConfig', `cannot be serialised as JSON (${(e as Error).message})`, 'pass plain data');
    }
    if (guestConfigJson === undefined) throw new DomainConfigError('guestConfig', 'serialises to nothing', 'pass plain data (an object, array, string or number)');
    const bytes = new TextEncoder().encode(guestConfigJson).length;
    if (bytes > MAX_GUEST_CONFIG_BYTES) {
      throw new DomainConfigError('guestConfig', `is ${bytes} bytes of JSON, over xenstore's ${MAX_GUEST_CONFIG_BYTES}`, 'shrink it, or put bulk data on a disk');
    }
  }
  if (cfg.cmdline !== undefined && (typeof cfg.cmdline !== 'string' || cfg.cmdline.includes('\0') || cfg.cmdline.length > MAX_CMDLINE_BYTES)) {
    throw new DomainConfigError('cmdline', `must be a string of at most ${MAX_CMDLINE_BYTES} characters without NUL`, "shorten it (Xen's start_info cmd_line holds 1024 bytes)");
  }
  if (cfg.ramdisk !== undefined) nonEmptyString('ramdisk', cfg.ramdisk, 'set ramdisk to a path or leave it out');

  const checked: CheckedDomainConfig = {
    name,
    kernel,
    type,
    memory,
    maxMemory,
    vcpus,
    disks,
    vifs,
    pci,
    on_poweroff: action('on_poweroff', cfg.on_poweroff),
    on_reboot: action('on_reboot', cfg.on_reboot),
    on_crash: action('on_crash', cfg.on_crash),
  };
  if (cfg.ramdisk !== undefined) checked.ramdisk = cfg.ramdisk;
  if (cfg.cmdline !== undefined) checked.cmdline = cfg.cmdline;
  if (guestConfigJson !== undefined) checked.guestConfigJson = guestConfigJson;
  return checked;
}

/** The action for a shutdown reason (`SHUTDOWN_REASONS` name): on_crash for crash and watchdog, on_reboot for reboot, else on_poweroff; destroy by default. */
export function actionFor(cfg: Pick<DomainConfig, 'on_poweroff' | 'on_reboot' | 'on_crash'>, reason: string): ShutdownAction {
  if (reason === 'crash' || reason === 'watchdog') return cfg.on_crash ?? 'destroy';
  if (reason === 'reboot') return cfg.on_reboot ?? cfg.on_poweroff ?? 'destroy';
  return cfg.on_poweroff ?? 'destroy';
}

// ---- renderers ---------------------------------------------------------------------------

/** An xl.cfg double-quoted string (libxlu reads `\\` and `\"` escapes); a newline cannot be written. */
function xlString(field: string, s: string): string {
  if (/[\n\r]/.test(s)) throw new DomainConfigError(field, `${JSON.stringify(s)} contains a line break, which xl.cfg strings cannot hold`, 'remove it (rename the file, or shorten the value)');
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** A value inside a single-quoted xl.cfg device string (`'k=v, k=v'`): no quote, backslash, comma or line break. */
function xlDeviceValue(field: string, s: string, lastKey = false): string {
  // A disk's target is its last key and may hold commas (xl-disk-configuration(5)).
  const bad = lastKey ? /['\\\n\r]/ : /['\\\n\r,]/;
  if (bad.test(s)) {
    throw new DomainConfigError(field, `${JSON.stringify(s)} has a quote, backslash${lastKey ? '' : ', comma'} or line break, which an xl.cfg device string cannot hold`, 'rename it, or use a path without them');
  }
  return s;
}

const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

/** A checked device as the per-device renderers take it: permissive=0 is the default, which no rendering writes. */
const passthroughOf = (p: PciDevice): PassthroughSpec => (p.permissive ? { bdf: p.bdf, permissive: true } : { bdf: p.bdf });

/**
 * The domain as xl.cfg (xl.cfg(5)): one `key = value` line each, then `disk`, `vif` and
 * `pci` lists. Ends with a newline. Throws DomainConfigError for a bad config, or for a
 * value xl.cfg cannot hold (a line break; a quote, backslash or comma inside a device).
 */
export function renderXlCfg(config: DomainConfig): string {
  const c = checkDomainConfig(config);
  const lines = [
    `name = ${xlString('name', c.name)}`,
    `type = "${c.type}"`,
    `kernel = ${xlString('kernel', c.kernel)}`,
    ...(c.ramdisk !== undefined ? [`ramdisk = ${xlString('ramdisk', c.ramdisk)}`] : []),
    ...(c.cmdline ? [`cmdline = ${xlString('cmdline', c.cmdline)}`] : []),
    `memory = ${c.memory}`,
    ...(c.maxMemory !== c.memory ? [`maxmem = ${c.maxMemory}`] : []),
    `vcpus = ${c.vcpus}`,
    `on_poweroff = "${c.on_poweroff}"`,
    `on_reboot = "${c.on_reboot}"`,
    `on_crash = "${c.on_crash}"`,
  ];
  if (c.disks.length) {
    const entries = c.disks.map((d, i) => {
      const f = `disks[${i}]`;
      const keys = [`format=${d.format}`, `vdev=${d.vdev}`, `access=${d.readonly ? 'ro' : 'rw'}`];
      if (d.script !== undefined) keys.push('backendtype=phy', `script=${xlDeviceValue(`${f}.script`, d.script)}`);
      keys.push(`target=${xlDeviceValue(`${f}.target`, d.target, true)}`);
      return `'${keys.join(', ')}'`;
    });
    lines.push(`disk = [ ${entries.join(', ')} ]`);
  }
  if (c.vifs.length) {
    const entries = c.vifs.map((v, i) => {
      const keys = (['bridge', 'mac', 'ip', 'script'] as const).filter((k) => v[k] !== undefined).map((k) => `${k}=${xlDeviceValue(`vifs[${i}].${k}`, v[k]!)}`);
      return `'${keys.join(',')}'`;
    });
    lines.push(`vif = [ ${entries.join(', ')} ]`);
  }
  if (c.pci.length) lines.push(xlPciLine(c.pci.map(passthroughOf)));
  return `${lines.join('\n')}\n`;
}

/**
 * The domain as libxl's JSON `libxl_domain_config` (what `libxl_domain_config_from_json`
 * reads; `xl` itself reads xl.cfg, not JSON), pretty-printed, ending with a newline.
 */
export function renderLibxlJson(config: DomainConfig): string {
  const c = checkDomainConfig(config);
  const obj = {
    c_info: { type: c.type, name: c.name },
    b_info: {
      max_vcpus: c.vcpus,
      max_memkb: c.maxMemory * 1024,
      target_memkb: c.memory * 1024,
      kernel: c.kernel,
      ...(c.ramdisk !== undefined ? { ramdisk: c.ramdisk } : {}),
      ...(c.cmdline ? { cmdline: c.cmdline } : {}),
      [`type.${c.type}`]: {},
    },
    disks: c.disks.map((d) => ({
      pdev_path: d.target,
      vdev: d.vdev,
      format: d.format,
      readwrite: d.readonly ? 0 : 1,
      ...(d.script !== undefined ? { backend: 'phy', script: d.script } : {}),
    })),
    nics: c.vifs.map((v) => ({ ...v })),
    pcidevs: c.pci.map((p) => libxlPci(passthroughOf(p))),
    on_poweroff: c.on_poweroff,
    on_reboot: c.on_reboot,
    on_crash: c.on_crash,
  };
  return `${JSON.stringify(obj, null, 2)}\n`;
}

/** The domain as libvirt domain XML (`<domain type='xen'>`, os type `linux`/`xenpv` or `xenpvh`), ending with a newline. */
export function renderLibvirtXml(config: DomainConfig): string {
  const c = checkDomainConfig(config);
  return [
    "<domain type='xen'>",
    `  <name>${xmlEscape(c.name)}</name>`,
    `  <memory unit='MiB'>${c.maxMemory}</memory>`,
    `  <currentMemory unit='MiB'>${c.memory}</currentMemory>`,
    `  <vcpu>${c.vcpus}</vcpu>`,
    '  <os>',
    c.type === 'pvh' ? "    <type arch='x86_64' machine='xenpvh'>xenpvh</type>" : "    <type arch='x86_64' machine='xenpv'>linux</type>",
    `    <kernel>${xmlEscape(c.kernel)}</kernel>`,
    ...(c.ramdisk !== undefined ? [`    <initrd>${xmlEscape(c.ramdisk)}</initrd>`] : []),
    ...(c.cmdline ? [`    <cmdline>${xmlEscape(c.cmdline)}</cmdline>`] : []),
    '  </os>',
    `  <on_poweroff>${c.on_poweroff}</on_poweroff>`,
    `  <on_reboot>${c.on_reboot}</on_reboot>`,
    `  <on_crash>${c.on_crash}</on_crash>`,
    '  <devices>',
    ...c.disks.flatMap((d) => [
      "    <disk type='file' device='disk'>",
      `      <driver name='qemu' type='${d.format}'/>`,
      `      <source file='${xmlEscape(d.target)}'/>`,
      `      <target dev='${d.vdev}' bus='xen'/>`,
      ...(d.readonly ? ['      <readonly/>'] : []),
      '    </disk>',
    ]),
    ...c.vifs.flatMap((v) => [
      `    <interface type='${v.bridge ? 'bridge' : 'ethernet'}'>`,
      ...(v.bridge ? [`      <source bridge='${xmlEscape(v.bridge)}'/>`] : []),
      ...(v.mac ? [`      <mac address='${v.mac}'/>`] : []),
      ...(v.ip ? [`      <ip address='${xmlEscape(v.ip)}'/>`] : []),
      ...(v.script ? [`      <script path='${xmlEscape(v.script)}'/>`] : []),
      "      <model type='netfront'/>",
      '    </interface>',
    ]),
    ...c.pci.flatMap((p) => libvirtHostdev(passthroughOf(p)).split('\n').map((l) => `    ${l}`)),
    "    <console type='pty'><target type='xen' port='0'/></console>",
    '  </devices>',
    '</domain>',
    '',
  ].join('\n');
}
