import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FREESTANDING, aarch64Object, cli, compile, targetFile, workdir, COMPONENT_C, archive } from './helpers.js';

// Every case: exit code 2, one paragraph on stderr that names the input and says what to do,
// and no image (or temp file) left behind.
let dir: string;
let target: string;
let main: string;
const out = () => join(dir, 'out.img');

function expectBadInput(args: string[], input: RegExp, problem: RegExp) {
  const r = cli(args);
  expect(r.code, r.stderr).toBe(2);
  const text = r.stderr.trim();
  expect(text.split('\n')).toHaveLength(1); // one paragraph
  expect(text).toMatch(input);
  expect(text).toMatch(problem);
  expect(existsSync(out())).toBe(false);
  expect(readdirSync(dir).filter((n) => n.includes('.tmp-'))).toEqual([]);
  return text;
}

beforeAll(() => {
  dir = workdir('bad');
  target = targetFile(dir, 'pv');
  main = compile(dir, 'main.c', 'int main(void) { return 0; }', FREESTANDING);
});

describe('bad input: exit 2, named input, a fix, no output', () => {
  it('not an ELF file', () => {
    const f = join(dir, 'notes.txt');
    writeFileSync(f, 'hello\n');
    expectBadInput(['build', main, f, '--target', target, '-o', out()], /notes\.txt: /, /neither an ELF object nor an ar archive\..*Pass x86-64 relocatable objects/);
  });

  it('an AArch64 object', () => {
    const f = join(dir, 'arm.o');
    writeFileSync(f, aarch64Object());
    expectBadInput(['build', main, f, '--target', target, '-o', out()], /arm\.o: /, /for AArch64, but every target here is x86-64\. Recompile it for x86-64/);
  });

  it('an AArch64 object inside an archive names the member', () => {
    const f = join(dir, 'm.o');
    writeFileSync(f, aarch64Object());
    const lib = join(dir, 'libarm.a');
    execFileSync('ar', ['rcS', lib, f]);
    expectBadInput(['build', main, lib, '--target', target, '-o', out()], /libarm\.a\(m\.o\): /, /AArch64/);
  });

  it('a shared object', () => {
    const so = join(dir, 'libshared.so');
    writeFileSync(join(dir, 's.c'), 'int s(void) { return 1; }');
    execFileSync('gcc', ['-shared', '-fPIC', join(dir, 's.c'), '-o', so]);
    expectBadInput(['build', main, so, '--target', target, '-o', out()], /libshared\.so: /, /is a shared object.*Pass the static archive \(\.a\)/);
  });

  it('no main', () => {
    const lib = compile(dir, 'lib.c', 'int helper(void) { return 1; }', FREESTANDING);
    expectBadInput(['build', lib, '--target', target, '-o', out()], /lib\.o/, /define no function main.*Add the object that defines main/);
  });

  it('undefined symbols: each listed with who needs it and which component provides it', () => {
    const needs = compile(dir, 'needs.c', 'long touch_vfs(void); int absent_fn(void); int main(void) { return (int)touch_vfs() + absent_fn(); }', FREESTANDING);
    const sysroot = join(dir, 'sysroot');
    execFileSync('mkdir', ['-p', join(sysroot, 'lib')]);
    archive(join(sysroot, 'lib'), 'librumpvfs.a', [compile(dir, 'vfs.c', COMPONENT_C('vfs'), FREESTANDING)]);
    const text = expectBadInput(['build', needs, '--target', target, '--sysroot', sysroot, '-o', out()], /needs\.o/, /need 2 symbols that nothing defines when linked for target xen-pv/);
    expect(text).toMatch(/touch_vfs \(needed by \S*needs\.o; provided by \S*sysroot\/lib\/librumpvfs\.a \(add --component \S*librumpvfs\.a\)\)/);
    expect(text).toMatch(/absent_fn \(needed by \S*needs\.o; defined by no input, component, target library or sysroot archive\)/);
    // And with the component added, it links (the hint was right); only absent_fn is left.
    const r = cli(['build', needs, '--target', target, '--sysroot', sysroot, '--component', 'rumpvfs', '-o', out()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/needs 1 symbol that nothing defines.*absent_fn/);
  });

  it("a component name that the target's NetBSD build lacks, and one the sysroot lacks", () => {
    // Without --sysroot a name is a component of the target's NetBSD build (npm test built it).
    expectBadInput(['build', main, '--target', target, '--component', 'rumpnosuch', '-o', out()], /component "rumpnosuch": /, /is not among the \d+ components of this NetBSD build/);
    const empty = join(dir, 'empty-sysroot');
    execFileSync('mkdir', ['-p', join(empty, 'lib')]);
    expectBadInput(['build', main, '--target', target, '--sysroot', empty, '--component', 'rumpnet', '-o', out()], /--component rumpnet: /, /was not found in sysroot .*librumpnet\.a/);
  });

  it('an unknown target', () => {
    expectBadInput(['build', main, '--target', 'xen-hvm', '-o', out()], /target "xen-hvm"/, /is not a known target\. Use one of: xen-pv, xen-pvh, posix\./);
  });

  it('config of a posix image (a host program has no domain config), writing nothing', async () => {
    const { resolveTarget, compileSources } = await import('../src/index.js');
    const def = resolveTarget('posix');
    writeFileSync(join(dir, 'host.c'), '#include <rumpuser.h>\nint main(void) { return 0; }\n');
    const [obj] = await compileSources([join(dir, 'host.c')], def, join(dir, 'hostobj'));
    const img = join(dir, 'host.posix');
    expect(cli(['build', obj!, '--target', 'posix', '-o', img]).code).toBe(0);
    const r = cli(['config', img]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/host\.posix: is a posix image \(a host program\), which has no domain config\. Run it with image-linker run, or build it for xen-pv or xen-pvh/);
    expect(readdirSync(dir).filter((n) => n.startsWith('host.posix.'))).toEqual([]);
  });

  it('a disk file that does not exist', () => {
    const img = join(dir, 'img');
    expect(cli(['build', main, '--target', target, '-o', img]).code).toBe(0);
    const r = cli(['config', img, '--disk', join(dir, 'missing.img') + ',xvdb', '--format', 'xl']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--disk \S*missing\.img,xvdb: refers to \S*missing\.img, which does not exist\. Create the disk image first/);
    expect(r.stdout).toBe('');
    const run = cli(['run', img, '--disk', join(dir, 'missing.img'), '--on', 'testbed']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/missing\.img, which does not exist/);
  });

  it('a bad manifest: unknown key, wrong type, missing target, bad JSON', () => {
    const m = join(dir, 'rumpxen.json');
    writeFileSync(m, JSON.stringify({ target: 'xen-pv', inputs: [main], memroy: 64 }));
    expectBadInput(['build', m, '-o', out()], /rumpxen\.json: key "memroy"/, /is not a manifest key\. Did you mean "memory"\?/);
    writeFileSync(m, JSON.stringify({ target: 'xen-pv', inputs: [main], memory: '64M' }));
    expectBadInput(['build', m], /key "memory"/, /must be a positive whole number, not "64M"\. Write the memory in MiB as a whole number, e\.g\. 64\./);
    writeFileSync(m, JSON.stringify({ inputs: [main] }));
    expectBadInput(['build', m], /key "target"/, /is missing\. Add "target": one of "xen-pv", "xen-pvh", "posix"/);
    writeFileSync(m, JSON.stringify({ target: 'xen-pv', inputs: [main], devices: { disk: ['x.img'] } }));
    expectBadInput(['run', m], /key "devices\.disk"/, /is not a device kind\. .*did you mean "disks"\?/);
    writeFileSync(m, '{ "target": "xen-pv", }');
    expectBadInput(['build', m], /rumpxen\.json: /, /is not valid JSON.*Fix the JSON syntax/);
  });

  it('--on xen where there is no Xen host', () => {
    const img = join(dir, 'img-onxen');
    expect(cli(['build', main, '--target', target, '-o', img]).code).toBe(0);
    const r = cli(['run', img, '--on', 'xen']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--on xen: needs a Xen host, but \/dev\/xen\/privcmd does not exist here\. Use --on testbed/);
  });

  it('usage mistakes are bad input too', () => {
    expectBadInput(['build', main, '-o', out()], /image-linker: /, /build needs --target/);
    expectBadInput(['frobnicate'], /image-linker: /, /no command "frobnicate"/);
    expectBadInput(['inspect', main, '--disk', 'x'], /image-linker: /, /inspect does not take --disk/);
  });
});
