#!/usr/bin/env node
// Bench: build time of the hello and conformance images per target (median of N), against a
// baseline measured in the same run — the same inputs linked by hand with ld (or cc) and the
// target's script, without image-linker's reading, validating and annotating — and image sizes (text, data, bss, file) per target.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, buildProject, loadManifest, resolveTarget, compileSources } from '../dist/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const N = Number(process.env.BENCH_RUNS ?? 5);
const examples = ['hello', 'conformance'];
const targets = ['xen-pv', 'xen-pvh', 'posix'];
const dir = mkdtempSync(join(tmpdir(), 'image-linker-bench-'));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows = [];
try {
  for (const ex of examples) {
    const m = loadManifest(join(root, 'examples', ex, 'rumpxen.json'));
    for (const t of targets) {
      let def;
      try {
        def = resolveTarget(t);
        if (![def.startObject, ...def.libraries].filter(Boolean).every((f) => existsSync(f))) throw new Error('not built');
      } catch {
        rows.push({ image: ex, target: t, note: 'target not built' });
        continue;
      }
      const objs = await compileSources(m.sources, def, join(dir, 'obj', t), 'cc', undefined, m.cflags);
      const out = join(dir, `${ex}.${t}`);
      const times = [];
      let result;
      for (let i = 0; i < N; i += 1) {
        const t0 = performance.now();
        result = await build({ inputs: [...objs, ...m.inputs], target: def, components: m.components, output: out });
        times.push(performance.now() - t0);
      }
      // Baseline: the link a user would write by hand for the same inputs, no checks.
      const inputs = [...objs, ...m.inputs];
      let cmd;
      let args;
      if (def.linkerScript !== null) {
        const script = join(dir, `${t}.ld`);
        writeFileSync(script, def.linkerScript);
        cmd = 'ld';
        args = ['-T', script, ...def.ldflags, '-o', join(dir, 'baseline.out'), def.startObject, '--start-group', ...inputs, ...def.libraries, '--end-group'];
      } else {
        cmd = 'cc';
        args = ['-o', join(dir, 'baseline.out'), '-Wl,--start-group', ...inputs, ...def.libraries, '-Wl,--end-group', ...def.ldflags];
      }
      const base = [];
      for (let i = 0; i < N; i += 1) {
        const t0 = performance.now();
        const r = spawnSync(cmd, args.filter(Boolean));
        if (r.status !== 0) {
          console.error(`bench: baseline link failed: ${r.stderr}`);
          break;
        }
        base.push(performance.now() - t0);
      }
      const s = result.report.sizes;
      rows.push({
        image: ex,
        target: t,
        buildMs: Math.round(median(times)),
        ldMs: base.length ? Math.round(median(base)) : null,
        text: s.text,
        data: s.data,
        bss: s.bss,
        file: s.file,
      });
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(`image-linker bench (median of ${N} builds; ld = the same link by hand)`);
console.log('image        target    build ms   ld ms  ratio      text     data       bss      file');
for (const r of rows) {
  if (r.note) {
    console.log(`${r.image.padEnd(12)} ${r.target.padEnd(8)}  (${r.note})`);
    continue;
  }
  const ratio = r.ldMs ? (r.buildMs / r.ldMs).toFixed(1) : '-';
  console.log(
    `${r.image.padEnd(12)} ${r.target.padEnd(8)} ${String(r.buildMs).padStart(9)} ${String(r.ldMs ?? '-').padStart(7)} ${ratio.padStart(6)} ${String(r.text).padStart(9)} ${String(r.data).padStart(8)} ${String(r.bss).padStart(9)} ${String(r.file).padStart(9)}`,
  );
}

// The NetBSD images (examples/netbsd): sizes, least memory, time to rump_init, system call and
// UDP costs against posix, with their goals (bench/netbsd.mjs; arguments go to it).
const netbsd = spawnSync(process.execPath, [join(dirname(fileURLToPath(import.meta.url)), 'netbsd.mjs'), ...process.argv.slice(2)], { stdio: 'inherit' });
if (netbsd.status !== 0) {
  console.error(`bench: bench/netbsd.mjs failed (exit ${netbsd.status ?? netbsd.signal})`);
  process.exit(netbsd.status ?? 1);
}

// NetBSD disk and network I/O in a DomU against dom0, one full testbed (bench/netbsd-io.mjs;
// its own options: node bench/netbsd-io.mjs --help; BENCH_IO_TARGETS=xen-pv picks targets).
const io = spawnSync(process.execPath, [join(dirname(fileURLToPath(import.meta.url)), 'netbsd-io.mjs')], { stdio: 'inherit' });
if (io.status !== 0) {
  console.error(`bench: bench/netbsd-io.mjs failed (exit ${io.status ?? io.signal})`);
  process.exit(io.status ?? 1);
}

// SQLite with NetBSD's libc (examples/netbsd-sqlite): build time, stripped size, least memory
// (bench/netbsd-sqlite.mjs; of the arguments only --no-domu goes to it).
const sqlite = spawnSync(process.execPath, [join(dirname(fileURLToPath(import.meta.url)), 'netbsd-sqlite.mjs'), ...process.argv.slice(2).filter((a) => a === '--no-domu')], { stdio: 'inherit' });
if (sqlite.status !== 0) {
  console.error(`bench: bench/netbsd-sqlite.mjs failed (exit ${sqlite.status ?? sqlite.signal})`);
  process.exit(sqlite.status ?? 1);
}

// examples/httpd in DomUs against its Linux build in dom0, one full testbed: small-file
// requests/s and 5 MiB MB/s (bench/httpd.mjs; node bench/httpd.mjs --help for its options).
const httpd = spawnSync(process.execPath, [join(dirname(fileURLToPath(import.meta.url)), 'httpd.mjs')], { stdio: 'inherit' });
if (httpd.status !== 0) {
  console.error(`bench: bench/httpd.mjs failed (exit ${httpd.status ?? httpd.signal})`);
  process.exit(httpd.status ?? 1);
}

// NetBSD PCI NIC drivers on passed-through e1000 and pcnet against netfront, one full testbed:
// ping round trip and TCP echo MB/s (bench/netbsd-pci-nic.mjs; --help for its options).
const pcinic = spawnSync(process.execPath, [join(dirname(fileURLToPath(import.meta.url)), 'netbsd-pci-nic.mjs')], { stdio: 'inherit' });
if (pcinic.status !== 0) {
  console.error(`bench: bench/netbsd-pci-nic.mjs failed (exit ${pcinic.status ?? pcinic.signal})`);
  process.exit(pcinic.status ?? 1);
}
