// The Xen control bench (issue 6): boots the testbed's full mode once and measures, in the same
// dom0 and the same run, the time from a create request to the DomU's first
// console line through the addon (direct and libxl paths) and through `xl create`,
// and how many domains each creates (and destroys) per second in a loop.
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
  const kernel = buildDomUFixture();
  process.stderr.write('bench: starting the testbed (Xen + dom0 in QEMU)\n');
  const tb = await Testbed.start({ edu: false });
  try {
    const addon = {};
    for (const engine of ['direct', 'libxl']) {
      process.stderr.write(`bench: addon (${engine}), ${RUNS} runs + a loop of ${LOOP}\n`);
      const a = await tb.dom0.exec(`cd ${PACKAGE_DIR} && hostrun node bench/dom0-addon.mjs ${kernel} ${RUNS} ${LOOP} ${engine}`, { timeoutMs: 600_000 });
      if (a.code !== 0) throw new Error(`the addon bench (${engine}) failed in dom0:\n${a.stderr}`);
      addon[engine] = JSON.parse(a.stdout.trim().split('\n').pop());
    }

    process.stderr.write(`bench: xl create, ${RUNS} runs + a loop of ${LOOP}\n`);
    const script = readFileSync(join(PACKAGE_DIR, 'bench', 'dom0-xl.sh'), 'utf8');
    const x = await tb.dom0.exec(`set -- ${kernel} ${RUNS} ${LOOP}\n${script}`, { timeoutMs: 600_000 });
    if (x.code !== 0) throw new Error(`the xl bench failed in dom0:\n${x.stderr}\n${x.stdout}`);
    const xlFirst = [...x.stdout.matchAll(/^first (\d+)$/gm)].map((m) => Number(m[1]));
    const xlLoop = /^loop (\d+) (\d+)$/m.exec(x.stdout);
    if (xlFirst.length !== RUNS || !xlLoop) throw new Error(`unexpected xl bench output:\n${x.stdout}`);

    const xlFirstMed = median(xlFirst);
    const xlRate = Number(xlLoop[1]) / (Number(xlLoop[2]) / 1000);
    const first = (e) => median(addon[e].firstLineMs);
    const rate = (e) => addon[e].loop.count / (addon[e].loop.ms / 1000);
    say('xen-control bench (Xen 4.17 in QEMU TCG, dom0 1 vcpu; same dom0, same run; medians of ' + RUNS + ')');
    say('path | request → first console line | vs xl | created+destroyed per s (loop of ' + LOOP + ') | vs xl');
    for (const e of ['direct', 'libxl']) {
      say(`addon, ${e} | ${first(e).toFixed(0)} ms | ${(xlFirstMed / first(e)).toFixed(2)}x | ${rate(e).toFixed(2)} | ${(rate(e) / xlRate).toFixed(2)}x`);
    }
    say(`xl create | ${xlFirstMed.toFixed(0)} ms | 1x | ${xlRate.toFixed(2)} | 1x`);
    for (const e of ['direct', 'libxl']) {
      say(`addon ${e} runs (ms): ${addon[e].firstLineMs.map((v) => v.toFixed(0)).join(', ')}; of which create(): ${addon[e].createMs.map((v) => v.toFixed(0)).join(', ')}`);
    }
    say(`xl runs (ms): ${xlFirst.join(', ')}`);
    const ratio = xlFirstMed / first('direct');
    say(`goal: the fast path (auto → direct for this image) >= 5x faster than xl to the first console line: ${ratio >= 5 ? 'met' : 'NOT met'} (${ratio.toFixed(2)}x)`);
  } finally {
    await tb.stop();
  }
  return report;
}
