// Runs in the testbed's dom0 (host node via `hostrun`): times the addon's create paths.
// Prints one JSON object on stdout.
//   node dom0-addon.mjs KERNEL RUNS LOOP ENGINE CONSOLE   (ENGINE: direct | libxl; CONSOLE: ring | pty)
// CONSOLE ring: the first line read straight from the guest's console ring, mapped by the create
// before the guest runs (create({ consoleRing: true })); pty: through xenconsoled's pty
// (xen.console), as before the fast path had a ring reader.
// RUMPXEN_XEN_DISABLE (image-cache, xs-batch, direct-destroy) turns parts of the fast path off.
// Leak check: before the first create and after the loops, the domains (the addon's list and
// `xl list`), Xen's free pages (xc_physinfo) and `xl info free_memory`.
import { execFileSync } from 'node:child_process';
import { monotonicMs, Xen } from '../dist/index.js';

const [kernel, runsArg, loopArg, engine, consoleMode = 'pty'] = process.argv.slice(2);
const runs = Number(runsArg);
const loop = Number(loopArg);
const LOOP_ROUNDS = 3;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const xl = (...args) => execFileSync('xl', args, { encoding: 'utf8' });
const xlDomains = () => xl('list').split('\n').slice(1).map((l) => l.split(/\s+/)[0]).filter(Boolean);
const xen = await Xen.open();
const out = { engine, console: consoleMode, disabled: process.env.RUMPXEN_XEN_DISABLE ?? '', firstLineMs: [], createMs: [], breakdown: [], destroyMs: [] };

async function snapshot() {
  return {
    domains: (await xen.domains.list()).map((d) => d.name),
    xlDomains: xlDomains(),
    freePages: (await xen.domains.physinfo()).freePages,
    xlFreeMiB: Number(xl('info', 'free_memory').trim()),
  };
}

// One request → first console line; the breakdown from the addon's own timings (CLOCK_MONOTONIC).
async function firstLine(name) {
  const ringMode = consoleMode === 'ring';
  const m0 = monotonicMs();
  const d = await xen.domains.create({ name, kernel, memory: 16, on_poweroff: 'destroy', engine, consoleRing: ringMode });
  const m1 = monotonicMs();
  let line;
  const b = { create: m1 - m0 };
  if (ringMode) {
    const ring = d.consoleRing;
    line = await ring.waitForLine(/./, 60_000);
    const m2 = monotonicMs();
    // The ring was mapped inside create(), before the unpause (phases.attach): from create()
    // resolving, the reader's first look until it saw the line, then the hop back to JavaScript.
    b.firstLine = ring.timings.firstLineAt - m1;
    b.wake = m2 - ring.timings.firstLineAt;
    b.total = m2 - m0;
    await xen.domains.waitForShutdown(d.domid);
    ring.close();
  } else {
    const con = await xen.console(d.domid);
    const m2 = monotonicMs();
    line = await con.waitForLine(/./, 60_000);
    const m3 = monotonicMs();
    b.attach = m2 - m1; // xenconsoled noticing the domain and publishing its pty, polled every 50 ms
    b.firstLine = m3 - m2;
    b.total = m3 - m0;
    await xen.domains.waitForShutdown(d.domid);
    con.close();
  }
  if (d.timings.phases) b.phases = d.timings.phases;
  return { b, line };
}

try {
  // The leak check starts after a warm-up domain: the first domain after dom0's boot leaves Xen
  // with a page fewer free for good (kept as `boot` to show it), whichever path made it.
  out.boot = await snapshot();
  await firstLine('bench-addon-warmup');
  out.before = await snapshot();
  for (let i = 0; i < runs; i++) {
    const { b, line } = await firstLine(`bench-addon-${i}`);
    out.firstLineMs.push(b.total);
    out.createMs.push(b.create);
    out.breakdown.push(b);
    out.line = line;
    process.stderr.write(`addon (${engine}, ${consoleMode}${out.disabled ? `, without ${out.disabled}` : ''}) run ${i + 1}/${runs}: first console line after ${b.total.toFixed(0)} ms\n`);
  }
  // The loop three times (a loop of 10 lasts half a second here, so one run of it swings with
  // whatever else the machine does); the bench takes the median rate and prints all three.
  out.loops = [];
  for (let round = 0; round < LOOP_ROUNDS; round++) {
    const t0 = performance.now();
    for (let i = 0; i < loop; i++) {
      const d = await xen.domains.create({ name: `bench-addon-loop-${round}-${i}`, kernel, memory: 16, cmdline: 'hang', engine });
      const m = monotonicMs();
      await xen.domains.destroy(d.domid);
      out.destroyMs.push(monotonicMs() - m);
    }
    out.loops.push({ count: loop, ms: performance.now() - t0 });
  }
  // Xen gives a destroyed domain's pages back once everyone has let go of them (xenconsoled
  // unmaps its ring on @releaseDomain): allow it a moment before comparing.
  let after = await snapshot();
  for (let tries = 0; tries < 100 && (after.freePages !== out.before.freePages || after.domains.length !== out.before.domains.length); tries++) {
    await sleep(100);
    after = await snapshot();
  }
  out.after = after;
} finally {
  xen.close();
}
process.stdout.write(JSON.stringify(out) + '\n');
