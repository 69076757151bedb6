/**
 * NetBSD's TCP/IP over Xen vifs: examples/netbsd-net/net.c (components by name: net_netinet,
 * net_virtif, net_config, dev_bpf) on the testbed's bridge xenbr0 (dom0 is 10.77.0.1).
 * Every address stays on that bridge inside QEMU. Per target (xen-pv, xen-pvh):
 *
 * - serve: creates librumpnet_virtif's virt0 and virt1 (the DomU's vifs 0 and 1, netfront
 *   under the VIFHYPER_* hypercalls), gives virt0 10.77.0.2/24, pings dom0 with ICMP echo,
 *   then serves one TCP echo connection and then UDP echo. dom0 pings the DomU with busybox
 *   ping, sends 10 MiB of random bytes through busybox nc, whose output must hash like its
 *   input, then the host's node in dom0 (test/dom0/udp-peer.mjs) sends UDP datagrams of
 *   1 to 65507 bytes (most bigger than the 1500-byte MTU: IP fragments both ways, up to 45,
 *   reassembled by NetBSD and by dom0's Linux), each of which must come back byte for byte
 *   (a lost one is sent again, a few times; see UDP_SIZES for the limit).
 * - dhcp: busybox udhcpd in dom0 serves a pool 10.77.0.100-110 on xenbr0; the DomU
 *   configures virt0 with librumpnet_config's DHCP client (over BPF), reads back the
 *   address the kernel has on virt0 and prints it; it must be in the pool with netmask
 *   255.255.255.0, answer dom0's ping, and be the lease udhcpd gave the DomU's MAC
 *   (busybox dumpleases); the UDP echo then runs on that address.
 * - both: the DomU is a host, not a router (not-a-router.ts). dom0 sends it two packets for
 *   another address of the subnet, through a host route via the DomU. NetBSD's rump kernels
 *   forward such packets unless tools/netbsd-build turns IP forwarding off, and then send dom0
 *   an ICMP redirect. The DomU's counters (net.inet.ip.forwarding and .forwsrcrt, ip.stats,
 *   icmp.stats), printed before dom0's traffic and at the end, must show forwarding off,
 *   nothing forwarded, no redirect sent and the stray packets dropped.
 *
 * One file, so its QEMU boots run one after another.
 */
import { caseVerdicts } from '@rumpxen/protocol';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildNetbsd } from '@rumpxen/netbsd-build';
import type { Testbed } from '@rumpxen/xen-testbed';
import { buildProject, loadManifest } from '../src/index.js';
import { startUdhcpd } from './dom0-udhcpd.js';
import { fullTestbed } from './full-testbed.js';
import { workdir } from './helpers.js';
import { expectNotARouter, sendStray } from './not-a-router.js';

const MANIFEST = join(__dirname, '..', '..', '..', 'examples', 'netbsd-net', 'net.json');
const DOMU_ADDR = '10.77.0.2';
const DOM0_ADDR = '10.77.0.1';
const NBYTES = 10 * 1024 * 1024;
// UDP payloads: 1472 is the largest in one 1500-byte frame, 1473 the smallest in two, 2953
// the smallest in three, 47352 the largest in 32 (netfront's transmit buffers: a burst of more
// waits in VIFHYPER_SEND for buffers to come back; it used to drop the tail), 65507 the
// largest UDP datagram (45 fragments).
const UDP_SIZES = [1, 100, 1472, 1473, 2952, 2953, 8192, 16384, 32768, 47352, 47353, 65507];
const UDP_PEER = join(__dirname, 'dom0', 'udp-peer.mjs');
// udhcpd's pool: not .1 (dom0) nor .2 (the static address).
const POOL_FIRST = 100;
const POOL_LAST = 110;
type Target = 'xen-pv' | 'xen-pvh';

const images = {} as Record<Target, string>;
const pass = (...names: string[]) => Object.fromEntries(names.map((n) => [n, 'PASS']));

beforeAll(async () => {
  // Fail here, not in a rebuild, when npm test's NetBSD step did not run.
  await buildNetbsd('xen-pv', { cachedOnly: true });
  const dir = workdir('netbsd-net');
  const m = loadManifest(MANIFEST);
  for (const target of ['xen-pv', 'xen-pvh'] as const) {
    const b = await buildProject(m, { target, output: join(dir, `net.${target}`) });
    expect(new Set(b.components)).toEqual(new Set(['net_netinet', 'net_virtif', 'net_config', 'dev_bpf', 'net_net', 'net', 'rump']));
    images[target] = b.output;
  }
}, 180_000);

