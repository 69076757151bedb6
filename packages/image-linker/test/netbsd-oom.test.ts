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
import { caseVerdicts } from '@rumpxen/protocol';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildNetbsd } from '@rumpxen/netbsd-build';
import { buildProject, loadManifest, run } from '../src/index.js';
import { fullTestbed } from './full-testbed.js';
import { workdir } from './helpers.js';

const EXAMPLE = join(__dirname, '..', '..', '..', 'examples', 'netbsd');
const TARGETS = ['xen-pv', 'xen-pvh'] as const;
type Target = (typeof TARGETS)[number];

/** The report's first line: what ran out, then the guest's memory on the same line. */
const OOM_LINE = /^rumpxen: out of memory: (.+); the guest has (\d+) KiB, (\d+) KiB free \(largest free block \d+ KiB, least free since boot \d+ KiB\)$/;
/** The least memory (MiB) the demo passes in as the only domain (measured; minios-binding's README). */
const DEMO_MIN_MB: Record<Target, number> = { 'xen-pv': 5, 'xen-pvh': 5 };
/** The least memory (MiB) the suite passes in as the only domain (xen-pv: Xen refuses 7 MiB for this image). */
const SUITE_MIN_MB: Record<Target, number> = { 'xen-pv': 8, 'xen-pvh': 11 };
const SUITE_MEMORY_CASES = ['rump_init', 'getpid', 'sysctl', 'rumpfs_io', 'tmpfs_io', 'udp_lo0', 'tcp_lo0', 'threads'];
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

function oomLine(lines: string[]): RegExpExecArray {
  const m = lines.map((l) => OOM_LINE.exec(l)).find((x) => x);
  expect(m, `no out-of-memory report in:\n${lines.slice(-40).join('\n')}`).toBeTruthy();
  return m!;
}

/** An out-of-memory end: one report naming `what`, the crash code, no fault report, well before the timeout. */
function expectOomCrash(r: { console: string[]; exitCode: number; reason: string }, what: RegExp, ms: number): RegExpExecArray {
  const text = r.console.join('\n');
  const m = oomLine(r.console);
  expect(m[1]).toMatch(what);
  expect(r.console.filter((l) => l.startsWith('rumpxen: out of memory: '))).toHaveLength(1);
  expect(r.exitCode, r.reason).toBe(6);
  expect(text).not.toMatch(/rumpxen: (crash|panic):/);
  expect(text).toMatch(/^rumpxen: memory: \d+ KiB image and boot data, \d+ threads holding \d+ KiB/m);
  expect(text).toContain('rumpxen: shutting down with reason crash');
  expect(ms).toBeLessThan((TIMEOUT_S * 1000) / 2);
  return m;
}

