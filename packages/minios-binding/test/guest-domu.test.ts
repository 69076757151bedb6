/**
 * The xen-pv guest as a real DomU next to a Linux dom0 (the testbed's full mode), at
 * memory=16 MiB: console ring, xenstore, grant tables, the config from xenstore, and the
 * rumpuser conformance suite.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { Testbed } from '@rumpxen/xen-testbed';
import { xenPvTarget, guestPackageRoot } from '../src/targets.js';
import { buildTestImage, imageDir, linkImage } from './guest-image.js';

const conformanceLib = join(guestPackageRoot, '..', 'hypercall-api', 'build', 'libconformance.a');
let tb: Testbed;
let dir: string;

beforeAll(async () => {
  dir = imageDir('domu');
  tb = await Testbed.start({ edu: false });
}, 240_000);

afterAll(async () => {
  await tb?.stop();
});

function caseResults(lines: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of lines) {
    const m = /^case (\S+): (PASS|FAIL|SKIP)(.*)$/.exec(l.trim());
    if (m) out[m[1]] = m[2] + m[3];
  }
  return out;
}

describe('xen-pv guest as a DomU (memory=16)', () => {
  it('reads argv and env from xenstore cfg JSON and uses xenstore (read, write, ls, watch, transactions)', async () => {
    const image = buildTestImage(xenPvTarget, ['xstest.c'], dir, 'xstest.elf');
    const name = 'xstest';
    const kernel = join(tb.runDir, 'domu', `${name}.kernel`);
    copyFileSync(image, kernel);
    const cfgFile = join(tb.runDir, 'domu', `${name}.cfg`);
    writeFileSync(cfgFile, [
      `name = "${name}"`, 'type = "pv"', `kernel = "${kernel}"`, 'memory = 16',
      'cmdline = "from-cmdline-not-used"', 'on_poweroff = "preserve"', 'on_crash = "preserve"',
    ].join('\n') + '\n');
    const cfgJson = JSON.stringify({ argv: ['xstest', 'from xenstore', 'ünï'], env: ['GREETING=hello there'] });
    // Paused create, then the config, then run: the guest reads it at boot.
    const script = `set -e; xl create -p ${cfgFile}; id=$(xl domid ${name}); ` +
      `xenstore-write /local/domain/$id/rumpxen/cfg '${cfgJson.replace(/'/g, "'\\''")}'; xl unpause ${name}`;
    const created = await tb.dom0.exec(script, { timeoutMs: 60_000 });
    expect(created.code, created.stderr).toBe(0);
    const log = join(tb.runDir, 'xenlog', `guest-${name}.log`);
    let lines: string[] = [];
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      lines = existsSync(log) ? readFileSync(log, 'utf8').split('\n').map((l) => l.replace(/\r$/, '')) : [];
      if (lines.some((l) => l.startsWith('rumpxen: exit'))) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const state = await tb.dom0.exec(`xl list ${name} | tail -1; xl destroy ${name}`, { timeoutMs: 30_000 });
    expect(lines).toContain('rumpxen: xen-pv guest kernel, 16 MiB, domU');
    expect(lines).toContain('xstest: argv[0] = xstest');
    expect(lines).toContain('xstest: argv[1] = from xenstore');
    expect(lines).toContain('xstest: argv[2] = ünï');
    expect(lines).toContain('xstest: GREETING = hello there');
    expect(caseResults(lines)).toEqual({
      xs_read_write: 'PASS', xs_ls: 'PASS', xs_watch: 'PASS', xs_transaction: 'PASS',
    });
    expect(lines).toContain('rumpxen: exit 0');
    // Powered off (state 's' = shutdown) rather than crashed ('c').
    expect(state.stdout).toMatch(/\s-+s-+\s/);
  }, 120_000);

  it('falls back to the start_info command line for argv and env', async () => {
    const image = buildTestImage(xenPvTarget, ['xstest.c'], dir, 'xstest2.elf');
    const domu = await tb.createDomU({ kernel: image, memory: 16, cmdline: 'GREETING=hi one two' });
    const r = await domu.wait({ timeoutMs: 60_000 });
    expect(r.console).toContain('xstest: argv[0] = rumpxen');
    expect(r.console).toContain('xstest: argv[1] = one');
    expect(r.console).toContain('xstest: argv[2] = two');
    expect(r.console).toContain('xstest: GREETING = hi');
    expect(r.exitCode).toBe(0);
  }, 120_000);

  it('passes the kernel self-test, grant tables included', async () => {
    const image = buildTestImage(xenPvTarget, ['ktest.c'], dir, 'ktest.elf');
    const domu = await tb.createDomU({ kernel: image, memory: 16 });
    const r = await domu.wait({ timeoutMs: 90_000 });
    const cases = caseResults(r.console);
    for (const c of ['pages', 'heap', 'malloc_oom', 'threads_tls', 'block_wake', 'time', 'evtchn_loopback', 'gnttab']) {
      expect(cases[c], c).toBe('PASS');
    }
    expect(r.verdict).toBe('SUCCESS');
  }, 120_000);

  it('passes the rumpuser conformance suite', async () => {
    if (!existsSync(conformanceLib)) {
      throw new Error(`${conformanceLib} is missing: run \`npx nx run @rumpxen/hypercall-api:build\` first`);
    }
    const image = linkImage(xenPvTarget, { wholeArchives: [conformanceLib] }, join(dir, 'conformance.elf'));
    const domu = await tb.createDomU({ kernel: image, memory: 16 });
    const r = await domu.wait({ timeoutMs: 120_000 });
    const failed = r.console.filter((l) => /^case \S+: FAIL/.test(l));
    expect(failed, failed.join('\n')).toEqual([]);
    expect(r.console).toContain('Test result: SUCCESS');
    expect(r.exitCode).toBe(0);
  }, 180_000);
});
