/**
 * netfront on its own (no rump kernel), as a DomU of a full testbed with five vifs on the
 * bridge xenbr0 (dom0 10.77.0.1/24; Linux netback): test/net/nettest.c
 * - "arp": vif 4 sends an ARP request for dom0 (gathered from two buffers) and receives
 *   dom0's reply, addressed to the MAC xenstore gave the vif;
 * - a backend breaking the protocol four ways on vifs 0..3, each refused with a message; the
 *   vif goes out of service (sending fails with EIO), vif 4 and the guest go on.
 * NetBSD's TCP/IP over netfront is @rumpxen/image-linker's test/netbsd-net.test.ts.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Testbed } from '@rumpxen/xen-testbed';
import { xenPvTarget } from '../src/targets.js';
import { caseResults, compileForTarget, imageDir, linkImage } from './guest-image.js';

const CASES = ['arp', 'rx_prod_ahead', 'rx_bounds', 'rx_flags', 'tx_stale_id', 'others_unharmed'];

let tb: Testbed;
let image: string;

beforeAll(async () => {
  const dir = imageDir('net');
  const obj = compileForTarget(xenPvTarget, join(__dirname, 'net', 'nettest.c'), dir);
  image = linkImage(xenPvTarget, { objects: [obj] }, join(dir, 'nettest-xen-pv.elf'));
  tb = await Testbed.start({ edu: false });
}, 240_000);

afterAll(async () => {
  await tb?.stop();
});

describe('netfront (xen-pv)', () => {
  it('ARP with dom0 over vif 4; four protocol breaks refused with a message, only their vifs out of service', async () => {
    const domu = await tb.createDomU({ kernel: image, memory: 16, vifs: 5 });
    const r = await domu.wait({ timeoutMs: 180_000 });
    const text = r.console.join('\n');
    expect(caseResults(r.console), text).toEqual(Object.fromEntries(CASES.map((c) => [c, 'PASS'])));
    for (const id of [0, 1, 2, 3, 4]) {
      expect(text).toMatch(new RegExp(`^netfront: vif${id}: MAC 00:16:3e(:[0-9a-f]{2}){3}, 32 transmit and 64 receive buffers; backend /local/domain/0/backend/vif/${domu.domid}/${id}$`, 'm'));
    }
    expect(text).toMatch(/^nettest: vif4: dom0 is ([0-9a-f]{2}:){5}[0-9a-f]{2}; \d+ frames sent, \d+ received$/m);
    const out = (dev: string) => `; ${dev} is out of service, every frame on it is dropped$`;
    expect(text).toMatch(new RegExp(String.raw`^netfront: vif0: refused the backend's receive response index rsp_prod \d+ \(ours: rsp_cons \d+, 64 requests outstanding\): the response producer index is ahead of the requests outstanding` + out('vif0'), 'm'));
    expect(text).toMatch(new RegExp(String.raw`^netfront: vif1: refused the backend's receive response at ring index \d+ \(id 0x[0-9a-f]+, offset 4000, flags 0x0, status 200\): the packet's offset and length reach beyond its page` + out('vif1'), 'm'));
    expect(text).toMatch(new RegExp(String.raw`^netfront: vif2: refused the backend's receive response at ring index \d+ \(id 0x[0-9a-f]+, offset 0, flags 0x4, status 60\): the response has more_data, extra_info or gso_prefix, which this frontend never offered` + out('vif2'), 'm'));
    expect(text).toMatch(new RegExp(String.raw`^netfront: vif3: refused the backend's transmit response at ring index 0 \(id 0x1[0-9a-f]{2}, status 0\): the response id is not the outstanding request's \(a stale or repeated response\)` + out('vif3'), 'm'));
    expect(text).not.toMatch(/rumpxen: crash|rumpxen: panic/);
    expect(r.exitCode).toBe(0);
  }, 240_000);
});
