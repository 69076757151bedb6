/**
 * The block frontend's protocol code on the host, no Xen needed (the checks: ring-host.ts):
 * mk/blkif.h against Xen's io/blkif.h (test/blk/blkif-abi.c), c/kern/blkring.c as plain
 * host C, and its known answers (vbd names, xenstore values, ring verdicts) and fuzz inputs
 * under ASan and UBSan (test/blk/blkring-fuzz.c).
 */
import { describeRingOnHost } from './ring-host.js';

describeRingOnHost({
  ring: 'blkring',
  abi: 'blkif',
  dir: 'blk',
  abiSelfTestMessage: 'MK_BLKIF_RING_SIZE != __CONST_RING_SIZE(blkif, 8192)',
  knownAnswers: '(vbd names, xenstore values, ring verdicts)',
});
