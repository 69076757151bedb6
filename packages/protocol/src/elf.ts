/**
 * The one reader of ELF files (little-endian ELF64, and ELF32 where a 32-bit PVH kernel needs
 * it) and `ar` archives. Facts from the System V gABI and the x86-64 psABI.
 *
 * Two ways in, one set of header, section, segment and note readers under them:
 *   - `parseElf(bytes, name)`: a whole ELF64 file in memory, sections, segments, symbols and
 *     notes, refusing anything truncated or malformed (what a linker's inputs and images need);
 *   - `openFileSource(path)` + `readElfHeader`/`readElfSegments`/`readElfSections`/`readNotes`
 *     (or `readLoaderNotes`): only the parts asked for, by positional reads of a file that may
 *     be a large kernel, with damage no error (what a kernel check needs).
 * Both read a note the same way: its descriptor must lie inside its section or segment (the
 * padding after the last one need not).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export const ET_REL = 1;
export const ET_EXEC = 2;
export const ET_DYN = 3;
export const ET_CORE = 4;
export const EM_386 = 3;
export const EM_X86_64 = 62;

export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_NOTE = 7;
export const SHT_NOBITS = 8;
export const SHT_DYNSYM = 11;

export const SHF_WRITE = 0x1n;
export const SHF_ALLOC = 0x2n;
export const SHF_EXECINSTR = 0x4n;
export const SHF_TLS = 0x400n;

export const PT_LOAD = 1;
export const PT_DYNAMIC = 2;
export const PT_INTERP = 3;
export const PT_NOTE = 4;
export const PT_TLS = 7;

export const SHN_UNDEF = 0;
export const SHN_ABS = 0xfff1;
export const SHN_COMMON = 0xfff2;

export type ElfKind = 'relocatable' | 'executable' | 'shared' | 'core' | 'unknown';
export type SymbolBinding = 'local' | 'global' | 'weak' | 'other';
export type SymbolType = 'notype' | 'object' | 'func' | 'section' | 'file' | 'common' | 'tls' | 'other';

export interface ElfSection {
  index: number;
  name: string;
  type: number;
  flags: bigint;
  addr: bigint;
  offset: number;
  size: bigint;
  link: number;
  info: number;
  align: bigint;
  entsize: bigint;
}

export interface ElfSegment {
  type: number;
  typeName: string;
  flags: number;
  offset: number;
  vaddr: bigint;
  paddr: bigint;
  filesz: bigint;
  memsz: bigint;
  align: bigint;
}

export interface ElfSymbol {
  name: string;
  value: bigint;
  size: bigint;
  binding: SymbolBinding;
  type: SymbolType;
  /** Section index; SHN_UNDEF (0) for an undefined symbol, SHN_ABS, SHN_COMMON. */
  shndx: number;
  /** Name of the section the symbol is defined in, '' when undefined/absolute/common. */
  section: string;
  /** True for symbols from the dynamic symbol table. */
  dynamic: boolean;
}

export interface ElfNote {
  /** Owner, e.g. `Xen`, `GNU`. */
  owner: string;
  type: number;
  desc: Uint8Array;
  /** Where the note came from: a section name or `PT_NOTE`. */
  source: string;
}

export interface ElfFile {
  kind: ElfKind;
  type: number;
  machine: number;
  machineName: string;
  entry: bigint;
  sections: ElfSection[];
  segments: ElfSegment[];
  symbols: ElfSymbol[];
  notes: ElfNote[];
  /** Bytes of one section (empty for SHT_NOBITS). */
  sectionData(section: ElfSection): Uint8Array;
}

/**
 * A file the reader refuses: which file, what is wrong with it, what to do. The message is
 * `<file>: <problem> <fix>`.
 */
export class ElfFormatError extends Error {
  readonly file: string;
  readonly problem: string;
  readonly fix: string;
  constructor(file: string, problem: string, fix: string) {
    super(`${file}: ${problem} ${fix}`);
    this.name = 'ElfFormatError';
    this.file = file;
    this.problem = problem;
    this.fix = fix;
  }
}

