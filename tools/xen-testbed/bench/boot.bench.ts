/**
 * Guest-as-dom0 boot timings: wall time from QEMU's spawn to the guest's first console line,
 * and to the end of the run (guest powered off, QEMU stopped), averaged over a few runs.
 * Baseline of the same run: Debian's Linux kernel as dom0, to its first console line (the
 * run is then aborted).
 * Usage: npm run bench -w @rumpxen/xen-testbed [-- --runs N]   (default 5 runs per case)
 */
import { assetPaths, bootGuest, buildFixture, type BootOptions } from '../src/index.js';

const runsArg = process.argv.indexOf('--runs');
const runs = runsArg >= 0 ? Number(process.argv[runsArg + 1]) : 5;
if (!Number.isInteger(runs) || runs < 1) {
  console.error(`bench: --runs ${process.argv[runsArg + 1]}: expected a positive whole number`);
  process.exit(2);
}

const fx = { pv: buildFixture({ kind: 'pv' }), pvh: buildFixture({ kind: 'pvh' }) };
interface Case {
  name: string;
  opts: BootOptions;
  /** Stop at the first console line (the guest would run on). */
  firstLineOnly?: boolean;
}
const cases: Case[] = [
  { name: 'PV fixture, 256 MiB', opts: { kernel: fx.pv, cmdline: 'mode=poweroff' } },
  { name: 'PV fixture, 128 MiB', opts: { kernel: fx.pv, cmdline: 'mode=poweroff', memoryMb: 128 } },
  { name: 'PV fixture, 1024 MiB', opts: { kernel: fx.pv, cmdline: 'mode=poweroff', memoryMb: 1024 } },
  { name: 'PVH fixture, 256 MiB', opts: { kernel: fx.pvh, cmdline: 'mode=poweroff', pvh: true } },
  { name: 'PV fixture, 5000 console lines', opts: { kernel: fx.pv, cmdline: 'mode=poweroff lines=5000' } },
  {
    name: 'Linux 6.1 vmlinux, 512 MiB',
    opts: { kernel: assetPaths().dom0Vmlinux, cmdline: 'console=hvc0 earlyprintk=xen', memoryMb: 512 },
    firstLineOnly: true,
  },
];

const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
console.log(`guest-as-dom0 boot, ${runs} runs per case (QEMU TCG, wall clock from QEMU spawn)`);
console.log(`${'case'.padEnd(34)} ${'first line (mean)'.padStart(18)} ${'min'.padStart(8)} ${'max'.padStart(8)} ${'total (mean)'.padStart(13)}`);
for (const c of cases) {
  const first: number[] = [];
  const total: number[] = [];
  for (let i = 0; i < runs; i++) {
    const ac = new AbortController();
    const r = await bootGuest({
      timeoutS: 60,
      ...c.opts,
      signal: ac.signal,
      onConsoleLine: c.firstLineOnly ? () => ac.abort() : undefined,
    });
    const ok = c.firstLineOnly ? ac.signal.aborted : r.exitCode === 0;
    if (!ok || r.timings.firstConsoleLineMs === undefined) {
      console.error(`bench: ${c.name}: run ${i + 1} ended with exit ${r.exitCode}: ${r.reason}`);
      process.exit(1);
    }
    first.push(r.timings.firstConsoleLineMs);
    total.push(r.timings.totalMs);
  }
  const totalText = c.firstLineOnly ? '(stopped)' : fmt(mean(total));
  console.log(`${c.name.padEnd(34)} ${fmt(mean(first)).padStart(18)} ${fmt(Math.min(...first)).padStart(8)} ${fmt(Math.max(...first)).padStart(8)} ${totalText.padStart(13)}`);
}
