/**
 * The network frontend's protocol code on the host, no Xen needed (the checks: ring-host.ts):
 * mk/netif.h against Xen's io/netif.h (test/net/netif-abi.c), c/kern/netring.c as plain
 * host C, and its known answers (ring verdicts, xenstore values) and fuzz inputs under ASan
 * and UBSan (test/net/netring-fuzz.c).
 */
import { describeRingOnHost } from './ring-host.js';

describeRingOnHost({
  ring: 'netring',
  abi: 'netif',
  dir: 'net',
  abiSelfTestMessage: 'MK_NETIF_TX_RING_SIZE != __CONST_RING_SIZE(netif_tx, 8192)',
  knownAnswers: '(ring verdicts, xenstore values)',
});
