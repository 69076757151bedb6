/**
 * NetBSD PCI NIC drivers on devices Xen passes to a DomU (examples/netbsd-pci-nic/nic.c, with
 * @rumpxen/pci-passthrough's libpcix.a under NetBSD's librumpdev_pci): the testbed's QEMU
 * e1000 (wm(4)) and pcnet (pcn(4)) at 0000:00:04.0 and 0000:00:05.0 on xen-pciback, each on a
 * QEMU hub joined to a virtio-net NIC of dom0 that sits on the bridge xenbr0, so nothing leaves
 * QEMU. The machine has 6 GiB and Xen runs with `dma_bits=32`, so Xen gives domains memory
 * above 4 GiB first and keeps the memory below for DMA (XENMEM_exchange with an address limit):
 * the DomUs' ordinary memory (mbufs included) lies above 4 GiB, out of a 32-bit device's reach.
 * `bootscrub=0`: QEMU's memory is fresh, and scrubbing 6 GiB in Xen's idle loop costs ~14 s of
 * host CPU and makes QEMU resident at 6 GiB. Per driver, as a xen-pv DomU (libpcix is xen-pv
 * only; see the README):
 *
 * - NetBSD's bus_dmamap_load of a buffer over two DMA pages (below 4 GiB) whose machine frames
 *   are not adjacent gives one segment per page, not bounced, whose machine bytes the DomU
 *   compared with the buffer;
 * - the DomU's ordinary memory lies above 4 GiB, and a load of it on pa_dmat (a 32-bit
 *   device's tag) bounces: segments below 4 GiB holding the buffer's bytes after PREWRITE, and
 *   bytes written there reach the buffer after POSTREAD (pci-passthrough's bounce buffers);
 * - pcn(4) (pa_dmat) bounced its own loads during the traffic below; wm(4) (pa_dmat64, 64-bit
 *   descriptors) made no map that can bounce and its loads stayed zero-copy;
 * - the driver's autoconfiguration lines (RUMP_VERBOSE=1): the device at pci0 and its PHY;
 *   no I/O space warnings (port I/O for a DomU); pcn: the address PROM read over port I/O;
 * - a DHCP lease from busybox udhcpd in dom0 (pool 10.77.0.100-110), read back from the
 *   kernel, which must be the lease udhcpd's dumpleases shows for the device's MAC;
 * - the DomU pings dom0 (3 replies whose payload matches), dom0 pings the DomU (busybox);
 * - 10 MiB of random bytes from dom0's nc to the DomU's TCP echo and back, hashed both sides;
 * - the DomU is a host, not a router: forwarding off, two echo requests dom0 sends it for
 *   another address dropped, no redirect sent (not-a-router.ts);
 * - wm: then the driver detaches (config_detach: interrupt taken down, registers unmapped) and
 *   the device and interface are gone.
 *
 * One file, so its QEMU boots run one after another.
 */
import { caseVerdicts } from '@rumpxen/protocol';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildNetbsd } from '@rumpxen/netbsd-build';
import { PASSTHROUGH_NICS, Testbed, type PassthroughNicModel } from '@rumpxen/xen-testbed';
import { buildProject, loadManifest } from '../src/index.js';
import { startUdhcpd } from './dom0-udhcpd.js';
import { expectNotARouter, sendStray } from './not-a-router.js';
import { workdir } from './helpers.js';

const MANIFEST = join(__dirname, '..', '..', '..', 'examples', 'netbsd-pci-nic', 'nic.json');
const DOM0_ADDR = '10.77.0.1';
const NBYTES = 10 * 1024 * 1024;
const POOL_FIRST = 100;
const POOL_LAST = 110;

/**
 * Per model: the interface, the attach lines, and whether the program must set the MAC
 * (pcn(4) reads QEMU pcnet's address PROM a byte at a time in 32-bit I/O mode, which QEMU
 * answers with 0xff; the program then reads the PROM itself with 32-bit port reads of the
 * I/O BAR, the DomU's port I/O, and makes that the active link address).
 */