describe('NetBSD in Xen DomUs over netfront', () => {
  const testbed = fullTestbed();
  beforeAll(async () => {
    // The bytes dom0 sends, made once (busybox in dom0; tmpfs).
    const r = await testbed().dom0.exec(`head -c ${NBYTES} /dev/urandom > /tmp/net-in && sha256sum < /tmp/net-in`, { timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
  }, 180_000);

  /** Runs udp-peer.mjs in dom0 against addr:7; every size must come back right, then "quit". */
  async function udpPeer(addr: string, domu: { lines: string[] }) {
    const t0 = Date.now();
    const r = await testbed().dom0.exec(`hostrun '${process.execPath}' '${UDP_PEER}' ${addr} 7 ${UDP_SIZES.join(' ')}`, { timeoutMs: 300_000 });
    const seconds = (Date.now() - t0) / 1000;
    const why = `${r.stdout}${r.stderr}\n--- DomU:\n${domu.lines.join('\n')}`;
    const m = /^udp-peer: (\{.*\})$/m.exec(r.stdout);
    expect(m, why).toBeTruthy();
    const res = JSON.parse(m![1]!) as { ok: boolean; results: { size: number; ok: boolean; tries: number }[]; quit: boolean; late: number; corrupt: number };
    expect(res.results.map((x) => [x.size, x.ok]), why).toEqual(UDP_SIZES.map((size) => [size, true]));
    expect(res.quit, why).toBe(true);
    expect(res.corrupt, why).toBe(0);
    expect(r.code, why).toBe(0);
    const retried = res.results.filter((x) => x.tries > 1).map((x) => `${x.size}×${x.tries}`);
    return `${UDP_SIZES.length} UDP sizes (${UDP_SIZES[0]}..${UDP_SIZES.at(-1)} bytes) echoed in ${seconds.toFixed(1)} s${retried.length ? `, sent again: ${retried.join(' ')}` : ''}${res.late ? `, ${res.late} late echoes` : ''}`;
  }

  /** The DomU's line for the UDP echo's end: at least one datagram per size, the biggest among them. */
  function expectUdpCounts(text: string) {
    const m = /^net: udp echoed (\d+) datagrams, (\d+) bytes, largest (\d+) bytes; \d+ sends failed$/m.exec(text);
    expect(m, text).toBeTruthy();
    expect(Number(m![1])).toBeGreaterThanOrEqual(UDP_SIZES.length);
    expect(Number(m![2])).toBeGreaterThanOrEqual(UDP_SIZES.reduce((a, b) => a + b, 0));
    expect(Number(m![3])).toBe(Math.max(...UDP_SIZES));
  }

  async function run(target: Target) {
    const tb = testbed();
    const domu = await tb.createDomU({
      kernel: images[target], memory: 64, type: target === 'xen-pvh' ? 'pvh' : 'pv',
      cmdline: `serve ${DOMU_ADDR} 24 ${DOM0_ADDR} ${NBYTES} 2`, vifs: 2,
    });
    try {
      await domu.waitForLine(/^net: ready$|^Test result:/, 180_000);
      const early = domu.lines.join('\n');
      expect(caseVerdicts(domu.lines), early).toEqual(pass('ifcreate', 'ifconfig', 'ping_peer', 'udp_bind', 'tcp_listen'));
      const ping = await tb.dom0.exec(`ping -c 3 -w 30 ${DOMU_ADDR}`, { timeoutMs: 60_000 });
      expect(ping.code, ping.stdout + ping.stderr).toBe(0);
      expect(ping.stdout).toMatch(/3 packets transmitted, 3 packets received/);
      await sendStray(tb, DOMU_ADDR);
      const t0 = Date.now();
      const tcp = await tb.dom0.exec(
        `sha256sum < /tmp/net-in; timeout 240 nc ${DOMU_ADDR} 7 < /tmp/net-in | tee /tmp/net-out | sha256sum; wc -c < /tmp/net-out; rm -f /tmp/net-out`,
        { timeoutMs: 270_000 });
      const seconds = (Date.now() - t0) / 1000;
      expect(tcp.code, tcp.stderr).toBe(0);
      const [sent, got, count] = tcp.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/)[0]);
      expect(Number(count), `${tcp.stdout}\n${domu.lines.join('\n')}`).toBe(NBYTES);
      expect(got).toBe(sent);
      await domu.waitForLine(/^net: udp echo on port 7$|^Test result:/, 120_000);
      const udp = await udpPeer(DOMU_ADDR, domu);
      const r = await domu.wait({ timeoutMs: 120_000 });
      const text = r.console.join('\n');
      expect(caseVerdicts(r.console), text).toEqual(pass('ifcreate', 'ifconfig', 'ping_peer', 'udp_bind', 'tcp_listen', 'tcp_echo', 'udp_echo', 'not_a_router'));
      const ip = expectNotARouter(text, 'net');
      // Both vifs connected, each with the MAC the toolstack gave it (xl: 00:16:3e:...).
      for (const id of [0, 1]) {
        expect(text).toMatch(new RegExp(`^netfront: vif${id}: MAC 00:16:3e(:[0-9a-f]{2}){3}, 32 transmit and 64 receive buffers; backend /local/domain/0/backend/vif/${domu.domid}/${id}$`, 'm'));
      }
      expect(text).toMatch(new RegExp(`^net: tcp echoed ${NBYTES} bytes in \\d+ ms$`, 'm'));
      expectUdpCounts(text);
      expect(r.exitCode).toBe(0);
      console.log(`${target}: ${NBYTES} bytes echoed over TCP in ${seconds.toFixed(1)} s (dom0's nc, both ways); ${udp}; ${ip}`);
    } finally {
      await domu.destroy().catch(() => undefined);
    }
  }

  /**
   * busybox udhcpd in dom0 on xenbr0 (files in its own /tmp folder), a DomU that takes its
   * address by DHCP; udhcpd is killed at the end either way.
   */
  async function runDhcp(target: Target) {
    const tb = testbed();
    const udhcpd = await startUdhcpd(tb, `netbsd-net-udhcpd-${target}`, POOL_FIRST, POOL_LAST);
    let domu: Awaited<ReturnType<Testbed['createDomU']>> | undefined;
    try {
      const t0 = Date.now();
      domu = await tb.createDomU({
        kernel: images[target], memory: 64, type: target === 'xen-pvh' ? 'pvh' : 'pv',
        cmdline: `dhcp ${DOM0_ADDR}`, vifs: 1,
      });
      await domu.waitForLine(/^net: ready$|^Test result:/, 240_000);
      const leaseSeconds = (Date.now() - t0) / 1000;
      const early = `${domu.lines.join('\n')}\n--- udhcpd:\n${await udhcpd.log()}`;
      expect(caseVerdicts(domu.lines), early).toEqual(pass('ifcreate', 'dhcp', 'dhcp_addr', 'ping_peer', 'udp_bind'));
      const m = /^net: virt0 dhcp address (\d+\.\d+\.\d+\.\d+) netmask (\S+)$/m.exec(early);
      expect(m, early).toBeTruthy();
      const [, addr, mask] = m!;
      const octets = addr!.split('.').map(Number);
      expect(octets.slice(0, 3), early).toEqual([10, 77, 0]);
      expect(octets[3], early).toBeGreaterThanOrEqual(POOL_FIRST);
      expect(octets[3], early).toBeLessThanOrEqual(POOL_LAST);
      expect(mask).toBe('255.255.255.0');
      const mac = /^netfront: vif0: MAC ((?:[0-9a-f]{2}:){5}[0-9a-f]{2}),/m.exec(early)?.[1];
      expect(mac, early).toMatch(/^00:16:3e:/);
      const ping = await tb.dom0.exec(`ping -c 3 -w 30 ${addr}`, { timeoutMs: 60_000 });
      expect(ping.code, ping.stdout + ping.stderr).toBe(0);
      expect(ping.stdout).toMatch(/3 packets transmitted, 3 packets received/);
      // udhcpd writes its lease file on SIGUSR1 (from its main loop, so wait for it).
      const leases = await udhcpd.leases(`${mac!}`);
      const lease = leases.stdout.split('\n').find((l) => l.toLowerCase().startsWith(mac!));
      expect(lease, `${leases.stdout}${leases.stderr}\n--- udhcpd:\n${await udhcpd.log()}`).toBeTruthy();
      expect(lease!.trim().split(/\s+/)[1]).toBe(addr);
      await sendStray(tb, addr!);
      const udp = await udpPeer(addr!, domu);
      const r = await domu.wait({ timeoutMs: 120_000 });
      const text = r.console.join('\n');
      expect(caseVerdicts(r.console), text).toEqual(pass('ifcreate', 'dhcp', 'dhcp_addr', 'ping_peer', 'udp_bind', 'udp_echo', 'not_a_router'));
      const ip = expectNotARouter(text, 'net');
      expectUdpCounts(text);
      expect(r.exitCode).toBe(0);
      console.log(`${target}: DHCP lease ${addr}/${mask} for ${mac} (udhcpd), net: ready after ${leaseSeconds.toFixed(1)} s; dom0 pinged it; ${udp}; ${ip}`);
    } finally {
      await domu?.destroy().catch(() => undefined);
      await udhcpd.stop();
    }
  }

  it('xen-pv: virt0 on vif 0 gets an address, pings dom0, answers dom0\'s ping, echoes 10 MiB over TCP and UDP datagrams of up to 45 fragments', async () => {
    await run('xen-pv');
  }, 600_000);

  it('xen-pvh: the same', async () => {
    await run('xen-pvh');
  }, 600_000);

  it('xen-pv: virt0 takes its address from dom0\'s udhcpd by DHCP', async () => {
    await runDhcp('xen-pv');
  }, 600_000);

  it('xen-pvh: the same by DHCP', async () => {
    await runDhcp('xen-pvh');
  }, 600_000);
});
