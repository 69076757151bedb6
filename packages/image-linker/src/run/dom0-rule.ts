/**
 * Whether an image can run as the testbed's only domain: Xen's dom0 rule on the image's notes
 * (no testbed needed to decide it).
 */
import { parseXenFeatures } from '@rumpxen/protocol';
import type { ImageReport } from '../inspect.js';

/**
 * Whether the testbed's Xen (4.17) boots the image as its only domain (dom0), by Xen's rule
 * (`xenDom0Support()` of @rumpxen/protocol, which the testbed applies): a PV kernel is refused ("Kernel does not support Dom0
 * operation") only when it has a XEN_ELFNOTE_SUPPORTED_FEATURES note and XENFEAT_dom0 (bit 11)
 * is in neither that note (its first 32-bit word; the notes ORed) nor a XEN_ELFNOTE_FEATURES
 * string ("dom0" or "!dom0"); an image without the note boots as dom0. Xen 4.17 builds a PVH
 * dom0 without this check. (A 2-byte SUPPORTED_FEATURES note, which Xen reads as 0, decodes
 * like a 4-byte one here.)
 */
export function declaresDom0(report: ImageReport): boolean {
  if (report.target === 'xen-pvh') return true;
  let note = false;
  let supported = 0n;
  for (const n of report.xenNotes) {
    if (n.name === 'SUPPORTED_FEATURES') {
      note = true;
      if (typeof n.value === 'bigint') supported |= n.value & 0xffffffffn;
      else if (typeof n.value === 'string' && n.value.length >= 8 && n.value.length % 8 === 0) supported |= BigInt(Buffer.from(n.value, 'hex').readUInt32LE(0));
    } else if (n.name === 'FEATURES' && typeof n.value === 'string') {
      supported |= BigInt(parseXenFeatures(n.value).supported >>> 0);
    }
  }
  return !note || ((supported >> 11n) & 1n) === 1n;
}
