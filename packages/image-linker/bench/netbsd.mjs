#!/usr/bin/env node
// Bench: the NetBSD images of examples/netbsd, each figure against a baseline or a goal from
// the same run.
//   - size of the demo image (rumpxen.json) for xen-pv and xen-pvh, unstripped and stripped
//     (`strip -o`), goal: stripped <= 3 MB (3,000,000 bytes); the stripped images are booted
//     once to show they still run;
//   - the least memory the demo runs in, bisected between 4 and 64 MiB (exit code 0 = runs):
//     as Xen's only domain (what `image-linker run --memory M` does: dom0_mem=M,max:M) and as
//     a DomU of a full testbed (xl memory=M, one dom0 for every probe), goal: <= 8 MiB;
//   - with the bench image (bench.json, bench.c), median of 3 runs per target: wall time from
//     the `run` call to the console line printed right after rump_init returns, and the
//     guest's own figures (rump_init, getpid round trip, an empty call, UDP ping-pong over
//     lo0), each against the posix image run on this host as the baseline.
// Progress goes to stderr, the figures to stdout. Run by bench.mjs (npm run bench).
// Usage: node bench/netbsd.mjs [--runs N] [--no-domu]
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Testbed } from '@rumpxen/xen-testbed';
import { GUEST_CONFIG_XENSTORE_KEY, buildProject, loadManifest, renderConfig, run } from '../dist/index.js';
import { benchArgs, bisectLeastMemory, progress, scratchDir, verdictWhy } from './common.mjs';

const { num, flag } = benchArgs({
  script: 'netbsd.mjs',
  usage: 'node bench/netbsd.mjs [--runs N] [--no-domu]',
  about: 'Sizes, least memory (only domain and full-testbed DomU) and run-time figures of the NetBSD\n' +
    'images in examples/netbsd on xen-pv, xen-pvh and posix. --runs: runs per target for the\n' +
    'timings (default 3, or BENCH_NETBSD_RUNS; median); --no-domu: skip the full-testbed DomU bisection.',
  numbers: { runs: Number(process.env.BENCH_NETBSD_RUNS ?? 3) },
  flags: ['no-domu'],
});
const RUNS = num.runs;
const DOMU = !flag['no-domu'];

const SIZE_GOAL = 3_000_000; // bytes, stripped
const MEMORY_GOAL = 8; // MiB
const MEM_LO = 4;
const MEM_HI = 64;
const PROBE_TIMEOUT_S = 30; // a good run takes 2-5 s; an image short of memory may hang (seen: PVH DomU)

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const ex = join(root, 'examples', 'netbsd');
const { dir, cleanup } = scratchDir('image-linker-netbsd-bench-');
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const met = (ok) => (ok ? 'met' : 'MISSED');
const mb = (n) => `${(n / 1e6).toFixed(2)} MB`;
const summary = [];
const sum = (line) => summary.push(line);


