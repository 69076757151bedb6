/**
 * The xen-pv guest as a real DomU next to a Linux dom0 (the testbed's full mode), at
 * memory=16 MiB: console ring, xenstore, grant tables, the config from xenstore, and the
 * rumpuser conformance suite.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { join } from 'node:path';
import { Testbed } from '@rumpxen/xen-testbed';
import { xenPvTarget, xenPvhTarget } from '../src/targets.js';
import { conformanceFileParam, parseConformanceOutput } from '@rumpxen/hypercall-api';
import { buildTestImage, imageDir, linkConformanceImage, caseResults } from './guest-image.js';
import { KTEST_CASES, expectXenPasses, expectXenSkips, hostFile } from './guest-expect.js';

let tb: Testbed;
let dir: string;

beforeAll(async () => {
  dir = imageDir('domu');
  tb = await Testbed.start({ edu: false, pvh: true });
}, 240_000);

afterAll(async () => {
  await tb?.stop();
});

describe('guest as a DomU (memory=16)', () => {
  it('xen-pv: reads argv and env from xenstore cfg JSON and uses xenstore (read, write, ls, watch, transactions)', async () => {
    const image = buildTestImage(xenPvTarget, ['xstest.c'], dir, 'xstest.elf');
    // With the image-linker's "devices" and a key of some later version, both skipped by the guest.
    const cfgJson = JSON.stringify({
      devices: { disks: [{ vdev: 'xvda', readonly: true }], nets: [{ mac: null, bridge: 'xenbr0' }], pci: [] },
      argv: ['xstest', 'from xenstore', 'ünï'],
      later: [1, -2.5e3, true, false, null, { nested: [[[[[[[[[[[[[[]]]]]]]]]]]]]] }, '"quoted" \\ back'],
      env: ['GREETING=hello there'],
    });
    // The testbed creates it paused, writes the config (owned by the DomU), then unpauses it:
    // the guest reads it at boot. The command line differs, so argv can only come from xenstore.
    const domu = await tb.createDomU({
      kernel: image, name: 'xstest', memory: 16, cmdline: 'from-cmdline-not-used',
      xenstore: { 'rumpxen/cfg': cfgJson },
    });
    const r = await domu.wait({ timeoutMs: 60_000 });
    const lines = r.console;
    expect(lines).toContain('rumpxen: xen-pv guest kernel, 16 MiB, domU');
    expect(lines).toContain('xstest: argv[0] = xstest');
    expect(lines).toContain('xstest: argv[1] = from xenstore');
    expect(lines).toContain('xstest: argv[2] = ünï');
    expect(lines).toContain('xstest: GREETING = hello there');
    expect(caseResults(lines)).toEqual({
      xs_read_write: 'PASS', xs_ls: 'PASS', xs_watch: 'PASS', xs_transaction: 'PASS',
    });
    expect(lines).toContain('rumpxen: exit 0');
    expect(lines.join('\n')).not.toContain('from-cmdline-not-used');
    // Powered off rather than crashed.
    expect(r.end).toEqual({ kind: 'shutdown', reasonCode: 0 });
    expect(r.exitCode).toBe(0);
  }, 120_000);

  // Each refused as a whole, the command line used instead: an argv element that is not a
  // string; a skipped key that never ends (a 3000-character string without its quote); a
  // skipped value nested 17 deep (the guest skips at most 16), after a valid argv.
  it.each([
    ['a number in argv', '{"argv": ["xstest", 3], "env": []}'],
    ['a skipped string that never ends', `{"argv": ["xstest"], "devices": "${'x'.repeat(3000)}`],
    ['a skipped value nested 17 deep', `{"argv": ["xstest"], "later": ${'['.repeat(17)}${']'.repeat(17)}}`],
  ])('xen-pv: a malformed rumpxen/cfg (%s) is refused with a message and the command line used instead', async (_what, bad) => {
    const image = buildTestImage(xenPvTarget, ['xstest.c'], dir, 'xstest-badcfg.elf');
    const domu = await tb.createDomU({
      kernel: image, memory: 16, cmdline: 'GREETING=fallback one',
      xenstore: { 'rumpxen/cfg': bad },
    });
    const r = await domu.wait({ timeoutMs: 60_000 });
    expect(r.console).toContainEqual(expect.stringMatching(/^rumpxen: \/local\/domain\/\d+\/rumpxen\/cfg is not valid JSON \{"argv": \[\.\.\.\], "env": \[\.\.\.\]\} with a non-empty argv; using the command line instead$/));
    expect(r.console).toContain('xstest: argv[0] = rumpxen');
    expect(r.console).toContain('xstest: argv[1] = one');
    expect(r.console).toContain('xstest: GREETING = fallback');
    expect(r.exitCode).toBe(0);
  }, 120_000);

  it('xen-pvh: falls back to the command line for argv and env, and uses xenstore', async () => {
    const image = buildTestImage(xenPvhTarget, ['xstest.c'], dir, 'xstest-pvh.elf');
    const domu = await tb.createDomU({ kernel: image, memory: 16, cmdline: 'GREETING=hi one two', type: 'pvh' });
    const r = await domu.wait({ timeoutMs: 60_000 });
    expect(r.console).toContain('xstest: argv[0] = rumpxen');
    expect(r.console).toContain('xstest: argv[1] = one');
    expect(r.console).toContain('xstest: argv[2] = two');
    expect(r.console).toContain('xstest: GREETING = hi');
    // Console ring flow control: nothing lost when output outruns xenconsoled.
    const burst = r.console.filter((l) => /^burst \d\d 0123456789abc.*0123456789abc$/.test(l));
    expect(burst.map((l) => Number(l.slice(6, 8)))).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(caseResults(r.console)).toEqual({
      xs_read_write: 'PASS', xs_ls: 'PASS', xs_watch: 'PASS', xs_transaction: 'PASS',
    });
    expect(r.exitCode).toBe(0);
  }, 120_000);

  for (const [target, type] of [[xenPvTarget, 'pv'], [xenPvhTarget, 'pvh']] as const) {
    for (const how of ['length', 'index']) {
      it(`${target.name}: refuses a xenstore ring with a bad ${how === 'length' ? 'message length' : 'producer index'}`, async () => {
        const image = buildTestImage(target, ['ringtest.c'], dir, `ringtest-${type}-${how}.elf`);
        const domu = await tb.createDomU({ kernel: image, memory: 16, cmdline: how, type });
        const r = await domu.wait({ timeoutMs: 60_000 });
        expect(r.console).toContain('ringtest: read before corruption: 0');
        expect(r.console).toContain(how === 'length'
          ? 'rumpxen: xenstore ring unusable: response longer than XENSTORE_PAYLOAD_MAX; xenstore is off from now on'
          : 'rumpxen: xenstore ring unusable: response producer index out of range; xenstore is off from now on');
        expect(r.console).toContain('ringtest: read after corruption: 5');
        expect(r.console).toContain('ringtest: read after that: 38');
        expect(r.verdict).toBe('SUCCESS');
      }, 120_000);
    }

    it(`${target.name}: stops writing to a console ring whose consumer index is out of range`, async () => {
      const image = buildTestImage(target, ['ringtest.c'], dir, `ringtest-${type}-console.elf`);
      const domu = await tb.createDomU({ kernel: image, memory: 16, cmdline: 'console', type });
      const r = await domu.wait({ timeoutMs: 60_000 });
      expect(r.console).toContain('ringtest: corrupting the console ring');
      expect(r.console.join('\n')).not.toContain('must not be written');
      // Exit 0 (the ring was dropped) can only show as a clean poweroff now.
      expect(r.end).toEqual({ kind: 'shutdown', reasonCode: 0 });
      expect(r.exitCode).toBe(0);
    }, 120_000);
  }

  it('xen-pv: keeps its own console producer index when the backend rewinds the shared one', async () => {
    const image = buildTestImage(xenPvTarget, ['ringtest.c'], dir, 'ringtest-pv-rewind.elf');
    const domu = await tb.createDomU({ kernel: image, memory: 16, cmdline: 'rewind' });
    const r = await domu.wait({ timeoutMs: 60_000 });
    expect(r.console).toContain('ringtest: rewinding the console producer index');
    // Reading the index back from the page would see prod - cons out of range and drop the ring.
    expect(r.console).toContain('ringtest: this line reached the console after the rewind');
    expect(r.console).toContain('rumpxen: exit 0');
    expect(r.end).toEqual({ kind: 'shutdown', reasonCode: 0 });
  }, 120_000);

  it('xen-pv: keeps its own xenstore response index when the backend rewinds the shared one', async () => {
    const image = buildTestImage(xenPvTarget, ['ringtest.c'], dir, 'ringtest-pv-xsrewind.elf');
    const domu = await tb.createDomU({ kernel: image, memory: 16, cmdline: 'xsrewind' });
    const r = await domu.wait({ timeoutMs: 60_000 });
    expect(r.console).toContain('ringtest: read before corruption: 0');
    // Reading the index back would take old response bytes for a new header and drop the ring.
    expect(r.console).toContain('ringtest: read after the rewind: 0');
    expect(r.verdict).toBe('SUCCESS');
  }, 120_000);

  it('xen-pv: reports a segment register Xen cannot reload (failsafe callback), then crashes', async () => {
    // crash.c "failsafe": %es keeps a selector whose LDT descriptor is removed; when the vcpu
    // is switched back in after dom0 ran, Xen's reload fails and it calls the failsafe callback.
    const image = buildTestImage(xenPvTarget, ['crash.c'], dir, 'crash-failsafe.elf');
    const domu = await tb.createDomU({ kernel: image, memory: 16, cmdline: 'failsafe' });
    const r = await domu.wait({ timeoutMs: 60_000 });
    const text = r.console.join('\n');
    const sel = /crash: %es holds selector (0x[0-9a-f]+), its descriptor is gone/.exec(text)?.[1];
    expect(sel, text).toBeDefined();
    expect(text).toContain('rumpxen: crash: failsafe callback: Xen could not load the segment '
      + `registers on return to the guest (ds 0x0 es ${sel} `);
    expect(text).toMatch(/rumpxen: rip 0x[0-9a-f]{16} cs 0xe03[03] rflags 0x[0-9a-f]+ rsp 0x[0-9a-f]{16} ss 0xe02b/);
    expect(text).toMatch(/rumpxen: r13 0x[0-9a-f]{16} r14/);
    expect(text).toMatch(/ 0x[0-9a-f]{16} mk_thread_sleep_until\+0x[0-9a-f]+\n 0x[0-9a-f]{16} crash_stale_segment\+0x/);
    expect(text).toContain('rumpxen: shutting down with reason crash');
    expect(text).not.toContain('no failsafe callback');
    expect(r.end).toEqual({ kind: 'crashed' });
    expect(r.verdict).toBe('CRASH');
    expect(r.exitCode).toBe(6);
  }, 120_000);

  for (const [target, type] of [[xenPvTarget, 'pv'], [xenPvhTarget, 'pvh']] as const) {
    it(`${target.name}: passes the kernel self-test, grant tables included`, async () => {
      const image = buildTestImage(target, ['ktest.c'], dir, `ktest-${type}.elf`);
      const domu = await tb.createDomU({ kernel: image, memory: 16, type });
      const r = await domu.wait({ timeoutMs: 90_000 });
      expect(r.console).toContain(`rumpxen: ${target.name} guest kernel, 16 MiB, domU`);
      const cases = caseResults(r.console);
      for (const c of KTEST_CASES) {
        expect(cases[c], c).toBe('PASS');
      }
      expect(r.verdict).toBe('SUCCESS');
    }, 120_000);

    it(`${target.name}: passes the rumpuser conformance suite`, async () => {
      const image = linkConformanceImage(target, join(dir, `conformance-${type}.elf`));
      const domu = await tb.createDomU({ kernel: image, memory: 16, type, cmdline: `${conformanceFileParam}=${hostFile}` });
      const r = await domu.wait({ timeoutMs: 120_000 });
      const report = parseConformanceOutput(r.console.join('\n'));
      for (const c of report.cases) console.log(`${target.name} DomU case ${c.name}: ${c.outcome} ${c.reason}`.trimEnd());
      expect(report.cases.length).toBe(report.announced);
      // The same skips as the only domain, with the same reasons; every other case passes.
      expectXenSkips(report);
      expectXenPasses(report);
      expect(report.result).toBe('SUCCESS');
      // The full testbed's CPU has RDRAND (+rdrand), which the guest then uses.
      expect(r.console).toContain('rumpuser: random source: RDRAND');
      expect(r.exitCode).toBe(0);
    }, 180_000);
  }
});
