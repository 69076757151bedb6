#!/usr/bin/env node
// Bench: NetBSD's libc in rumpxen images, each figure against a baseline from the same run.
//   - size of hello-with-libc (examples/netbsd-libc-hello, built from its manifest) for xen-pv
//     and xen-pvh, unstripped and stripped (`strip -o`); the stripped image is booted once;
//   - the least memory it runs in as Xen's only domain (`image-linker run --memory M`),
//     bisected between 4 and 64 MiB (a run counts when it prints its last line and exits 0);
//   - bench/calls.c, compiled with rumpxen-cc into a DomU: TSC cycles per getpid() through
//     libc against rump_sys_getpid() called directly, and per malloc(64)+free against the
//     same program built for this host with its glibc (gcc -O2 -DHOST). The host is not
//     emulated and the DomU runs in QEMU TCG, so the malloc ratio is also shown normalised by
//     the "spin" figure (a fixed integer loop timed in both places).
// The image-linker is run as its CLI (node_modules/.bin/image-linker), as a user would: this
// package does not depend on it (the image-linker depends on this one).
// Progress goes to stderr, the figures to stdout. Run by npm run bench.
// Usage: node bench/libc.mjs [--calls N]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
if (args.includes('--help')) {
  console.log('usage: node bench/libc.mjs [--calls N]\n' +
    'Stripped size and least memory of examples/netbsd-libc-hello (xen-pv, xen-pvh), and\n' +
    'cycles per getpid (libc vs rump_sys_getpid) and malloc(64)+free (DomU vs host glibc).\n' +
    '--calls: calls per round in bench/calls.c (default 200000).');
  process.exit(0);
}
const callsAt = args.indexOf('--calls');
const CALLS = callsAt >= 0 ? Number(args[callsAt + 1]) : 200000;
if (!(Number.isInteger(CALLS) && CALLS > 0)) {
  console.error('bench: --calls needs a positive whole number, e.g. --calls 200000');
  process.exit(2);
}

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');
const linker = join(root, 'node_modules', '.bin', 'image-linker');
const cc = join(here, '..', 'bin', 'rumpxen-cc.js');
for (const [what, path] of [['the image-linker CLI', linker], ['the driver', cc]]) {
  if (!existsSync(path)) {
    console.error(`bench: ${what} (${path}) is missing: run npm ci and npm run build at the repository root`);
    process.exit(1);
  }
}
const hello = join(root, 'examples', 'netbsd-libc-hello');
const TARGETS = ['xen-pv', 'xen-pvh'];
const MEM_LO = 4;
const MEM_HI = 64;
const HELLO_ARGS = ['--env', 'GREETING=bench', '--', '7', '2', 'hello', '0'];
const dir = mkdtempSync(join(tmpdir(), 'netbsd-libc-bench-'));
const progress = (l) => process.stderr.write(`bench: ${l}\n`);