describe.each(TARGETS)('%s as the only domain', (target) => {
  it('oom.c at 8 MiB with the limit the guest derives: the pagedaemon frees nothing, the report, exit 6', async () => {
    const res = await run({ image: oomImages[target], on: 'testbed', memoryMb: 8, timeoutS: TIMEOUT_S, env: { RUMP_VERBOSE: '1' } });
    const text = res.console.join('\n');
    // The limit the guest handed NetBSD (RUMP_VERBOSE), and NetBSD taking it.
    const limit = /^rumpxen: RUMP_MEMLIMIT=(\d+) \((\d+) KiB\): (\d+) KiB free, \d+ KiB kept for 16 threads, \d+ KiB for the guest$/m.exec(text);
    expect(limit, text).toBeTruthy();
    expect(Number(limit![1])).toBeGreaterThan(2 << 20);
    expect(Number(limit![2])).toBeLessThan(Number(limit![3]));
    expect(text).toMatch(/^total memory = \d+ KB$/m);
    expect(text).not.toContain('unlimited');
    // Megabytes went into the file first, and no write failed.
    expect(res.console).toContain('oom: 2048 KiB written to /tmp/fill');
    expect(text).not.toContain('Test result:');
    expect(res.console.filter((l) => l.startsWith('pagedaemoness: failed to reclaim memory'))).toHaveLength(2);
    const m = expectOomCrash(res, /^the rump kernel is at its memory limit \(RUMP_MEMLIMIT \d+\) and its pagedaemon found nothing to free 2 times in a row/, res.durationMs);
    expect(Number(m[2])).toBeGreaterThanOrEqual(8 * 1024);
    expect(Number(m[2])).toBeLessThan(9 * 1024);
    expect(text).toMatch(/^rumpxen: memory: the rump kernel holds \d+ KiB through rumpuser_malloc and anonmmap \(at most \d+ KiB\), RUMP_MEMLIMIT \d+ derived from the guest's memory$/m);
  }, 200_000);

  it('oom.c at 8 MiB with RUMP_MEMLIMIT above the memory: the allocation NetBSD retries for ever is caught, exit 6', async () => {
    const res = await run({ image: oomImages[target], on: 'testbed', memoryMb: 8, timeoutS: TIMEOUT_S, env: { RUMP_MEMLIMIT: '1g' } });
    expectOomCrash(res, /^rumpuser_malloc of \d+ bytes failed \d+ times in \d+ ms with nothing as large freed in between/, res.durationMs);
    expect(res.console.join('\n')).toMatch(/RUMP_MEMLIMIT 1g from the environment$/m);
  }, 200_000);

  it('the demo at 4 MiB: too little for a rump kernel, reported when NetBSD asks for its limit', async () => {
    const res = await run({ image: demoImages[target], on: 'testbed', memoryMb: 4, timeoutS: TIMEOUT_S });
    expectOomCrash(res, /^a rump kernel needs more than 1024 KiB besides \d+ KiB for its threads and \d+ KiB of guest reserve, but only \d+ KiB are free when it starts$/, res.durationMs);
    expect(res.console.join('\n')).not.toContain('case ');
  }, 200_000);

  it('the demo at its least memory passes', async () => {
    const mb = DEMO_MIN_MB[target];
    const res = await run({ image: demoImages[target], on: 'testbed', memoryMb: mb, timeoutS: TIMEOUT_S });
    expect(res.console).toContain(`rumpxen: ${target} guest kernel, ${mb} MiB, dom0`);
    expect(res.console, res.console.join('\n')).toContain('Test result: SUCCESS');
    expect(res.console.some((l) => l.startsWith('rumpxen: out of memory'))).toBe(false);
    expect(res.exitCode).toBe(0);
  }, 200_000);

  it('the suite at its least memory passes (xen-pv: the 8 MiB that used to end in a wild pointer)', async () => {
    const res = await run({ image: suiteImages[target], on: 'testbed', memoryMb: SUITE_MIN_MB[target], timeoutS: TIMEOUT_S });
    const text = res.console.join('\n');
    const verdicts = caseVerdicts(res.console);
    // Every case that needs memory passes. timed_sleep measures poll/nanosleep against the
    // clock and has been seen to fail ("poll timed out early") when other QEMUs load the
    // host; it is not about memory, so it may fail, and then only it.
    const { timed_sleep: sleepCase, ...memoryCases } = verdicts;
    expect(memoryCases, text).toEqual(Object.fromEntries(SUITE_MEMORY_CASES.map((c) => [c, 'PASS'])));
    expect(sleepCase).toBeDefined();
    expect(text).not.toMatch(/rumpxen: (out of memory|crash|panic):/);
    expect(res.exitCode, text).toBe(sleepCase === 'PASS' ? 0 : 1);
  }, 200_000);
});

describe('DomUs of a full testbed at the least memory the toolstack accepts', () => {
  const testbed = fullTestbed();

  const domu = async (kernel: string, name: string, memory: number, type: 'pv' | 'pvh') => {
    const t0 = Date.now();
    const d = await testbed().createDomU({ kernel, name, memory, type });
    const r = await d.wait({ timeoutMs: TIMEOUT_S * 1000 });
    return { ...r, ms: Date.now() - t0 };
  };

  it('xen-pv at 4 MiB (libxc refuses less): the rump kernel does not fit, the report, exit 6', async () => {
    const r = await domu(oomImages['xen-pv'], 'oom-pv4', 4, 'pv');
    expect(r.console).toContain('rumpxen: xen-pv guest kernel, 4 MiB, domU');
    expectOomCrash(r, /^a rump kernel needs more than 1024 KiB/, r.ms);
  }, 200_000);

  it('xen-pvh at 3 MiB (libxc refuses 2): no room for the main thread, the report, exit 6', async () => {
    const r = await domu(oomImages['xen-pvh'], 'oom-pvh3', 3, 'pvh');
    expect(r.console).toContain('rumpxen: xen-pvh guest kernel, 3 MiB, domU');
    expectOomCrash(r, /^the main thread \(\d+ KiB with its stack\)$/, r.ms);
  }, 200_000);

  it('xen-pv oom.c at 8 MiB: the pagedaemon frees nothing, the report, exit 6', async () => {
    const r = await domu(oomImages['xen-pv'], 'oom-pv8', 8, 'pv');
    expect(r.console).toContain('oom: 2048 KiB written to /tmp/fill');
    expectOomCrash(r, /pagedaemon found nothing to free 2 times in a row/, r.ms);
  }, 200_000);
});
