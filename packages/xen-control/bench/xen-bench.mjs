// The Xen control bench (issues 6 and 15): boots the testbed's full mode once and measures, in
// the same dom0 and the same run, the time from a create request to the DomU's first console
// line and how many domains are created and destroyed per second in a loop (the median of three
// loops), through the addon's fast path (direct builder, first line read from the console ring),
// the same path with each of its parts turned off in turn (RUMPXEN_XEN_DISABLE) and all of them
// off (the direct path as it was, first line through xenconsoled's pty), the libxl path, and
// `xl create`. Prints where the fast path's time goes (the addon's own CLOCK_MONOTONIC
// timings), what each part is worth, a leak check of every addon run (domains left, Xen's free
// pages, `xl info free_memory`), and each goal as met or MISSED with its ratio.
// Progress on stderr; the summary on stdout.  Run by xen.bench-run.ts (npm run bench).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Testbed } from '@rumpxen/xen-testbed';

import { buildDomUFixture, PACKAGE_DIR } from '../test/dom0/testbed-setup.mjs';

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const ALL_PARTS = 'image-cache,xs-batch,direct-destroy';

/** The addon runs: key, engine, console, parts turned off, label. */
const CONFIGS = [
  { key: 'fast', engine: 'direct', console: 'ring', off: '', label: 'addon, direct + ring (the fast path)' },
  { key: 'pty', engine: 'direct', console: 'pty', off: '', label: 'addon, direct + pty' },
  { key: 'noCache', engine: 'direct', console: 'ring', off: 'image-cache', label: 'addon, fast path without the image cache' },
  { key: 'noBatch', engine: 'direct', console: 'ring', off: 'xs-batch', label: 'addon, fast path without the xenstore batch' },
  { key: 'noDestroy', engine: 'direct', console: 'ring', off: 'direct-destroy', label: 'addon, fast path with libxl destroy' },
  { key: 'before', engine: 'direct', console: 'pty', off: ALL_PARTS, label: 'addon, direct as before (pty, no cache, no batch, libxl destroy)' },
  { key: 'libxl', engine: 'libxl', console: 'pty', off: '', label: 'addon, libxl + pty' },
];

/** Whether a run left nothing behind: no domain but Domain-0, free pages and xl's free memory as before. */
export function leakCheck(r) {
  const only0 = (names) => names.length === 1 && names[0] === 'Domain-0';
  const ok = only0(r.after.domains) && only0(r.after.xlDomains) && r.after.freePages === r.before.freePages && r.after.xlFreeMiB === r.before.xlFreeMiB;
  const text =
    `domains after: ${r.after.domains.join(', ')} (xl list: ${r.after.xlDomains.join(', ')}); ` +
    `xc_physinfo free pages ${r.before.freePages} → ${r.after.freePages}; xl info free_memory ${r.before.xlFreeMiB} → ${r.after.xlFreeMiB} MiB`;
  return { ok, text };
}

/**
 * Runs the bench and returns the summary lines (also printed).  RUNS first-line runs per
 * path, LOOP domains per create/destroy loop.
 */
