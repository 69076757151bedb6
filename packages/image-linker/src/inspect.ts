/**
 * `inspect`: what an image is — target (from its Xen notes), entry, notes, segments, sizes
 * overall and per input, which hypercalls it carries and which mandatory ones it lacks.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { componentName } from '@rumpxen/netbsd-build';
import { ImageLinkerError } from './errors.js';
import { EM_X86_64, PT_LOAD, SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE, SHT_NOBITS, parseElf, type ElfFile } from './elf.js';
import { targetFromNotes, xenNotes, type ImageTarget, type XenNote } from '@rumpxen/protocol';
import { knownHypercalls } from './targets.js';

/** Non-allocated section where `build` records the size each input contributed. */
export const INPUTS_SECTION = '.rumpxen.inputs';

export type InputRole = 'start' | 'object' | 'component' | 'library' | 'host' | 'linker';

export interface InputSize {
  /** Input file (archive path for archive members) or, from symbols, a source file name. */
  input: string;
  role: InputRole | 'source';
  text: number;
  data: number;
  bss: number;
}

export interface SegmentReport {
  type: string;
  flags: string;
  offset: number;
  vaddr: bigint;
  paddr: bigint;
  filesz: bigint;
  memsz: bigint;
}

export interface ImageReport {
  path: string;
  machine: string;
  kind: string;
  target: ImageTarget;
  entry: bigint;
  /** Symbol at the entry address, if any. */
  entrySymbol: string | null;
  xenNotes: XenNote[];
  otherNotes: { owner: string; type: number; source: string }[];
  segments: SegmentReport[];
  sizes: { text: number; data: number; bss: number; file: number };
  /** Rump kernel components linked into the image (from the build record), by name. */
  rumpComponents: string[];
  /** Size per input: from the build record when present, else per source file from symbols. */
  inputs: InputSize[];
  inputsFrom: 'build-record' | 'symbols' | 'none';
  tls: { present: boolean; memsz: bigint };
  hypercalls: {
    /** Hypercalls the image defines. */
    present: string[];
    /** Hypercalls it imports from a shared library (posix images linked dynamically). */
    imported: string[];
    missingMandatory: string[];
  };
  /** Undefined, non-weak symbols left in a static image (must be empty). */
  undefinedSymbols: string[];
}

const flagString = (f: number) => `${f & 4 ? 'R' : '-'}${f & 2 ? 'W' : '-'}${f & 1 ? 'X' : '-'}`;

/** text/data/bss the way `size` counts them: by section flags. */
export function sectionSizes(elf: ElfFile): { text: number; data: number; bss: number } {
  let text = 0;
  let data = 0;
  let bss = 0;
  for (const s of elf.sections) {
    if (!(s.flags & SHF_ALLOC)) continue;
    const n = Number(s.size);
    if (s.type === SHT_NOBITS) bss += n;
    else if (s.flags & SHF_WRITE) data += n;
    else text += n;
  }
  return { text, data, bss };
}

function inputsFromSymbols(elf: ElfFile): InputSize[] {
  // Local STT_FILE symbols open a run of the symbols of one source file (symtab order).
  const bySource = new Map<string, InputSize>();
  let current = '(no file symbol)';
  for (const sym of elf.symbols) {
    if (sym.dynamic) continue;
    if (sym.type === 'file') {
      current = sym.name;
      continue;
    }
    if (sym.binding !== 'local') current = '(global symbols)';
    if (sym.type !== 'func' && sym.type !== 'object' && sym.type !== 'tls') continue;
    if (sym.size === 0n || !sym.section) continue;
    const sec = elf.sections[sym.shndx];
    if (!sec || !(sec.flags & SHF_ALLOC)) continue;
    const entry = bySource.get(current) ?? { input: current, role: 'source' as const, text: 0, data: 0, bss: 0 };
    const n = Number(sym.size);
    if (sec.type === SHT_NOBITS) entry.bss += n;
    else if (sec.flags & SHF_WRITE) entry.data += n;
    else entry.text += n;
    bySource.set(current, entry);
  }
  return [...bySource.values()].sort((a, b) => b.text + b.data + b.bss - (a.text + a.data + a.bss));
}

