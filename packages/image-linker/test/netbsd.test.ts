/**
 * A real NetBSD rump kernel (tools/netbsd-build's builds, made once by `npm test` before the
 * tests) linked by name (`net_netinet`, `fs_tmpfs`) into images and run: the NetBSD suite
 * (examples/netbsd/suite.c: sysctl, rumpfs and tmpfs I/O, UDP and TCP over lo0, 16 threads
 * in processes of their own, timed sleeps) on posix, on xen-pv and xen-pvh as the only
 * domain and as DomUs of a full testbed; and `npm start`'s demo through the CLI.
 * One file, so its QEMU boots run one after another.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caseVerdicts } from '@rumpxen/protocol';
import { buildNetbsd } from '@rumpxen/netbsd-build';
import { buildProject, inspect, loadManifest, run, type BuildResult } from '../src/index.js';
import { fullTestbed } from './full-testbed.js';
import { cli, workdir } from './helpers.js';

const EXAMPLE = join(__dirname, '..', '..', '..', 'examples', 'netbsd');
const SUITE = join(EXAMPLE, 'suite.json');
const DEMO = join(EXAMPLE, 'rumpxen.json');
const SUITE_CASES = ['rump_init', 'getpid', 'sysctl', 'rumpfs_io', 'tmpfs_io', 'udp_lo0', 'tcp_lo0', 'threads', 'timed_sleep'];

const cases = caseVerdicts;

function allPass(): Record<string, string> {
  return Object.fromEntries(SUITE_CASES.map((c) => [c, 'PASS']));
}

const images: Partial<Record<'posix' | 'xen-pv' | 'xen-pvh', BuildResult>> = {};
let dir: string;

beforeAll(async () => {
  // Fail here, not in a rebuild, when npm test's NetBSD step did not run.
  await buildNetbsd('posix', { cachedOnly: true });
  await buildNetbsd('xen-pv', { cachedOnly: true });
  dir = workdir('netbsd');
  const m = loadManifest(SUITE);
  for (const target of ['posix', 'xen-pv', 'xen-pvh'] as const) {
    images[target] = await buildProject(m, { target, output: join(dir, `suite.${target}`) });
  }
}, 120_000);

describe('NetBSD components by name', () => {
  it('names pull in what they need, and inspect lists the components an image holds', async () => {
    for (const target of ['posix', 'xen-pv', 'xen-pvh'] as const) {
      const b = images[target]!;
      expect(new Set(b.components), target).toEqual(new Set(['net_netinet', 'fs_tmpfs', 'net_net', 'net', 'vfs', 'rump']));
      const report = await inspect(b.output);
      expect(report.rumpComponents, target).toEqual(['fs_tmpfs', 'net', 'net_net', 'net_netinet', 'rump', 'vfs']);
      expect(report.undefinedSymbols, target).toEqual([]);
    }
    const r = cli(['inspect', images['xen-pv']!.output]);
    expect(r.stdout).toMatch(/^rump components \(6\): fs_tmpfs net net_net net_netinet rump vfs$/m);
  });

  it('an unknown component name is refused, naming it and the near ones', () => {
    const obj = join(dir, 'obj', 'suite.xen-pv.o');
    const r = cli(['build', obj, join(dir, 'obj', 'nbsys.xen-pv.o'), '--target', 'xen-pv', '--component', 'netinet', '-o', join(dir, 'never.xen-pv')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('component "netinet"');
    expect(r.stderr).toContain('net_netinet');
  });

  it('archive paths are still taken as given', () => {
    const nbLib = images['xen-pv']!.command.find((a) => a.endsWith('librumpvfs.a'))!;
    const r = cli(['build', join(dir, 'obj', 'suite.xen-pv.o'), join(dir, 'obj', 'nbsys.xen-pv.o'), '--target', 'xen-pv', '--component', nbLib, '-o', join(dir, 'partial.xen-pv')]);
    // vfs alone lacks the network and tmpfs: the link names what is missing and where it is.
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/rump___sysimpl_socket30|undefined/);
  });
});

describe('the NetBSD suite', () => {
  it('posix: a host process over the static librumpuser', () => {
    const r = spawnSync(images.posix!.output, [], { encoding: 'utf8', timeout: 120_000 });
    const lines = (r.stdout + r.stderr).split('\n');
    expect(cases(lines), lines.join('\n')).toEqual(allPass());
    expect(lines).toContain('Test result: SUCCESS');
    expect(r.status).toBe(0);
  }, 150_000);

  for (const target of ['xen-pv', 'xen-pvh'] as const) {
    it(`${target}: as the only domain`, async () => {
      const res = await run({ image: images[target]!.output, on: 'testbed', memoryMb: 64, timeoutS: 240 });
      expect(res.ranOn).toBe('testbed');
      expect(res.console).toContain(`rumpxen: ${target} guest kernel, 64 MiB, dom0`);
      expect(cases(res.console), res.console.join('\n')).toEqual(allPass());
      expect(res.console).toContain('suite: kern.ostype = NetBSD');
      expect(res.console).toContain('Test result: SUCCESS');
      expect(res.exitCode).toBe(0);
    }, 300_000);
  }
});

describe('the NetBSD suite as DomUs of a full testbed', () => {
  const testbed = fullTestbed();

  for (const target of ['xen-pv', 'xen-pvh'] as const) {
    it(`${target}: a DomU next to Linux dom0`, async () => {
      const domu = await testbed().createDomU({ kernel: images[target]!.output, name: `netbsd-${target}`, memory: 64, type: target === 'xen-pvh' ? 'pvh' : 'pv' });
      const r = await domu.wait({ timeoutMs: 240_000 });
      expect(r.console).toContain(`rumpxen: ${target} guest kernel, 64 MiB, domU`);
      expect(cases(r.console), r.console.join('\n')).toEqual(allPass());
      expect(r.console).toContain('Test result: SUCCESS');
      expect(r.exitCode).toBe(0);
    }, 300_000);
  }
});

describe('npm start', () => {
  it('boots the NetBSD demo as `npm start` does and prints what the issue asks', () => {
    // The exact command scripts/start.mjs runs.
    const start = readFileSync(join(__dirname, '..', '..', '..', 'scripts', 'start.mjs'), 'utf8');
    expect(start).toContain("'examples', 'netbsd', 'rumpxen.json'");
    const r = cli(['run', DEMO, '-v']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const out = r.stdout;
    expect(out).toMatch(/^NetBSD \d+\.\d+\.\d+ \(RUMP-ROAST\)$/m); // the banner (RUMP_VERBOSE=1)
    expect(out).toContain('The NetBSD Foundation, Inc.  All rights reserved.');
    expect(out).toContain('netbsd: kern.ostype = NetBSD');
    expect(out).toMatch(/^netbsd: kern\.osrelease = \d+\.\d+\.\d+$/m);
    expect(out).toContain('netbsd: /tmp/hello.txt reads back "written by NetBSD\'s tmpfs inside a Xen domain"');
    expect(out).toMatch(/^netbsd: TCP 127\.0\.0\.1:\d+ carried "ping over lo0"$/m);
    expect(out).toContain('Test result: SUCCESS');
    expect(r.stderr).toContain('NetBSD components for xen-pv');
  }, 300_000);
});