export async function runXenBench({ runs: RUNS = 5, loop: LOOP = 10 } = {}) {
  const report = [];
  const say = (line) => {
    report.push(line);
    console.log(line);
  };
  const fixture = buildDomUFixture();
  process.stderr.write('bench: starting the testbed (Xen + dom0 in QEMU)\n');
  const tb = await Testbed.start({ edu: false });
  try {
    // Every path boots the image from dom0's /tmp (tmpfs), as a host keeps images on a local file
    // system: on the repository's 9p share a stat() alone costs 1.7 ms under TCG.
    const kernel = '/tmp/rumpxen-bench-domu.elf';
    const staged = await tb.dom0.exec(`cp ${fixture} ${kernel}`, { timeoutMs: 60_000 });
    if (staged.code !== 0) throw new Error(`cannot stage ${fixture} in dom0's /tmp: ${staged.stderr}`);
    const addon = {};
    for (const c of CONFIGS) {
      process.stderr.write(`bench: ${c.label}: ${RUNS} runs + 3 loops of ${LOOP}\n`);
      const env = c.off ? `RUMPXEN_XEN_DISABLE=${c.off} ` : '';
      const a = await tb.dom0.exec(`cd ${PACKAGE_DIR} && ${env}hostrun node bench/dom0-addon.mjs ${kernel} ${RUNS} ${LOOP} ${c.engine} ${c.console}`, { timeoutMs: 600_000 });
      if (a.code !== 0) throw new Error(`the addon bench (${c.label}) failed in dom0:\n${a.stderr}`);
      addon[c.key] = JSON.parse(a.stdout.trim().split('\n').pop());
    }

    process.stderr.write(`bench: xl create, ${RUNS} runs + 3 loops of ${LOOP}\n`);
    const script = readFileSync(join(PACKAGE_DIR, 'bench', 'dom0-xl.sh'), 'utf8');
    const x = await tb.dom0.exec(`set -- ${kernel} ${RUNS} ${LOOP}\n${script}`, { timeoutMs: 600_000 });
    if (x.code !== 0) throw new Error(`the xl bench failed in dom0:\n${x.stderr}\n${x.stdout}`);
    const xlFirst = [...x.stdout.matchAll(/^first (\d+)$/gm)].map((m) => Number(m[1]));
    const xlLoops = [...x.stdout.matchAll(/^loop (\d+) (\d+)$/gm)].map((m) => Number(m[1]) / (Number(m[2]) / 1000));
    if (xlFirst.length !== RUNS || xlLoops.length !== 3) throw new Error(`unexpected xl bench output:\n${x.stdout}`);

    // Loop rates: the median of three loops of LOOP, for every path alike.
    const xlFirstMed = median(xlFirst);
    const xlRate = median(xlLoops);
    const first = (k) => median(addon[k].firstLineMs);
    const rates = (k) => addon[k].loops.map((l) => l.count / (l.ms / 1000));
    const rate = (k) => median(rates(k));
    const ms = (v) => `${v.toFixed(v < 10 ? 1 : 0)} ms`;
    say(`xen-control bench (Xen 4.17 in QEMU TCG, dom0 1 vcpu; same dom0, same run; medians of ${RUNS})`);
    say(`path | request → first console line | vs xl | created+destroyed per s (median of 3 loops of ${LOOP}) | vs xl`);
    for (const c of CONFIGS) {
      say(`${c.label} | ${ms(first(c.key))} | ${(xlFirstMed / first(c.key)).toFixed(1)}x | ${rate(c.key).toFixed(2)} | ${(rate(c.key) / xlRate).toFixed(1)}x`);
    }
    say(`xl create | ${ms(xlFirstMed)} | 1x | ${xlRate.toFixed(2)} | 1x`);
    for (const k of ['fast', 'before', 'libxl']) {
      say(`${k} runs (ms): ${addon[k].firstLineMs.map((v) => v.toFixed(0)).join(', ')}; of which create(): ${addon[k].createMs.map((v) => v.toFixed(0)).join(', ')}`);
    }
    say(`xl runs (ms): ${xlFirst.join(', ')}`);
    say(`loops (domains/s): fast path ${rates('fast').map((r) => r.toFixed(2)).join(', ')}; before ${rates('before').map((r) => r.toFixed(2)).join(', ')}; xl ${xlLoops.map((r) => r.toFixed(2)).join(', ')}`);

    // Where the time goes: medians of each part over the runs (so they need not add up exactly).
    const part = (k, f) => median(addon[k].breakdown.map(f));
    const PHASES = ['dispatch', 'domain', 'image', 'memory', 'load', 'nodes', 'introduce', 'attach', 'unpause', 'settle'];
    for (const [k, what] of [['fast', 'fast path'], ['before', 'direct path as before']]) {
      const ph = PHASES.map((p) => `${p} ${part(k, (b) => b.phases[p]).toFixed(1)}`).join(', ');
      const tail = addon[k].console === 'ring'
        ? `then the first line seen in the ring ${part(k, (b) => b.firstLine).toFixed(1)}, wake ${part(k, (b) => b.wake).toFixed(1)}`
        : `then xenconsoled's pty published and opened ${part(k, (b) => b.attach).toFixed(1)}, the first line through it ${part(k, (b) => b.firstLine).toFixed(1)}`;
      say(`breakdown, ${what} (medians, ms): create() ${part(k, (b) => b.create).toFixed(1)} [${ph}]; ${tail}; total ${part(k, (b) => b.total).toFixed(1)}`);
    }
    const cached = addon.fast.breakdown.every((b) => b.phases.imageCached);
    const batched = addon.fast.breakdown.every((b) => b.phases.nodesBatched);
    say(`fast path: image from the cache in every run: ${cached}; nodes in one pipelined transaction in every run: ${batched} (tries: ${addon.fast.breakdown.map((b) => b.phases.nodesTries).join(', ')})`);
    say(
      'what each part is worth (the fast path with that part off, same run): ' +
        `image cache: image ${part('noCache', (b) => b.phases.image).toFixed(1)} → ${part('fast', (b) => b.phases.image).toFixed(1)} ms; ` +
        `xenstore batch: nodes ${part('noBatch', (b) => b.phases.nodes).toFixed(1)} → ${part('fast', (b) => b.phases.nodes).toFixed(1)} ms; ` +
        `direct destroy: destroy ${median(addon.noDestroy.destroyMs).toFixed(1)} → ${median(addon.fast.destroyMs).toFixed(1)} ms, loop ${rate('noDestroy').toFixed(2)} → ${rate('fast').toFixed(2)}/s; ` +
        `ring reader: first line ${ms(first('pty'))} → ${ms(first('fast'))}`,
    );

    let leaksOk = true;
    for (const c of CONFIGS) {
      const l = leakCheck(addon[c.key]);
      leaksOk &&= l.ok;
      say(`leak check, ${c.label}: ${l.ok ? 'ok' : 'LEAK'}: ${l.text}`);
    }
    const firstRatio = xlFirstMed / first('fast');
    const loopRatio = rate('fast') / xlRate;
    say(`goal: domain fast path >= 20x faster than xl create to the first console line: ${firstRatio >= 20 ? 'met' : 'MISSED'} (${firstRatio.toFixed(1)}x: ${ms(first('fast'))} vs ${ms(xlFirstMed)})`);
    say(`goal: >= 10x in the create+destroy loop: ${loopRatio >= 10 ? 'met' : 'MISSED'} (${loopRatio.toFixed(1)}x: ${rate('fast').toFixed(2)} vs ${xlRate.toFixed(2)} domains/s)`);
    say(`goal: nothing leaks (every domain destroyed; xc_physinfo free pages and xl info free_memory back where they started, in every addon run): ${leaksOk ? 'met' : 'MISSED'}`);
  } finally {
    await tb.stop();
  }
  return report;
}
