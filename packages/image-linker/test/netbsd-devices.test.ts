/**
 * One DomU, four devices: examples/netbsd-io/io.c (`devices` mode; components by name: vfs,
 * net_netinet, net_virtif, net_config) in a xen-pv and a xen-pvh DomU of the full testbed with
 * two vbds and two vifs on xenbr0.
 * - Disks: the test writes a pattern into each image, distinct per disk (see io.c: every
 *   sector's header carries the disk's tag and the sector's number), and gives them different
 *   sizes; NetBSD's raw devices /dev/rxvda and /dev/rxvdb (etfs over blkfront's xvda, xvdb)
 *   report those sizes and read every byte of their own pattern.
 * - Network: virt0 gets 10.77.0.2/24, virt1 10.77.1.2/24 (dom0's xenbr0 gets 10.77.1.1/24 beside
 *   its 10.77.0.1/24 for the test); NetBSD reads both link-layer addresses back (they differ),
 *   pings dom0's address of each subnet; dom0 pings both DomU addresses, and its ARP table
 *   must hold each address at the MAC of the vif that carries it (netfront's line, NetBSD's
 *   SIOCGLIFADDR); a TCP connection to each address reaches that address.
 * One file, so its QEMU boots run one after another.
 */
import { caseVerdicts } from '@rumpxen/protocol';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildNetbsd } from '@rumpxen/netbsd-build';
import { buildProject, loadManifest } from '../src/index.js';
import { fullTestbed } from './full-testbed.js';
import { workdir } from './helpers.js';

const MANIFEST = join(__dirname, '..', '..', '..', 'examples', 'netbsd-io', 'io.json');
const MIB = 1024 * 1024;
const NET = [
  { vif: 0, ifname: 'virt0', domu: '10.77.0.2', dom0: '10.77.0.1', prefix: 24 },
  { vif: 1, ifname: 'virt1', domu: '10.77.1.2', dom0: '10.77.1.1', prefix: 24 },
] as const;
/** The address the test adds to dom0's bridge (10.77.0.1/24 is the testbed's own). */
const EXTRA_DOM0_ADDR = `${NET[1].dom0}/${NET[1].prefix}`;
type Target = 'xen-pv' | 'xen-pvh';

const images = {} as Record<Target, string>;
const pass = (...names: string[]) => Object.fromEntries(names.map((n) => [n, 'PASS']));

/** io.c's pattern: sector s of disk `tag` starts with (tag << 56 | s) little-endian, then byte j = j*7 + tag*97 + 1. */
function patternImage(file: string, tag: string, size: number): void {
  const t = tag.charCodeAt(0);
  const b = Buffer.alloc(size);
  for (let s = 0; s < size / 512; s++) {
    const at = s * 512;
    b.writeBigUInt64LE((BigInt(t) << 56n) | BigInt(s), at);
    for (let j = 8; j < 512; j++) b[at + j] = (j * 7 + t * 97 + 1) & 0xff;
  }
  writeFileSync(file, b);
}

beforeAll(async () => {
  // Fail here, not in a rebuild, when npm test's NetBSD step did not run.
  await buildNetbsd('xen-pv', { cachedOnly: true });
  const dir = workdir('netbsd-devices');
  const m = loadManifest(MANIFEST);
  for (const target of ['xen-pv', 'xen-pvh'] as const) {
    const b = await buildProject(m, { target, output: join(dir, `io.${target}`) });
    expect(new Set(b.components)).toEqual(new Set(['vfs', 'net_netinet', 'net_virtif', 'net_config', 'net_net', 'net', 'rump']));
    images[target] = b.output;
  }
}, 180_000);

