/**
 * Images run on Xen in the embedded testbed (QEMU TCG): hello and a link-set/TLS image as
 * the only domain, and hello as a DomU of a full testbed when it has a device. Three boots.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { build, buildProject, compileSources, loadManifest, resolveTarget, run } from '../src/index.js';
import { COMPONENT_C, archive, cli, workdir } from './helpers.js';

const HELLO = join(__dirname, '..', '..', '..', 'examples', 'hello', 'rumpxen.json');

describe('run on the embedded testbed (xen-pv)', () => {
  it('hello as the only domain: reports, threads wake in order, exit 0 via the CLI', () => {
    const dir = workdir('hello-xen');
    const img = join(dir, 'hello.xen-pv');
    expect(cli(['build', HELLO, '--target', 'xen-pv', '-o', img]).code).toBe(0);
    const r = cli(['run', img, '--on', 'testbed', '--timeout', '150', '--', 'world']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines).toContain('hello from a rumpxen image');
    expect(lines).toContain('hello: argv[1] = world');
    expect(lines.some((l) => /^hello: memory \d+ KiB, \d+ KiB free$/.test(l))).toBe(true);
    expect(lines.filter((l) => /thread \d woke/.test(l))).toEqual(['hello: thread 1 woke after 100 ms', 'hello: thread 2 woke after 200 ms', 'hello: thread 3 woke after 300 ms']);
    expect(lines).toContain('case wallclock: PASS');
    expect(lines).toContain('Test result: SUCCESS');
  }, 200_000);

  it('components linked whole: link set entries and per-thread TLS work in the guest', async () => {
    const def = resolveTarget('xen-pv');
    const dir = workdir('ls-xen');
    const { readFileSync } = await import('node:fs');
    // Same program as the posix test, printing through the guest's console.
    const src = readFileSync(join(__dirname, 'real-targets.test.ts'), 'utf8');
    const body = /const LINKSET_MAIN = \(print: string\) => `([\s\S]*?)`;/.exec(src)![1]!.replaceAll('${print}', 'rumpuser_dprintf').replaceAll('\\\\n', '\\n');
    writeFileSync(join(dir, 'main.c'), body);
    writeFileSync(join(dir, 'vfs.c'), COMPONENT_C('vfs'));
    writeFileSync(join(dir, 'net.c'), COMPONENT_C('net'));
    const [main, vfs, net] = await compileSources(['main.c', 'vfs.c', 'net.c'].map((f) => join(dir, f)), def, join(dir, 'obj'));
    const img = await build({ inputs: [main!], target: def, components: [archive(dir, 'librumpvfs.a', [vfs!]), archive(dir, 'librumpnet.a', [net!])], output: join(dir, 'ls.xen-pv'), gcSections: true });
    const res = await run({ image: img.output, on: 'testbed', timeoutS: 150 });
    expect(res.ranOn).toBe('testbed');
    expect(res.console).toEqual(expect.arrayContaining(['linkset: vfs', 'linkset: net', 'case linkset_tls: PASS n=2 vfs=49 net=49 tbss=0']));
    expect(res.exitCode).toBe(0);
  }, 200_000);

  it('examples/conformance: the conformance suite as an image passes on xen-pv and on posix', async () => {
    const m = loadManifest(join(__dirname, '..', '..', '..', 'examples', 'conformance', 'rumpxen.json'));
    const dir = workdir('conf');
    for (const target of ['xen-pv', 'posix']) {
      const img = await buildProject(m, { target, output: join(dir, `conformance.${target}`) });
      const res = await run({ image: img.output, on: 'testbed', timeoutS: 240 });
      expect(res.ranOn, target).toBe(target === 'posix' ? 'host' : 'testbed');
      expect(res.console.find((l) => /^conformance: \d+ passed, 0 failed/.test(l)), target).toBeDefined();
      expect(res.console.filter((l) => /^case \S+: FAIL/.test(l)), target).toEqual([]);
      expect(res.exitCode, target).toBe(0);
    }
  }, 300_000);

  it('with a disk, hello runs as a DomU of a full testbed and gets its argv', async () => {
    const dir = workdir('hello-domu');
    const m = loadManifest(HELLO);
    const img = await buildProject(m, { target: 'xen-pv', output: join(dir, 'hello.xen-pv') });
    const disk = join(dir, 'disk.img');
    writeFileSync(disk, Buffer.alloc(1 << 20));
    const res = await run({ image: img.output, on: 'testbed', disks: [`${disk},xvda,ro`], args: ['from-config'], timeoutS: 240 });
    expect(res.ranOn).toBe('testbed-domu');
    expect(res.console).toContain('hello: argv[1] = from-config');
    expect(res.console.some((l) => /^hello: domain id \d+ /.test(l))).toBe(true);
    expect(res.console).toContain('Test result: SUCCESS');
    expect(res.exitCode).toBe(0);
  }, 300_000);
});
