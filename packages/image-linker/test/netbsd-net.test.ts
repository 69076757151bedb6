/**
 * NetBSD's TCP/IP over Xen vifs: examples/netbsd-net/net.c (components by name: net_netinet,
 * net_virtif, net_config) creates librumpnet_virtif's virt0 and virt1 (the DomU's vifs 0
 * and 1, netfront under the VIFHYPER_* hypercalls), gives virt0 10.77.0.2/24 on the
 * testbed's bridge xenbr0 (dom0 is 10.77.0.1), pings dom0 with ICMP echo, then serves one
 * TCP echo connection. dom0 pings the DomU with busybox ping, and sends 10 MiB of random
 * bytes through busybox nc, whose output must hash like its input. Every address stays on
 * the testbed's own bridge inside QEMU.
 * One file, so its QEMU boots run one after another.
 */
import { caseVerdicts } from '@rumpxen/protocol';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildNetbsd } from '@rumpxen/netbsd-build';
import { buildProject, loadManifest } from '../src/index.js';
import { fullTestbed } from './full-testbed.js';
import { workdir } from './helpers.js';

const MANIFEST = join(__dirname, '..', '..', '..', 'examples', 'netbsd-net', 'net.json');
const DOMU_ADDR = '10.77.0.2';
const DOM0_ADDR = '10.77.0.1';
const NBYTES = 10 * 1024 * 1024;
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
    expect(new Set(b.components)).toEqual(new Set(['net_netinet', 'net_virtif', 'net_config', 'net_net', 'net', 'rump']));
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

  async function run(target: Target) {
    const tb = testbed();
    const domu = await tb.createDomU({
      kernel: images[target], memory: 64, type: target === 'xen-pvh' ? 'pvh' : 'pv',
      cmdline: `serve ${DOMU_ADDR} 24 ${DOM0_ADDR} ${NBYTES} 2`, vifs: 2,
    });
    try {
      await domu.waitForLine(/^net: ready$|^Test result:/, 180_000);
      const early = domu.lines.join('\n');
      expect(caseVerdicts(domu.lines), early).toEqual(pass('ifcreate', 'ifconfig', 'ping_peer', 'tcp_listen'));
      const ping = await tb.dom0.exec(`ping -c 3 -w 30 ${DOMU_ADDR}`, { timeoutMs: 60_000 });
      expect(ping.code, ping.stdout + ping.stderr).toBe(0);
      expect(ping.stdout).toMatch(/3 packets transmitted, 3 packets received/);
      const t0 = Date.now();
      const tcp = await tb.dom0.exec(
        `sha256sum < /tmp/net-in; timeout 240 nc ${DOMU_ADDR} 7 < /tmp/net-in | tee /tmp/net-out | sha256sum; wc -c < /tmp/net-out; rm -f /tmp/net-out`,
        { timeoutMs: 270_000 });
      const seconds = (Date.now() - t0) / 1000;
      expect(tcp.code, tcp.stderr).toBe(0);
      const [sent, got, count] = tcp.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/)[0]);
      expect(Number(count), `${tcp.stdout}\n${domu.lines.join('\n')}`).toBe(NBYTES);
      expect(got).toBe(sent);
      const r = await domu.wait({ timeoutMs: 120_000 });
      const text = r.console.join('\n');
      expect(caseVerdicts(r.console), text).toEqual(pass('ifcreate', 'ifconfig', 'ping_peer', 'tcp_listen', 'tcp_echo'));
      // Both vifs connected, each with the MAC the toolstack gave it (xl: 00:16:3e:...).
      for (const id of [0, 1]) {
        expect(text).toMatch(new RegExp(`^netfront: vif${id}: MAC 00:16:3e(:[0-9a-f]{2}){3}, 32 transmit and 64 receive buffers; backend /local/domain/0/backend/vif/${domu.domid}/${id}$`, 'm'));
      }
      expect(text).toMatch(new RegExp(`^net: tcp echoed ${NBYTES} bytes in \\d+ ms$`, 'm'));
      expect(r.exitCode).toBe(0);
      console.log(`${target}: ${NBYTES} bytes echoed over TCP in ${seconds.toFixed(1)} s (dom0's nc, both ways)`);
    } finally {
      await domu.destroy().catch(() => undefined);
    }
  }

  it('xen-pv: virt0 on vif 0 gets an address, pings dom0, answers dom0\'s ping and echoes 10 MiB over TCP', async () => {
    await run('xen-pv');
  }, 600_000);

  it('xen-pvh: the same', async () => {
    await run('xen-pvh');
  }, 600_000);
});
