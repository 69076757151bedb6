/**
 * A NetBSD rump kernel that runs out of memory on Xen ends with the guest kernel's
 * out-of-memory report ("rumpxen: out of memory: ...") and the crash exit code (6), well
 * before its timeout: never a hang, never a fault through a wild pointer. And the NetBSD demo
 * runs in the memory minios-binding's README gives as its least, the suite in 8 MiB.
 *
 * examples/netbsd/oom.c writes one tmpfs file until memory runs out (tmpfs data is anonymous
 * memory: NetBSD's pagedaemon cannot give it back). As the only domain, with the limit the
 * guest derives from its memory (RUMP_MEMLIMIT unset), the writer waits in uvm_wait and the
 * pagedaemon reports that it can free nothing; with RUMP_MEMLIMIT above the guest's memory,
 * the guest's own allocator runs dry under NetBSD, which retries for ever. Both must end with
 * the report. The demo at 4 MiB is too small for a rump kernel with vfs and networking: the
 * report comes when NetBSD asks for its memory limit. One file, so its QEMU boots run one
 * after another.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Testbed } from '@rumpxen/xen-testbed';
import { buildNetbsd } from '@rumpxen/netbsd-build';
import { buildProject, loadManifest, run, type RunResult } from '../src/index.js';
import { workdir } from './helpers.js';

const EXAMPLE = join(__dirname, '..', '..', '..', 'examples', 'netbsd');
const TARGETS = ['xen-pv', 'xen-pvh'] as const;
type Target = (typeof TARGETS)[number];

/** The report's first line: what ran out, then the guest's memory on the same line. */
const OOM_LINE = /^rumpxen: out of memory: (.+); the guest has (\d+) KiB, (\d+) KiB free \(largest free block \d+ KiB, least free since boot \d+ KiB\)$/;
/** The least memory (MiB) the demo passes in as the only domain (measured; minios-binding's README). */
const DEMO_MIN_MB: Record<Target, number> = { 'xen-pv': 5, 'xen-pvh': 5 };
const TIMEOUT_S = 120;

const oomImages = {} as Record<Target, string>;
const demoImages = {} as Record<Target, string>;
const suiteImages = {} as Record<Target, string>;

beforeAll(async () => {
  // Fail here, not in a rebuild, when npm test's NetBSD step did not run.
  await buildNetbsd('xen-pv', { cachedOnly: true });
  const dir = workdir('netbsd-oom');
  const suite = loadManifest(join(EXAMPLE, 'suite.json'));
  const oom = { ...suite, name: 'netbsd-oom', sources: [join(EXAMPLE, 'oom.c'), join(EXAMPLE, 'nbsys.c')] };
  const demo = loadManifest(join(EXAMPLE, 'rumpxen.json'));
  for (const target of TARGETS) {
    oomImages[target] = (await buildProject(oom, { target, output: join(dir, `oom.${target}`) })).output;
    demoImages[target] = (await buildProject(demo, { target, output: join(dir, `demo.${target}`) })).output;
    suiteImages[target] = (await buildProject(suite, { target, output: join(dir, `suite.${target}`) })).output;
  }
}, 240_000);

function oomLine(res: { console: string[] }): RegExpExecArray {
  const m = res.console.map((l) => OOM_LINE.exec(l)).find((x) => x);
  expect(m, `no out-of-memory report in:\n${res.console.slice(-40).join('\n')}`).toBeTruthy();
  return m!;
}

/** An out-of-memory end: the report, the crash code, no fault report, well before the timeout. */
function expectOomCrash(res: RunResult, what: RegExp): void {
  const text = res.console.join('\n');
  const m = oomLine(res);
  expect(m[1]).toMatch(what);
  expect(res.exitCode, res.reason).toBe(6);
  expect(res.verdict).toBe('CRASH');
  expect(text).not.toMatch(/rumpxen: crash: trap/);
  expect(text).toContain('rumpxen: shutting down with reason crash');
  expect(res.durationMs).toBeLessThan((TIMEOUT_S * 1000) / 2);
}

