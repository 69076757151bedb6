/**
 * Checks a kernel image before Xen sees it, so a bad image gives a clear error instead of a
 * Xen panic: it must be an x86 ELF with the Xen ELF notes (xen/elfnote.h) the chosen boot
 * mode needs. Only what the checks need is parsed.
 */
import {
  EM_386,
  EM_X86_64,
  FileSource,
  isElf,
  readElfHeader,
  readXenLoaderNotes,
  XEN_ELFNOTE,
  XEN_FEATURE_NAMES,
  XENFEAT_DOM0,
  xenDom0Support,
  type XenNoteEntry,
} from '@rumpxen/protocol';
import { BadKernelError } from './errors.js';

// The Xen note numbers and Xen's dom0 rule are @rumpxen/protocol's (one reader, one table);
// exported here too, as the testbed's API has always had them.
export { XEN_ELFNOTE, parseXenFeatures, xenDom0Support, type Dom0Support, type XenFeatures, type XenNoteEntry } from '@rumpxen/protocol';

export interface KernelInfo {
  kind: 'elf' | 'bzImage';
  /** 32 or 64 (ELF only). */
  elfClass?: 32 | 64;
  /** ELF e_machine (ELF only). */
  machine?: number;
  /** Xen notes by type (the last of each type wins); empty for a bzImage. */
  xenNotes: Map<number, Buffer>;
  /** Every Xen note in the order read (Xen's loader reads them all: feature notes add up). */
  xenNoteList: XenNoteEntry<Buffer>[];
}

function openKernel(path: string): FileSource {
  try {
    return FileSource.open(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new BadKernelError(`kernel ${path}: cannot open it (${err.code ?? err.message}); pass the path of a Xen guest kernel ELF with --kernel`);
  }
}

/**
 * Reads what the boot checks need from a kernel image, as Xen's loader reads it (@rumpxen/protocol's
 * ELF reader: the Xen notes of the PT_NOTE segments, or of the SHT_NOTE sections when those have
 * none), without reading the whole file. Throws BadKernelError for a file that is neither ELF
 * nor bzImage.
 */
export function readKernelInfo(path: string): KernelInfo {
  const file = openKernel(path);
  try {
    const buf = Buffer.from(file.read(0, 4096));
    if (buf.length >= 0x206 && buf.readUInt32LE(0x202) === 0x53726448) return { kind: 'bzImage', xenNotes: new Map(), xenNoteList: [] };
    if (buf.length < 64 || !isElf(buf)) {
      const first = buf.subarray(0, 8).toString('hex') || '(empty file)';
      throw new BadKernelError(
        `kernel ${path} is not an ELF file (it starts with ${first}); --kernel needs a Xen guest kernel: an x86-64 ELF with Xen ELF notes (XEN_ELFNOTE_* in xen/elfnote.h)`,
      );
    }
    const header = readElfHeader(buf);
    if (!header.elfClass || !header.littleEndian) {
      throw new BadKernelError(`kernel ${path} is an ELF file but not a little-endian 32/64-bit one (class ${buf[4]}, data ${buf[5]}); Xen on x86 boots x86-64 (PV) or x86 (PVH) ELF kernels`);
    }
    const xenNotes = new Map<number, Buffer>();
    const xenNoteList: XenNoteEntry<Buffer>[] = [];
    for (const n of readXenLoaderNotes(file, header, path)) {
      const desc = Buffer.from(n.desc);
      xenNotes.set(n.type, desc);
      xenNoteList.push({ type: n.type, desc });
    }
    return { kind: 'elf', elfClass: header.elfClass, machine: header.machine, xenNotes, xenNoteList };
  } finally {
    file.close();
  }
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
