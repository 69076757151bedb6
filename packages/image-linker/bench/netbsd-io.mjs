#!/usr/bin/env node
// Bench: NetBSD's disk and network I/O in a Xen DomU (examples/netbsd-io, `bench` mode) on one
// full testbed (Xen + Linux dom0 in QEMU), each figure against a baseline that dom0 measures in
// the same testbed run, right before the DomU's:
//   - sequential vbd write and read, MB/s (10^6 bytes/s): the DomU writes the whole disk image
//     then reads it through NetBSD's raw device in 64 KiB transfers (blkfront → blkback → the
//     loop device xl's hotplug script made → the image on the run share); baseline: dom0's
//     busybox dd with bs=64k iflag=direct / oflag=direct on a loop device of the same image
//     (O_DIRECT: no page cache of dom0's; no fsync on either side);
//   - 4 KiB random reads per second, a fixed xorshift32 sequence of blocks; baseline: the same
//     sequence read with O_DIRECT from the loop device by a small node script in dom0
//     (bench/dom0/randread.mjs via hostrun; one process, so no per-read process start);
//   - TCP throughput dom0 → DomU and DomU → dom0, MB/s, measured by a node script in dom0
//     (bench/dom0/tcp-peer.mjs via hostrun: connect to first/last byte acknowledged); baseline:
//     the same script node to node over dom0's 127.0.0.1, same size;
//   - ping round trip dom0 → DomU (busybox ping, average ms); baseline: dom0 pinging its own
//     address on xenbr0.
// The DomU prints its own timings (`io: seqread B bytes in N ms`, ...), which this parses.
// Progress goes to stderr, the figures to stdout. Run by bench.mjs (npm run bench).
// Usage: node bench/netbsd-io.mjs [--targets xen-pv,xen-pvh] [--disk-mib 256] [--rand 2000]
//        [--tcp-mib 32] [--pings 20]
import { writeSync, openSync, closeSync, ftruncateSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Testbed } from '@rumpxen/xen-testbed';
import { buildNetbsd } from '@rumpxen/netbsd-build';
import { buildProject, loadManifest } from '../dist/index.js';
import { benchArgs, progress, scratchDir } from './common.mjs';

const { num, targets: TARGETS } = benchArgs({
  script: 'netbsd-io.mjs',
  usage: 'node bench/netbsd-io.mjs [--targets xen-pv,xen-pvh] [--disk-mib 256] [--rand 2000] [--tcp-mib 32] [--pings 20]',
  about: 'Disk and network figures of a NetBSD DomU (examples/netbsd-io) against dom0 on one full testbed.',
  numbers: { 'disk-mib': 256, rand: 2000, 'tcp-mib': 32, pings: 20 },
  targets: { env: 'BENCH_IO_TARGETS', dflt: 'xen-pv,xen-pvh' },
});
const DISK = num['disk-mib'] * 1024 * 1024;
const NRAND = num.rand;
const TCP = num['tcp-mib'] * 1024 * 1024;
const PINGS = num.pings;

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');
const RANDREAD = join(here, 'dom0', 'randread.mjs');
const TCP_PEER = join(here, 'dom0', 'tcp-peer.mjs');
const DOMU_ADDR = '10.77.0.2';
const DOM0_ADDR = '10.77.0.1';
const { dir, cleanup } = scratchDir('image-linker-io-bench-');

/** The disk image with io.c's pattern of disk 'a' (see io.c): sector s starts with ('a' << 56 | s). */
function patternImage(file, size) {
  const t = 'a'.charCodeAt(0);
  const sector = Buffer.alloc(512);
  for (let j = 8; j < 512; j++) sector[j] = (j * 7 + t * 97 + 1) & 0xff;
  const chunk = Buffer.alloc(1024 * 1024);
  const fd = openSync(file, 'w');
  try {
    ftruncateSync(fd, 0);
    for (let off = 0; off < size; off += chunk.length) {
      for (let at = 0; at < chunk.length; at += 512) {
        sector.copy(chunk, at);
        chunk.writeBigUInt64LE((BigInt(t) << 56n) | BigInt((off + at) / 512), at);
      }
      writeSync(fd, chunk, 0, chunk.length, off);
    }
  } finally {
    closeSync(fd);
  }
}

