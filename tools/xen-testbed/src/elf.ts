/**
 * Checks a kernel image before Xen sees it, so a bad image gives a clear error instead of a
 * Xen panic: it must be an x86 ELF with the Xen ELF notes (xen/elfnote.h) the chosen boot
 * mode needs. Only what the checks need is parsed.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { BadKernelError } from './errors.js';

export const XEN_ELFNOTE = {
  ENTRY: 1,
  HYPERCALL_PAGE: 2,
  VIRT_BASE: 3,
  XEN_VERSION: 5,
  GUEST_OS: 6,
  FEATURES: 10,
  SUPPORTED_FEATURES: 17,
  PHYS32_ENTRY: 18,
} as const;
const XENFEAT_DOM0 = 11;
/**
 * The feature names Xen 4.17's ELF loader knows in a XEN_ELFNOTE_FEATURES string, by XENFEAT_*
 * bit (`elf_xen_feature_names` in xen/common/libelf/libelf-dominfo.c).
 */
const XEN_FEATURE_NAMES: ReadonlyMap<string, number> = new Map([
  ['writable_page_tables', 0],
  ['writable_descriptor_tables', 1],
  ['auto_translated_physmap', 2],
  ['supervisor_mode_kernel', 3],
  ['pae_pgdir_above_4gb', 4],
  ['hvm_callback_vector', 8],
  ['dom0', XENFEAT_DOM0],
]);
const EM_386 = 3;
const EM_X86_64 = 62;
const PT_NOTE = 4;
const SHT_NOTE = 7;

export interface KernelInfo {
  kind: 'elf' | 'bzImage';
  /** 32 or 64 (ELF only). */
  elfClass?: 32 | 64;
  /** ELF e_machine (ELF only). */
  machine?: number;
  /** Xen notes by type (the last of each type wins); empty for a bzImage. */
  xenNotes: Map<number, Buffer>;
  /** Every Xen note in the order read (Xen's loader reads them all: feature notes add up). */
  xenNoteList: XenNoteEntry[];
}

export interface XenNoteEntry {
  type: number;
  desc: Buffer;
}

