/**
 * The project manifest `rumpxen.json`: what `build` and `run` otherwise take as flags.
 * Validated by hand against the schema below; every message names the key and the fix.
 * Relative paths are relative to the manifest's folder.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { ImageLinkerError } from './errors.js';
import { TARGET_NAMES } from './targets.js';
import type { DiskSpec, NetSpec } from './config.js';

export interface Manifest {
  /** Absolute path of the manifest file. */
  path: string;
  /** Folder relative paths are resolved against. */
  dir: string;
  /** A target name, or the absolute path of a target definition file. */
  target: string;
  /** Objects and archives (absolute paths). */
  inputs: string[];
  /** C sources compiled with the target's cflags before linking (absolute paths). */
  sources: string[];
  /** Extra compiler flags for `sources` (after the target's). */
  cflags: string[];
  /** Component archive paths (absolute) or names looked up in `sysroot`. */
  components: string[];
  sysroot?: string;
  /** Image path (absolute); default `build/<name>.<target>` beside the manifest. */
  output: string;
  name: string;
  memory?: number;
  vcpus?: number;
  devices: { disks: (string | DiskSpec)[]; nets: (string | NetSpec)[]; pci: string[] };
  env: Record<string, string>;
  args: string[];
  /** Seconds `run` waits for the image to end. */
  timeout?: number;
  gcSections?: boolean;
  /** A C library linked into the image (`netbsd`: NetBSD's libc, Xen targets). */
  libc?: string;
}

interface KeySpec {
  type: string;
  fix: string;
}

/** The schema: every key, its type, and what to write. */
export const MANIFEST_SCHEMA: Readonly<Record<string, KeySpec>> = {
  $schema: { type: 'string', fix: 'a schema URL (ignored)' },
  name: { type: 'string', fix: 'a domain name of letters, digits, ".", "_" or "-", e.g. "hello"' },
  target: { type: 'target', fix: `one of ${TARGET_NAMES.map((t) => `"${t}"`).join(', ')} (or a target definition file, "*.json")` },
  inputs: { type: 'string[]', fix: 'a list of object (.o) or archive (.a) paths, e.g. ["build/main.o"]' },
  sources: { type: 'string[]', fix: 'a list of C source paths compiled for the target, e.g. ["main.c"]' },
  cflags: { type: 'string[]', fix: 'a list of extra compiler flags for "sources", e.g. ["-Wall", "-O2"]' },
  components: { type: 'string[]', fix: 'a list of component archives or names, e.g. ["librumpvfs.a"]' },
  sysroot: { type: 'string', fix: 'the folder holding lib/librump*.a, e.g. "../rump/destdir"' },
  output: { type: 'string', fix: 'the image path, e.g. "build/hello.xen-pv"' },
  memory: { type: 'posint', fix: 'the memory in MiB as a whole number, e.g. 64' },
  vcpus: { type: 'posint', fix: 'the number of virtual CPUs, e.g. 1' },
  devices: { type: 'devices', fix: 'an object with "disks", "nets" and "pci" lists, e.g. {"disks": ["data.img,xvda"]}' },
  env: { type: 'env', fix: 'an object of string values, e.g. {"RUMP_VERBOSE": "1"}' },
  args: { type: 'string[]', fix: 'a list of strings, e.g. ["-v"]' },
  timeout: { type: 'posint', fix: 'seconds as a whole number, e.g. 60' },
  gcSections: { type: 'boolean', fix: 'true or false' },
  libc: { type: 'libc', fix: '"netbsd" (NetBSD\'s libc, for xen-pv and xen-pvh)' },
};

const DEVICE_KEYS = ['disks', 'nets', 'pci'];

function closest(word: string, options: string[]): string | undefined {
  const dist = (a: string, b: string) => {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)] as number[]);
    for (let j = 1; j <= b.length; j += 1) d[0]![j] = j;
    for (let i = 1; i <= a.length; i += 1)
      for (let j = 1; j <= b.length; j += 1)
        d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    return d[a.length]![b.length]!;
  };
  const best = options.map((o) => [o, dist(word.toLowerCase(), o.toLowerCase())] as const).sort((x, y) => x[1] - y[1])[0];
  return best && best[1] <= 3 ? best[0] : undefined;
}