async function dom0(tb, script, timeoutMs = 600_000) {
  const r = await tb.dom0.exec(script, { timeoutMs });
  if (r.code !== 0) throw new Error(`dom0: \`${script}\` failed (exit ${r.code}):\n${r.stdout}${r.stderr}`);
  return r.stdout + r.stderr;
}

/**
 * Runs busybox dd (which prints no timing of its own) between two readings of dom0's
 * /proc/uptime (10 ms resolution: well under 1% of a run of seconds); MB/s.
 */
async function ddTimed(tb, ddArgs) {
  const out = await dom0(tb, `a=$(cut -d' ' -f1 /proc/uptime); dd ${ddArgs} 2>&1 || exit 1; b=$(cut -d' ' -f1 /proc/uptime); echo "uptime $a $b"`);
  const m = /^uptime ([\d.]+) ([\d.]+)$/m.exec(out);
  const rec = /^(\d+)\+0 records out$/m.exec(out);
  const bs = Number(/bs=(\d+)/.exec(ddArgs)[1]);
  if (!m || !rec) throw new Error(`dd ${ddArgs}: no record count or times in:\n${out}`);
  const ms = (Number(m[2]) - Number(m[1])) * 1000;
  const bytes = Number(rec[1]) * bs;
  return { bytes, ms, mbps: bytes / 1e3 / ms };
}

function pingAvg(out) {
  const sent = /(\d+) packets transmitted, (\d+) packets received/.exec(out);
  const rtt = /round-trip min\/avg\/max = ([\d.]+)\/([\d.]+)\/([\d.]+) ms/.exec(out);
  if (!sent || !rtt) throw new Error(`no ping summary in:\n${out}`);
  return { sent: Number(sent[1]), received: Number(sent[2]), min: Number(rtt[1]), avg: Number(rtt[2]), max: Number(rtt[3]) };
}

const jsonLines = (out) => out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
const hostNode = (script, rest) => `hostrun ${process.execPath} ${script} ${rest}`;

/** dom0's figures on the same image and bridge. */
async function baseline(tb, img) {
  progress('baseline: writing the pattern into the image (host)');
  patternImage(img, DISK);
  const dev = (await dom0(tb, `dev=$(losetup -f) && losetup "$dev" ${img} && echo "$dev"`)).trim();
  const b = {};
  try {
    await dom0(tb, `sync; echo 3 > /proc/sys/vm/drop_caches; blockdev --flushbufs ${dev}`);
    progress(`baseline: dd read of ${dev} (iflag=direct)`);
    b.seqread = await ddTimed(tb, `if=${dev} of=/dev/null bs=65536 iflag=direct`);
    progress(`baseline: ${NRAND} random 4 KiB reads of ${dev} (node, O_DIRECT)`);
    const rr = jsonLines(await dom0(tb, hostNode(RANDREAD, `${dev} ${DISK} ${NRAND} a`)))[0];
    if (rr.bad !== 0) throw new Error(`baseline random reads: ${rr.bad} blocks differ from the pattern`);
    b.randread = rr;
    progress(`baseline: dd write of ${dev} (oflag=direct)`);
    b.seqwrite = await ddTimed(tb, `if=/dev/zero of=${dev} bs=65536 count=${DISK / 65536} oflag=direct`);
  } finally {
    await dom0(tb, `losetup -d ${dev}`).catch(() => undefined);
  }
  progress(`baseline: TCP over 127.0.0.1, ${TCP} bytes each way (node to node)`);
  const [send, recv] = jsonLines(await dom0(tb, hostNode(TCP_PEER, `loopback ${TCP}`)));
  b.tcpIn = send;
  b.tcpOut = recv;
  progress(`baseline: ping -c ${PINGS} ${DOM0_ADDR} (dom0's own address on xenbr0)`);
  b.ping = pingAvg(await dom0(tb, `ping -c ${PINGS} ${DOM0_ADDR}`));
  return b;
}

