/**
 * `config`: the guest's own configuration (argv, env, devices — read by the guest from
 * xenstore `/local/domain/<id>/rumpxen/cfg`, and from the kernel command line when it is
 * started without xenstore) and the domain configuration: the flags mapped onto the one
 * domain model (`DomainConfig` of @rumpxen/protocol), rendered as xl.cfg, libxl JSON and
 * libvirt domain XML by its renderers.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { PciError, formatBdf, parseBdf } from '@rumpxen/pci-passthrough';
import { DomainConfigError, MAX_CMDLINE_BYTES, renderLibvirtXml, renderLibxlJson, renderXlCfg, type DomainConfig } from '@rumpxen/protocol';
import { ImageLinkerError } from './errors.js';

/** xenstore path (relative to the domain's home) the guest reads its configuration from. */
export const GUEST_CONFIG_XENSTORE_KEY = 'rumpxen/cfg';
/** Xen's start_info command line holds at most 1024 bytes including the NUL (the domain model's limit). */
export const MAX_CMDLINE = MAX_CMDLINE_BYTES;

export interface DiskSpec {
  /** Host file backing the disk. */
  file: string;
  /** Guest device name, `xvda`, `xvdb`, ... (default: next free). */
  vdev: string;
  readonly: boolean;
}

export interface NetSpec {
  bridge: string | null;
  mac: string | null;
}

export interface ConfigOptions {
  /** Path of the image (kernel). */
  image: string;
  /** Domain name; default: the image file name. */
  name?: string;
  /** Boot protocol; default xen-pv. */
  type?: 'xen-pv' | 'xen-pvh';
  memoryMb?: number;
  vcpus?: number;
  /** `FILE[,vdev][,ro]` strings or parsed specs. */
  disks?: (string | DiskSpec)[];
  /** `BRIDGE` or `MAC` strings or parsed specs. */
  nets?: (string | NetSpec)[];
  /** PCI devices to pass through, as `[DDDD:]BB:DD.F`. */
  pci?: string[];
  /** `K=V` strings or a map. */
  env?: string[] | Record<string, string>;
  /** Arguments after argv[0]. */
  args?: string[];
}

/**
 * The devices the domain config attaches, as the guest can know them: each disk's guest
 * device name and mode, each vif's MAC and bridge (null: the toolstack's choice), each PCI
 * device's host BDF. The host file behind a disk stays out (it means nothing in the guest).
 */
export interface GuestDevices {
  disks: { vdev: string; readonly: boolean }[];
  nets: { mac: string | null; bridge: string | null }[];
  pci: string[];
}

/**
 * The guest's own configuration, written to xenstore as JSON. minios-binding's guest kernel
 * (mk/appcfg.h) takes argv and env from it and skips `devices` (it finds the devices
 * themselves in its xenstore device/ tree); software above it may read the list.
 */
export interface GuestConfig {
  argv: string[];
  /** `K=V` strings. */
  env: string[];
  devices: GuestDevices;
}

