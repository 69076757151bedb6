/**
 * Link inputs as the image-linker sees them before calling ld: each file checked (exists,
 * ELF or ar archive, x86-64, relocatable) and its symbols and sections indexed, so that
 * undefined symbols can be explained and link sets found.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { ImageLinkerError } from './errors.js';
import { EM_X86_64, isArchive, isElf, parseElf, readArchive, type ElfFile } from './elf.js';

export interface InputObject {
  /** `file.o` or `lib.a(member.o)`. */
  name: string;
  elf: ElfFile;
}

export interface LoadedInput {
  path: string;
  kind: 'object' | 'archive';
  objects: InputObject[];
}

function checkObject(elf: ElfFile, shown: string, path: string): void {
  if (elf.machine !== EM_X86_64) {
    throw new ImageLinkerError(
      shown,
      `is an ELF object for ${elf.machineName}, but every target here is x86-64.`,
      `Recompile it for x86-64 (e.g. gcc -c with the flags from the target; a cross compiler for ${elf.machineName} will not do).`,
    );
  }
  if (elf.kind === 'shared') {
    throw new ImageLinkerError(
      shown,
      'is a shared object (ET_DYN); a DomU image is linked statically and cannot load shared libraries.',
      `Pass the static archive (.a) or the relocatable objects (.o) instead of ${basename(path)}.`,
    );
  }
  if (elf.kind !== 'relocatable') {
    throw new ImageLinkerError(
      shown,
      `is an ELF ${elf.kind} file, not a relocatable object.`,
      'Pass objects compiled with -c (.o) or ar archives of them (.a), not linked programs.',
    );
  }
}

/** Reads and checks one input (object or archive). */
export function loadInput(path: string): LoadedInput {
  let bytes: Buffer;
  try {
    if (statSync(path).isDirectory()) {
      throw new ImageLinkerError(path, 'is a directory, not an object file or archive.', 'Pass the .o or .a files themselves.');
    }
    bytes = readFileSync(path);
  } catch (e) {
    if (e instanceof ImageLinkerError) throw e;
    throw new ImageLinkerError(path, `cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)}).`, 'Check the path; inputs are x86-64 .o files or .a archives.');
  }
  if (isArchive(bytes)) {
    const objects: InputObject[] = [];
    for (const m of readArchive(bytes, path)) {
      const shown = `${path}(${m.name})`;
      if (!isElf(m.data)) continue; // ar archives may carry non-object members (e.g. a symdef)
      const elf = parseElf(m.data, shown);
      checkObject(elf, shown, path);
      objects.push({ name: shown, elf });
    }
    return { path, kind: 'archive', objects };
  }
  if (!isElf(bytes)) {
    throw new ImageLinkerError(
      path,
      'is neither an ELF object nor an ar archive.',
      'Pass x86-64 relocatable objects (gcc -c ... -o x.o) or archives of them (ar rcs libx.a x.o).',
    );
  }
  const elf = parseElf(bytes, path);
  checkObject(elf, path, path);
  return { path, kind: 'object', objects: [{ name: path, elf }] };
}

export interface SymbolIndex {
  /** Global or weak symbol name → objects that define it. */
  definedBy: Map<string, { object: string; input: string; weak: boolean }[]>;
}

export function indexSymbols(inputs: LoadedInput[]): SymbolIndex {
  const definedBy: SymbolIndex['definedBy'] = new Map();
  for (const input of inputs) {
    for (const obj of input.objects) {
      for (const s of obj.elf.symbols) {
        if (s.shndx === 0 || s.binding === 'local' || s.name === '') continue;
        const list = definedBy.get(s.name) ?? [];
        list.push({ object: obj.name, input: input.path, weak: s.binding === 'weak' });
        definedBy.set(s.name, list);
      }
    }
  }
  return { definedBy };
}

/** Names of `link_set_*` sections in the inputs (NetBSD-style registration tables). */
export function linkSetNames(inputs: LoadedInput[]): string[] {
  const names = new Set<string>();
  for (const input of inputs) {
    for (const obj of input.objects) {
      for (const s of obj.elf.sections) if (/^link_set_[A-Za-z0-9_]+$/.test(s.name)) names.add(s.name);
    }
  }
  return [...names].sort();
}

/** True when any input carries thread-local data (.tdata/.tbss). */
export function hasTls(inputs: LoadedInput[]): boolean {
  return inputs.some((i) => i.objects.some((o) => o.elf.sections.some((s) => /^\.(tdata|tbss)(\.|$)/.test(s.name) && s.size > 0n)));
}

/** Directories searched for `--component NAME` and for hints, under a sysroot. */
export function sysrootLibDirs(sysroot: string): string[] {
  return [join(sysroot, 'lib'), join(sysroot, 'usr', 'lib'), sysroot].filter((d) => {
    try {
      return statSync(d).isDirectory();
    } catch {
      return false;
    }
  });
}

/** Archives in a sysroot's library directories. */
export function sysrootArchives(sysroot: string): string[] {
  const out: string[] = [];
  for (const dir of sysrootLibDirs(sysroot)) {
    for (const f of readdirSync(dir)) if (f.endsWith('.a')) out.push(join(dir, f));
  }
  return out;
}

/** True when a component spec is a path (contains `/` or ends in `.a`) rather than a name. */
export function isComponentPath(spec: string): boolean {
  return spec.includes('/') || spec.endsWith('.a');
}

/**
 * A component given as a path (contains `/` or ends in `.a`) or as a name looked up in the
 * sysroot: `rumpvfs` → lib/librumpvfs.a, `vfs` → lib/librumpvfs.a.
 */
export function resolveComponent(spec: string, sysroot: string | undefined): string {
  if (isComponentPath(spec)) return resolve(spec);
  if (!sysroot) {
    throw new ImageLinkerError(
      `--component ${spec}`,
      'is a component name, and names are looked up in a sysroot, but no --sysroot was given.',
      `Pass --sysroot DIR (a buildrump.sh destdir holding lib/lib${spec}.a) or the archive path itself.`,
    );
  }
  const candidates = [`lib${spec}.a`, `${spec}.a`, `librump${spec}.a`];
  for (const dir of sysrootLibDirs(sysroot)) {
    for (const c of candidates) {
      const p = join(dir, c);
      try {
        if (statSync(p).isFile()) return resolve(p);
      } catch {
        // try the next candidate
      }
    }
  }
  throw new ImageLinkerError(
    `--component ${spec}`,
    `was not found in sysroot ${sysroot} (looked for ${candidates.join(', ')} in its lib/, usr/lib/ and top directory).`,
    'Check the component name (e.g. rumpvfs for librumpvfs.a) or pass the archive path.',
  );
}
