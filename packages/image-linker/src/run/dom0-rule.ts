/**
 * Whether an image can run as the testbed's only domain: Xen's dom0 rule on the image's notes
 * (no testbed needed to decide it).
 */
import { xenDom0Support } from '@rumpxen/protocol';
import type { ImageReport } from '../inspect.js';

/**
 * Whether the testbed's Xen (4.17) boots the image as its only domain (dom0): Xen's rule,
 * `xenDom0Support()` of @rumpxen/protocol (the one the testbed applies), on the notes' bytes
 * as they are in the file. Xen 4.17 builds a PVH dom0 without this check.
 */
export function declaresDom0(report: ImageReport): boolean {
  if (report.target === 'xen-pvh') return true;
  return xenDom0Support(report.xenNotes.map((n) => ({ type: n.type, desc: Buffer.from(n.raw, 'hex') }))).pvDom0;
}