const DRIVERS: Record<PassthroughNicModel, { ifname: string; attach: RegExp[]; setMac: boolean; detach: boolean }> = {
  e1000: {
    ifname: 'wm0',
    setMac: false,
    // wm(4) can detach (pcn(4) has no detach function in this NetBSD).
    detach: true,
    attach: [
      /^wm0 at pci0 dev \d+ function 0: Intel i82540EM 1000BASE-T Ethernet/m,
      /^wm0: Ethernet address 52:54:00:72:78:04$/m,
      /^makphy0 at wm0 phy 1:/m,
    ],
  },
  pcnet: {
    ifname: 'pcn0',
    setMac: true,
    detach: false,
    attach: [
      /^pcn0 at pci0 dev \d+ function 0: AMD PCnet-PCI Ethernet$/m,
      /^pcn0: Am79c970A PCnet-PCI II rev \d+, Ethernet address ff:ff:ff:ff:ff:ff$/m,
      /^nic: PCnet address PROM over I\/O ports 0x[0-9a-f]+: 52:54:00:72:78:05$/m,
      /^nic: pcn0 link address 52:54:00:72:78:05: set$/m,
    ],
  },
};

let image = '';
const pass = (...names: string[]) => Object.fromEntries(names.map((n) => [n, 'PASS']));

beforeAll(async () => {
  await buildNetbsd('xen-pv', { cachedOnly: true });
  const b = await buildProject(loadManifest(MANIFEST), { target: 'xen-pv', output: join(workdir('netbsd-pci-nic'), 'nic.xen-pv') });
  for (const c of ['dev_pci', 'dev_pci_if_wm', 'dev_pci_if_pcn', 'dev_miiphy', 'net_netinet', 'net_config', 'dev_bpf']) expect(b.components).toContain(c);
  image = b.output;
}, 180_000);

