/**
 * A Xen backend that goes away mid-I/O: examples/netbsd-fault/fault.c (components by name:
 * dev_disk, net_netinet, net_virtif, net_config) runs NetBSD's raw disk I/O on a vbd, or a
 * TCP stream over a vif, in a DomU of the full testbed while dom0 detaches the device with xl
 * (`xl block-detach`, `xl network-detach`). blkfront and netfront notice their backend
 * leaving (its xenstore state Closing), write Closed so the detach completes, and
 * - blkfront fails the outstanding transfers with EIO: NetBSD's read or write returns EIO
 *   (or ENXIO) within a bounded time, later I/O fails too, and the program ends cleanly;
 * - netfront takes the vif out of service: the stream stops (no byte taken for 5 s), dom0
 *   no longer answers a ping, and the program ends cleanly.
 * Each case prints how long the detach took in dom0 and how long the program waited for
 * its error. One file, so its QEMU boots run one after another.
 */
import { caseVerdicts } from '@rumpxen/protocol';
import { closeSync, ftruncateSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildNetbsd } from '@rumpxen/netbsd-build';
import type { DomU, Testbed } from '@rumpxen/xen-testbed';
import { buildProject, loadManifest } from '../src/index.js';
import { fullTestbed } from './full-testbed.js';
import { workdir } from './helpers.js';

const MANIFEST = join(__dirname, '..', '..', '..', 'examples', 'netbsd-fault', 'fault.json');
const DOMU_ADDR = '10.77.0.2';
const DOM0_ADDR = '10.77.0.1';
/** xvda's id in Xen's vbd-interface numbering (202 << 8). */
const XVDA = 51712;
type Target = 'xen-pv' | 'xen-pvh';

const images = {} as Record<Target, string>;
const pass = (...names: string[]) => Object.fromEntries(names.map((n) => [n, 'PASS']));

beforeAll(async () => {
  // Fail here, not in a rebuild, when npm test's NetBSD step did not run.
  await buildNetbsd('xen-pv', { cachedOnly: true });
  const dir = workdir('netbsd-fault');
  const m = loadManifest(MANIFEST);
  for (const target of ['xen-pv', 'xen-pvh'] as const) {
    const b = await buildProject(m, { target, output: join(dir, `fault.${target}`) });
    expect(new Set(b.components)).toEqual(
      new Set(['dev_disk', 'net_netinet', 'net_virtif', 'net_config', 'dev', 'vfs', 'net_net', 'net', 'rump']));
    images[target] = b.output;
  }
}, 180_000);

/** Resolves with the line and when it came (ms since `t0`). */
async function lineAt(domu: DomU, match: RegExp, t0: number, timeoutMs: number): Promise<{ line: string; ms: number }> {
  const line = await domu.waitForLine(match, timeoutMs);
  return { line, ms: Date.now() - t0 };
}

/** dom0 runs `cmd`; resolves with its exit code, output and when it ended (ms since `t0`). */
async function dom0At(tb: Testbed, cmd: string, t0: number): Promise<{ code: number; out: string; ms: number }> {
  const r = await tb.dom0.exec(cmd, { timeoutMs: 120_000 });
  return { code: r.code, out: r.stdout + r.stderr, ms: Date.now() - t0 };
}