/** Positional reads of one file; out-of-range reads come back short. */
class FileReader {
  readonly size: number;
  private constructor(private readonly fd: number, size: number) {
    this.size = size;
  }
  static open(path: string): FileReader {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new BadKernelError(`kernel ${path}: cannot open it (${err.code ?? err.message}); pass the path of a Xen guest kernel ELF with --kernel`);
    }
    return new FileReader(fd, fstatSync(fd).size);
  }
  read(offset: number, length: number): Buffer {
    const len = Math.max(0, Math.min(length, this.size - offset, 16 << 20));
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

function parseNotes(buf: Buffer, into: Map<number, Buffer>, list: XenNoteEntry[]): void {
  let p = 0;
  const end = buf.length;
  const align4 = (n: number) => (n + 3) & ~3;
  while (p + 12 <= end) {
    const namesz = buf.readUInt32LE(p);
    const descsz = buf.readUInt32LE(p + 4);
    const type = buf.readUInt32LE(p + 8);
    const nameStart = p + 12;
    const descStart = nameStart + align4(namesz);
    const next = descStart + align4(descsz);
    if (next > end || namesz > 256) return;
    const name = buf.toString('latin1', nameStart, nameStart + namesz).replace(/\0+$/, '');
    if (name === 'Xen') {
      const desc = Buffer.from(buf.subarray(descStart, descStart + descsz));
      into.set(type, desc);
      list.push({ type, desc });
    }
    p = next;
  }
}

/** Reads what the boot checks need from a kernel image. Throws BadKernelError for a file that is neither ELF nor bzImage. */
export function readKernelInfo(path: string): KernelInfo {
  const file = FileReader.open(path);
  try {
    const buf = file.read(0, 4096);
    if (buf.length >= 0x206 && buf.readUInt32LE(0x202) === 0x53726448) return { kind: 'bzImage', xenNotes: new Map(), xenNoteList: [] };
    if (buf.length < 64 || buf.readUInt32BE(0) !== 0x7f454c46) {
      const first = buf.subarray(0, 8).toString('hex') || '(empty file)';
      throw new BadKernelError(
        `kernel ${path} is not an ELF file (it starts with ${first}); --kernel needs a Xen guest kernel: an x86-64 ELF with Xen ELF notes (XEN_ELFNOTE_* in xen/elfnote.h)`,
      );
    }
    const elfClass = buf[4] === 2 ? 64 : buf[4] === 1 ? 32 : undefined;
    if (!elfClass || buf[5] !== 1) {
      throw new BadKernelError(`kernel ${path} is an ELF file but not a little-endian 32/64-bit one (class ${buf[4]}, data ${buf[5]}); Xen on x86 boots x86-64 (PV) or x86 (PVH) ELF kernels`);
    }
    const is64 = elfClass === 64;
    const num = (b: Buffer, off: number) => (off + (is64 ? 8 : 4) > b.length ? 0 : is64 ? Number(b.readBigUInt64LE(off)) : b.readUInt32LE(off));
    const machine = buf.readUInt16LE(18);
    const notes = new Map<number, Buffer>();
    const list: XenNoteEntry[] = [];
    // Program headers first (what Xen's loader reads), section headers when there is no PT_NOTE.
    const phentsize = buf.readUInt16LE(is64 ? 54 : 42);
    const phnum = buf.readUInt16LE(is64 ? 56 : 44);
    if (phentsize > 0 && phnum > 0) {
      const phs = file.read(num(buf, is64 ? 32 : 28), phentsize * phnum);
      for (let i = 0; (i + 1) * phentsize <= phs.length; i++) {
        const ph = i * phentsize;
        if (phs.readUInt32LE(ph) !== PT_NOTE) continue;
        parseNotes(file.read(num(phs, ph + (is64 ? 8 : 4)), num(phs, ph + (is64 ? 32 : 16))), notes, list);
      }
    }
    const shentsize = buf.readUInt16LE(is64 ? 58 : 46);
    const shnum = buf.readUInt16LE(is64 ? 60 : 48);
    if (notes.size === 0 && shentsize > 0 && shnum > 0) {
      const shs = file.read(num(buf, is64 ? 40 : 32), shentsize * shnum);
      for (let i = 0; (i + 1) * shentsize <= shs.length; i++) {
        const sh = i * shentsize;
        if (shs.readUInt32LE(sh + 4) !== SHT_NOTE) continue;
        parseNotes(file.read(num(shs, sh + (is64 ? 24 : 16)), num(shs, sh + (is64 ? 32 : 20))), notes, list);
      }
    }
    return { kind: 'elf', elfClass, machine, xenNotes: notes, xenNoteList: list };
  } finally {
    file.close();
  }
}

export interface XenFeatures {
  /** XENFEAT_* bits the string names, with or without '!' (Xen's `f_supported`). */
  supported: number;
  /** XENFEAT_* bits named with '!' (Xen's `f_required`). */
  required: number;
  /** The first '!name' whose name Xen does not know: Xen then refuses the kernel outright. */
  unknownRequired?: string;
}

/**
 * Reads a XEN_ELFNOTE_FEATURES string as Xen 4.17's `elf_xen_parse_features` does: words
 * split at '|', each cut to 63 characters (the rest starts the next word); a known name sets
 * its bit in `supported`, '!name' in `supported` and `required`; an unknown name is ignored,
 * an unknown '!name' stops the parse and fails the kernel. The string ends at its first NUL.
 */
export function parseXenFeatures(features: string): XenFeatures {
  const nul = features.indexOf('\0');
  const s = nul >= 0 ? features.slice(0, nul) : features;
  let supported = 0;
  let required = 0;
  for (let pos = 0; pos < s.length; ) {
    let len = 0;
    let word = '';
    for (; len < 63 && pos + len < s.length; len++) {
      const c = s.charAt(pos + len);
      if (c === '|') {
        len++;
        break;
      }
      word += c;
    }
    pos += len;
    const isRequired = word.startsWith('!');
    const bit = XEN_FEATURE_NAMES.get(isRequired ? word.slice(1) : word);
    if (bit !== undefined) {
      supported |= 1 << bit;
      if (isRequired) required |= 1 << bit;
    } else if (isRequired) {
      return { supported, required, unknownRequired: word };
    }
  }
  return { supported, required };
}

export interface Dom0Support {
  /** Whether there is a XEN_ELFNOTE_SUPPORTED_FEATURES note: Xen 4.17 looks for XENFEAT_dom0 only then. */
  supportedFeaturesNote: boolean;
  /** Xen's `f_supported` word: every SUPPORTED_FEATURES bitmap ORed with the FEATURES words' bits. */
  supported: number;
  /** Whether Xen 4.17 builds a PV dom0 from the kernel (else it prints "Kernel does not support Dom0 operation"). */
  pvDom0: boolean;
  /** A '!name' in XEN_ELFNOTE_FEATURES that Xen does not know (Xen refuses such a kernel as any domain). */
  unknownRequired?: string;
}

/**
 * Xen 4.17's dom0 rule on a kernel's Xen notes (xen/arch/x86/pv/dom0_build.c): a PV dom0 is
 * refused only when the kernel has a XEN_ELFNOTE_SUPPORTED_FEATURES note (type 17) and
 * XENFEAT_dom0 (bit 11) is not in `f_supported`, which libelf (libelf-dominfo.c) builds from
 * every SUPPORTED_FEATURES note (its first 32-bit word; 0 when the size is not a multiple of
 * 4) and every XEN_ELFNOTE_FEATURES string ("dom0" or "!dom0"). A kernel with no
 * SUPPORTED_FEATURES note boots as dom0. Xen 4.17's PVH dom0 builder checks nothing of this.
 */
export function xenDom0Support(notes: Iterable<XenNoteEntry>): Dom0Support {
  let supportedFeaturesNote = false;
  let supported = 0;
  let unknownRequired: string | undefined;
  for (const n of notes) {
    if (n.type === XEN_ELFNOTE.SUPPORTED_FEATURES) {
      supportedFeaturesNote = true;
      if (n.desc.length >= 4 && n.desc.length % 4 === 0) supported |= n.desc.readUInt32LE(0);
    } else if (n.type === XEN_ELFNOTE.FEATURES && unknownRequired === undefined) {
      const f = parseXenFeatures(n.desc.toString('latin1'));
      supported |= f.supported;
      unknownRequired = f.unknownRequired;
    }
  }
  const pvDom0 = !supportedFeaturesNote || ((supported >>> XENFEAT_DOM0) & 1) === 1;
  return { supportedFeaturesNote, supported: supported >>> 0, pvDom0, ...(unknownRequired === undefined ? {} : { unknownRequired }) };
}

/**
 * Throws BadKernelError (exit code 2) unless Xen can boot `path` as its only domain:
 * PV needs an x86-64 ELF with Xen notes, and one with a XEN_ELFNOTE_SUPPORTED_FEATURES note
 * must declare XENFEAT_dom0 (Xen 4.17's rule, `xenDom0Support()`; a Linux bzImage is accepted
 * as is); PVH needs an x86 ELF with XEN_ELFNOTE_PHYS32_ENTRY. A '!name' in
 * XEN_ELFNOTE_FEATURES that Xen does not know is refused in both (Xen's loader fails on it).
 */
export function validateKernel(path: string, mode: { pvh: boolean }): KernelInfo {
  const info = readKernelInfo(path);
  if (info.kind === 'bzImage') {
    if (mode.pvh) throw new BadKernelError(`kernel ${path} is a Linux bzImage; --pvh needs an ELF kernel with XEN_ELFNOTE_PHYS32_ENTRY (use the uncompressed vmlinux)`);
    return info;
  }
  const arch = info.machine === EM_X86_64 ? 'x86-64' : info.machine === EM_386 ? 'i386' : `machine ${info.machine}`;
  const dom0 = xenDom0Support(info.xenNoteList);
  if (dom0.unknownRequired !== undefined) {
    throw new BadKernelError(
      `kernel ${path}: its XEN_ELFNOTE_FEATURES note requires "${dom0.unknownRequired}", a feature Xen 4.17's ELF loader does not know ` +
        `(it knows ${[...XEN_FEATURE_NAMES.keys()].join(', ')}), so Xen refuses to load the kernel; drop the word or its "!"`,
    );
  }
  if (mode.pvh) {
    if (info.machine !== EM_X86_64 && info.machine !== EM_386) throw new BadKernelError(`kernel ${path} is an ELF for ${arch}, not x86; Xen on x86 cannot boot it`);
    if (!info.xenNotes.has(XEN_ELFNOTE.PHYS32_ENTRY)) {
      throw new BadKernelError(
        `kernel ${path} has no XEN_ELFNOTE_PHYS32_ENTRY note, so it cannot boot as PVH` +
          (info.xenNotes.size ? ' (it has other Xen notes: boot it as PV, without --pvh)' : '; add the note (xen/elfnote.h) with the 32-bit entry point'),
      );
    }
    return info;
  }
  if (info.machine !== EM_X86_64 || info.elfClass !== 64) {
    throw new BadKernelError(`kernel ${path} is a ${info.elfClass}-bit ELF for ${arch}; PV boot needs an x86-64 (ELF64, EM_X86_64) kernel${info.xenNotes.has(XEN_ELFNOTE.PHYS32_ENTRY) ? ' (it has a PVH entry: try --pvh)' : ''}`);
  }
  if (info.xenNotes.size === 0) {
    throw new BadKernelError(
      `kernel ${path} has no Xen ELF notes (no PT_NOTE or SHT_NOTE entry named "Xen"), so Xen cannot boot it as a PV guest; ` +
        `build it with the XEN_ELFNOTE_* notes of xen/elfnote.h (ENTRY, HYPERCALL_PAGE, XEN_VERSION "xen-3.0", LOADER "generic", GUEST_OS)`,
    );
  }
  if (info.xenNotes.has(XEN_ELFNOTE.PHYS32_ENTRY) && !info.xenNotes.has(XEN_ELFNOTE.ENTRY)) {
    throw new BadKernelError(`kernel ${path} has only a PVH entry (XEN_ELFNOTE_PHYS32_ENTRY), no PV entry (XEN_ELFNOTE_ENTRY): boot it with --pvh`);
  }
  if (!dom0.pvDom0) {
    const hex = `0x${dom0.supported.toString(16)}`;
    throw new BadKernelError(
      `kernel ${path} has a XEN_ELFNOTE_SUPPORTED_FEATURES note without XENFEAT_dom0 (bit ${XENFEAT_DOM0}; its supported features are ${hex}, ` +
        `with no "dom0" or "!dom0" in a XEN_ELFNOTE_FEATURES string), and Xen 4.17 refuses to build dom0 from such a kernel ` +
        `("Kernel does not support Dom0 operation"); set bit ${XENFEAT_DOM0} in the note or leave the note out (Xen checks only kernels that have it), ` +
        `or run it as a DomU in full mode (boot --domu)`,
    );
  }
  return info;
}