describe('NetBSD PCI NIC drivers on passed-through QEMU NICs (xen-pv)', () => {
  let tb: Testbed | undefined;
  beforeAll(async () => {
    // DomU memory above 4 GiB (see the top of the file): pcn(4)'s DMA works only by bouncing.
    tb = await Testbed.start({ edu: false, pvh: false, passthroughNics: ['e1000', 'pcnet'], memoryMb: 6144, xenArgs: ['dma_bits=32', 'bootscrub=0'] });
    const r = await tb.dom0.exec(`head -c ${NBYTES} /dev/urandom > /tmp/nic-in && sha256sum < /tmp/nic-in`, { timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
  }, 300_000);
  afterAll(async () => {
    await tb?.stop();
  });

  async function run(model: PassthroughNicModel) {
    const nic = PASSTHROUGH_NICS[model];
    const { ifname, attach, setMac, detach } = DRIVERS[model];
    const steps = ['dma', 'dma_bounce', ...(setMac ? ['prom_io', 'lladdr'] : []), 'ifup', 'dhcp', 'dhcp_addr', 'ping_peer', 'tcp_listen'];
    const udhcpd = await startUdhcpd(tb!, `pci-nic-udhcpd-${model}`, POOL_FIRST, POOL_LAST);
    let domu: Awaited<ReturnType<Testbed['createDomU']>> | undefined;
    try {
      domu = await tb!.createDomU({
        kernel: image, memory: 64, type: 'pv', name: `pcinic-${model}`,
        cmdline: `RUMP_VERBOSE=1 ${ifname} ${DOM0_ADDR} ${NBYTES}${setMac ? ' prom' : ''}${detach ? ' detach' : ''}`, pci: [nic.bdf],
      });
      await domu.waitForLine(/^nic: ready$|^Test result:/, 240_000);
      const early = `${domu.lines.join('\n')}\n--- udhcpd:\n${await udhcpd.log()}`;
      expect(caseVerdicts(domu.lines), early).toEqual(pass(...steps));
      for (const re of attach) expect(early).toMatch(re);
      // NetBSD's bus_dmamap_load of 8000 bytes over two pages whose frames are not adjacent:
      // one segment per page (the DomU compared each segment's machine bytes with the buffer).
      const dma = /^nic: dma: 8000 bytes over frames (0x[0-9a-f]+) and (0x[0-9a-f]+): (\d+) segments((?: 0x[0-9a-f]+\+\d+)+)$/m.exec(early);
      expect(dma, early).toBeTruthy();
      expect(Number(dma![2])).not.toBe(Number(dma![1]) + 4096);
      expect(Number(dma![3])).toBe(2);
      const segs = dma![4]!.trim().split(' ').map((x) => x.split('+').map(Number) as [number, number]);
      expect(segs.map(([, len]) => len)).toEqual([4096 - 100, 8000 - (4096 - 100)]);
      expect(segs.map(([a]) => a)).toEqual([Number(dma![1]) + 100, Number(dma![2])]);
      // Every DMA page below 4 GiB (the default limit), while the domain's ordinary memory lies
      // above it (dma_bits=32): the limit was needed, and met.
      for (const [a, len] of segs) expect(a + len).toBeLessThanOrEqual(2 ** 32);
      const top = /^nic: dma: ordinary memory reaches machine address (0x[0-9a-f]+)$/m.exec(early);
      expect(top, early).toBeTruthy();
      expect(Number(top![1]), early).toBeGreaterThan(2 ** 32);
      // Ordinary memory loaded on pa_dmat: bounced into segments below 4 GiB (the DomU checked
      // their bytes after PREWRITE and the buffer's after POSTREAD: case dma_bounce).
      const hi = /^nic: dma: 9000 bytes of ordinary memory at machine (0x[0-9a-f]+) \((partly above|below) 4 GiB\), bounced: (yes|no), (\d+) segments((?: 0x[0-9a-f]+\+\d+)+)$/m.exec(early);
      expect(hi, early).toBeTruthy();
      expect(Number(hi![1])).toBeGreaterThan(2 ** 32);
      expect([hi![2], hi![3]]).toEqual(['partly above', 'yes']);
      const hiSegs = hi![5]!.trim().split(' ').map((x) => x.split('+').map(Number) as [number, number]);
      expect(hiSegs.reduce((n, [, len]) => n + len, 0)).toBe(9000);
      for (const [a, len] of hiSegs) expect(a + len).toBeLessThanOrEqual(2 ** 32);
      // Port I/O is there for the DomU (rumpcomp_pci_iospace_init): no I/O space warnings.
      expect(early).not.toMatch(/I\/O space init error|unable to map I\/O space/);
      if (setMac) {
        // The ports read are the machine's own I/O BAR (PV: no translation), as dom0 sees it.
        const res = await tb!.dom0.exec(`head -1 /sys/bus/pci/devices/${nic.bdf}/resource`);
        const base = Number(res.stdout.trim().split(/\s+/)[0]);
        expect(early).toContain(`nic: PCnet address PROM over I/O ports 0x${base.toString(16)}: ${nic.mac}`);
      }
      const m = new RegExp(`^nic: ${ifname} dhcp address (\\d+\\.\\d+\\.\\d+\\.\\d+) netmask (\\S+)$`, 'm').exec(early);
      expect(m, early).toBeTruthy();
      const [, addr, mask] = m!;
      const octets = addr!.split('.').map(Number);
      expect(octets.slice(0, 3), early).toEqual([10, 77, 0]);
      expect(octets[3]).toBeGreaterThanOrEqual(POOL_FIRST);
      expect(octets[3]).toBeLessThanOrEqual(POOL_LAST);
      expect(mask).toBe('255.255.255.0');
      const ping = await tb!.dom0.exec(`ping -c 3 -w 30 ${addr}`, { timeoutMs: 60_000 });
      expect(ping.code, ping.stdout + ping.stderr).toBe(0);
      expect(ping.stdout).toMatch(/3 packets transmitted, 3 packets received/);
      // The lease udhcpd gave, by the client's hardware address: libnetconfig's DHCP client
      // takes the interface's first (factory) link address, so pcn0's is the ff:ff:ff:ff:ff:ff
      // it read from QEMU's PROM even after the program made QEMU's MAC the active one.
      const chaddr = setMac ? 'ff:ff:ff:ff:ff:ff' : nic.mac;
      const leases = await udhcpd.leases(` ${addr} `);
      const lease = leases.stdout.split('\n').find((l) => l.toLowerCase().startsWith(chaddr));
      expect(lease, `${leases.stdout}${leases.stderr}`).toBeTruthy();
      expect(lease!.trim().split(/\s+/)[1]).toBe(addr);
      // dom0 reached the DomU at the device's MAC (its ARP entry after the ping).
      const arp = await tb!.dom0.exec(`ip neigh show ${addr}`);
      expect(arp.stdout.toLowerCase(), arp.stdout + arp.stderr).toContain(nic.mac);
      // Two echo requests for another address, sent to the DomU's MAC: a host drops them.
      await sendStray(tb!, addr!);
      const t0 = Date.now();
      const tcp = await tb!.dom0.exec(
        `sha256sum < /tmp/nic-in; timeout 240 nc ${addr} 7 < /tmp/nic-in | tee /tmp/nic-out | sha256sum; wc -c < /tmp/nic-out; rm -f /tmp/nic-out`,
        { timeoutMs: 270_000 });
      const seconds = (Date.now() - t0) / 1000;
      expect(tcp.code, tcp.stderr).toBe(0);
      const [sent, got, count] = tcp.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/)[0]);
      expect(Number(count), `${tcp.stdout}\n${domu.lines.join('\n')}`).toBe(NBYTES);
      expect(got).toBe(sent);
      const r = await domu.wait({ timeoutMs: 120_000 });
      const text = r.console.join('\n');
      expect(caseVerdicts(r.console), text).toEqual(pass(...steps, 'tcp_echo', 'not_a_router', ...(detach ? ['detach'] : [])));
      const ip = expectNotARouter(text, 'nic');
      if (detach) {
        // config_detach took the interrupt down and unmapped the registers (no panic), and
        // the device and its interface are gone.
        expect(text).toMatch(new RegExp(`^nic: ${ifname} detach: 0$`, 'm'));
        expect(text).toMatch(new RegExp(`^nic: ${ifname} up after the detach: [1-9]\\d*$`, 'm'));
      }
      expect(text).toMatch(new RegExp(`^nic: tcp echoed ${NBYTES} bytes in \\d+ ms$`, 'm'));
      expect(r.exitCode, text).toBe(0);
      // pci-passthrough's bounce totals after the DMA cases (before the interface came up: the
      // program's one bounced load, the driver's maps made at attach) and at the end. pcn(4)'s
      // maps are on pa_dmat and its mbufs lie above 4 GiB, so its loads bounced both ways;
      // wm(4)'s are on pa_dmat64: no map that can bounce beyond the program's own two.
      const totals = (when: string) => {
        const t = new RegExp(`^nic: bounce: ${when}: maps (\\d+) loads (\\d+) bytes to-area (\\d+) from-area (\\d+) area (\\d+) KiB$`, 'm').exec(text);
        expect(t, text).toBeTruthy();
        const [maps, loads, toArea, fromArea, areaKib] = t!.slice(1).map(Number) as [number, number, number, number, number];
        return { maps, loads, toArea, fromArea, areaKib };
      };
      const afterDma = totals('after the dma cases');
      const atEnd = totals('at the end');
      expect(afterDma.loads).toBe(1);
      if (model === 'pcnet') {
        expect(afterDma.maps).toBeGreaterThan(2);
        // Every frame received and sent: over 10 MiB each way through the bounce areas.
        expect(atEnd.loads).toBeGreaterThan(afterDma.loads + 1000);
        expect(atEnd.toArea - afterDma.toArea).toBeGreaterThan(NBYTES);
        expect(atEnd.fromArea - afterDma.fromArea).toBeGreaterThan(NBYTES);
      } else {
        expect(afterDma.maps).toBe(2);
        expect(atEnd).toEqual(afterDma);
      }
      console.log(`${ifname}: ordinary memory up to ${top![1]}; bounce totals at the end: ${JSON.stringify(atEnd)}`);
      console.log(`${model} (${ifname}): lease ${addr}; ${NBYTES} bytes echoed over TCP in ${seconds.toFixed(1)} s; ${ip}\n${attach.map((re) => re.exec(text)?.[0]).join('\n')}\n${text.split('\n').filter((l) => /^nic: (dma|bounce|.* detach|.* up after)/.test(l)).join('\n')}`);
    } finally {
      await domu?.destroy().catch(() => undefined);
      await udhcpd.stop();
    }
  }

  it('wm(4) on QEMU e1000: attaches, takes a DHCP lease, pings both ways, echoes 10 MiB over TCP, detaches', async () => {
    await run('e1000');
  }, 600_000);

  it('pcn(4) on QEMU pcnet: the same, its MAC read over port I/O (no detach: pcn has none)', async () => {
    await run('pcnet');
  }, 600_000);
});