/** Makes the error thrown for a refused file (default: ElfFormatError), so a caller can keep its own error class. */
export type ElfErrorFactory = (file: string, problem: string, fix: string) => Error;

export interface ElfReadOptions {
  error?: ElfErrorFactory;
}

const defaultError: ElfErrorFactory = (file, problem, fix) => new ElfFormatError(file, problem, fix);

const MACHINES: Record<number, string> = {
  3: 'i386',
  8: 'MIPS',
  20: 'PowerPC',
  21: 'PowerPC64',
  40: 'ARM (32-bit)',
  62: 'x86-64',
  183: 'AArch64',
  243: 'RISC-V',
};

const SEGMENT_TYPES: Record<number, string> = {
  0: 'NULL',
  1: 'LOAD',
  2: 'DYNAMIC',
  3: 'INTERP',
  4: 'NOTE',
  6: 'PHDR',
  7: 'TLS',
  0x6474e550: 'GNU_EH_FRAME',
  0x6474e551: 'GNU_STACK',
  0x6474e552: 'GNU_RELRO',
  0x6474e553: 'GNU_PROPERTY',
};

export function machineName(machine: number): string {
  return MACHINES[machine] ?? `machine ${machine}`;
}

/** True when the bytes start with the ELF magic. */
export function isElf(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46;
}

/** True when the bytes start with the `ar` archive magic. */
export function isArchive(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && Buffer.from(bytes.subarray(0, 8)).toString('latin1') === '!<arch>\n';
}

function cstring(bytes: Uint8Array, start: number): string {
  let end = start;
  while (end < bytes.length && bytes[end] !== 0) end += 1;
  return Buffer.from(bytes.subarray(start, end)).toString('utf8');
}

function kindOf(type: number): ElfKind {
  return type === ET_REL ? 'relocatable' : type === ET_EXEC ? 'executable' : type === ET_DYN ? 'shared' : type === ET_CORE ? 'core' : 'unknown';
}

// ---- byte sources ---------------------------------------------------------------------------

/** Random access to a file's bytes; a read past the end comes back short. */
export interface ElfSource {
  readonly size: number;
  read(offset: number, length: number): Uint8Array;
}

/** The bytes of a file already in memory. */
export function memorySource(bytes: Uint8Array): ElfSource {
  return {
    size: bytes.length,
    read: (offset, length) => bytes.subarray(Math.min(offset, bytes.length), Math.min(offset + Math.max(0, length), bytes.length)),
  };
}

/** Largest single read of a FileSource: a note or header table is far smaller; a damaged length is not honoured. */
const MAX_FILE_READ = 16 << 20;

