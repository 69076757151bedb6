/**
 * Images run on Xen in the embedded testbed (QEMU TCG): hello and a link-set/TLS image as
 * the only domain, and hello as a DomU of a full testbed when it has a device; and our xl.cfg
 * and libxl JSON against the real toolstack: in a full testbed's dom0, `xl create -n` (dry run)
 * must accept our xl.cfg with a disk, two vifs and the testbed's PCI device, the libxl JSON it
 * derives must agree with ours, and our xl.cfg must really start hello (`xl create -c`).
 * That dom0 is also a real Xen host for `run --on xen|auto`: the host's node runs the CLI
 * there (the testbed gives it dom0's xl and xenstore tools).
 * One file, so its QEMU boots run one after another.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Testbed, EDU_BDF } from '@rumpxen/xen-testbed';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build, buildProject, compileSources, loadManifest, renderConfig, resolveTarget, run } from '../src/index.js';
import { COMPONENT_C, archive, cli, workdir } from './helpers.js';

const HELLO = join(__dirname, '..', '..', '..', 'examples', 'hello', 'rumpxen.json');

describe('run on the embedded testbed (xen-pv)', () => {
  it('hello as the only domain: reports, threads wake in order, exit 0 via the CLI', () => {
    const dir = workdir('hello-xen');
    const img = join(dir, 'hello.xen-pv');
    expect(cli(['build', HELLO, '--target', 'xen-pv', '-o', img]).code).toBe(0);
    const r = cli(['run', img, '--on', 'testbed', '--memory', '48', '--timeout', '150', '--', 'world']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines).toContain('hello from a rumpxen image');
    expect(lines).toContain('hello: argv[1] = world');
    // --memory 48 holds as the only domain too (dom0_mem): the guest sees about 48 MiB.
    const kib = Number(/^hello: memory (\d+) KiB, \d+ KiB free$/m.exec(r.stdout)?.[1]);
    expect(kib).toBeGreaterThan(40 * 1024);
    expect(kib).toBeLessThanOrEqual(50 * 1024);
    expect(lines.filter((l) => /thread \d woke/.test(l))).toEqual(['hello: thread 1 woke after 100 ms', 'hello: thread 2 woke after 200 ms', 'hello: thread 3 woke after 300 ms']);
    expect(lines).toContain('case wallclock: PASS');
    expect(lines).toContain('Test result: SUCCESS');
  }, 200_000);

  it('runs examples/hello/rumpxen.json straight from the manifest: built, its args and memory applied', () => {
    const r = cli(['run', HELLO, '--on', 'testbed']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines).toContain('hello from a rumpxen image');
    expect(lines).toContain('hello: argv[1] = world'); // the manifest's "args"
    const kib = Number(/^hello: memory (\d+) KiB, \d+ KiB free$/m.exec(r.stdout)?.[1]);
    expect(kib).toBeGreaterThan(56 * 1024); // the manifest's "memory": 64
    expect(kib).toBeLessThanOrEqual(66 * 1024);
    expect(lines).toContain('case threads_wake_in_order: PASS');
    expect(lines).toContain('Test result: SUCCESS');
  }, 200_000);

  it("an independent object's main return value is the run's exit code", async () => {
    const def = resolveTarget('xen-pv');
    const dir = workdir('exit7');
    writeFileSync(join(dir, 'seven.c'), '#include <rumpuser.h>\nint main(void) { rumpuser_dprintf("returning 7\\n"); return 7; }\n');
    const [obj] = await compileSources([join(dir, 'seven.c')], def, dir);
    const img = join(dir, 'seven.xen-pv');
    expect(cli(['build', obj!, '--target', 'xen-pv', '-o', img]).code).toBe(0);
    const r = cli(['run', img, '--on', 'testbed', '--timeout', '100']);
    expect(r.stdout).toContain('returning 7');
    expect(r.code).toBe(7);
  }, 200_000);

  it('an object compiled by plain gcc (hosted defaults: PIE code, red zone, SSE) runs and returns its status', async () => {
    const def = resolveTarget('xen-pv');
    const dir = workdir('plain-gcc');
    const src = join(dir, 'plain.c');
    writeFileSync(src, `#include <rumpuser.h>
static volatile double scale = 1.5;
static char buf[4096];
int main(int argc, char **argv) {
  for (int i = 0; i < 4096; i++) buf[i] = (char)(i * argc);
  double d = scale * argc;
  rumpuser_dprintf("plain: %s %d %d\\n", argc > 1 ? argv[1] : "none", (int)(d * 2), buf[100]);
  return 7;
}
`);
    const obj = join(dir, 'plain.o');
    // Only the project's headers: no target flags, the compiler's own defaults otherwise.
    execFileSync('gcc', ['-c', '-O2', ...def.includeDirs.flatMap((d) => ['-I', d]), src, '-o', obj]);
    const img = join(dir, 'plain.xen-pv');
    expect(cli(['build', obj, '--target', 'xen-pv', '-o', img]).code).toBe(0);
    const r = cli(['run', img, '--on', 'testbed', '--timeout', '100', '--', 'word']);
    expect(r.stdout).toContain('plain: word 6 -56');
    expect(r.code).toBe(7);
  }, 200_000);

  it('hello as a PVH guest (PHYS32_ENTRY, the testbed boots it with HAP)', async () => {
    const dir = workdir('hello-pvh');
    const img = await buildProject(loadManifest(HELLO), { target: 'xen-pvh', output: join(dir, 'hello.xen-pvh') });
    const res = await run({ image: img.output, on: 'testbed', timeoutS: 150, args: ['pvh'] });
    expect(res.ranOn).toBe('testbed');
    expect(res.console.some((l) => /^rumpxen: xen-pvh guest kernel/.test(l))).toBe(true);
    expect(res.console).toContain('hello: argv[1] = pvh');
    expect(res.console).toContain('case threads_wake_in_order: PASS');
    expect(res.exitCode).toBe(0);
  }, 200_000);

  it('components linked whole: link set entries and per-thread TLS work in the guest', async () => {
    const def = resolveTarget('xen-pv');
    const dir = workdir('ls-xen');
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
    for (const target of ['xen-pv', 'xen-pvh', 'posix']) {
      const img = await buildProject(m, { target, output: join(dir, `conformance.${target}`) });
      const res = await run({ image: img.output, on: 'testbed', timeoutS: 240 });
      expect(res.ranOn, target).toBe(target === 'posix' ? 'host' : 'testbed');
      // The guest kernel's banner names the boot path it took.
      if (target !== 'posix') expect(res.console.some((l) => l.startsWith(`rumpxen: ${target} guest kernel`)), target).toBe(true);
      expect(res.console.find((l) => /^conformance: \d+ passed, 0 failed/.test(l)), target).toBeDefined();
      expect(res.console.filter((l) => /^case \S+: FAIL/.test(l)), target).toEqual([]);
      expect(res.exitCode, target).toBe(0);
    }
  }, 300_000);

  it('with a disk and the edu PCI device, hello runs as a DomU of a full testbed and gets its argv from xenstore alone', async () => {
    const dir = workdir('hello-domu');
    const m = loadManifest(HELLO);
    const img = await buildProject(m, { target: 'xen-pv', output: join(dir, 'hello.xen-pv') });
    const disk = join(dir, 'disk.img');
    writeFileSync(disk, Buffer.alloc(1 << 20));
    // An argument with a space cannot go on the kernel command line: the config is only in
    // xenstore, written by the testbed while the DomU is still paused.
    const args = ['from-config', 'two words'];
    expect(renderConfig({ image: img.output, args }).cmdline).toBe('');
    // With the testbed's edu device too: pci-passthrough's preparePassthrough checks it in dom0 first.
    const progress: string[] = [];
    const res = await run({ image: img.output, on: 'testbed', disks: [`${disk},xvda,ro`], pci: [EDU_BDF], args, timeoutS: 240, onProgress: (l) => progress.push(l) });
    expect(res.ranOn).toBe('testbed-domu');
    expect(progress).toContain(`pci: ${EDU_BDF} is on xen-pciback (testbed dom0)`);
    expect(res.console).toContain('hello: argv[1] = from-config');
    expect(res.console).toContain('hello: argv[2] = two words');
    expect(res.console.some((l) => /^hello: domain id \d+ /.test(l))).toBe(true);
    expect(res.console).toContain('Test result: SUCCESS');
    expect(res.exitCode).toBe(0);
  }, 300_000);
});

describe('on a real Xen host: a full testbed\'s dom0 (xl, and the host\'s node running run --on xen|auto through the addon or xl)', () => {
  let tb: Testbed;
  let dir: string;
  let hello: string;
  let seven: string;
  let spin: string;
  let crash: string;
  const repo = join(__dirname, '..', '..', '..');
  // dom0 sees the repository (shared read-write) at the same path, so images live under it.
  beforeAll(async () => {
    mkdirSync(join(__dirname, '..', 'build'), { recursive: true });
    dir = mkdtempSync(join(__dirname, '..', 'build', 'xen-host-'));
    hello = (await buildProject(loadManifest(HELLO), { target: 'xen-pv', output: join(dir, 'hello.xen-pv') })).output;
    writeFileSync(join(dir, 'seven.c'), '#include <rumpuser.h>\nint main(void) { rumpuser_dprintf("returning 7\\n"); return 7; }\n');
    const def = resolveTarget('xen-pv');
    const [obj] = await compileSources([join(dir, 'seven.c')], def, dir);
    seven = (await build({ inputs: [obj!], target: def, output: join(dir, 'seven.xen-pv') })).output;
    // Sleeps forever (rumpuser_init first: clock_sleep calls the hypervisor-upcall hooks).
    writeFileSync(join(dir, 'spin.c'), [
      '#include <rumpuser.h>',
      'static void unsched(int n, int *c, void *i) { (void)n; (void)i; *c = 0; }',
      'static void sched(int n, void *i) { (void)n; (void)i; }',
      'static const struct rumpuser_hyperup hyp = { .hyp_backend_unschedule = unsched, .hyp_backend_schedule = sched };',
      'int main(void) {',
      '  if (rumpuser_init(RUMPUSER_VERSION, &hyp) != 0) return 1;',
      '  rumpuser_dprintf("spinning\\n");',
      '  for (;;) rumpuser_clock_sleep(RUMPUSER_CLOCK_RELWALL, 1, 0);',
      '}',
    ].join('\n') + '\n');
    const [spinObj] = await compileSources([join(dir, 'spin.c')], def, dir);
    spin = (await build({ inputs: [spinObj!], target: def, output: join(dir, 'spin.xen-pv') })).output;
    writeFileSync(join(dir, 'crash.c'), '#include <rumpuser.h>\nint main(void) { rumpuser_dprintf("crashing\\n"); __builtin_trap(); }\n');
    const [crashObj] = await compileSources([join(dir, 'crash.c')], def, dir);
    crash = (await build({ inputs: [crashObj!], target: def, output: join(dir, 'crash.xen-pv') })).output;
    tb = await Testbed.start();
  }, 300_000);
  afterAll(async () => {
    await tb?.stop();
    if (dir && !process.env.RUMPXEN_KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  /** The host's node in dom0 (chrooted into the host's /, dom0's xl reached through the testbed's wrappers), repo as cwd. */
  async function inDom0(args: string, env?: Record<string, string>) {
    const chunks: string[] = [];
    const r = await tb.dom0.exec(`node packages/image-linker/dist/cli.js ${args}`, { cwd: repo, env, timeoutMs: 200_000, onOutput: (c, s) => s === 'stdout' && chunks.push(c) });
    return { ...r, chunks };
  }

  it('dry run agrees with our libxl JSON; the xl.cfg boots hello', async () => {
    const disk = join(dir, 'disk.img');
    writeFileSync(disk, Buffer.alloc(1 << 20));
    const withDevices = renderConfig({ image: hello, name: 'hello-dev', memoryMb: 32, disks: [`${disk},xvda,ro`], nets: ['xenbr0', '00:16:3e:00:00:07'], pci: [EDU_BDF], env: ['A=1'], args: ['one'] });
    writeFileSync(join(dir, 'dev.cfg'), withDevices.xl);
    const plain = renderConfig({ image: hello, name: 'hello-run', memoryMb: 32, args: ['via-xl-cfg'] });
    writeFileSync(join(dir, 'run.cfg'), plain.xl);
    const dry = await tb.dom0.exec(`xl -v create -n ${join(dir, 'dev.cfg')} 2>/dev/null`, { timeoutMs: 60_000 });
    expect(dry.code).toBe(0);
    const theirs = JSON.parse(dry.stdout);
    const ours = JSON.parse(withDevices.libxl);
    expect(theirs.c_info.name).toBe(ours.c_info.name);
    expect(theirs.c_info.type).toBe(ours.c_info.type);
    for (const k of ['kernel', 'cmdline', 'max_memkb', 'target_memkb', 'max_vcpus']) expect(theirs.b_info[k], k).toBe(ours.b_info[k]);
    expect(theirs.b_info['type.pv']).toBeDefined();
    expect(theirs.disks.map((d: { pdev_path: string; vdev: string }) => [d.pdev_path, d.vdev])).toEqual(ours.disks.map((d: { pdev_path: string; vdev: string }) => [d.pdev_path, d.vdev]));
    expect(theirs.disks[0].readwrite ?? 0).toBe(ours.disks[0].readwrite);
    // xl fills in the default bridge (xenbr0) for the MAC-only vif.
    expect(theirs.nics.map((n: { bridge?: string; mac?: string }) => [n.bridge, n.mac ?? null])).toEqual([['xenbr0', null], ['xenbr0', '00:16:3e:00:00:07']]);
    expect(ours.nics).toEqual([{ bridge: 'xenbr0' }, { mac: '00:16:3e:00:00:07' }]);
    expect(theirs.pcidevs.map((p: { dev?: number; bus?: number; func?: number }) => [p.bus ?? 0, p.dev ?? 0, p.func ?? 0])).toEqual(ours.pcidevs.map((p: { bus: number; dev: number; func: number }) => [p.bus, p.dev, p.func]));
    // Start it with our xl.cfg alone; it is destroyed at poweroff; xenconsoled keeps its log.
    const ran = await tb.dom0.exec(`xl create ${join(dir, 'run.cfg')} && for i in $(seq 1 120); do xl domid hello-run >/dev/null 2>&1 || exit 0; sleep 1; done; exit 1`, { timeoutMs: 150_000 });
    expect(ran.code, ran.stdout + ran.stderr).toBe(0);
    await new Promise((r) => setTimeout(r, 500));
    const log = readFileSync(join(tb.runDir, 'xenlog', 'guest-hello-run.log'), 'utf8');
    expect(log).toContain('hello: argv[1] = via-xl-cfg');
    expect(log).toContain('Test result: SUCCESS');
  }, 300_000);

  /** The progress lines that say the addon (not xl) started the domain, through its direct builder. */
  function expectAddon(stderr: string, engine: 'direct' | 'libxl' = 'direct') {
    expect(stderr).toMatch(/^image-linker: xen: starting the domain through @rumpxen\/xen-control's Xen addon \(no xl\)$/m);
    expect(stderr).toMatch(new RegExp(`^image-linker: created \\S+ \\(domid [1-9]\\d*\\) through the addon's ${engine} path in \\d+ ms, config in xenstore /local/domain/\\d+/rumpxen/cfg; unpausing$`, 'm'));
    expect(stderr).not.toMatch(/xl create|falling back/);
  }

  it('run --on xen through the addon: created paused, the config in xenstore only, the console streamed, exit 0', async () => {
    expect(renderConfig({ image: hello, args: ['from-xenstore', 'two words'] }).cmdline).toBe(''); // not on the command line
    const r = await inDom0(`run ${hello} --on xen --timeout 120 -v -- from-xenstore 'two words'`);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines).toContain('hello from a rumpxen image');
    expect(lines).toContain('hello: argv[1] = from-xenstore');
    expect(lines).toContain('hello: argv[2] = two words');
    expect(lines.some((l) => /^hello: domain id [1-9]\d* /.test(l))).toBe(true);
    expect(lines).toContain('Test result: SUCCESS');
    expectAddon(r.stderr);
    expect(r.stderr).toMatch(/^image-linker: domain \d+ shut down: poweroff, exit status 0$/m);
    expect(r.stderr).toMatch(/^image-linker: xen \(addon\): Test result: SUCCESS.*\(exit 0, /m);
    // Streamed: the first line came out while the guest still ran, not all at the end.
    const first = r.chunks.findIndex((c) => c.includes('hello from a rumpxen image'));
    expect(first).toBeGreaterThanOrEqual(0);
    expect(r.chunks.slice(0, first + 1).join('')).not.toContain('Test result: SUCCESS');
    // The domain is gone afterwards.
    expect((await tb.dom0.exec('xl domid hello.xen-pv')).code).not.toBe(0);
  }, 240_000);

  it("run --on xen through the addon: main returning 7 gives exit code 7", async () => {
    const r = await inDom0(`run ${seven} --on xen --timeout 120 -v`);
    expect(r.stdout).toContain('returning 7');
    expect(r.stdout).toContain('rumpxen: exit 7');
    expectAddon(r.stderr);
    expect(r.stderr).toMatch(/^image-linker: domain \d+ shut down: crash, exit status 7$/m);
    expect(r.stderr).toMatch(/^image-linker: xen \(addon\): .*\(exit 7, /m);
    expect(r.code).toBe(7);
  }, 240_000);

  it('run --on xen falls back to xl when the addon cannot be loaded: main returning 7 still gives exit code 7', async () => {
    const r = await inDom0(`run ${seven} --on xen --timeout 120 -v`, { RUMPXEN_XEN_ADDON_DIR: '/nonexistent/addon' });
    expect(r.stdout).toContain('rumpxen: exit 7');
    expect(r.stderr).toMatch(/^image-linker: xen: the xen-control Xen addon cannot be used \(.*\/nonexistent\/addon\/rumpxen_xen\.node does not exist.*\); falling back to xl$/m);
    expect(r.stderr).toMatch(/^image-linker: xl create -p /m);
    expect(r.stderr).toMatch(/^image-linker: xen \(xl\): .*\(exit 7, /m);
    expect(r.code).toBe(7);
    expect((await tb.dom0.exec('xl domid seven.xen-pv')).code).not.toBe(0);
  }, 240_000);

  it('run --on xen through the addon: a guest that crashes gives exit code 6, and the domain is destroyed', async () => {
    const r = await inDom0(`run ${crash} --on xen --timeout 120 -v`);
    expect(r.stdout).toContain('crashing');
    expect(r.stdout).not.toMatch(/rumpxen: exit/);
    expectAddon(r.stderr);
    expect(r.stderr).toMatch(/^image-linker: domain \d+ shut down: crash$/m);
    expect(r.stderr).toMatch(/^image-linker: xen \(addon\): the guest crashed \(exit 6, /m);
    expect(r.code).toBe(6);
    expect((await tb.dom0.exec('xl domid crash.xen-pv')).code).not.toBe(0);
  }, 240_000);

  it('run --on xen through the addon: a guest that does not end is destroyed at --timeout, exit code 124', async () => {
    const r = await inDom0(`run ${spin} --on xen --timeout 5 -v`);
    expect(r.stdout, r.stderr).toContain('spinning');
    expectAddon(r.stderr);
    expect(r.stderr).toMatch(/timed out after 5 s/);
    expect(r.code).toBe(124);
    expect((await tb.dom0.exec('xl domid spin.xen-pv')).code).not.toBe(0);
  }, 240_000);

  it('run --on xen through the addon: a second domain of the same name is refused; SIGINT destroys the domain before the run dies of it', async () => {
    // In the background, then SIGINT once the guest has printed (trap - INT: a non-interactive
    // shell would start a background job with SIGINT ignored).
    const out = join(dir, 'sigint.out');
    const err = join(dir, 'sigint.err');
    const r = await tb.dom0.exec(
      [
        `(trap - INT; exec node packages/image-linker/dist/cli.js run ${spin} --on xen --timeout 120 -v >${out} 2>${err}) & pid=$!`,
        `for i in $(seq 1 300); do grep -q spinning ${out} && break; sleep 0.2; done`,
        'xl domid spin.xen-pv >/dev/null && echo alive-before',
        `node packages/image-linker/dist/cli.js run ${spin} --on xen --timeout 120 2>${err}.2; echo "second=$?"`,
        'kill -INT $pid; wait $pid; echo "rc=$?"',
        'xl domid spin.xen-pv >/dev/null 2>&1 && echo alive-after || echo gone-after',
      ].join('\n'),
      { cwd: repo, timeoutMs: 120_000 },
    );
    expect(r.stdout.split('\n'), r.stdout + r.stderr + readFileSync(err, 'utf8')).toEqual(['alive-before', 'second=1', 'rc=130', 'gone-after', '']);
    expect(readFileSync(`${err}.2`, 'utf8')).toMatch(/cannot be started as domain "spin\.xen-pv": domain \d+ already has that name.*xl destroy spin\.xen-pv/s);
    expect(readFileSync(out, 'utf8')).toContain('spinning');
    expectAddon(readFileSync(err, 'utf8'));
  }, 180_000);

  it('RUMPXEN_XEN_VIA=addon refuses the xl fallback; an unknown RUMPXEN_XEN_VIA is refused', async () => {
    const noAddon = await inDom0(`run ${hello} --on xen -v`, { RUMPXEN_XEN_VIA: 'addon', RUMPXEN_XEN_ADDON_DIR: '/nonexistent/addon' });
    expect(noAddon.code).toBe(1);
    expect(noAddon.stderr).toMatch(/cannot use @rumpxen\/xen-control's addon: .*\/nonexistent\/addon\/rumpxen_xen\.node does not exist.*RUMPXEN_XEN_VIA=auto or xl/s);
    expect(noAddon.stderr).not.toMatch(/xl create|falling back/);
    const bad = await inDom0(`run ${hello} --on xen`, { RUMPXEN_XEN_VIA: 'libvirt' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/RUMPXEN_XEN_VIA=libvirt: is not a way to start a domain\. Use auto .*, addon or xl\./);
  }, 240_000);

  it('run --on xen with RUMPXEN_XEN_VIA=xl uses xl, and without xl (RUMPXEN_XEN_BIN names a folder that lacks it) says what to install', async () => {
    const r = await inDom0(`run ${hello} --on xen -v`, { RUMPXEN_XEN_VIA: 'xl', RUMPXEN_XEN_BIN: '/nonexistent/xen-bin' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^image-linker: xen: starting the domain with xl \(asked for: RUMPXEN_XEN_VIA=xl/m);
    expect(r.stderr).not.toMatch(/addon/);
    expect(r.stderr).toMatch(/--on xen \(\/nonexistent\/xen-bin\/xl\).*xl was not found.*RUMPXEN_XEN_BIN/s);
  }, 120_000);

  it('run --on xen --pci: pci-passthrough checks each device before anything is created (absent, held by a host driver); edu on xen-pciback goes through', async () => {
    const absent = await inDom0(`run ${hello} --on xen --pci 0000:07:00.0 -v`);
    expect(absent.code, absent.stderr).toBe(2);
    expect(absent.stderr).toMatch(/^image-linker: pci: checking that xen-pciback holds 0000:07:00\.0$/m);
    expect(absent.stderr).toMatch(/0000:07:00\.0/);
    expect(absent.stderr).not.toMatch(/created|unpausing/);
    // A device dom0's own driver holds (virtio-pci): refused, naming the driver; with no domain made.
    const held = (await tb.dom0.exec('for d in /sys/bus/pci/devices/*; do [ "$(basename "$(readlink $d/driver)")" = virtio-pci ] && { basename $d; break; }; done')).stdout.trim();
    expect(held).toMatch(/^0000:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/);
    const bound = await inDom0(`run ${hello} --on xen --pci ${held}`);
    expect(bound.code, bound.stderr).toBe(2);
    expect(bound.stderr).toMatch(new RegExp(`${held.replace(/\./g, '\\.')}.*virtio-pci`, 's'));
    expect((await tb.dom0.exec('xl domid hello.xen-pv')).code).not.toBe(0);
    const edu = await inDom0(`run ${hello} --on xen --pci ${EDU_BDF} --timeout 120 -v`);
    expect(edu.stderr).toMatch(new RegExp(`^image-linker: pci: ${EDU_BDF.replace(/\./g, '\\.')} is on xen-pciback$`, 'm'));
    expect(edu.code, edu.stdout + edu.stderr).toBe(0);
    expect(edu.stdout.split('\n')).toContain('Test result: SUCCESS');
    // A device: the addon's libxl path (not the direct builder), with no xl.
    expectAddon(edu.stderr, 'libxl');
  }, 300_000);

  it('run --on auto picks the local Xen (there is /dev/xen/privcmd) rather than a testbed', async () => {
    const r = await inDom0(`run ${hello} --on auto --timeout 120 -v -- auto`);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout.split('\n')).toContain('hello: argv[1] = auto');
    expectAddon(r.stderr);
    expect(r.stderr).toMatch(/^image-linker: xen \(addon\): /m);
    expect(r.stderr).not.toMatch(/testbed|QEMU/i);
  }, 240_000);
});