/** The DomU's figures: its own disk timings, dom0's view of TCP and ping. */
async function domu(tb, target, kernel, img) {
  const d = await tb.createDomU({
    kernel, memory: 64, type: target === 'xen-pvh' ? 'pvh' : 'pv',
    cmdline: `bench ${NRAND} ${DOMU_ADDR} 24 ${DOM0_ADDR} ${TCP}`,
    disks: [{ file: img, vdev: 'xvda' }], vifs: 1,
    onConsoleLine: (l) => {
      if (l.startsWith('io: ') || l.startsWith('case ')) progress(`${target}: ${l}`);
    },
  });
  const x = {};
  try {
    await d.waitForLine(/^io: ready$|^Test result:/, 1_800_000);
    if (!d.lines.includes('io: ready')) throw new Error(`the ${target} DomU stopped before it was ready:\n${d.lines.join('\n')}`);
    progress(`${target}: ping -c ${PINGS} ${DOMU_ADDR}`);
    x.ping = pingAvg(await dom0(tb, `ping -c ${PINGS} ${DOMU_ADDR}`));
    progress(`${target}: TCP dom0 → DomU, ${TCP} bytes`);
    x.tcpIn = jsonLines(await dom0(tb, hostNode(TCP_PEER, `send ${DOMU_ADDR} 5001 ${TCP}`)))[0];
    progress(`${target}: TCP DomU → dom0, ${TCP} bytes`);
    x.tcpOut = jsonLines(await dom0(tb, hostNode(TCP_PEER, `recv ${DOMU_ADDR} 5002 ${TCP}`)))[0];
    const vif = `/sys/class/net/vif${d.domid}.0/statistics`;
    x.vif = (await dom0(tb, `for f in rx_packets rx_dropped tx_packets tx_dropped; do echo "$f $(cat ${vif}/$f)"; done`)).trim().replace(/\n/g, ', ');
    progress(`${target}: dom0's vif${d.domid}.0 (rx = from the DomU): ${x.vif}`);
    const r = await d.wait({ timeoutMs: 300_000 });
    const text = r.console.join('\n');
    if (r.exitCode !== 0) throw new Error(`the ${target} DomU ended with exit ${r.exitCode} (${r.reason}):\n${text}`);
    const timed = (re) => {
      const m = re.exec(text);
      if (!m) throw new Error(`no ${re} in the ${target} DomU's console:\n${text}`);
      return m.slice(1).map(Number);
    };
    const [wb, wms] = timed(/^io: seqwrite (\d+) bytes in (\d+) ms$/m);
    const [rb, rms] = timed(/^io: seqread (\d+) bytes in (\d+) ms$/m);
    const [nr, , rrms] = timed(/^io: randread (\d+) reads of (\d+) bytes in (\d+) ms$/m);
    const [tib, tims] = timed(/^io: tcp-recv (\d+) bytes in (\d+) ms$/m);
    const [tob, toms] = timed(/^io: tcp-send (\d+) bytes in (\d+) ms$/m);
    x.seqwrite = { bytes: wb, ms: wms, mbps: wb / 1e3 / wms };
    x.seqread = { bytes: rb, ms: rms, mbps: rb / 1e3 / rms };
    x.randread = { reads: nr, ms: rrms, perSecond: (nr / rrms) * 1000 };
    x.own = { tcpIn: tib / 1e3 / tims, tcpOut: tob / 1e3 / toms };
    const rex = /^io: tcp-send: TCP data packets sent (\d+) \(retransmitted (\d+), retransmit timeouts (\d+)\)/m.exec(text);
    x.sendStats = rex ? { sent: Number(rex[1]), rexmit: Number(rex[2]), rto: Number(rex[3]) } : undefined;
    if (wb !== DISK || rb !== DISK) throw new Error(`the ${target} DomU's disk is ${wb} bytes, not ${DISK}`);
  } finally {
    await d.destroy().catch(() => undefined);
  }
  return x;
}