try {
  const load0 = loadavg()[0];
  // Images: the demo for xen-pv/xen-pvh, the bench image for every target, into the temp folder.
  const demo = loadManifest(join(ex, 'rumpxen.json'));
  const benchM = loadManifest(join(ex, 'bench.json'));
  const images = {};
  for (const [key, m, t] of [['demo.xen-pv', demo, 'xen-pv'], ['demo.xen-pvh', demo, 'xen-pvh'], ['bench.posix', benchM, 'posix'], ['bench.xen-pv', benchM, 'xen-pv'], ['bench.xen-pvh', benchM, 'xen-pvh']]) {
    progress(`building ${key}`);
    const out = join(dir, key.split('.')[0], key);
    await buildProject(m, { target: t, output: out, onProgress: progress });
    images[key] = out;
  }
  const demoRun = { env: demo.env, args: demo.args };

  // --- sizes
  console.log(`NetBSD images (examples/netbsd; Xen 4.17 in QEMU TCG, ${availableParallelism()} CPUs; load average ${load0.toFixed(2)} at the start)`);
  console.log('\nimage size (bytes; goal: stripped <= 3 MB = 3,000,000 bytes)');
  console.log('image             unstripped     stripped  goal    stripped image boots');
  const sizes = {};
  for (const t of ['xen-pv', 'xen-pvh']) {
    const img = images[`demo.${t}`];
    const stripped = join(dir, `demo-stripped.${t}`);
    const s = spawnSync('strip', ['-o', stripped, img], { encoding: 'utf8' });
    if (s.status !== 0) throw new Error(`strip -o ${stripped} ${img} failed: ${s.stderr}`);
    progress(`booting the stripped ${t} image (64 MiB)`);
    const r = await run({ image: stripped, memoryMb: 64, timeoutS: 120, ...demoRun });
    sizes[t] = { full: statSync(img).size, stripped: statSync(stripped).size, boots: r.exitCode === 0 ? 'yes (SUCCESS)' : `NO: exit ${r.exitCode}, ${r.reason}` };
    const z = sizes[t];
    console.log(`${`demo ${t}`.padEnd(16)} ${String(z.full).padStart(11)} ${String(z.stripped).padStart(12)}  ${met(z.stripped <= SIZE_GOAL).padEnd(6)}  ${z.boots}`);
    sum(`size, demo ${t}: ${mb(z.full)} unstripped, ${mb(z.stripped)} stripped (stripped image boots: ${z.boots})`);
    sum(`goal: image <= 3 MB stripped, ${t}: ${met(z.stripped <= SIZE_GOAL)} (${mb(z.stripped)}, ${(z.stripped / SIZE_GOAL).toFixed(2)}x of the goal)`);
  }

  // --- least memory
  // lo fails, hi runs; returns the least M in (lo, hi] that runs, or a note.
  const bisect = (label, runsAt) => bisectLeastMemory(label, MEM_LO, MEM_HI, runsAt);
  const least = {};
  for (const t of ['xen-pv', 'xen-pvh']) {
    least[`dom0.${t}`] = await bisect(`least memory, ${t} as the only domain`, async (m) => {
      const r = await run({ image: images[`demo.${t}`], memoryMb: m, timeoutS: PROBE_TIMEOUT_S, ...demoRun });
      return { ok: r.exitCode === 0, why: verdictWhy(r.exitCode, r.verdict) };
    });
  }
  let domuNote;
  if (DOMU) {
    let tb;
    try {
      progress('starting a full testbed (Xen + Linux dom0) for the DomU bisection');
      tb = await Testbed.start({ edu: false, shareDir: dir, hostRoot: false });
      for (const t of ['xen-pv', 'xen-pvh']) {
        const cfg = renderConfig({ image: images[`demo.${t}`], type: t, ...demoRun });
        least[`domu.${t}`] = await bisect(`least memory, ${t} as a DomU`, async (m) => {
          const d = await tb.createDomU({
            kernel: images[`demo.${t}`],
            memory: m,
            type: t === 'xen-pvh' ? 'pvh' : 'pv',
            cmdline: cfg.cmdline || undefined,
            xenstore: { [GUEST_CONFIG_XENSTORE_KEY]: cfg.guestJson },
          });
          const r = await d.wait({ timeoutMs: PROBE_TIMEOUT_S * 1000 });
          return { ok: r.exitCode === 0, why: verdictWhy(r.exitCode, r.verdict) };
        });
      }
    } catch (e) {
      domuNote = `not measured: ${(e?.message ?? String(e)).split('\n')[0]}`;
    } finally {
      await tb?.stop();
    }
  } else domuNote = 'not measured (--no-domu)';

  console.log(`\nleast memory the demo runs in (MiB, bisected ${MEM_LO}-${MEM_HI}; goal: <= ${MEMORY_GOAL} MiB)`);
  console.log('"memory" is the domain\'s own RAM, what the domain is given and nothing else: as the only');
  console.log('domain, Xen\'s dom0_mem=M,max:M (image-linker run --memory M; QEMU\'s machine has');
  console.log('max(256, M+64) MiB, the rest stays Xen\'s); as a DomU, xl\'s memory=M. Xen\'s own heap and');
  console.log('its page tables for the domain (PVH: the HAP p2m) are not counted.');
  console.log('target   as                        least   goal    probes (MiB:result)');
  for (const t of ['xen-pv', 'xen-pvh']) {
    for (const [mode, label] of [['dom0', 'only domain (dom0_mem)'], ['domu', 'DomU of a full testbed']]) {
      const b = least[`${mode}.${t}`];
      if (!b) {
        console.log(`${t.padEnd(8)} ${label.padEnd(24)}  ${domuNote}`);
        sum(`goal: runs in <= 8 MiB, ${t} as a DomU: not measured (${domuNote})`);
        continue;
      }
      const ok = b.least !== undefined && b.least <= MEMORY_GOAL;
      const shown = b.least === undefined ? '-' : `${b.least === MEM_LO && b.note ? '<= ' : ''}${b.least}`;
      console.log(`${t.padEnd(8)} ${label.padEnd(24)} ${shown.padStart(6)}   ${met(ok).padEnd(6)}  ${b.probes.join(' ')}${b.note ? ` (${b.note})` : ''}`);
      sum(`least memory, demo ${t}, ${label}: ${shown} MiB${b.note ? ` (${b.note})` : ''}`);
      sum(`goal: runs in <= 8 MiB, ${t}, ${label}: ${met(ok)}${b.least !== undefined ? ` (${b.least} MiB, ${(b.least / MEMORY_GOAL).toFixed(2)}x of the goal)` : ''}`);
    }
  }

  // --- timings with the bench image
  const FIGS = ['rump_init_ms', 'uptime_ms', 'getpid_ns', 'call_ns', 'udp_pingpong_us'];
  const timing = {};
  for (const t of ['posix', 'xen-pv', 'xen-pvh']) {
    const rows = [];
    for (let i = 0; i < RUNS; i += 1) {
      progress(`bench image on ${t}, run ${i + 1} of ${RUNS}`);
      const figs = {};
      let lineMs;
      const t0 = performance.now();
      const r = await run({
        image: images[`bench.${t}`],
        memoryMb: benchM.memory ?? 64,
        timeoutS: 120,
        onConsoleLine: (l) => {
          const m = /^bench (\S+) (\d+(?:\.\d+)?)(?: (\S+) (\d+))?/.exec(l);
          if (!m) return;
          if (m[1] === 'rump_init_ms') lineMs ??= performance.now() - t0;
          figs[m[1]] = Number(m[2]);
          if (m[3] === 'uptime_ms') figs.uptime_ms = Number(m[4]);
        },
      });
      if (r.exitCode !== 0) throw new Error(`the bench image on ${t} ended with exit ${r.exitCode} (${r.reason}):\n${r.console.slice(-15).join('\n')}`);
      rows.push({ ...figs, toLineMs: lineMs });
    }
    timing[t] = Object.fromEntries(['toLineMs', ...FIGS].map((k) => [k, median(rows.map((x) => x[k]))]));
    timing[t].all = rows;
  }
  const base = timing.posix;
  const fix = (v, d) => (v === undefined || Number.isNaN(v) ? '-' : v.toFixed(d));
  console.log(`\nbench image (bench.json), median of ${RUNS} runs per target; ratio = target / posix (this host, same run)`);
  console.log('target    run → rump_init line   ratio   rump_init   getpid    ratio   empty call  getpid/call  ratio   UDP ping-pong  ratio');
  console.log('                        (ms)              (ms)       (ns)              (ns)        (calls)              (µs/round trip)');
  for (const t of ['posix', 'xen-pv', 'xen-pvh']) {
    const x = timing[t];
    const perCall = x.getpid_ns / x.call_ns;
    const r = (a, b) => `${(a / b).toFixed(a / b >= 10 ? 0 : 2)}x`;
    console.log(
      `${t.padEnd(8)} ${fix(x.toLineMs, 0).padStart(16)} ${r(x.toLineMs, base.toLineMs).padStart(12)} ${fix(x.rump_init_ms, 0).padStart(9)} ${fix(x.getpid_ns, 0).padStart(10)} ${r(x.getpid_ns, base.getpid_ns).padStart(8)} ${fix(x.call_ns, 2).padStart(10)} ${fix(perCall, 0).padStart(10)} ${r(perCall, base.getpid_ns / base.call_ns).padStart(8)} ${fix(x.udp_pingpong_us, 1).padStart(12)} ${r(x.udp_pingpong_us, base.udp_pingpong_us).padStart(8)}`,
    );
  }
  console.log('run → rump_init line: from the run() call to the arrival of the line the guest prints right');
  console.log('after rump_init returns (Xen: QEMU start, Xen boot, domain build, rump_init; posix: process');
  console.log('spawn and rump_init). rump_init: the guest\'s own clock from main to rump_init\'s return.');
  console.log('getpid/call: a getpid round trip in empty function calls of the same target (net of how fast');
  console.log('the CPU or QEMU\'s emulation runs code). No goals are set for these figures.');
  for (const t of ['xen-pv', 'xen-pvh']) {
    const x = timing[t];
    sum(`run → rump_init line, ${t}: ${fix(x.toLineMs, 0)} ms vs posix ${fix(base.toLineMs, 0)} ms (${(x.toLineMs / base.toLineMs).toFixed(0)}x); rump_init itself ${fix(x.rump_init_ms, 0)} ms vs ${fix(base.rump_init_ms, 0)} ms`);
    sum(`getpid round trip, ${t}: ${fix(x.getpid_ns, 0)} ns vs posix ${fix(base.getpid_ns, 0)} ns (${(x.getpid_ns / base.getpid_ns).toFixed(1)}x; in empty calls ${fix(x.getpid_ns / x.call_ns, 0)} vs ${fix(base.getpid_ns / base.call_ns, 0)}, ${((x.getpid_ns / x.call_ns) / (base.getpid_ns / base.call_ns)).toFixed(2)}x)`);
    sum(`UDP ping-pong over lo0, ${t}: ${fix(x.udp_pingpong_us, 1)} µs vs posix ${fix(base.udp_pingpong_us, 1)} µs (${(x.udp_pingpong_us / base.udp_pingpong_us).toFixed(2)}x)`);
  }
  // Issue 15, goal 1 in NetBSD terms: PVH against PV in the same run (a PVH thread switch once
  // cost ~300 PV ones here, and a rump kernel switches threads on every blocking call).
  {
    const pv = timing['xen-pv'];
    const pvh = timing['xen-pvh'];
    for (const [what, k, unit] of [['getpid round trip', 'getpid_ns', 'ns'], ['UDP ping-pong over lo0', 'udp_pingpong_us', 'µs']]) {
      const ratio = pvh[k] / pv[k];
      sum(`goal: ${what}, xen-pvh within 3x of xen-pv: ${met(ratio <= 3)} (${fix(pvh[k], 1)} ${unit} vs ${fix(pv[k], 1)} ${unit}, ${ratio.toFixed(2)}x)`);
    }
  }
  for (const t of ['posix', 'xen-pv', 'xen-pvh']) {
    progress(`${t} runs: ${timing[t].all.map((x) => `line ${fix(x.toLineMs, 0)} ms, getpid ${x.getpid_ns} ns, call ${x.call_ns} ns, udp ${x.udp_pingpong_us} µs`).join('; ')}`);
  }

  console.log(`\nsummary (load average ${load0.toFixed(2)} at the start, ${loadavg()[0].toFixed(2)} at the end)`);
  for (const l of summary) console.log(`  ${l}`);
} finally {
  cleanup();
}