export interface RenderedConfig {
  /**
   * The domain the flags describe, as the one domain model (what xl, libxl and libvirt are
   * rendered from): `destroy` on poweroff, reboot and crash; the command line when it fits.
   */
  domain: DomainConfig;
  name: string;
  kernel: string;
  type: 'xen-pv' | 'xen-pvh';
  memoryMb: number;
  vcpus: number;
  disks: DiskSpec[];
  nets: NetSpec[];
  pci: string[];
  guest: GuestConfig;
  /** The guest config as compact JSON (what goes into xenstore). */
  guestJson: string;
  /**
   * Kernel command line for a guest started without xenstore: `K=V` words then the arguments,
   * split at spaces by the guest (argv[0] is then "rumpxen"); empty when a word holds
   * whitespace or quotes or the line exceeds Xen's limit.
   */
  cmdline: string;
  xl: string;
  libxl: string;
  libvirt: string;
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
const VDEV = /^xvd[a-z]{1,2}$/;

/** The object form of a device spec takes only `known` keys. */
function refuseUnknownKeys(shown: string, o: object, known: string[], fix: string): void {
  const extra = Object.keys(o).filter((k) => !known.includes(k));
  if (extra.length) throw new ImageLinkerError(shown, `has unknown key${extra.length > 1 ? 's' : ''} ${extra.map((k) => `"${k}"`).join(', ')}.`, fix);
}

export function parseDisk(spec: string | DiskSpec, index: number): DiskSpec {
  let d: DiskSpec;
  if (typeof spec === 'string') {
    const parts = spec.split(',');
    const file = parts[0] ?? '';
    let vdev = '';
    let ro = false;
    for (const p of parts.slice(1)) {
      if (p === 'ro') ro = true;
      else if (p === 'rw') ro = false;
      else if (vdev === '') vdev = p;
      else throw new ImageLinkerError(`--disk ${spec}`, `has an unknown part "${p}".`, 'Write FILE[,vdev][,ro], e.g. --disk data.img,xvdb,ro.');
    }
    d = { file, vdev: vdev || `xvd${String.fromCharCode(97 + index)}`, readonly: ro };
  } else {
    const o = (spec ?? {}) as unknown as Partial<Record<string, unknown>>;
    const shown = `disk ${JSON.stringify(spec)}`;
    refuseUnknownKeys(shown, o, ['file', 'vdev', 'readonly'], 'Write {"file": "data.img", "vdev": "xvdb", "readonly": true} (vdev and readonly may be left out).');
    if (typeof o.file !== 'string') throw new ImageLinkerError(shown, 'has no "file" string.', 'Write {"file": "data.img", "vdev": "xvda", "readonly": true} (vdev and readonly may be left out).');
    if (o.vdev !== undefined && typeof o.vdev !== 'string') throw new ImageLinkerError(shown, `has "vdev" ${JSON.stringify(o.vdev)}, not a string.`, 'Write a Xen virtual disk name, e.g. "vdev": "xvdb", or leave it out.');
    if (o.readonly !== undefined && typeof o.readonly !== 'boolean') throw new ImageLinkerError(shown, `has "readonly" ${JSON.stringify(o.readonly)}, not true or false.`, 'Write "readonly": true or false, or leave it out (read-write).');
    d = { file: o.file, vdev: (o.vdev as string | undefined) || `xvd${String.fromCharCode(97 + index)}`, readonly: o.readonly === true };
  }
  const shown = typeof spec === 'string' ? `--disk ${spec}` : `disk ${d.file}`;
  if (!d.file) throw new ImageLinkerError(shown, 'names no file.', 'Write FILE[,vdev][,ro], e.g. --disk data.img,xvdb,ro.');
  if (!existsSync(d.file)) {
    throw new ImageLinkerError(shown, `refers to ${d.file}, which does not exist.`, `Create the disk image first (e.g. truncate -s 64M ${d.file}) or fix the path.`);
  }
  if (!statSync(d.file).isFile() && !statSync(d.file).isBlockDevice()) {
    throw new ImageLinkerError(shown, `refers to ${d.file}, which is neither a file nor a block device.`, 'Point --disk at a disk image file or a block device.');
  }
  if (!VDEV.test(d.vdev)) {
    throw new ImageLinkerError(shown, `has guest device name "${d.vdev}", which is not a Xen virtual disk name.`, 'Use xvda, xvdb, ... (or leave it out to number them in order).');
  }
  return { ...d, file: resolve(d.file) };
}

export function parseNet(spec: string | NetSpec): NetSpec {
  if (typeof spec !== 'string') {
    const o = (spec ?? {}) as unknown as Partial<Record<string, unknown>>;
    const shown = `net ${JSON.stringify(spec)}`;
    refuseUnknownKeys(shown, o, ['bridge', 'mac'], 'Write {"bridge": "xenbr0"} and/or {"mac": "00:16:3e:12:34:56"}.');
    const bridge = o.bridge ?? null;
    const mac = o.mac ?? null;
    if (bridge !== null && (typeof bridge !== 'string' || !/^[A-Za-z0-9_.-]{1,15}$/.test(bridge))) {
      throw new ImageLinkerError(shown, `has "bridge" ${JSON.stringify(bridge)}, which is not a bridge name.`, 'Name a host bridge, e.g. "bridge": "xenbr0" (1-15 letters, digits, ".", "_", "-").');
    }
    if (mac !== null && (typeof mac !== 'string' || !MAC.test(mac))) {
      throw new ImageLinkerError(shown, `has "mac" ${JSON.stringify(mac)}, which is not a MAC address.`, 'Write e.g. "mac": "00:16:3e:12:34:56".');
    }
    if (bridge === null && mac === null) throw new ImageLinkerError(shown, 'names neither a bridge nor a MAC.', 'Write {"bridge": "xenbr0"} or {"mac": "00:16:3e:12:34:56"}, or the string form.');
    return { bridge, mac: mac === null ? null : mac.toLowerCase() };
  }
  if (MAC.test(spec)) return { bridge: null, mac: spec.toLowerCase() };
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(spec)) {
    throw new ImageLinkerError(`--net ${spec}`, 'is neither a bridge name nor a MAC address.', 'Pass a host bridge (e.g. xenbr0) or a MAC (e.g. 00:16:3e:12:34:56).');
  }
  return { bridge: spec, mac: null };
}

/**
 * One `--pci` device: validated with @rumpxen/pci-passthrough's `parseBdf` (`[DDDD:]BB:DD.F`,
 * hex, as lspci -D, sysfs and xl write it) and returned in canonical form (`0000:00:03.0`).
 */
