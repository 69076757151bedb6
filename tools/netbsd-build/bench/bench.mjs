#!/usr/bin/env node
// Bench: NetBSD build time, cold and cached, in the same run. Cold: buildNetbsd('xen-pv') with
// RUMPXEN_CACHE pointing at a fresh temp folder, so everything is done (sha256 and unpacking
// of the source tarballs, buildrump.sh's tools, build and install steps); cached: the same
// call again (the cache key is computed, the tarballs hashed, result.json found). The ratio
// is cold / cached. Also prints the step times recorded in the main cache's builds when they
// were made (posix is the userspace build). The temp folder is deleted afterwards, also on
// failure or Ctrl-C. Progress goes to stderr.
// Usage: node bench/bench.mjs [--jobs N]   (default: make -j the number of CPUs)
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildNetbsd, cachedBuilds, resolveSource } from '../dist/index.js';

const args = process.argv.slice(2);
if (args.includes('--help')) {
  console.log('usage: npm run bench -w @rumpxen/netbsd-build [-- --jobs N]\n' +
    'Builds NetBSD for xen-pv cold (a fresh cache in a temp folder, ~3-4 min on 2 cores) and\n' +
    'cached, prints both times and the ratio, and the step times the main cache recorded.');
  process.exit(0);
}
const jobsAt = args.indexOf('--jobs');
const jobs = jobsAt >= 0 ? Number(args[jobsAt + 1]) : undefined;
if (jobsAt >= 0 && !(Number.isInteger(jobs) && jobs > 0)) {
  console.error('bench: --jobs needs a positive whole number, e.g. --jobs 2');
  process.exit(2);
}

const progress = (l) => process.stderr.write(`bench: ${l}\n`);
const fmt = (s) => (s < 1 ? `${(s * 1000).toFixed(0)} ms` : s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${(s % 60).toFixed(1).padStart(4, '0')} s`);
const steps = (b) => ['tools', 'build', 'install'].map((s) => `${s} ${fmt(b.stepSeconds[s] ?? 0)}`).join(', ');

// The sources as a normal build finds them: the variables, else the ones used last, else git.
const netbsd = await resolveSource('netbsd', progress);
const buildrump = await resolveSource('buildrump', progress);
// A tarball (or folder) as given; a git checkout in the main cache is used as a folder.
const given = (t) => (existsSync(t.origin) ? t.origin : t.dir);
const sources = { netbsdSrc: given(netbsd), buildrump: given(buildrump) };

// Recorded figures of the main cache, read before RUMPXEN_CACHE is pointed elsewhere.
const recorded = cachedBuilds();

const savedCache = process.env.RUMPXEN_CACHE;
const dir = mkdtempSync(join(tmpdir(), 'netbsd-build-bench-'));
const cleanup = () => rmSync(dir, { recursive: true, force: true });
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    cleanup();
    process.kill(process.pid, sig);
  });
}
const load0 = loadavg()[0];
let cold;
let cached;
let coldS;
let cachedS;
let prepS;
try {
  process.env.RUMPXEN_CACHE = dir;
  progress(`cold build for xen-pv into ${dir} (sources ${sources.netbsdSrc}, ${sources.buildrump}); a few minutes`);
  let t0 = performance.now();
  // Hashing and unpacking the tarballs end where buildrump.sh starts ("building NetBSD ...").
  const onProgress = (l) => {
    if (prepS === undefined && / building NetBSD /.test(l)) prepS = (performance.now() - t0) / 1000;
    progress(l);
  };
  cold = await buildNetbsd('xen-pv', { ...sources, jobs, onProgress });
  coldS = (performance.now() - t0) / 1000;
  if (cold.cached) throw new Error(`the cold build was found in the cache ${cold.dir}: the temp folder was not empty`);
  t0 = performance.now();
  cached = await buildNetbsd('xen-pv', { ...sources, jobs, onProgress: progress });
  cachedS = (performance.now() - t0) / 1000;
  if (!cached.cached) throw new Error('the second build was not found in the cache');
} finally {
  if (savedCache === undefined) delete process.env.RUMPXEN_CACHE;
  else process.env.RUMPXEN_CACHE = savedCache;
  cleanup();
}
const load1 = loadavg()[0];

const src = (b) => (b.sources.netbsd.startsWith('sha256:') ? `tarball sha256 ${b.sources.netbsd.slice(7, 19)}` : b.sources.netbsd);
console.log(`netbsd-build bench (xen-pv, kernel mode; make -j${jobs ?? availableParallelism()} on ${availableParallelism()} CPUs; load average ${load0.toFixed(2)} before, ${load1.toFixed(2)} after)`);
console.log('build                     time      ratio  what');
console.log(`${'cold (fresh cache)'.padEnd(24)} ${fmt(coldS).padStart(12)} ${(coldS / cachedS).toFixed(0).padStart(6)}x  hashing + unpacking the sources ${prepS === undefined ? '?' : fmt(prepS)}, ${steps(cold)} (${src(cold)})`);
console.log(`${'cached (same call again)'.padEnd(24)} ${fmt(cachedS).padStart(12)} ${'1'.padStart(6)}x  key (sha256 of both tarballs, cc --version) + result.json`);
console.log('goal: none set for build time (figures only)');

console.log('\nrecorded when built (main cache, stepSeconds of result.json; not measured in this run)');
if (recorded.length === 0) console.log('(no finished builds in the main cache)');
for (const b of recorded) {
  const total = Object.values(b.stepSeconds).reduce((a, s) => a + s, 0);
  const targets = b.mode === 'userspace' ? 'posix' : 'xen-pv, xen-pvh';
  console.log(`${`${b.mode} (${targets})`.padEnd(34)} ${fmt(total).padStart(12)}  ${steps(b)}; ${b.components.length} components; ${src(b)}`);
}
