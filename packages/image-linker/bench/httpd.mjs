#!/usr/bin/env node
// Bench: examples/httpd in Xen DomUs against the same server source compiled for Linux and run
// in dom0, on one full testbed (Xen + Linux dom0 in QEMU TCG):
//   - requests per second for a small file (the example's index.html), CONC keep-alive
//     connections for SECONDS;
//   - MB/s (10^6 bytes/s) for a 5 MiB file, one keep-alive connection for SECONDS.
// The client is examples/httpd/load.c (host cc -O2: a poll loop over keep-alive connections),
// run in dom0 (hostrun) in both cases: against the DomU over xenbr0 (netfront/netback), and against the Linux build of
// httpd.c (host gcc -O2, `host` mode, serving a copy of the same folder in dom0's tmpfs) on dom0's 127.0.0.1. The DomU serves an FFS image of that folder from a read-only
// vbd (image-linker's makeFfsImage). The client shares dom0's one vCPU with the Linux
// server (and with netback for the DomU); the ratios (DomU / dom0) are what to read.
// Usage: node bench/httpd.mjs [--targets xen-pv,xen-pvh] [--seconds 10] [--conc 4]
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Testbed } from '@rumpxen/xen-testbed';
import { buildNetbsd } from '@rumpxen/netbsd-build';
import { buildProject, loadManifest, makeFfsImage } from '../dist/index.js';
import { benchArgs, progress, scratchDir } from './common.mjs';

const { num, targets: TARGETS } = benchArgs({
  script: 'httpd.mjs',
  usage: 'node bench/httpd.mjs [--targets xen-pv,xen-pvh] [--seconds 10] [--conc 4]',
  about: 'examples/httpd in DomUs against its Linux build in dom0: small-file requests/s and 5 MiB file MB/s.',
  numbers: { seconds: 10, conc: 4 },
  targets: { env: 'BENCH_HTTPD_TARGETS', dflt: 'xen-pv,xen-pvh' },
});
const SECONDS = num.seconds;
const CONC = num.conc;

const here = dirname(fileURLToPath(import.meta.url));
const example = join(here, '..', '..', '..', 'examples', 'httpd');
const DOMU_ADDR = '10.77.0.2';
const LINUX_PORT = 8080;
// Under the repository (shared into dom0 at the same path; the host's /tmp is not), so that
// dom0 can run the Linux build and serve the folder.
const cacheDir = join(here, '..', '..', '..', '.cache');
mkdirSync(cacheDir, { recursive: true });
const { dir, cleanup } = scratchDir('httpd-bench-', cacheDir);

let tb;
try {
  await buildNetbsd('xen-pv');
  const m = loadManifest(join(example, 'rumpxen.json'));
  const images = {};
  for (const t of TARGETS) images[t] = (await buildProject(m, { target: t, output: join(dir, `httpd.${t}`) })).output;
  const linux = join(dir, 'httpd-linux');
  const load = join(dir, 'load');
  for (const [out, src] of [[linux, 'httpd.c'], [load, 'load.c']]) {
    const cc = spawnSync('cc', ['-O2', '-Wall', '-Wextra', '-Werror', '-o', out, join(example, src)], { encoding: 'utf8' });
    if (cc.status !== 0) throw new Error(`cc of ${src} for Linux failed: ${cc.stderr}`);
  }
  const www = join(dir, 'www');
  cpSync(join(example, 'www'), www, { recursive: true });
  writeFileSync(join(www, 'big.bin'), randomBytes(5 * 1024 * 1024));
  const disk = makeFfsImage(www, join(dir, 'www.img')).image;

  progress('starting a full testbed');
  tb = await Testbed.start({ edu: false, pvh: true });
  const client = async (host, port, path, conc) => {
    const r = await tb.dom0.exec(`hostrun ${load} ${host} ${port} ${path} ${SECONDS} ${conc}`, { timeoutMs: (SECONDS + 120) * 1000 });
    const m = /^load: (\{.*\})$/m.exec(r.stdout);
    const out = m ? JSON.parse(m[1]) : { error: `${r.stdout}${r.stderr}` };
    if (out.error || out.bad) throw new Error(`load ${host}:${port}${path}: ${out.error ?? `${out.bad} responses not 200`}`);
    return { ...out, perSecond: out.requests / out.seconds, mbPerSecond: out.bytes / 1e6 / out.seconds };
  };
  const measure = async (host, port) => ({
    small: await client(host, port, '/index.html', CONC),
    big: await client(host, port, '/big.bin', 1),
  });

  progress(`dom0: httpd.c built for Linux on 127.0.0.1:${LINUX_PORT}`);
  // Served from dom0's tmpfs (a copy of the folder): the repository share is 9p, whose every
  // stat/open/read is a round trip through QEMU and would be the baseline's bottleneck.
  const copied = await tb.dom0.exec(`rm -rf /tmp/httpd-www && cp -r ${www} /tmp/httpd-www`, { timeoutMs: 120_000 });
  if (copied.code !== 0) throw new Error(`copying the folder into dom0's /tmp failed: ${copied.stderr}`);
  const started = await tb.dom0.exec(`hostrun ${linux} -p ${LINUX_PORT} -r /tmp/httpd-www host > /tmp/httpd-linux.log 2>&1 & echo $! > /tmp/httpd-linux.pid; sleep 2; cat /tmp/httpd-linux.log`);
  if (!/httpd: serving/.test(started.stdout)) throw new Error(`the Linux httpd did not start in dom0: ${started.stdout}${started.stderr}`);
  const base = await measure('127.0.0.1', LINUX_PORT);
  await tb.dom0.exec('kill $(cat /tmp/httpd-linux.pid) 2>/dev/null; true');

  const rows = [];
  for (const t of TARGETS) {
    progress(`${t}: DomU`);
    const domu = await tb.createDomU({
      kernel: images[t], memory: 64, type: t === 'xen-pvh' ? 'pvh' : 'pv',
      cmdline: `static ${DOMU_ADDR}/24`, vifs: 1, disks: [{ file: disk, vdev: 'xvda', readonly: true }],
    });
    try {
      await domu.waitForLine(/^httpd: serving /, 240_000);
      rows.push({ t, ...(await measure(DOMU_ADDR, 80)) });
    } finally {
      await domu.destroy().catch(() => undefined);
    }
  }

  console.log(`httpd bench (examples/httpd; load.c in dom0, ${SECONDS} s each; small file: ${CONC} keep-alive connections; 5 MiB file: one)`);
  console.log('server                      small req/s   ratio   5 MiB MB/s   ratio');
  const line = (name, r) => console.log(`${name.padEnd(27)} ${r.small.perSecond.toFixed(0).padStart(11)} ${(r.small.perSecond / base.small.perSecond).toFixed(2).padStart(6)}x ${r.big.mbPerSecond.toFixed(1).padStart(12)} ${(r.big.mbPerSecond / base.big.mbPerSecond).toFixed(2).padStart(6)}x`);
  line('dom0 (Linux build, lo)', base);
  for (const r of rows) line(`${r.t} DomU (over netfront)`, r);
} finally {
  await tb?.stop().catch(() => undefined);
  cleanup();
}
