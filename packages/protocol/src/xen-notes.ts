/**
 * Xen ELF notes (owner "Xen"): their type numbers (XEN_ELFNOTE_* of Xen's public
 * `xen/elfnote.h`; C code has them from c/include/rumpxen/xen_note.h, checked against both),
 * how each descriptor decodes, the notes Xen's loader reads from a file, and the boot
 * protocols an image's notes announce.
 */
import { type ElfHeader, type ElfNote, type ElfSource, readLoaderNotes } from './elf.js';

/** XEN_ELFNOTE_<name> = number, as in xen/elfnote.h. */
export const XEN_ELFNOTE = Object.freeze({
  INFO: 0,
  ENTRY: 1,
  HYPERCALL_PAGE: 2,
  VIRT_BASE: 3,
  PADDR_OFFSET: 4,
  XEN_VERSION: 5,
  GUEST_OS: 6,
  GUEST_VERSION: 7,
  LOADER: 8,
  PAE_MODE: 9,
  FEATURES: 10,
  BSD_SYMTAB: 11,
  HV_START_LOW: 12,
  L1_MFN_VALID: 13,
  SUSPEND_CANCEL: 14,
  INIT_P2M: 15,
  MOD_START_PFN: 16,
  SUPPORTED_FEATURES: 17,
  PHYS32_ENTRY: 18,
  CRASH_INFO: 0x1000001,
  CRASH_REGS: 0x1000002,
  DUMPCORE_NONE: 0x2000000,
  DUMPCORE_HEADER: 0x2000001,
  DUMPCORE_XEN_VERSION: 0x2000002,
  DUMPCORE_FORMAT_VERSION: 0x2000003,
} as const);

export type XenNoteName = keyof typeof XEN_ELFNOTE;
export type NoteValueKind = 'string' | 'number' | 'numbers';

interface NoteSpec {
  name: XenNoteName;
  kind: NoteValueKind;
}

/** How each note's descriptor reads (xen/elfnote.h's comments): a string, one number, or several. */
const NOTE_KINDS: Readonly<Record<XenNoteName, NoteValueKind>> = {
  INFO: 'string',
  ENTRY: 'number',
  HYPERCALL_PAGE: 'number',
  VIRT_BASE: 'number',
  PADDR_OFFSET: 'number',
  XEN_VERSION: 'string',
  GUEST_OS: 'string',
  GUEST_VERSION: 'string',
  LOADER: 'string',
  PAE_MODE: 'string',
  FEATURES: 'string',
  BSD_SYMTAB: 'string',
  HV_START_LOW: 'number',
  L1_MFN_VALID: 'numbers',
  SUSPEND_CANCEL: 'number',
  INIT_P2M: 'number',
  MOD_START_PFN: 'number',
  SUPPORTED_FEATURES: 'number',
  PHYS32_ENTRY: 'number',
  CRASH_INFO: 'numbers',
  CRASH_REGS: 'numbers',
  DUMPCORE_NONE: 'numbers',
  DUMPCORE_HEADER: 'numbers',
  DUMPCORE_XEN_VERSION: 'numbers',
  DUMPCORE_FORMAT_VERSION: 'numbers',
};

/** Note types by number: name and whether the descriptor is a string or numbers. */
export const XEN_NOTE_TYPES: Readonly<Record<number, NoteSpec>> = Object.freeze(
  Object.fromEntries((Object.keys(XEN_ELFNOTE) as XenNoteName[]).map((name) => [XEN_ELFNOTE[name], { name, kind: NOTE_KINDS[name] }])),
);

/** Note types whose presence marks a PV kernel (its loader protocol). */
const PV_NOTES = new Set(['ENTRY', 'HYPERCALL_PAGE', 'VIRT_BASE', 'PADDR_OFFSET', 'INIT_P2M', 'HV_START_LOW']);

export interface XenNote {
  type: number;
  /** `XEN_ELFNOTE_` name without the prefix, or `UNKNOWN_<n>`. */
  name: string;
  /** Decoded value: string notes as text; numeric notes as bigint (one) or bigint[]; raw hex otherwise. */
  value: string | bigint | bigint[];
  /** The descriptor's bytes as in the file, in hex: what Xen's own rules (xenDom0Support) read. */
  raw: string;
}

function readNumber(desc: Uint8Array, at: number, size: number): bigint {
  const dv = new DataView(desc.buffer, desc.byteOffset, desc.byteLength);
  if (size === 8) return dv.getBigUint64(at, true);
  if (size === 4) return BigInt(dv.getUint32(at, true));
  if (size === 2) return BigInt(dv.getUint16(at, true));
  return BigInt(dv.getUint8(at));
}

export function decodeXenNote(note: ElfNote): XenNote {
  const spec = XEN_NOTE_TYPES[note.type];
  const name = spec?.name ?? `UNKNOWN_${note.type}`;
  const d = note.desc;
  const raw = Buffer.from(d).toString('hex');
  if (spec?.kind === 'string') {
    return { type: note.type, name, value: Buffer.from(d).toString('latin1').replace(/\0+$/, ''), raw };
  }
  if (spec?.kind === 'number' && [1, 2, 4, 8].includes(d.length)) {
    return { type: note.type, name, value: readNumber(d, 0, d.length), raw };
  }
  if (spec?.kind === 'numbers' && d.length > 0 && d.length % 8 === 0) {
    const values: bigint[] = [];
    for (let o = 0; o < d.length; o += 8) values.push(readNumber(d, o, 8));
    return { type: note.type, name, value: values, raw };
  }
  if (spec?.kind === 'numbers' && d.length > 0 && d.length % 4 === 0) {
    const values: bigint[] = [];
    for (let o = 0; o < d.length; o += 4) values.push(readNumber(d, o, 4));
    return { type: note.type, name, value: values, raw };
  }
  return { type: note.type, name, value: raw, raw };
}

/** The Xen notes among a file's notes, decoded. */
export function xenNotes(notes: ElfNote[]): XenNote[] {
  return notes.filter((n) => n.owner === 'Xen').map(decodeXenNote);
}

/**
 * The Xen notes Xen's ELF loader reads from a file (libelf): those of its PT_NOTE segments,
 * or, when these hold none, those of its SHT_NOTE sections (readLoaderNotes: damage is no error).
 */
export function readXenLoaderNotes(src: ElfSource, header: ElfHeader, file: string): ElfNote[] {
  return readLoaderNotes(src, header, file, (n) => n.owner === 'Xen');
}

export type ImageTarget = 'xen-pv' | 'xen-pvh' | 'xen-pv+pvh' | 'posix';

/**
 * The boot protocols an image's notes announce: PV loader notes, PVH's PHYS32_ENTRY, both,
 * or none (a host program: posix).
 */
export function targetFromNotes(notes: XenNote[]): ImageTarget {
  const pvh = notes.some((n) => n.name === 'PHYS32_ENTRY');
  // A PV kernel may announce itself with only GUEST_OS/LOADER (Xen then uses e_entry).
  const pv = notes.some((n) => PV_NOTES.has(n.name)) || (!pvh && notes.length > 0);
  if (pv && pvh) return 'xen-pv+pvh';
  if (pvh) return 'xen-pvh';
  if (pv) return 'xen-pv';
  return 'posix';
}