describe.each(TARGETS)('%s as the only domain', (target) => {
  it('oom.c at 8 MiB with the derived limit: the pagedaemon can free nothing, the report, exit 6', async () => {
    const res = await run({ image: oomImages[target], on: 'testbed', memoryMb: 8, timeoutS: TIMEOUT_S, env: { RUMP_VERBOSE: '1' } });
    const text = res.console.join('\n');
    // The limit the guest handed NetBSD, and NetBSD taking it.
    const limit = /^rumpxen: RUMP_MEMLIMIT=(\d+) \(\d+ KiB\)/m.exec(text);
    expect(limit, text).toBeTruthy();
    expect(Number(limit![1])).toBeGreaterThan(1 << 20);
    expect(Number(limit![1])).toBeLessThan(8 << 20);
    expect(text).toMatch(/^total memory = \d+ KB$/m);
    // It wrote a good part of a MiB before memory ran out, and no write failed.
    expect(res.console).toContain('oom: 512 KiB written to /tmp/fill');
    expect(text).not.toContain('Test result:');
    expectOomCrash(res, /pagedaemon found nothing to free/);
    expect(Number(oomLine(res)[2])).toBe(8 * 1024);
    expect(text).toMatch(/^rumpxen: memory: the rump kernel holds \d+ KiB through rumpuser_malloc and anonmmap \(at most \d+ KiB\), RUMP_MEMLIMIT \d+ derived from the guest's memory$/m);
  }, 200_000);

  it('oom.c at 8 MiB with RUMP_MEMLIMIT above the memory: the retried allocation is caught, exit 6', async () => {
    const res = await run({ image: oomImages[target], on: 'testbed', memoryMb: 8, timeoutS: TIMEOUT_S, env: { RUMP_MEMLIMIT: '1g' } });
    expectOomCrash(res, /failed \d+ times in \d+ ms with nothing as large freed in between/);
    expect(res.console.join('\n')).toMatch(/RUMP_MEMLIMIT 1g from the environment$/m);
  }, 200_000);

  it('the demo at 4 MiB: too little for a rump kernel, reported when NetBSD asks for its limit', async () => {
    const res = await run({ image: demoImages[target], on: 'testbed', memoryMb: 4, timeoutS: TIMEOUT_S });
    expectOomCrash(res, /^a rump kernel needs more than 1024 KiB besides \d+ KiB for its threads/);
    expect(Number(oomLine(res)[2])).toBe(4 * 1024);
  }, 200_000);

  it(`the demo at its least memory passes`, async () => {
    const mb = DEMO_MIN_MB[target];
    const res = await run({ image: demoImages[target], on: 'testbed', memoryMb: mb, timeoutS: TIMEOUT_S });
    expect(res.console).toContain(`rumpxen: ${target} guest kernel, ${mb} MiB, dom0`);
    expect(res.console, res.console.join('\n')).toContain('Test result: SUCCESS');
    expect(res.console.some((l) => l.startsWith('rumpxen: out of memory'))).toBe(false);
    expect(res.exitCode).toBe(0);
  }, 200_000);

  it('the suite at 8 MiB passes', async () => {
    const res = await run({ image: suiteImages[target], on: 'testbed', memoryMb: 8, timeoutS: TIMEOUT_S });
    expect(res.console, res.console.join('\n')).toContain('Test result: SUCCESS');
    expect(res.exitCode).toBe(0);
  }, 200_000);
});

describe('as a DomU of a full testbed', () => {
  let tb: Testbed;
  beforeAll(async () => {
    tb = await Testbed.start({ edu: false });
  }, 240_000);
  afterAll(async () => {
    await tb?.stop();
  });

  it('xen-pv oom.c at the least memory libxc accepts (4 MiB): the report and exit 6, no hang', async () => {
    const t0 = Date.now();
    const domu = await tb.createDomU({ kernel: oomImages['xen-pv'], name: 'netbsd-oom', memory: 4, type: 'pv' });
    const r = await domu.wait({ timeoutMs: TIMEOUT_S * 1000 });
    const m = oomLine(r);
    expect(m[1]).toMatch(/^a rump kernel needs more than 1024 KiB/);
    expect(r.exitCode, r.reason).toBe(6);
    expect(Date.now() - t0).toBeLessThan((TIMEOUT_S * 1000) / 2);
  }, 200_000);
});