/** Validates parsed JSON against the manifest schema; `file` names the manifest in errors. */
export function validateManifest(data: unknown, file: string): Manifest {
  const bad = (key: string, problem: string, fix: string): never => {
    throw new ImageLinkerError(`${file}: key "${key}"`, problem, fix);
  };
  if (!data || typeof data !== 'object' || Array.isArray(data)) {
    throw new ImageLinkerError(file, 'is not a JSON object.', 'Write a manifest like {"target": "xen-pv", "inputs": ["main.o"]}.');
  }
  const obj = data as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (!(key in MANIFEST_SCHEMA)) {
      const near = closest(key, Object.keys(MANIFEST_SCHEMA));
      bad(key, 'is not a manifest key.', near ? `Did you mean "${near}"? Known keys: ${Object.keys(MANIFEST_SCHEMA).join(', ')}.` : `Remove it; known keys: ${Object.keys(MANIFEST_SCHEMA).join(', ')}.`);
    }
  }
  for (const [key, spec] of Object.entries(MANIFEST_SCHEMA)) {
    const v = obj[key];
    if (v === undefined) continue;
    const expect = `Write ${spec.fix}.`;
    switch (spec.type) {
      case 'string':
        if (typeof v !== 'string' || v === '') bad(key, `must be a non-empty string, not ${JSON.stringify(v)}.`, expect);
        break;
      case 'string[]':
        if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x === '')) bad(key, `must be a list of non-empty strings, not ${JSON.stringify(v)}.`, expect);
        break;
      case 'posint':
        if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) bad(key, `must be a positive whole number, not ${JSON.stringify(v)}.`, expect);
        break;
      case 'boolean':
        if (typeof v !== 'boolean') bad(key, `must be true or false, not ${JSON.stringify(v)}.`, expect);
        break;
      case 'libc':
        if (v !== 'netbsd') bad(key, `is ${JSON.stringify(v)}, which is not a C library this tool links.`, expect);
        break;
      case 'target':
        if (typeof v !== 'string' || (!(TARGET_NAMES as readonly string[]).includes(v) && !v.endsWith('.json'))) bad(key, `is ${JSON.stringify(v)}, which is not a target.`, expect);
        break;
      case 'env':
        if (!v || typeof v !== 'object' || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string')) bad(key, 'must be an object whose values are strings.', expect);
        break;
      case 'devices': {
        if (!v || typeof v !== 'object' || Array.isArray(v)) bad(key, 'must be an object.', expect);
        for (const [dk, dv] of Object.entries(v as Record<string, unknown>)) {
          if (!DEVICE_KEYS.includes(dk)) bad(`devices.${dk}`, 'is not a device kind.', `Use ${DEVICE_KEYS.map((k) => `"${k}"`).join(', ')}${closest(dk, DEVICE_KEYS) ? ` (did you mean "${closest(dk, DEVICE_KEYS)}"?)` : ''}.`);
          if (!Array.isArray(dv)) bad(`devices.${dk}`, 'must be a list.', dk === 'disks' ? 'Write e.g. ["data.img,xvda,ro"] or [{"file": "data.img", "vdev": "xvda", "readonly": true}].' : dk === 'nets' ? 'Write e.g. ["xenbr0"] or ["00:16:3e:00:00:01"].' : 'Write e.g. ["0000:00:03.0"].');
          (dv as unknown[]).forEach((item, i) => {
            const obj = !!item && typeof item === 'object' && !Array.isArray(item) ? (item as Record<string, unknown>) : undefined;
            const only = (keys: string[]) => !!obj && Object.keys(obj).every((k) => keys.includes(k));
            const ok = dk === 'disks'
              ? typeof item === 'string' || (only(['file', 'vdev', 'readonly']) && typeof obj!.file === 'string' && obj!.file !== ''
                && (obj!.vdev === undefined || typeof obj!.vdev === 'string') && (obj!.readonly === undefined || typeof obj!.readonly === 'boolean'))
              : dk === 'nets'
                ? typeof item === 'string' || (only(['bridge', 'mac']) && (obj!.bridge !== undefined || obj!.mac !== undefined)
                  && ['bridge', 'mac'].every((k) => obj![k] === undefined || obj![k] === null || typeof obj![k] === 'string'))
                : typeof item === 'string';
            if (!ok) {
              bad(`devices.${dk}[${i}]`, `is ${JSON.stringify(item)}, which is not a ${dk === 'pci' ? 'PCI device' : dk.slice(0, -1)} description.`,
                dk === 'disks' ? 'Write "FILE[,vdev][,ro]" or {"file": "data.img", "vdev": "xvdb", "readonly": true} (vdev and readonly may be left out).'
                  : dk === 'nets' ? 'Write "xenbr0" or "00:16:3e:12:34:56", or {"bridge": "xenbr0", "mac": "00:16:3e:12:34:56"} (either may be left out).'
                    : 'Write a BDF string as on the command line, e.g. "0000:00:03.0".');
            }
          });
        }
        break;
      }
      default:
        break;
    }
  }
  if (obj.target === undefined) bad('target', 'is missing.', `Add "target": ${MANIFEST_SCHEMA.target!.fix}.`);
  if (obj.inputs === undefined && obj.sources === undefined) bad('inputs', 'is missing (and there are no "sources").', 'Add "inputs": ["main.o"] (objects/archives) or "sources": ["main.c"].');
  const dir = dirname(resolve(file));
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(dir, p));
  const target = (obj.target as string).endsWith('.json') ? abs(obj.target as string) : (obj.target as string);
  let targetTag = target;
  if (target.endsWith('.json')) {
    if (!existsSync(target)) bad('target', `names ${target}, which does not exist.`, `Write ${MANIFEST_SCHEMA.target!.fix}.`);
    try {
      targetTag = String((JSON.parse(readFileSync(target, 'utf8')) as { name?: string }).name ?? 'custom');
    } catch {
      bad('target', `names ${target}, which is not JSON.`, 'Point it at a target definition file.');
    }
  }
  const name = (obj.name as string | undefined) ?? (dirname(resolve(file)).split('/').pop() || 'image');
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) bad('name', `is "${name}", which Xen does not accept as a domain name.`, `Write ${MANIFEST_SCHEMA.name!.fix}.`);
  const sources = ((obj.sources as string[] | undefined) ?? []).map(abs);
  for (const [i, s] of sources.entries()) if (!existsSync(s)) bad(`sources[${i}]`, `names ${s}, which does not exist.`, 'Fix the path (relative paths are relative to the manifest).');
  const devices = (obj.devices as Record<string, unknown[]> | undefined) ?? {};
  const diskAbs = (d: string | DiskSpec): string | DiskSpec => {
    if (typeof d === 'string') {
      const [f, ...rest] = d.split(',');
      return [abs(f ?? ''), ...rest].join(',');
    }
    return { ...d, file: abs(d.file) };
  };
  return {
    path: resolve(file),
    dir,
    target,
    name,
    inputs: ((obj.inputs as string[] | undefined) ?? []).map(abs),
    sources,
    cflags: (obj.cflags as string[] | undefined) ?? [],
    components: ((obj.components as string[] | undefined) ?? []).map((c) => (c.includes('/') || c.endsWith('.a') ? abs(c) : c)),
    sysroot: obj.sysroot ? abs(obj.sysroot as string) : undefined,
    output: obj.output ? abs(obj.output as string) : resolve(dir, 'build', `${name}.${targetTag}`),
    memory: obj.memory as number | undefined,
    vcpus: obj.vcpus as number | undefined,
    devices: {
      disks: ((devices.disks as (string | DiskSpec)[] | undefined) ?? []).map(diskAbs),
      nets: (devices.nets as (string | NetSpec)[] | undefined) ?? [],
      pci: (devices.pci as string[] | undefined) ?? [],
    },
    env: (obj.env as Record<string, string> | undefined) ?? {},
    args: (obj.args as string[] | undefined) ?? [],
    timeout: obj.timeout as number | undefined,
    gcSections: obj.gcSections as boolean | undefined,
    libc: obj.libc as string | undefined,
  };
}

/** Reads and validates a manifest file. */
export function loadManifest(file: string): Manifest {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ImageLinkerError(file, `cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)}).`, 'Check the path to rumpxen.json.');
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new ImageLinkerError(file, `is not valid JSON (${(e as Error).message}).`, 'Fix the JSON syntax (no comments, no trailing commas).');
  }
  return validateManifest(data, file);
}

/** True when a path looks like a manifest rather than an image. */
export function isManifestPath(path: string): boolean {
  return path.endsWith('.json');
}