function sh(cmd, argv, timeoutS = 900) {
  const r = spawnSync(cmd, argv, { encoding: 'utf8', timeout: timeoutS * 1000 });
  return { code: r.status ?? -1, out: r.stdout ?? '', err: r.stderr ?? '' };
}
function must(cmd, argv) {
  const r = sh(cmd, argv);
  if (r.code !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (exit ${r.code}): ${r.err.trim().split('\n').slice(-5).join(' | ')}`);
  return r;
}
const node = (script, argv, t) => sh(process.execPath, [script, ...argv], t);
const mustNode = (script, argv) => must(process.execPath, [script, ...argv]);
const figures = (text) => Object.fromEntries([...text.matchAll(/^bench (\S+) ([\d.]+)$/gm)].map((m) => [m[1], Number(m[2])]));

try {
  console.log(`NetBSD libc (Xen 4.17 in QEMU TCG, ${availableParallelism()} CPUs, load average ${loadavg()[0].toFixed(2)} at the start)`);

  // --- size and least memory of hello-with-libc
  console.log('\nhello-with-libc (examples/netbsd-libc-hello; components rump + vfs)');
  console.log('target     unstripped     stripped  stripped boots  least memory (only domain)');
  for (const t of TARGETS) {
    progress(`building hello for ${t}`);
    const img = join(dir, `hello.${t}`);
    mustNode(linker, ['build', join(hello, 'rumpxen.json'), '--target', t, '-o', img]);
    const stripped = `${img}.stripped`;
    must('strip', ['-o', stripped, img]);
    const runs = (image, mem) => {
      const r = node(linker, ['run', image, '--on', 'testbed', '--memory', String(mem), '--timeout', '30', ...HELLO_ARGS], 120);
      return r.code === 0 && /^exiting with 0/m.test(r.out) ? { ok: true } : { ok: false, why: `exit ${r.code}` };
    };
    progress(`booting the stripped ${t} image`);
    const boots = runs(stripped, 64);
    // Least memory: MEM_LO fails or is the answer; MEM_HI must run.
    const probes = [];
    const probe = (m) => {
      const r = runs(img, m);
      probes.push(`${m}:${r.ok ? 'ok' : r.why}`);
      progress(`${t}: ${m} MiB ${r.ok ? 'runs' : `does not run (${r.why})`}`);
      return r.ok;
    };
    let least;
    if (probe(MEM_HI)) {
      if (probe(MEM_LO)) least = MEM_LO;
      else {
        let lo = MEM_LO;
        let hi = MEM_HI;
        while (hi - lo > 1) {
          const mid = Math.floor((lo + hi) / 2);
          if (probe(mid)) hi = mid;
          else lo = mid;
        }
        least = hi;
      }
    }
    const full = statSync(img).size;
    const small = statSync(stripped).size;
    console.log(`${t.padEnd(8)} ${String(full).padStart(12)} ${String(small).padStart(12)}  ${(boots.ok ? 'yes' : `NO (${boots.why})`).padEnd(14)}  ${least === undefined ? `does not run in ${MEM_HI} MiB` : `${least} MiB`}   (probes ${probes.join(' ')})`);
  }

  // --- per-call costs
  progress(`building bench/calls.c for this host (gcc -O2 -DHOST)`);
  const hostBin = join(dir, 'calls-host');
  must('gcc', ['-O2', '-Wall', '-Wextra', '-Werror', '-DHOST', '-o', hostBin, join(here, 'calls.c')]);
  const host = figures(must(hostBin, [String(CALLS)]).out);
  console.log(`\nper call, TSC cycles (best of 7 interleaved rounds of ${CALLS}); host: this machine's glibc, not emulated`);
  console.log('target     getpid libc  rump_sys_getpid  libc/rump   malloc+free 64 B  host glibc  DomU/host  spin DomU/host  DomU/host per spin');
  for (const t of TARGETS) {
    progress(`building bench/calls.c for ${t} with rumpxen-cc`);
    const obj = join(dir, `calls.${t}.o`);
    mustNode(cc, ['--target', t, '-O2', '-Wall', '-Wextra', '-Werror', '-o', obj, join(here, 'calls.c')]);
    const img = join(dir, `calls.${t}`);
    mustNode(linker, ['build', obj, '--libc', 'netbsd', '--target', t, '-o', img]);
    progress(`running calls.${t}`);
    const r = node(linker, ['run', img, '--on', 'testbed', '--memory', '64', '--timeout', '300', '--', String(CALLS)], 600);
    const g = figures(r.out);
    if (r.code !== 0 || g.getpid_libc === undefined) throw new Error(`calls.${t} did not run (exit ${r.code}): ${r.out.split('\n').slice(-8).join(' | ')}`);
    const normalised = (g.malloc_free_64 / g.spin) / (host.malloc_free_64 / host.spin);
    console.log(`${t.padEnd(8)} ${g.getpid_libc.toFixed(0).padStart(12)} ${g.getpid_rump.toFixed(0).padStart(16)} ${`${(g.getpid_libc / g.getpid_rump).toFixed(2)}x`.padStart(10)} ` +
      `${g.malloc_free_64.toFixed(0).padStart(17)} ${host.malloc_free_64.toFixed(0).padStart(11)} ${`${(g.malloc_free_64 / host.malloc_free_64).toFixed(2)}x`.padStart(10)} ` +
      `${`${g.spin.toFixed(0)}/${host.spin.toFixed(0)}`.padStart(15)} ${`${normalised.toFixed(2)}x`.padStart(20)}`);
  }
  console.log(`host glibc getpid: ${host.getpid_libc.toFixed(0)} cycles (a real system call)`);
} catch (e) {
  console.error(`bench: ${e.message}`);
  process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