/** What `build` records in the image. */
export interface BuildRecord {
  target: string;
  entrySymbol: string;
  inputs: InputSize[];
}

function readBuildRecord(elf: ElfFile, path: string): BuildRecord | null {
  const sec = elf.sections.find((s) => s.name === INPUTS_SECTION);
  if (!sec) return null;
  try {
    const parsed = JSON.parse(Buffer.from(elf.sectionData(sec)).toString('utf8')) as BuildRecord;
    if (!parsed || !Array.isArray(parsed.inputs)) return null;
    return parsed;
  } catch {
    throw new ImageLinkerError(path, `has a damaged ${INPUTS_SECTION} section (not JSON).`, 'Rebuild the image with image-linker build.');
  }
}

/** Inspects parsed image bytes; `path` names the image in the report and in errors. */
export function inspectBytes(bytes: Uint8Array, path: string): ImageReport {
  const elf = parseElf(bytes, path);
  if (elf.machine !== EM_X86_64) {
    throw new ImageLinkerError(path, `is an ELF file for ${elf.machineName}, not x86-64.`, 'Inspect an image built for x86-64 (xen-pv, xen-pvh or posix).');
  }
  if (elf.kind === 'relocatable') {
    throw new ImageLinkerError(path, 'is a relocatable object, not a linked image.', 'Link it first: image-linker build <objects> --target <target> -o <image>.');
  }
  const notes = xenNotes(elf.notes);
  const record = readBuildRecord(elf, path);
  const recorded = record ? elf.symbols.find((s) => s.name === record.entrySymbol && s.shndx !== 0 && s.value === elf.entry) : undefined;
  const entrySym = recorded ?? elf.symbols.find((s) => (s.type === 'func' || s.type === 'notype') && s.shndx !== 0 && s.value === elf.entry && s.name !== '' && s.binding !== 'local')
    ?? elf.symbols.find((s) => s.shndx !== 0 && s.value === elf.entry && s.name !== '' && s.type !== 'section' && s.type !== 'file');
  const fromSymbols = record ? [] : inputsFromSymbols(elf);
  const defined = new Set(elf.symbols.filter((s) => s.shndx !== 0 && s.binding !== 'local').map((s) => s.name));
  const undefinedDyn = new Set(elf.symbols.filter((s) => s.shndx === 0 && s.dynamic).map((s) => s.name));
  const known = knownHypercalls();
  const present = known.filter((h) => defined.has(h.name)).map((h) => h.name);
  const imported = known.filter((h) => !defined.has(h.name) && undefinedDyn.has(h.name)).map((h) => h.name);
  const missingMandatory = known.filter((h) => h.mandatory && h.interface === 'rumpuser' && !defined.has(h.name) && !undefinedDyn.has(h.name)).map((h) => h.name);
  const dynamic = elf.segments.some((s) => s.typeName === 'DYNAMIC' || s.typeName === 'INTERP');
  const undefinedSymbols = dynamic
    ? []
    : [...new Set(elf.symbols.filter((s) => s.shndx === 0 && s.binding === 'global' && s.name !== '').map((s) => s.name))].sort();
  const tlsSeg = elf.segments.find((s) => s.typeName === 'TLS');
  return {
    path,
    machine: elf.machineName,
    kind: elf.kind,
    target: targetFromNotes(notes),
    entry: elf.entry,
    entrySymbol: entrySym?.name ?? null,
    xenNotes: notes,
    otherNotes: elf.notes.filter((n) => n.owner !== 'Xen').map((n) => ({ owner: n.owner, type: n.type, source: n.source })),
    segments: elf.segments.map((s) => ({
      type: s.typeName,
      flags: flagString(s.flags),
      offset: s.offset,
      vaddr: s.vaddr,
      paddr: s.paddr,
      filesz: s.filesz,
      memsz: s.memsz,
    })),
    sizes: { ...sectionSizes(elf), file: bytes.length },
    rumpComponents: rumpComponentsOf(record?.inputs ?? []),
    inputs: record?.inputs ?? fromSymbols,
    inputsFrom: record ? 'build-record' : fromSymbols.length ? 'symbols' : 'none',
    tls: { present: !!tlsSeg, memsz: tlsSeg?.memsz ?? 0n },
    hypercalls: { present, imported, missingMandatory },
    undefinedSymbols,
  };
}

