/**
 * Full-mode timings: wall time from QEMU's spawn to dom0 ready (xenstored and xenconsoled
 * up, `xl list` answered), from just before `xl create` to a DomU's first console line,
 * the control channel's round trip, and the host's node started in dom0.
 * Baseline of the same run: QEMU spawn → Xen's first serial line (the machine itself).
 * Usage: esbuild-bundle it like boot.bench.ts, then `node build/bench/full.bench.mjs [--runs N]` (default 3 boots).
 */
import { Testbed, buildFixture } from '../src/index.js';

const runsArg = process.argv.indexOf('--runs');
const runs = runsArg >= 0 ? Number(process.argv[runsArg + 1]) : 3;
if (!Number.isInteger(runs) || runs < 1) {
  console.error(`bench: --runs ${process.argv[runsArg + 1]}: expected a positive whole number`);
  process.exit(2);
}
const DOMUS_PER_BOOT = 3;
const EXECS_PER_BOOT = 20;

const fixtures = { pv: buildFixture({ kind: 'pv' }), pvh: buildFixture({ kind: 'pvh' }) };
const xenUp: number[] = [];
const ready: number[] = [];
const create: number[] = [];
const firstLine: number[] = [];
const pvhFirstLine: number[] = [];
const roundTrip: number[] = [];
const node: number[] = [];

for (let i = 0; i < runs; i++) {
  let firstSerial: number | undefined;
  const t0 = performance.now();
  const tb = await Testbed.start({ onConsoleLine: () => (firstSerial ??= performance.now() - t0) });
  try {
    xenUp.push(firstSerial ?? NaN);
    ready.push(tb.timings.readyMs);
    const pvh = await tb.createDomU({ kernel: fixtures.pvh, type: 'pvh', memory: 16 });
    const pr = await pvh.wait({ timeoutMs: 60_000 });
    if (pr.exitCode !== 0 || pvh.firstLineMs === undefined) throw new Error(`bench: PVH DomU ended with exit ${pr.exitCode}: ${pr.reason}`);
    pvhFirstLine.push(pvh.firstLineMs);
    for (let d = 0; d < DOMUS_PER_BOOT; d++) {
      const domu = await tb.createDomU({ kernel: fixtures.pv, memory: 16 });
      const r = await domu.wait({ timeoutMs: 60_000 });
      if (r.exitCode !== 0 || domu.firstLineMs === undefined) throw new Error(`bench: DomU ended with exit ${r.exitCode}: ${r.reason}`);
      create.push(domu.createMs);
      firstLine.push(domu.firstLineMs);
    }
    for (let e = 0; e < EXECS_PER_BOOT; e++) roundTrip.push((await tb.dom0.exec('true')).ms);
    const n = await tb.dom0.exec('node -e 0', { timeoutMs: 120_000 });
    if (n.code !== 0) throw new Error(`bench: node in dom0 failed: ${n.stderr}`);
    node.push(n.ms);
  } finally {
    await tb.stop();
  }
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const row = (name: string, xs: number[], fmt = s) =>
  console.log(`${name.padEnd(44)} ${fmt(mean(xs)).padStart(9)} ${fmt(Math.min(...xs)).padStart(9)} ${fmt(Math.max(...xs)).padStart(9)}   n=${xs.length}`);
console.log(`full mode, ${runs} dom0 boot(s), ${DOMUS_PER_BOOT} PV DomUs, 1 PVH DomU and ${EXECS_PER_BOOT} execs per boot (wall clock)`);
console.log(`${'measure'.padEnd(44)} ${'mean'.padStart(9)} ${'min'.padStart(9)} ${'max'.padStart(9)}`);
row('QEMU spawn -> Xen first serial line (baseline)', xenUp);
row('QEMU spawn -> dom0 ready', ready);
row('xl create (with xl domid)', create);
row('before xl create -> DomU first console line', firstLine);
row('  the same for the PVH fixture', pvhFirstLine);
row('dom0.exec("true") round trip', roundTrip, (ms) => `${ms.toFixed(0)} ms`);
row("host's node -e 0 in dom0", node);
console.log(`dom0 ready / Xen first line: ${(mean(ready) / mean(xenUp)).toFixed(1)}x`);
