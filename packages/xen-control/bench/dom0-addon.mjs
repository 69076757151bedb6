// Runs in the testbed's dom0 (host node via `hostrun`): times the addon's
// fast path.  Prints one JSON object on stdout.
//   node dom0-addon.mjs KERNEL RUNS LOOP ENGINE   (ENGINE: direct | libxl)
import { Xen } from '../dist/index.js';

const [kernel, runsArg, loopArg, engine] = process.argv.slice(2);
const runs = Number(runsArg);
const loop = Number(loopArg);
const xen = await Xen.open();
const out = { firstLineMs: [], createMs: [] };

async function firstLine(name) {
  const t0 = performance.now();
  const d = await xen.domains.create({ name, kernel, memory: 16, on_poweroff: 'destroy', engine });
  const created = performance.now();
  const con = await xen.console(d.domid);
  await con.waitForLine(/./, 60_000);
  const t1 = performance.now();
  await xen.domains.waitForShutdown(d.domid);
  con.close();
  return { first: t1 - t0, create: created - t0 };
}

try {
  await firstLine('bench-addon-warmup');
  for (let i = 0; i < runs; i++) {
    const r = await firstLine(`bench-addon-${i}`);
    out.firstLineMs.push(r.first);
    out.createMs.push(r.create);
    process.stderr.write(`addon (${engine}) run ${i + 1}/${runs}: first console line after ${r.first.toFixed(0)} ms\n`);
  }
  const t0 = performance.now();
  for (let i = 0; i < loop; i++) {
    const d = await xen.domains.create({ name: `bench-addon-loop-${i}`, kernel, memory: 16, cmdline: 'hang', engine });
    await xen.domains.destroy(d.domid);
  }
  out.loop = { count: loop, ms: performance.now() - t0 };
} finally {
  xen.close();
}
process.stdout.write(JSON.stringify(out) + '\n');
