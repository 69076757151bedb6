#!/usr/bin/env node
// Bench of examples/netbsd-sqlite (SQLite's amalgamation with NetBSD's libc, issue 13 point 6):
//   - build time per target (the manifest's sources: main.c and the ~9 MB sqlite3.c);
//   - image size for xen-pv and xen-pvh, unstripped and stripped (`strip -o`); the stripped
//     image is booted (64 MiB) and must run the whole script;
//   - the least memory it runs in, bisected between 4 and 64 MiB (runs = exit 0 and the
//     driver's last line "done"; main.c exits 1 on any SQLite error): as Xen's only domain
//     (image-linker run --memory M: dom0_mem=M,max:M) and, unless --no-domu, as a DomU of a
//     full testbed (xl memory=M);
//   - boot-to-exit time at 64 MiB as the only domain (what `run` reports).
// Called by bench/bench.mjs; alone: node bench/netbsd-sqlite.mjs [--no-domu].
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { Testbed } from '@rumpxen/xen-testbed';
import { buildProject, loadManifest, run } from '../dist/index.js';
import { benchArgs, bisectLeastMemory, progress, scratchDir, verdictWhy } from './common.mjs';
import { MANIFEST, prepareSqlite } from '../../../examples/netbsd-sqlite/prepare.mjs';

const { flag } = benchArgs({
  script: 'netbsd-sqlite.mjs',
  usage: 'node bench/netbsd-sqlite.mjs [--no-domu]',
  about: 'Build time, stripped size and least memory (only domain and full-testbed DomU) of the SQLite\n' +
    'image (examples/netbsd-sqlite) on xen-pv and xen-pvh. --no-domu: skip the DomU bisection.',
  flags: ['no-domu'],
});
const DOMU = !flag['no-domu'];
const TARGETS = ['xen-pv', 'xen-pvh'];
const MEM_LO = 4;
const MEM_HI = 64;
const PROBE_TIMEOUT_S = 60; // a good run takes about 2 s; one short of memory may hang

const { dir, cleanup } = scratchDir('image-linker-sqlite-bench-');
const summary = [];
const ranWell = (exitCode, lines) => exitCode === 0 && lines.some((l) => l.replace(/\r$/, '') === 'done');

try {
  prepareSqlite({ onProgress: progress });
  const m = loadManifest(MANIFEST);
  const images = {};
  const buildS = {};
  for (const t of TARGETS) {
    progress(`building netbsd-sqlite for ${t}`);
    const t0 = performance.now();
    const out = join(dir, `netbsd-sqlite.${t}`);
    await buildProject(m, { target: t, output: out, onProgress: progress });
    buildS[t] = (performance.now() - t0) / 1000;
    images[t] = out;
  }

  console.log('\nSQLite image (examples/netbsd-sqlite): build time and size (bytes)');
  console.log('target    build (s)    unstripped     stripped   stripped image runs the script (64 MiB)   boot to exit');
  for (const t of TARGETS) {
    const stripped = join(dir, `netbsd-sqlite-stripped.${t}`);
    const s = spawnSync('strip', ['-o', stripped, images[t]], { encoding: 'utf8' });
    if (s.status !== 0) throw new Error(`strip -o ${stripped} ${images[t]} failed: ${s.stderr}`);
    progress(`booting the stripped ${t} image (64 MiB)`);
    const r = await run({ image: stripped, memoryMb: 64, timeoutS: 180 });
    const runs = ranWell(r.exitCode, r.console) ? 'yes' : `NO: exit ${r.exitCode}, ${r.reason}`;
    const full = statSync(images[t]).size;
    const small = statSync(stripped).size;
    const secs = `${(r.durationMs / 1000).toFixed(2)} s`;
    console.log(`${t.padEnd(8)} ${buildS[t].toFixed(1).padStart(10)} ${String(full).padStart(13)} ${String(small).padStart(12)}   ${runs.padEnd(40)}   ${secs}`);
    summary.push(`sqlite ${t}: build ${buildS[t].toFixed(1)} s, ${full} bytes unstripped, ${small} stripped (runs: ${runs}), boot to exit ${secs}`);
  }

  const bisect = (label, runsAt) => bisectLeastMemory(label, MEM_LO, MEM_HI, runsAt);
  const least = {};
  for (const t of TARGETS) {
    least[`dom0.${t}`] = await bisect(`sqlite least memory, ${t} as the only domain`, async (mem) => {
      const r = await run({ image: images[t], memoryMb: mem, timeoutS: PROBE_TIMEOUT_S });
      return { ok: ranWell(r.exitCode, r.console), why: verdictWhy(r.exitCode, r.verdict) };
    });
  }
  let domuNote = 'not measured (--no-domu)';
  if (DOMU) {
    let tb;
    try {
      progress('starting a full testbed (Xen + Linux dom0) for the DomU bisection');
      tb = await Testbed.start({ edu: false, pvh: true });
      for (const t of TARGETS) {
        least[`domu.${t}`] = await bisect(`sqlite least memory, ${t} as a DomU`, async (mem) => {
          const d = await tb.createDomU({ kernel: images[t], memory: mem, type: t === 'xen-pvh' ? 'pvh' : 'pv' });
          try {
            const r = await d.wait({ timeoutMs: PROBE_TIMEOUT_S * 1000 });
            return { ok: ranWell(r.exitCode, r.console), why: verdictWhy(r.exitCode, r.verdict) };
          } finally {
            await d.destroy().catch(() => undefined);
          }
        });
      }
    } catch (e) {
      domuNote = `not measured: ${(e?.message ?? String(e)).split('\n')[0]}`;
    } finally {
      await tb?.stop();
    }
  }

  console.log(`\nleast memory the SQLite image runs the whole script in (MiB, bisected ${MEM_LO}-${MEM_HI}; the domain's own RAM)`);
  console.log('target   as                        least   probes (MiB:result)');
  for (const t of TARGETS) {
    for (const [mode, label] of [['dom0', 'only domain (dom0_mem)'], ['domu', 'DomU of a full testbed']]) {
      const b = least[`${mode}.${t}`];
      if (!b) {
        console.log(`${t.padEnd(8)} ${label.padEnd(24)}  ${domuNote}`);
        continue;
      }
      const shown = b.least === undefined ? '-' : `${b.least === MEM_LO && b.note ? '<= ' : ''}${b.least}`;
      console.log(`${t.padEnd(8)} ${label.padEnd(24)} ${shown.padStart(6)}   ${b.probes.join(' ')}${b.note ? ` (${b.note})` : ''}`);
      summary.push(`sqlite least memory, ${t}, ${label}: ${shown} MiB${b.note ? ` (${b.note})` : ''}`);
    }
  }
  console.log('\nsummary (netbsd-sqlite):');
  for (const l of summary) console.log(`  ${l}`);
} finally {
  cleanup();
}