export function parsePci(spec: string): string {
  try {
    return formatBdf(parseBdf(spec));
  } catch (e) {
    if (e instanceof PciError) throw new ImageLinkerError(`--pci ${spec}`, `${e.message}.`, 'List the devices of this host with image-linker pci list.');
    throw e;
  }
}

export function parseEnv(env: string[] | Record<string, string> | undefined): Record<string, string> {
  if (!env) return {};
  if (!Array.isArray(env)) return { ...env };
  const out: Record<string, string> = {};
  for (const kv of env) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new ImageLinkerError(`--env ${kv}`, 'is not of the form K=V.', 'Write --env NAME=value (the name must not be empty).');
    out[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return out;
}

function positiveInt(value: number, flag: string, fix: string): number {
  if (!Number.isInteger(value) || value <= 0) throw new ImageLinkerError(`${flag} ${value}`, 'is not a positive whole number.', fix);
  return value;
}

/** Builds every form of the configuration for one image. Throws ImageLinkerError on bad input. */
export function renderConfig(opts: ConfigOptions): RenderedConfig {
  const kernel = resolve(opts.image);
  const name = (opts.name ?? basename(kernel)).replace(/[^A-Za-z0-9_.-]/g, '_');
  const type = opts.type ?? 'xen-pv';
  const memoryMb = positiveInt(opts.memoryMb ?? 64, '--memory', 'Give the memory in MiB, e.g. --memory 64.');
  const vcpus = positiveInt(opts.vcpus ?? 1, '--vcpus', 'Give the number of virtual CPUs, e.g. --vcpus 1.');
  const disks = (opts.disks ?? []).map((d, i) => parseDisk(d, i));
  const vdevs = new Set<string>();
  for (const d of disks) {
    if (vdevs.has(d.vdev)) throw new ImageLinkerError(`--disk ${d.file}`, `uses guest device ${d.vdev} a second time.`, 'Give each disk its own vdev (xvda, xvdb, ...).');
    vdevs.add(d.vdev);
  }
  const nets = (opts.nets ?? []).map(parseNet);
  const pci = (opts.pci ?? []).map(parsePci);
  const dup = pci.find((b, i) => pci.indexOf(b) !== i);
  if (dup) throw new ImageLinkerError(`--pci ${dup}`, 'names the same device twice.', 'Name each device once.');
  const env = parseEnv(opts.env);
  const guest: GuestConfig = {
    argv: [name, ...(opts.args ?? [])],
    env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    devices: {
      disks: disks.map((d) => ({ vdev: d.vdev, readonly: d.readonly })),
      nets: nets.map((n) => ({ mac: n.mac, bridge: n.bridge })),
      pci,
    },
  };
  const guestJson = JSON.stringify(guest);
  const words = [...guest.env, ...guest.argv.slice(1)];
  const line = words.join(' ');
  const cmdline = words.every((w) => w !== '' && !/[\s"'\\]/.test(w)) && line.length <= MAX_CMDLINE ? line : '';

  const domain: DomainConfig = {
    name,
    kernel,
    type: type === 'xen-pvh' ? 'pvh' : 'pv',
    ...(cmdline ? { cmdline } : {}),
    memory: memoryMb,
    vcpus,
    disks: disks.map((d) => ({ target: d.file, vdev: d.vdev, readonly: d.readonly })),
    vifs: nets.map((n) => ({ ...(n.bridge ? { bridge: n.bridge } : {}), ...(n.mac ? { mac: n.mac } : {}) })),
    pci,
    on_poweroff: 'destroy',
    on_reboot: 'destroy',
    on_crash: 'destroy',
  };
  const header = [
    '# Xen domain configuration (xl.cfg) written by @rumpxen/image-linker.',
    `# The guest reads its configuration from xenstore ${GUEST_CONFIG_XENSTORE_KEY} under its domain path;`,
    '# `image-linker run` writes it there. Without it, the guest takes its environment (K=V words)',
    '# and arguments from the kernel command line below, which carries them when they fit.',
  ];
  let xl: string;
  let libxl: string;
  let libvirt: string;
  try {
    xl = `${header.join('\n')}\n${renderXlCfg(domain)}`;
    libxl = renderLibxlJson(domain);
    libvirt = renderLibvirtXml(domain);
  } catch (e) {
    if (!(e instanceof DomainConfigError)) throw e;
    if (e.field === 'name') throw new ImageLinkerError(`--name ${name}`, `is not a domain name Xen's tools accept: ${e.problem}.`, 'Pass --name NAME: 1-64 letters, digits, _ . : -, starting with a letter or digit.');
    throw new ImageLinkerError(opts.image, `makes a domain config that cannot be written (${e.field}: ${e.problem}).`, `Change that setting: ${e.fix}.`);
  }

  return { domain, name, kernel, type, memoryMb, vcpus, disks, nets, pci, guest, guestJson, cmdline, xl, libxl, libvirt };
}
