/**
 * Xen ELF notes (owner "Xen"), decoded by type number as listed in Xen's public
 * `xen/elfnote.h`, and the target an image's notes imply.
 */
import type { ElfNote } from './elf.js';

export type NoteValueKind = 'string' | 'number' | 'numbers';

interface NoteSpec {
  name: string;
  kind: NoteValueKind;
}

/** Note types from xen/elfnote.h: name and whether the descriptor is a string or numbers. */
export const XEN_NOTE_TYPES: Readonly<Record<number, NoteSpec>> = {
  0: { name: 'INFO', kind: 'string' },
  1: { name: 'ENTRY', kind: 'number' },
  2: { name: 'HYPERCALL_PAGE', kind: 'number' },
  3: { name: 'VIRT_BASE', kind: 'number' },
  4: { name: 'PADDR_OFFSET', kind: 'number' },
  5: { name: 'XEN_VERSION', kind: 'string' },
  6: { name: 'GUEST_OS', kind: 'string' },
  7: { name: 'GUEST_VERSION', kind: 'string' },
  8: { name: 'LOADER', kind: 'string' },
  9: { name: 'PAE_MODE', kind: 'string' },
  10: { name: 'FEATURES', kind: 'string' },
  11: { name: 'BSD_SYMTAB', kind: 'string' },
  12: { name: 'HV_START_LOW', kind: 'number' },
  13: { name: 'L1_MFN_VALID', kind: 'numbers' },
  14: { name: 'SUSPEND_CANCEL', kind: 'number' },
  15: { name: 'INIT_P2M', kind: 'number' },
  16: { name: 'MOD_START_PFN', kind: 'number' },
  17: { name: 'SUPPORTED_FEATURES', kind: 'number' },
  18: { name: 'PHYS32_ENTRY', kind: 'number' },
  0x1000001: { name: 'CRASH_INFO', kind: 'numbers' },
  0x1000002: { name: 'CRASH_REGS', kind: 'numbers' },
  0x2000000: { name: 'DUMPCORE_NONE', kind: 'numbers' },
  0x2000001: { name: 'DUMPCORE_HEADER', kind: 'numbers' },
  0x2000002: { name: 'DUMPCORE_XEN_VERSION', kind: 'numbers' },
  0x2000003: { name: 'DUMPCORE_FORMAT_VERSION', kind: 'numbers' },
};

/** Note types whose presence marks a PV kernel (its loader protocol). */
const PV_NOTES = new Set(['ENTRY', 'HYPERCALL_PAGE', 'VIRT_BASE', 'PADDR_OFFSET', 'INIT_P2M', 'HV_START_LOW']);

export interface XenNote {
  type: number;
  /** `XEN_ELFNOTE_` name without the prefix, or `UNKNOWN_<n>`. */
  name: string;
  /** Decoded value: string notes as text; numeric notes as bigint (one) or bigint[]; raw hex otherwise. */
  value: string | bigint | bigint[];
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
  if (spec?.kind === 'string') {
    return { type: note.type, name, value: Buffer.from(d).toString('latin1').replace(/\0+$/, '') };
  }
  if (spec?.kind === 'number' && [1, 2, 4, 8].includes(d.length)) {
    return { type: note.type, name, value: readNumber(d, 0, d.length) };
  }
  if (spec?.kind === 'numbers' && d.length > 0 && d.length % 8 === 0) {
    const values: bigint[] = [];
    for (let o = 0; o < d.length; o += 8) values.push(readNumber(d, o, 8));
    return { type: note.type, name, value: values };
  }
  if (spec?.kind === 'numbers' && d.length > 0 && d.length % 4 === 0) {
    const values: bigint[] = [];
    for (let o = 0; o < d.length; o += 4) values.push(readNumber(d, o, 4));
    return { type: note.type, name, value: values };
  }
  return { type: note.type, name, value: Buffer.from(d).toString('hex') };
}

export function xenNotes(notes: ElfNote[]): XenNote[] {
  return notes.filter((n) => n.owner === 'Xen').map(decodeXenNote);
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
