/**
 * Kernel module metadata, read straight from the `.ko` files so that building the dom0
 * initramfs needs neither kmod nor a booted kernel.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The `key=value` strings of a module's `.modinfo` ELF section (keys may repeat). */
export function readModinfo(file: string): Map<string, string[]> {
  const elf = readFileSync(file);
  const fail = (why: string): never => {
    throw new Error(`${file}: ${why}; expected an x86-64 Linux kernel module (.ko, uncompressed ELF64)`);
  };
  if (elf.length < 64 || elf.readUInt32BE(0) !== 0x7f454c46) fail('not an ELF file');
  if (elf[4] !== 2 || elf[5] !== 1) fail('not a little-endian ELF64 file');
  const shoff = Number(elf.readBigUInt64LE(0x28));
  const shentsize = elf.readUInt16LE(0x3a);
  const shnum = elf.readUInt16LE(0x3c);
  const shstrndx = elf.readUInt16LE(0x3e);
  if (shoff + shnum * shentsize > elf.length || shstrndx >= shnum) fail('section table out of range');
  const section = (i: number) => {
    const at = shoff + i * shentsize;
    return {
      name: elf.readUInt32LE(at),
      offset: Number(elf.readBigUInt64LE(at + 0x18)),
      size: Number(elf.readBigUInt64LE(at + 0x20)),
    };
  };
  const names = section(shstrndx);
  const info = new Map<string, string[]>();
  for (let i = 0; i < shnum; i++) {
    const s = section(i);
    const nameStart = names.offset + s.name;
    const name = elf.toString('latin1', nameStart, elf.indexOf(0, nameStart));
    if (name !== '.modinfo') continue;
    if (s.offset + s.size > elf.length) fail('.modinfo section out of range');
    for (const entry of elf.toString('latin1', s.offset, s.offset + s.size).split('\0')) {
      const eq = entry.indexOf('=');
      if (eq <= 0) continue;
      const key = entry.slice(0, eq);
      const list = info.get(key) ?? [];
      list.push(entry.slice(eq + 1));
      info.set(key, list);
    }
    return info;
  }
  return fail('no .modinfo section');
}

/** A module chosen for the initramfs: its name, path under the module tree, and dependencies. */
export interface ModuleEntry {
  name: string;
  /** Relative to `/lib/modules/<release>/`, e.g. `kernel/net/9p/9pnet.ko`. */
  relPath: string;
  depends: string[];
}

/** Indexes a module tree's `.ko` files by module name (`-` and `_` are the same). */
function indexModules(moduleDir: string): Map<string, string> {
  const order = readFileSync(join(moduleDir, 'modules.order'), 'utf8');
  const index = new Map<string, string>();
  for (const line of order.split('\n')) {
    const rel = line.trim();
    if (!rel.endsWith('.ko')) continue;
    const base = rel.slice(rel.lastIndexOf('/') + 1, -3);
    index.set(canonicalModuleName(base), rel);
  }
  return index;
}

/** Module names compare with `-` and `_` treated alike, as the kernel does. */
export function canonicalModuleName(name: string): string {
  return name.replace(/-/g, '_');
}

/**
 * Closes `wanted` over module dependencies and returns the modules in load order (each after
 * the modules it depends on). Names that are built into the kernel are skipped.
 */
export function resolveModules(moduleDir: string, wanted: readonly string[]): ModuleEntry[] {
  const index = indexModules(moduleDir);
  const builtin = new Set(
    readFileSync(join(moduleDir, 'modules.builtin'), 'utf8')
      .split('\n')
      .filter((l) => l.endsWith('.ko'))
      .map((l) => canonicalModuleName(l.slice(l.lastIndexOf('/') + 1, -3))),
  );
  const done = new Map<string, ModuleEntry>();
  const visiting = new Set<string>();
  const visit = (raw: string, wantedBy: string) => {
    const name = canonicalModuleName(raw);
    if (done.has(name) || builtin.has(name)) return;
    if (visiting.has(name)) throw new Error(`kernel module dependency cycle through '${name}'`);
    const relPath = index.get(name);
    if (!relPath) {
      throw new Error(
        `kernel module '${raw}' (needed by ${wantedBy}) is not in ${moduleDir}/modules.order ` +
          `and is not built in; check the module name against that kernel's config`,
      );
    }
    visiting.add(name);
    const depends = (readModinfo(join(moduleDir, relPath)).get('depends')?.[0] ?? '')
      .split(',')
      .filter((d) => d.length > 0)
      .map(canonicalModuleName);
    for (const dep of depends) visit(dep, name);
    visiting.delete(name);
    done.set(name, { name, relPath, depends });
  };
  for (const w of wanted) visit(w, 'the dom0 initramfs');
  return [...done.values()];
}

/**
 * `modules.dep` text for `modules` (in load order, as resolveModules returns them), in the
 * format busybox and kmod modprobe read: each line lists all dependencies, and modprobe loads
 * them from the last to the first, so they are listed in reverse load order.
 */
export function modulesDep(modules: readonly ModuleEntry[]): string {
  const byName = new Map(modules.map((m) => [m.name, m]));
  const closure = (m: ModuleEntry, into: Set<string>) => {
    for (const d of m.depends) {
      if (!into.has(d) && byName.has(d)) {
        into.add(d);
        closure(byName.get(d)!, into);
      }
    }
    return into;
  };
  return modules
    .map((m) => {
      const deps = closure(m, new Set());
      const ordered = modules.filter((x) => deps.has(x.name)).reverse();
      return `${m.relPath}: ${ordered.map((x) => x.relPath).join(' ')}`.trimEnd() + '\n';
    })
    .join('');
}