describe('NetBSD in a Xen DomU with two vbds and two vifs', () => {
  const testbed = fullTestbed();

  async function run(target: Target) {
    const tb = testbed();
    // Different sizes, so a size reported for the wrong disk shows.
    const disks = [
      { vdev: 'xvda', tag: 'a', size: 6 * MIB, file: join(tb.runDir, 'disks', `io-a-${target}.img`) },
      { vdev: 'xvdb', tag: 'b', size: 10 * MIB, file: join(tb.runDir, 'disks', `io-b-${target}.img`) },
    ];
    for (const d of disks) patternImage(d.file, d.tag, d.size);
    const add = await tb.dom0.exec(`ip addr add ${EXTRA_DOM0_ADDR} dev xenbr0`);
    expect(add.code, add.stderr).toBe(0);
    let domu: Awaited<ReturnType<typeof tb.createDomU>> | undefined;
    let del: Awaited<ReturnType<typeof tb.dom0.exec>> | undefined;
    try {
      domu = await tb.createDomU({
        kernel: images[target], memory: 64, type: target === 'xen-pvh' ? 'pvh' : 'pv',
        cmdline: ['devices', ...NET.flatMap((n) => [n.domu, String(n.prefix), n.dom0])].join(' '),
        disks: disks.map((d) => ({ file: d.file, vdev: d.vdev })),
        vifs: 2,
      });
      await domu.waitForLine(/^io: ready$|^Test result:/, 240_000);
      const early = domu.lines.join('\n');
      expect(caseVerdicts(domu.lines), early).toEqual(pass('disk_xvda', 'disk_xvdb', 'ifconfig', 'macs_differ', 'ping_peer0', 'ping_peer1'));
      // Each disk: the size blkback reports (blkfront's line) and NetBSD's (DIOCGMEDIASIZE) are
      // the image's, and every sector holds that disk's own pattern.
      for (const d of disks) {
        expect(early).toMatch(new RegExp(`^blkfront: ${d.vdev}: ${d.size} bytes \\(${d.size / 512} sectors of 512\\), .*read-write`, 'm'));
        expect(early).toContain(`io: /dev/${d.vdev}: ${d.size} bytes`);
        expect(early).toMatch(new RegExp(`^io: /dev/${d.vdev}: read ${d.size} bytes in \\d+ ms, 0 sectors differ from the pattern of '${d.tag}'$`, 'm'));
      }
      // Each vif's MAC as netfront connected it and as NetBSD's interface reports it.
      const macs = NET.map((n) => {
        const front = new RegExp(`^netfront: vif${n.vif}: MAC ((?:[0-9a-f]{2}:){5}[0-9a-f]{2}), .*backend /local/domain/0/backend/vif/${domu!.domid}/${n.vif}$`, 'm').exec(early);
        const netbsd = new RegExp(`^io: ${n.ifname} MAC ((?:[0-9a-f]{2}:){5}[0-9a-f]{2})`, 'm').exec(early);
        expect(front, early).not.toBeNull();
        expect(netbsd?.[1], early).toBe(front![1]);
        return front![1]!;
      });
      expect(macs[0]).not.toBe(macs[1]);

      // dom0 reaches both addresses; ARP resolved each to the MAC of its own vif.
      for (const n of NET) {
        const ping = await tb.dom0.exec(`ping -c 3 -w 30 ${n.domu}`, { timeoutMs: 60_000 });
        expect(ping.code, ping.stdout + ping.stderr).toBe(0);
        expect(ping.stdout).toMatch(/3 packets transmitted, 3 packets received/);
      }
      const arp = await tb.dom0.exec('cat /proc/net/arp');
      expect(arp.code).toBe(0);
      NET.forEach((n, i) => {
        const row = arp.stdout.split('\n').map((l) => l.trim().split(/\s+/)).find((f) => f[0] === n.domu);
        expect(row, arp.stdout).toBeDefined();
        expect(row![3], arp.stdout).toBe(macs[i]);
        expect(row![5]).toBe('xenbr0');
      });

      // A TCP connection to each address: the DomU answers with the address it was reached at.
      const tcp = await tb.dom0.exec(NET.map((n) => `timeout 60 nc ${n.domu} 7 </dev/null`).join('; '), { timeoutMs: 150_000 });
      expect(tcp.stdout.trim().split('\n'), `${tcp.stdout}${tcp.stderr}`).toEqual(NET.map((n) => n.domu));

      const r = await domu.wait({ timeoutMs: 120_000 });
      const text = r.console.join('\n');
      expect(caseVerdicts(r.console), text).toEqual(pass('disk_xvda', 'disk_xvdb', 'ifconfig', 'macs_differ', 'ping_peer0', 'ping_peer1', 'tcp_local_addr'));
      NET.forEach((n, i) => expect(text).toContain(`io: connection ${i + 1} reached ${n.domu}`));
      expect(r.exitCode, text).toBe(0);
    } finally {
      await domu?.destroy().catch(() => undefined);
      del = await tb.dom0.exec(`ip addr del ${EXTRA_DOM0_ADDR} dev xenbr0`);
    }
    expect(del.code, del.stderr).toBe(0);
  }

  it('xen-pv: both disks with their sizes and patterns, virt0 and virt1 with their own MACs, reached by dom0 on both subnets', async () => {
    await run('xen-pv');
  }, 600_000);

  it('xen-pvh: the same', async () => {
    await run('xen-pvh');
  }, 600_000);
});