/** Component names (`net_netinet`, `rump`, …) of the component archives among an image's inputs. */
function rumpComponentsOf(inputs: InputSize[]): string[] {
  const names = inputs
    .filter((i) => i.role === 'component')
    .map((i) => componentName(basename(i.input)) ?? basename(i.input).replace(/\.a$/, ''));
  return [...new Set(names)].sort();
}

/** Reads and inspects an image file. */
export async function inspect(path: string): Promise<ImageReport> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new ImageLinkerError(path, `cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)}).`, 'Check the path to the image.');
  }
  return inspectBytes(bytes, path);
}

/** JSON-safe form of a report (bigints as 0x hex strings). */
export function reportToJson(report: ImageReport): string {
  return JSON.stringify(report, (_k, v) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v), 2);
}

const hex = (v: bigint) => `0x${v.toString(16)}`;

/** Human-readable form of a report. */
export function formatReport(r: ImageReport): string {
  const lines: string[] = [];
  lines.push(`image:    ${r.path}`);
  lines.push(`target:   ${r.target} (${r.kind}, ${r.machine})`);
  lines.push(`entry:    ${hex(r.entry)}${r.entrySymbol ? ` <${r.entrySymbol}>` : ''}`);
  lines.push(`size:     text ${r.sizes.text}  data ${r.sizes.data}  bss ${r.sizes.bss}  file ${r.sizes.file}`);
  lines.push(`tls:      ${r.tls.present ? `PT_TLS, ${r.tls.memsz} bytes` : 'none'}`);
  lines.push('xen notes:');
  if (r.xenNotes.length === 0) lines.push('  (none)');
  for (const n of r.xenNotes) {
    const v = typeof n.value === 'bigint' ? hex(n.value) : Array.isArray(n.value) ? n.value.map(hex).join(' ') : JSON.stringify(n.value);
    lines.push(`  ${n.name.padEnd(20)} ${v}`);
  }
  lines.push('segments:');
  for (const s of r.segments) {
    lines.push(`  ${s.type.padEnd(13)} ${s.flags} vaddr ${hex(s.vaddr).padStart(18)} paddr ${hex(s.paddr).padStart(18)} filesz ${hex(s.filesz).padStart(9)} memsz ${hex(s.memsz).padStart(9)}`);
  }
  lines.push(`rump components (${r.rumpComponents.length}): ${r.rumpComponents.join(' ') || '(none)'}`);
  lines.push(`size by input (${r.inputsFrom}):`);
  for (const i of r.inputs.slice(0, 40)) {
    lines.push(`  ${String(i.text + i.data + i.bss).padStart(9)}  text ${String(i.text).padStart(8)} data ${String(i.data).padStart(7)} bss ${String(i.bss).padStart(8)}  ${i.input}${i.role !== 'source' ? ` [${i.role}]` : ''}`);
  }
  if (r.inputs.length > 40) lines.push(`  ... ${r.inputs.length - 40} more (use --json)`);
  lines.push(`hypercalls present (${r.hypercalls.present.length}): ${r.hypercalls.present.join(' ') || '(none)'}`);
  if (r.hypercalls.imported.length) lines.push(`hypercalls imported from shared libraries (${r.hypercalls.imported.length}): ${r.hypercalls.imported.join(' ')}`);
  lines.push(`missing mandatory rumpuser hypercalls (${r.hypercalls.missingMandatory.length}): ${r.hypercalls.missingMandatory.join(' ') || '(none)'}`);
  if (r.undefinedSymbols.length) lines.push(`UNDEFINED symbols: ${r.undefinedSymbols.join(' ')}`);
  return lines.join('\n');
}