const load0 = loadavg()[0];
let tb;
const results = {};
try {
  await buildNetbsd('xen-pv', { cachedOnly: true });
  const m = loadManifest(join(root, 'examples', 'netbsd-io', 'io.json'));
  const images = {};
  for (const t of TARGETS) {
    progress(`building examples/netbsd-io for ${t}`);
    images[t] = (await buildProject(m, { target: t, output: join(dir, `io.${t}`), onProgress: progress })).output;
  }
  progress('starting a full testbed (Xen + Linux dom0)');
  tb = await Testbed.start({ edu: false, pvh: true });
  const img = join(tb.runDir, 'disks', 'io-bench.img');
  for (const t of TARGETS) {
    progress(`${t}: dom0 baseline`);
    const base = await baseline(tb, img);
    progress(`${t}: the DomU`);
    results[t] = { base, domu: await domu(tb, t, images[t], img) };
  }
} finally {
  await tb?.stop();
  cleanup();
}

const f = (v, d = 2) => (v === undefined || Number.isNaN(v) ? '-' : v.toFixed(d));
console.log(`\nNetBSD I/O (examples/netbsd-io): a DomU against dom0, one full testbed (Xen 4.17 + Linux dom0 in QEMU TCG, no KVM; ${availableParallelism()} CPUs; load average ${load0.toFixed(2)} at the start, ${loadavg()[0].toFixed(2)} at the end)`);
console.log(`disk image ${DISK / 1048576} MiB on the run share (9p), ${NRAND} random reads, TCP ${TCP / 1048576} MiB each way, ${PINGS} pings; ratio = DomU / dom0 baseline, measured just before the DomU`);
for (const t of TARGETS) {
  const { base: b, domu: x } = results[t];
  console.log(`\n${`${t} DomU (64 MiB)`.padEnd(26)}      DomU      dom0 baseline   ratio`);
  const row = (what, a, z, unit, d = 2, baseWhat = '') => console.log(`${what.padEnd(26)} ${f(a, d).padStart(9)} ${f(z, d).padStart(9)} ${unit.padEnd(6)} ${(`${f(a / z, 2)}x`).padStart(7)}  ${baseWhat}`);
  row('vbd sequential write', x.seqwrite.mbps, b.seqwrite.mbps, 'MB/s', 2, 'dd oflag=direct, loop device');
  row('vbd sequential read', x.seqread.mbps, b.seqread.mbps, 'MB/s', 2, 'dd iflag=direct, loop device');
  row('4 KiB random reads', x.randread.perSecond, b.randread.perSecond, '/s', 1, 'node, O_DIRECT, loop device');
  row('TCP dom0 → DomU', x.tcpIn.mbps, b.tcpIn.mbps, 'MB/s', 2, `node → node, 127.0.0.1 (DomU's own clock: ${f(x.own.tcpIn)} MB/s)`);
  row('TCP DomU → dom0', x.tcpOut.mbps, b.tcpOut.mbps, 'MB/s', 2, `node → node, 127.0.0.1 (DomU's own clock: ${f(x.own.tcpOut)} MB/s)`);
  row('ping round trip (avg)', x.ping.avg, b.ping.avg, 'ms', 3, `dom0 → ${DOM0_ADDR} (own address); DomU min/max ${f(x.ping.min, 3)}/${f(x.ping.max, 3)} ms`);
  if (x.sendStats) console.log(`  DomU → dom0: NetBSD sent ${x.sendStats.sent} data segments, ${x.sendStats.rexmit} retransmitted, ${x.sendStats.rto} retransmit timeouts; dom0's vif: ${x.vif}`);
}
console.log('\nThroughput ratios below 1 and a ping ratio above 1 mean the DomU is slower than dom0.');
