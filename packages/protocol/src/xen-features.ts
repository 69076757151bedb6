/**
 * The features a kernel declares in its Xen notes (XEN_ELFNOTE_FEATURES strings and
 * XEN_ELFNOTE_SUPPORTED_FEATURES bitmaps), read as Xen 4.17's ELF loader reads them, and
 * Xen's rule for building a PV dom0 from such a kernel.
 */
import { XEN_ELFNOTE } from './xen-notes.js';

/** XENFEAT_dom0 (xen/features.h): the kernel can run as dom0. */
export const XENFEAT_DOM0 = 11;

/**
 * The feature names Xen 4.17's ELF loader knows in a XEN_ELFNOTE_FEATURES string, by XENFEAT_*
 * bit (`elf_xen_feature_names` in xen/common/libelf/libelf-dominfo.c).
 */
export const XEN_FEATURE_NAMES: ReadonlyMap<string, number> = new Map([
  ['writable_page_tables', 0],
  ['writable_descriptor_tables', 1],
  ['auto_translated_physmap', 2],
  ['supervisor_mode_kernel', 3],
  ['pae_pgdir_above_4gb', 4],
  ['hvm_callback_vector', 8],
  ['dom0', XENFEAT_DOM0],
]);

/** One Xen note as the loader sees it: its type and descriptor bytes. */
export interface XenNoteEntry<Desc extends Uint8Array = Uint8Array> {
  type: number;
  desc: Desc;
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
      if (n.desc.length >= 4 && n.desc.length % 4 === 0) supported |= new DataView(n.desc.buffer, n.desc.byteOffset, n.desc.byteLength).getUint32(0, true);
    } else if (n.type === XEN_ELFNOTE.FEATURES && unknownRequired === undefined) {
      const f = parseXenFeatures(Buffer.from(n.desc.buffer, n.desc.byteOffset, n.desc.byteLength).toString('latin1'));
      supported |= f.supported;
      unknownRequired = f.unknownRequired;
    }
  }
  const pvDom0 = !supportedFeaturesNote || ((supported >>> XENFEAT_DOM0) & 1) === 1;
  return { supportedFeaturesNote, supported: supported >>> 0, pvDom0, ...(unknownRequired === undefined ? {} : { unknownRequired }) };
}