describe('NetBSD in Xen DomUs: a backend that goes away mid-I/O gives errors, not a hang', () => {
  const testbed = fullTestbed();

  async function blk(target: Target) {
    const tb = testbed();
    // In the run folder, where dom0 finds it at the same path.
    const disk = join(tb.runDir, 'disks', `fault-${target}.img`);
    const fd = openSync(disk, 'w');
    ftruncateSync(fd, 16 * 1024 * 1024);
    closeSync(fd);
    const domu = await tb.createDomU({
      kernel: images[target], memory: 64, type: target === 'xen-pvh' ? 'pvh' : 'pv',
      cmdline: 'blk /dev/xvda 240', disks: [{ file: disk, vdev: 'xvda' }],
    });
    try {
      await domu.waitForLine(/^fault: blk: running$|^Test result:/, 180_000);
      expect(caseVerdicts(domu.lines), domu.lines.join('\n')).toEqual(pass('raw_open', 'io_running'));
      // I/O goes on meanwhile: the detach lands in the middle of it.
      const t0 = Date.now();
      const [detach, gone, failed] = await Promise.all([
        dom0At(tb, `xl block-detach ${domu.domid} xvda`, t0),
        lineAt(domu, /^blkfront: xvda: the backend at /, t0, 120_000),
        lineAt(domu, /^fault: blk: every worker's I\/O failed: /, t0, 120_000),
      ]);
      expect(detach.code, detach.out).toBe(0);
      // Well within libxl's 10 s wait for the backend to close, after which it would remove the
      // device by force: the frontend's Closed let blkback disconnect.
      expect(detach.ms, detach.out).toBeLessThan(10_000);
      // The vbd is gone in dom0: xl lists none, the backend's folder is removed.
      const after = await tb.dom0.exec(
        `xl block-list ${domu.domid}; xenstore-exists /local/domain/0/backend/vbd/${domu.domid}/${XVDA} && echo backend-still-there; true`);
      expect(after.stdout).not.toMatch(new RegExp(`^${XVDA}\\s`, 'm'));
      expect(after.stdout).not.toContain('backend-still-there');
      const r = await domu.wait({ timeoutMs: 120_000 });
      const text = r.console.join('\n');
      expect(caseVerdicts(r.console), text).toEqual(pass('raw_open', 'io_running', 'io_error', 'later_io_fails', 'close'));
      // blkfront's one line: the backend said Closing (xl), what failed and how fast (after the
      // backend gave every page back: nothing about pages it still maps), Closed written.
      const m = new RegExp(`^blkfront: xvda: the backend at /local/domain/0/backend/vbd/${domu.domid}/${XVDA} left \\(state 5, Closing\\): `
        + 'xvda is out of service; (\\d+) transfers failed with EIO \\((\\d+) on the ring, (\\d+) queued\\) in (\\d+) ms, '
        + 'later ones fail with EIO; state Closed written$', 'm').exec(text);
      expect(m, text).not.toBeNull();
      expect(text).not.toMatch(/^blkfront: xvda: the backend still maps/m);
      const [failedN, onRing, queued, failMs] = m!.slice(1).map(Number);
      expect(failedN).toBe(onRing! + queued!);
      // Four workers keep I/O on the ring: some was outstanding when the backend left, and failed.
      expect(failedN, text).toBeGreaterThanOrEqual(1);
      expect(text.match(/^blkfront: xvda: the backend at /gm)).toHaveLength(1);
      // Every worker's read or write got EIO (5) or ENXIO (6), and so did the next ones.
      const workers = [...text.matchAll(/^fault: blk: worker \d: (write|read) failed: -1, errno ([56]), after \d+ KiB; the call took (\d+) ms, (\d+) ms since its last I\/O that completed$/gm)];
      expect(workers, text).toHaveLength(4);
      const longest = Math.max(...workers.map((w) => Number(w[3])));
      expect(text).toMatch(/^fault: blk: later read: -1, errno [56]; later write: -1, errno [56] \(\d+ ms both\)$/m);
      expect(r.exitCode).toBe(0);
      console.log(r.console.filter((l) => /^(fault|blkfront): /.test(l)).join('\n'));
      console.log(`${target}: xl block-detach returned after ${(detach.ms / 1000).toFixed(1)} s; blkfront's line after `
        + `${(gone.ms / 1000).toFixed(1)} s (${failedN} transfers failed: ${onRing} on the ring, ${queued} queued, all failed ${failMs} ms after blkfront noticed); `
        + `NetBSD's I/O failed with ${workers.map((w) => `${w[1]} errno ${w[2]}`).join(', ')}; the program's result after ${(failed.ms / 1000).toFixed(1)} s `
        + `(the longest failing call took ${longest} ms)`);
    } finally {
      await domu.destroy().catch(() => undefined);
    }
  }

  async function net(target: Target) {
    const tb = testbed();
    const domu = await tb.createDomU({
      kernel: images[target], memory: 64, type: target === 'xen-pvh' ? 'pvh' : 'pv',
      cmdline: `net ${DOMU_ADDR} 24 ${DOM0_ADDR} 240`, vifs: 1,
    });
    const pidFile = `/tmp/fault-nc-${target}.pid`;
    let nc: Promise<unknown> | undefined;
    try {
      await domu.waitForLine(/^fault: net: ready$|^Test result:/, 180_000);
      expect(caseVerdicts(domu.lines), domu.lines.join('\n')).toEqual(pass('ifconfig', 'ping_peer'));
      // dom0 takes the stream (busybox nc), until it is killed below.
      nc = tb.dom0.exec(`nc ${DOMU_ADDR} 7 > /dev/null & echo $! > ${pidFile}; wait $!`, { timeoutMs: 400_000 }).catch((err: unknown) => err);
      // 2 MiB through: more than the two sockets' buffers hold, so dom0 really takes the stream.
      await domu.waitForLine(/^fault: net: 2 MiB sent$|^Test result:/, 120_000);
      expect(caseVerdicts(domu.lines), domu.lines.join('\n')).toEqual(pass('ifconfig', 'ping_peer', 'tcp_accept'));
      const t0 = Date.now();
      const [detach, gone, stalled] = await Promise.all([
        dom0At(tb, `xl network-detach ${domu.domid} 0`, t0),
        lineAt(domu, /^netfront: vif0: the backend at /, t0, 120_000),
        lineAt(domu, /^fault: net: sent \d+ bytes/, t0, 120_000),
      ]);
      expect(detach.code, detach.out).toBe(0);
      expect(detach.ms, detach.out).toBeLessThan(10_000);
      const after = await tb.dom0.exec(
        `xl network-list ${domu.domid}; xenstore-exists /local/domain/0/backend/vif/${domu.domid}/0 && echo backend-still-there; true`);
      expect(after.stdout.trim().split('\n').slice(1).join('\n'), after.stdout).toBe('');
      expect(after.stdout).not.toContain('backend-still-there');
      const r = await domu.wait({ timeoutMs: 120_000 });
      const text = r.console.join('\n');
      expect(caseVerdicts(r.console), text).toEqual(
        pass('ifconfig', 'ping_peer', 'tcp_accept', 'stream_started', 'stream_stops', 'peer_unreachable', 'close'));
      const m = new RegExp(`^netfront: vif0: the backend at /local/domain/0/backend/vif/${domu.domid}/0 left \\(state 5, Closing\\): `
        + 'vif0 is out of service, every frame on it is dropped and counted \\((\\d+) sent frames the backend had not answered are lost\\); '
        + 'state Closed written$', 'm').exec(text);
      expect(m, text).not.toBeNull();
      // Every ring and buffer page came back (otherwise a second line says how many did not).
      expect(text).not.toMatch(/^netfront: vif0: the backend still maps/m);
      expect(text.match(/^netfront: vif0: the backend at /gm)).toHaveLength(1);
      const s = /^fault: net: sent (\d+) bytes in (\d+) ms; then nothing for (\d+) ms/m.exec(text);
      expect(s, text).not.toBeNull();
      expect(Number(s![1])).toBeGreaterThanOrEqual(2 * 1024 * 1024);
      expect(r.exitCode).toBe(0);
      console.log(r.console.filter((l) => /^(fault|netfront): /.test(l)).join('\n'));
      console.log(`${target}: xl network-detach returned after ${(detach.ms / 1000).toFixed(1)} s; netfront's line after `
        + `${(gone.ms / 1000).toFixed(1)} s (${m![1]} frames lost in flight); NetBSD's stream (${s![1]} bytes) `
        + `reported stopped after ${(stalled.ms / 1000).toFixed(1)} s (no byte taken for ${s![3]} ms)`);
    } finally {
      await domu.destroy().catch(() => undefined);
      await tb.dom0.exec(`kill $(cat ${pidFile} 2>/dev/null) 2>/dev/null; rm -f ${pidFile}; true`).catch(() => undefined);
      await nc;
    }
  }

  it('xen-pv: xl block-detach during raw I/O: NetBSD gets EIO, the detach completes, the program ends cleanly', async () => {
    await blk('xen-pv');
  }, 600_000);

  it('xen-pv: xl network-detach during a TCP stream: the stream stops, the detach completes, the program ends cleanly', async () => {
    await net('xen-pv');
  }, 600_000);

  it('xen-pvh: xl block-detach during raw I/O', async () => {
    await blk('xen-pvh');
  }, 600_000);

  it('xen-pvh: xl network-detach during a TCP stream', async () => {
    await net('xen-pvh');
  }, 600_000);
});
