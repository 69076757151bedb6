/**
 * A reader for ELF64 little-endian files (the only kind an x86-64 DomU image or its inputs can
 * be): file header, section headers, program headers, symbol tables and notes, plus `ar`
 * archives of such objects. Facts from the System V gABI and the x86-64 psABI.
 */
import { ImageLinkerError } from './errors.js';

export const ET_REL = 1;
export const ET_EXEC = 2;
export const ET_DYN = 3;
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

/**
 * Parses an ELF file. `name` is used in error messages. Only the header is read from files
 * that are not ELF64 little-endian, so a caller can still say which machine they are for.
 */
export function parseElf(bytes: Uint8Array, name: string): ElfFile {
  if (!isElf(bytes)) {
    throw new ImageLinkerError(name, 'is not an ELF file (its first bytes are not 7f 45 4c 46).', 'Pass x86-64 relocatable objects (.o), ar archives of them (.a) or a built image.');
  }
  if (bytes.length < 20) {
    throw new ImageLinkerError(name, 'is truncated: it ends inside the ELF header.', 'Rebuild it; the file is damaged.');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const elfClass = bytes[4];
  const littleEndian = bytes[5] === 1;
  const type = view.getUint16(16, littleEndian);
  const machine = view.getUint16(18, littleEndian);
  const kind: ElfKind = type === ET_REL ? 'relocatable' : type === ET_EXEC ? 'executable' : type === ET_DYN ? 'shared' : type === 4 ? 'core' : 'unknown';
  const header = { kind, type, machine, machineName: machineName(machine) };
  if (elfClass !== 2 || !littleEndian) {
    return { ...header, entry: 0n, sections: [], segments: [], symbols: [], notes: [], sectionData: () => new Uint8Array() };
  }
  const need = (end: number, what: string) => {
    if (end > bytes.length) {
      throw new ImageLinkerError(name, `is truncated: ${what} lies past the end of the file (${bytes.length} bytes).`, 'Rebuild it; the file is damaged.');
    }
  };
  need(64, 'the ELF64 header');
  const entry = view.getBigUint64(24, true);
  const phoff = Number(view.getBigUint64(32, true));
  const shoff = Number(view.getBigUint64(40, true));
  const phentsize = view.getUint16(54, true);
  const phnum = view.getUint16(56, true);
  const shentsize = view.getUint16(58, true);
  let shnum = view.getUint16(60, true);
  let shstrndx = view.getUint16(62, true);

  const sections: ElfSection[] = [];
  if (shoff !== 0) {
    need(shoff + 64, 'the first section header');
    // Extended numbering: counts that do not fit 16 bits live in section header 0.
    if (shnum === 0) shnum = Number(view.getBigUint64(shoff + 32, true));
    if (shstrndx === 0xffff) shstrndx = view.getUint32(shoff + 40, true);
    need(shoff + shnum * shentsize, 'the section header table');
    for (let i = 0; i < shnum; i += 1) {
      const o = shoff + i * shentsize;
      sections.push({
        index: i,
        name: '',
        type: view.getUint32(o + 4, true),
        flags: view.getBigUint64(o + 8, true),
        addr: view.getBigUint64(o + 16, true),
        offset: Number(view.getBigUint64(o + 24, true)),
        size: view.getBigUint64(o + 32, true),
        link: view.getUint32(o + 40, true),
        info: view.getUint32(o + 44, true),
        align: view.getBigUint64(o + 48, true),
        entsize: view.getBigUint64(o + 56, true),
      });
      const nameOff = view.getUint32(o, true);
      (sections[i] as ElfSection & { nameOff: number }).nameOff = nameOff;
    }
  }
  const sectionData = (s: ElfSection): Uint8Array => {
    if (s.type === SHT_NOBITS || s.size === 0n) return new Uint8Array();
    const end = s.offset + Number(s.size);
    need(end, `section ${s.name || s.index}`);
    return bytes.subarray(s.offset, end);
  };
  const strtab = sections[shstrndx];
  if (strtab) {
    const data = sectionData(strtab);
    for (const s of sections) s.name = cstring(data, (s as ElfSection & { nameOff: number }).nameOff);
  }
  for (const s of sections) delete (s as Partial<ElfSection & { nameOff: number }>).nameOff;

  const segments: ElfSegment[] = [];
  if (phoff !== 0 && phnum > 0) {
    need(phoff + phnum * phentsize, 'the program header table');
    for (let i = 0; i < phnum; i += 1) {
      const o = phoff + i * phentsize;
      const ptype = view.getUint32(o, true);
      segments.push({
        type: ptype,
        typeName: SEGMENT_TYPES[ptype] ?? `0x${ptype.toString(16)}`,
        flags: view.getUint32(o + 4, true),
        offset: Number(view.getBigUint64(o + 8, true)),
        vaddr: view.getBigUint64(o + 16, true),
        paddr: view.getBigUint64(o + 24, true),
        filesz: view.getBigUint64(o + 32, true),
        memsz: view.getBigUint64(o + 40, true),
        align: view.getBigUint64(o + 48, true),
      });
    }
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
    for (const s of noteSections) notes.push(...parseNotes(sectionData(s), s.name, name));
  } else {
    for (const p of segments.filter((seg) => seg.type === PT_NOTE)) {
      need(p.offset + Number(p.filesz), 'a PT_NOTE segment');
      notes.push(...parseNotes(bytes.subarray(p.offset, p.offset + Number(p.filesz)), 'PT_NOTE', name));
    }
  }

  return { ...header, entry, sections, segments, symbols, notes, sectionData };
}

function parseNotes(data: Uint8Array, source: string, file: string): ElfNote[] {
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
    const end = descStart + align4(descsz);
    if (descStart + descsz > data.length) {
      throw new ImageLinkerError(file, `has a malformed note in ${source}: a note runs past the end of its section.`, 'Rebuild the object that defines this note.');
    }
    const owner = Buffer.from(data.subarray(nameStart, nameStart + namesz)).toString('latin1').replace(/\0+$/, '');
    notes.push({ owner, type, desc: data.slice(descStart, descStart + descsz), source });
    o = end;
  }
  return notes;
}

export interface ArchiveMember {
  name: string;
  data: Uint8Array;
}

/** Members of a System V / GNU `ar` archive, without its symbol index and long-name table. */
export function readArchive(bytes: Uint8Array, name: string): ArchiveMember[] {
  if (!isArchive(bytes)) {
    throw new ImageLinkerError(name, 'is not an ar archive.', 'Pass an archive made with `ar rcs`.');
  }
  const members: ArchiveMember[] = [];
  let longNames = '';
  let o = 8;
  while (o + 60 <= bytes.length) {
    const header = Buffer.from(bytes.subarray(o, o + 60)).toString('latin1');
    const rawName = header.slice(0, 16).trimEnd();
    const size = Number.parseInt(header.slice(48, 58).trim(), 10);
    if (!Number.isFinite(size) || header.slice(58, 60) !== '`\n') {
      throw new ImageLinkerError(name, `is a damaged ar archive: bad member header at byte ${o}.`, 'Recreate the archive with `ar rcs`.');
    }
    const start = o + 60;
    if (start + size > bytes.length) {
      throw new ImageLinkerError(name, `is a truncated ar archive: member at byte ${o} runs past the end.`, 'Recreate the archive with `ar rcs`.');
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