/** Positional reads of one open file (of at most 16 MiB each), so a large kernel is never read whole. */
export class FileSource implements ElfSource {
  readonly size: number;
  private constructor(private readonly fd: number, size: number) {
    this.size = size;
  }
  /** Opens `path`; throws the file system's error (ENOENT, EACCES, ...) unchanged. */
  static open(path: string): FileSource {
    const fd = openSync(path, 'r');
    try {
      return new FileSource(fd, fstatSync(fd).size);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }
  read(offset: number, length: number): Uint8Array {
    const len = Math.max(0, Math.min(length, this.size - offset, MAX_FILE_READ));
    const buf = Buffer.alloc(len);
    let off = 0;
    while (off < len) {
      const n = readSync(this.fd, buf, off, len - off, offset + off);
      if (n === 0) break;
      off += n;
    }
    return buf.subarray(0, off);
  }
  close(): void {
    closeSync(this.fd);
  }
}

/** Opens a file for positional reads (FileSource.open). */
export function openFileSource(path: string): FileSource {
  return FileSource.open(path);
}

// ---- headers, class by class ----------------------------------------------------------------

/** The ELF file header, with the header tables' places; numbers the bytes do not reach read as 0. */
export interface ElfHeader {
  /** 32 or 64; undefined for another EI_CLASS. */
  elfClass: 32 | 64 | undefined;
  littleEndian: boolean;
  type: number;
  kind: ElfKind;
  machine: number;
  machineName: string;
  entry: bigint;
  phoff: number;
  phentsize: number;
  phnum: number;
  shoff: number;
  shentsize: number;
  shnum: number;
  shstrndx: number;
}

/** Bounds-checked little-endian reads: a field the bytes do not reach reads as 0. */
class Fields {
  private readonly view: DataView;
  constructor(private readonly bytes: Uint8Array, readonly is64: boolean) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  u8(at: number): number {
    return at + 1 <= this.bytes.length ? this.view.getUint8(at) : 0;
  }
  u16(at: number): number {
    return at + 2 <= this.bytes.length ? this.view.getUint16(at, true) : 0;
  }
  u32(at: number): number {
    return at + 4 <= this.bytes.length ? this.view.getUint32(at, true) : 0;
  }
  u64(at: number): bigint {
    return at + 8 <= this.bytes.length ? this.view.getBigUint64(at, true) : 0n;
  }
  /** An address-sized field (Elf32_Addr/Off/Word or Elf64_Addr/Off/Xword) at its offset for the class. */
  addr(at32: number, at64: number): bigint {
    return this.is64 ? this.u64(at64) : BigInt(this.u32(at32));
  }
  /** The same, as a number (file offsets and sizes). */
  off(at32: number, at64: number): number {
    return Number(this.addr(at32, at64));
  }
}

/**
 * Reads the file header from the file's first bytes (at least 20: magic, class, type,
 * machine). Fields past EI_CLASS/EI_DATA are read only for little-endian ELF32/ELF64.
 */
export function readElfHeader(head: Uint8Array): ElfHeader {
  const elfClass = head[4] === 2 ? 64 : head[4] === 1 ? 32 : undefined;
  const littleEndian = head[5] === 1;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const type = head.length >= 18 ? view.getUint16(16, littleEndian) : 0;
  const machine = head.length >= 20 ? view.getUint16(18, littleEndian) : 0;
  const header: ElfHeader = {
    elfClass,
    littleEndian,
    type,
    kind: kindOf(type),
    machine,
    machineName: machineName(machine),
    entry: 0n,
    phoff: 0,
    phentsize: 0,
    phnum: 0,
    shoff: 0,
    shentsize: 0,
    shnum: 0,
    shstrndx: 0,
  };
  if (!elfClass || !littleEndian) return header;
  const f = new Fields(head, elfClass === 64);
  header.entry = f.addr(24, 24);
  header.phoff = f.off(28, 32);
  header.shoff = f.off(32, 40);
  header.phentsize = f.u16(f.is64 ? 54 : 42);
  header.phnum = f.u16(f.is64 ? 56 : 44);
  header.shentsize = f.u16(f.is64 ? 58 : 46);
  header.shnum = f.u16(f.is64 ? 60 : 48);
  header.shstrndx = f.u16(f.is64 ? 62 : 50);
  return header;
}

function segmentAt(f: Fields, o: number): ElfSegment {
  const type = f.u32(o);
  return {
    type,
    typeName: SEGMENT_TYPES[type] ?? `0x${type.toString(16)}`,
    flags: f.u32(f.is64 ? o + 4 : o + 24),
    offset: f.off(o + 4, o + 8),
    vaddr: f.addr(o + 8, o + 16),
    paddr: f.addr(o + 12, o + 24),
    filesz: f.addr(o + 16, o + 32),
    memsz: f.addr(o + 20, o + 40),
    align: f.addr(o + 28, o + 48),
  };
}

type RawSection = ElfSection & { nameOff: number };

function sectionAt(f: Fields, o: number, index: number): RawSection {
  return {
    index,
    name: '',
    nameOff: f.u32(o),
    type: f.u32(o + 4),
    flags: f.addr(o + 8, o + 8),
    addr: f.addr(o + 12, o + 16),
    offset: f.off(o + 16, o + 24),
    size: f.addr(o + 20, o + 32),
    link: f.u32(f.is64 ? o + 40 : o + 24),
    info: f.u32(f.is64 ? o + 44 : o + 28),
    align: f.addr(o + 32, o + 48),
    entsize: f.addr(o + 36, o + 56),
  };
}

function nameSections(raw: RawSection[], names: Uint8Array): ElfSection[] {
  return raw.map(({ nameOff, ...s }) => ({ ...s, name: cstring(names, nameOff) }));
}

/** The program headers, as far as the file holds them (a short table gives fewer). */
export function readElfSegments(src: ElfSource, h: ElfHeader): ElfSegment[] {
  if (!h.elfClass || h.phoff === 0 || h.phnum === 0 || h.phentsize === 0) return [];
  const table = src.read(h.phoff, h.phnum * h.phentsize);
  const f = new Fields(table, h.elfClass === 64);
  const segments: ElfSegment[] = [];
  for (let i = 0; (i + 1) * h.phentsize <= table.length; i += 1) segments.push(segmentAt(f, i * h.phentsize));
  return segments;
}

/** The section headers with their names, as far as the file holds them. */
export function readElfSections(src: ElfSource, h: ElfHeader): ElfSection[] {
  if (!h.elfClass || h.shoff === 0 || h.shnum === 0 || h.shentsize === 0) return [];
  const table = src.read(h.shoff, h.shnum * h.shentsize);
  const f = new Fields(table, h.elfClass === 64);
  const raw: RawSection[] = [];
  for (let i = 0; (i + 1) * h.shentsize <= table.length; i += 1) raw.push(sectionAt(f, i * h.shentsize, i));
  const strtab = raw[h.shstrndx];
  const names = strtab && strtab.type !== SHT_NOBITS ? src.read(strtab.offset, Number(strtab.size)) : new Uint8Array();
  return nameSections(raw, names);
}

// ---- notes ----------------------------------------------------------------------------------

export interface NoteReadOptions extends ElfReadOptions {
  /**
   * Damage is no error: stop at a note that runs past its section or segment, or whose owner
   * name is over 256 bytes, keeping the notes before it (a kernel check reads what it can and
   * leaves the verdict on the kernel to Xen's loader).
   */
  lenient?: boolean;
}

/**
 * The notes of one note section or PT_NOTE segment (Elf32_Nhdr and Elf64_Nhdr are the same:
 * three 32-bit words, then name and descriptor, each padded to 4 bytes). `source` names the
 * section or segment, `file` the file (for errors).
 */
export function readNotes(data: Uint8Array, source: string, file: string, opts: NoteReadOptions = {}): ElfNote[] {
  const notes: ElfNote[] = [];
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const align4 = (n: number) => (n + 3) & ~3;
  let o = 0;
  while (o + 12 <= data.length) {
    const namesz = dv.getUint32(o, true);
    const descsz = dv.getUint32(o + 4, true);
    const type = dv.getUint32(o + 8, true);
    const nameStart = o + 12;
    const descStart = nameStart + align4(namesz);
    if (descStart + descsz > data.length || (opts.lenient && namesz > 256)) {
      if (opts.lenient) break;
      throw (opts.error ?? defaultError)(file, `has a malformed note in ${source}: a note runs past the end of its section.`, 'Rebuild the object that defines this note.');
    }
    const owner = Buffer.from(data.subarray(nameStart, nameStart + namesz)).toString('latin1').replace(/\0+$/, '');
    notes.push({ owner, type, desc: data.slice(descStart, descStart + descsz), source });
    o = descStart + align4(descsz);
  }
  return notes;
}

/**
 * The notes of a file as an ELF loader finds them: those of the PT_NOTE segments; where those
 * hold none that `wanted` accepts, those of the SHT_NOTE sections. Xen's loader finds its own
 * notes so (libelf: segments first, sections when the segments hold no Xen note). Lenient.
 */
export function readLoaderNotes(src: ElfSource, h: ElfHeader, file: string, wanted: (note: ElfNote) => boolean = () => true): ElfNote[] {
  const fromSegments = readElfSegments(src, h)
    .filter((p) => p.type === PT_NOTE)
    .flatMap((p) => readNotes(src.read(p.offset, Number(p.filesz)), 'PT_NOTE', file, { lenient: true }))
    .filter(wanted);
  if (fromSegments.length > 0) return fromSegments;
  return readElfSections(src, h)
    .filter((s) => s.type === SHT_NOTE)
    .flatMap((s) => readNotes(src.read(s.offset, Number(s.size)), s.name, file, { lenient: true }))
    .filter(wanted);
}

// ---- a whole ELF64 file ---------------------------------------------------------------------

/**
 * Parses an ELF file in memory. `name` is used in error messages. Only the header is read from
 * files that are not ELF64 little-endian, so a caller can still say which machine they are for.
 * Throws (ElfFormatError, or `opts.error`'s) for a file that is not ELF or is truncated.
 */
export function parseElf(bytes: Uint8Array, name: string, opts: ElfReadOptions = {}): ElfFile {
  const error = opts.error ?? defaultError;
  if (!isElf(bytes)) {
    throw error(name, 'is not an ELF file (its first bytes are not 7f 45 4c 46).', 'Pass x86-64 relocatable objects (.o), ar archives of them (.a) or a built image.');
  }
  if (bytes.length < 20) {
    throw error(name, 'is truncated: it ends inside the ELF header.', 'Rebuild it; the file is damaged.');
  }
  const h = readElfHeader(bytes);
  const header = { kind: h.kind, type: h.type, machine: h.machine, machineName: h.machineName };
  if (h.elfClass !== 64 || !h.littleEndian) {
    return { ...header, entry: 0n, sections: [], segments: [], symbols: [], notes: [], sectionData: () => new Uint8Array() };
  }
  const need = (end: number, what: string) => {
    if (end > bytes.length) {
      throw error(name, `is truncated: ${what} lies past the end of the file (${bytes.length} bytes).`, 'Rebuild it; the file is damaged.');
    }
  };
  need(64, 'the ELF64 header');
  const src = memorySource(bytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

  let sections: ElfSection[] = [];
  if (h.shoff !== 0) {
    need(h.shoff + 64, 'the first section header');
    // Extended numbering: counts that do not fit 16 bits live in section header 0.
    const shnum = h.shnum === 0 ? Number(view.getBigUint64(h.shoff + 32, true)) : h.shnum;
    const shstrndx = h.shstrndx === 0xffff ? view.getUint32(h.shoff + 40, true) : h.shstrndx;
    need(h.shoff + shnum * h.shentsize, 'the section header table');
    const f = new Fields(bytes, true);
    const raw: RawSection[] = [];
    for (let i = 0; i < shnum; i += 1) raw.push(sectionAt(f, h.shoff + i * h.shentsize, i));
    const strtab = raw[shstrndx];
    sections = nameSections(raw, strtab ? sectionBytes(strtab, String(strtab.index)) : new Uint8Array());
  }
  function sectionBytes(s: ElfSection, label: string): Uint8Array {
    if (s.type === SHT_NOBITS || s.size === 0n) return new Uint8Array();
    const end = s.offset + Number(s.size);
    need(end, `section ${label}`);
    return bytes.subarray(s.offset, end);
  }
  const sectionData = (s: ElfSection): Uint8Array => sectionBytes(s, s.name || String(s.index));

  let segments: ElfSegment[] = [];
  if (h.phoff !== 0 && h.phnum > 0) {
    need(h.phoff + h.phnum * h.phentsize, 'the program header table');
    segments = readElfSegments(src, h);
  }

  const symbols: ElfSymbol[] = [];
  for (const s of sections) {
    if (s.type !== SHT_SYMTAB && s.type !== SHT_DYNSYM) continue;
    const names = sections[s.link];
    if (!names) continue;
    const nameData = sectionData(names);
    const data = sectionData(s);
    const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const count = Math.floor(data.length / 24);
    for (let i = 1; i < count; i += 1) {
      const o = i * 24;
      const info = dv.getUint8(o + 4);
      const bind = info >> 4;
      const styp = info & 0xf;
      const shndx = dv.getUint16(o + 6, true);
      symbols.push({
        name: cstring(nameData, dv.getUint32(o, true)),
        value: dv.getBigUint64(o + 8, true),
        size: dv.getBigUint64(o + 16, true),
        binding: bind === 0 ? 'local' : bind === 1 ? 'global' : bind === 2 ? 'weak' : 'other',
        type: (['notype', 'object', 'func', 'section', 'file', 'common', 'tls'] as const)[styp] ?? 'other',
        shndx,
        section: shndx !== SHN_UNDEF && shndx < 0xff00 ? (sections[shndx]?.name ?? '') : '',
        dynamic: s.type === SHT_DYNSYM,
      });
    }
  }

  // Notes: from note sections when there are section headers, otherwise from PT_NOTE.
  const notes: ElfNote[] = [];
  const noteSections = sections.filter((s) => s.type === SHT_NOTE);
  if (noteSections.length > 0) {
    for (const s of noteSections) notes.push(...readNotes(sectionData(s), s.name, name, { error }));
  } else {
    for (const p of segments.filter((seg) => seg.type === PT_NOTE)) {
      need(p.offset + Number(p.filesz), 'a PT_NOTE segment');
      notes.push(...readNotes(bytes.subarray(p.offset, p.offset + Number(p.filesz)), 'PT_NOTE', name, { error }));
    }
  }

  return { ...header, entry: h.entry, sections, segments, symbols, notes, sectionData };
}

// ---- ar archives ----------------------------------------------------------------------------

export interface ArchiveMember {
  name: string;
  data: Uint8Array;
}

/** Members of a System V / GNU `ar` archive, without its symbol index and long-name table. */
export function readArchive(bytes: Uint8Array, name: string, opts: ElfReadOptions = {}): ArchiveMember[] {
  const error = opts.error ?? defaultError;
  if (!isArchive(bytes)) {
    throw error(name, 'is not an ar archive.', 'Pass an archive made with `ar rcs`.');
  }
  const members: ArchiveMember[] = [];
  let longNames = '';
  let o = 8;
  while (o + 60 <= bytes.length) {
    const header = Buffer.from(bytes.subarray(o, o + 60)).toString('latin1');
    const rawName = header.slice(0, 16).trimEnd();
    const size = Number.parseInt(header.slice(48, 58).trim(), 10);
    if (!Number.isFinite(size) || header.slice(58, 60) !== '`\n') {
      throw error(name, `is a damaged ar archive: bad member header at byte ${o}.`, 'Recreate the archive with `ar rcs`.');
    }
    const start = o + 60;
    if (start + size > bytes.length) {
      throw error(name, `is a truncated ar archive: member at byte ${o} runs past the end.`, 'Recreate the archive with `ar rcs`.');
    }
    const data = bytes.subarray(start, start + size);
    if (rawName === '//') {
      longNames = Buffer.from(data).toString('latin1');
    } else if (rawName === '/' || rawName === '/SYM64/' || rawName === '__.SYMDEF') {
      // symbol index: not needed, symbols are read from the members themselves
    } else {
      let memberName = rawName;
      if (/^\/\d+$/.test(rawName)) {
        const off = Number(rawName.slice(1));
        const end = longNames.indexOf('\n', off);
        memberName = longNames.slice(off, end < 0 ? undefined : end);
      }
      members.push({ name: memberName.replace(/\/$/, ''), data });
    }
    o = start + size + (size & 1);
  }
  return members;
}
