/**
 * rumpxen-cc on the host: its command line (what it passes, what it refuses and why, the
 * target from flags or the environment), and the bin run for real: -c makes an object
 * compiled against NetBSD's headers (a NetBSD-only declaration compiles, __NetBSD__ is set,
 * the code is not PIC), without -c a relocatable object (ld -r) of the program; errors name
 * the input and exit 2 (bad arguments) or 1 (a compile that fails). NetBSD's libc build is
 * made here when the cache lacks it (about two minutes on top of the kernel build).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildNetbsdLibc } from '@rumpxen/netbsd-build';
import { CC_USAGE, CcUsageError, parseCcArgs, type CcPlan } from '../src/cc.js';

const BIN = join(__dirname, '..', 'bin', 'rumpxen-cc.js');

function plan(args: string[], env: Record<string, string> = {}): CcPlan {
  const c = parseCcArgs(args, env);
  if (c.kind !== 'run') throw new Error('expected a plan');
  return c.plan;
}

function refusal(args: string[], env: Record<string, string> = {}): string {
  try {
    parseCcArgs(args, env);
  } catch (e) {
    expect(e).toBeInstanceOf(CcUsageError);
    return (e as Error).message;
  }
  throw new Error(`${args.join(' ')} was accepted`);
}

describe('parseCcArgs', () => {
  it('-c with gcc flags passed in order; the default target is xen-pv', () => {
    const p = plan(['-O2', '-g', '-Iinc', '-I', 'other', '-DX=1', '-D', 'Y', '-Wall', '-Werror', '-std=c99', '-c', 'a.c', 'b.S']);
    expect(p).toMatchObject({ target: 'xen-pv', compileOnly: true, sources: ['a.c', 'b.S'], output: undefined });
    expect(p.cflags).toEqual(['-O2', '-g', '-Iinc', '-I', 'other', '-DX=1', '-D', 'Y', '-Wall', '-Werror', '-std=c99']);
  });

  it('the target from --target, -target, --target= or $RUMPXEN_TARGET, in that order of precedence', () => {
    expect(plan(['--target', 'xen-pvh', '-c', 'a.c']).target).toBe('xen-pvh');
    expect(plan(['-target', 'xen-pvh', '-c', 'a.c']).target).toBe('xen-pvh');
    expect(plan(['--target=xen-pvh', '-c', 'a.c']).target).toBe('xen-pvh');
    expect(plan(['-c', 'a.c'], { RUMPXEN_TARGET: 'xen-pvh' }).target).toBe('xen-pvh');
    expect(plan(['--target', 'xen-pv', '-c', 'a.c'], { RUMPXEN_TARGET: 'xen-pvh' }).target).toBe('xen-pv');
    expect(refusal(['--target', 'posix', '-c', 'a.c'])).toMatch(/--target posix is not a target .* Use xen-pv or xen-pvh/);
    expect(refusal(['-c', 'a.c'], { RUMPXEN_TARGET: 'hvm' })).toMatch(/\$RUMPXEN_TARGET=hvm/);
  });

  it('a link: sources and objects in order, libc\'s own libraries dropped, others kept for ld -r', () => {
    const p = plan(['-o', 'app.o', 'main.c', 'util.o', 'libx.a', '-lm', '-lc', '-lpthread', '-L', 'lib', '-lfoo', '-pthread']);
    expect(p.compileOnly).toBe(false);
    expect(p.linkInputs).toEqual([{ source: 'main.c' }, { file: 'util.o' }, { file: 'libx.a' }]);
    expect(p.libraries).toEqual(['foo']);
    expect(p.libDirs).toEqual(['lib']);
    expect(p.cflags).toEqual(['-D_REENTRANT']);
  });

  it('refuses what cannot work in a guest, naming the flag and why', () => {
    expect(refusal(['-shared', '-o', 'x.so', 'a.c'])).toMatch(/-shared cannot be used .* one static program/);
    for (const f of ['-fPIC', '-fpic', '-fPIE', '-fpie']) expect(refusal([f, '-c', 'a.c'])).toMatch(new RegExp(`${f} cannot be used .*-fno-pic`));
    expect(refusal(['-pie', 'a.c'])).toMatch(/not position independent/);
    expect(refusal(['-m32', '-c', 'a.c'])).toMatch(/x86-64 only/);
    expect(refusal(['-E', 'a.c'])).toMatch(/-E cannot be used/);
    expect(refusal(['-Wl,--gc-sections', 'a.c'])).toMatch(/image-linker/);
    expect(refusal(['-c', 'a.cpp'])).toMatch(/a\.cpp is a C\+\+ source/);
    expect(refusal(['--frobnicate', '-c', 'a.c'])).toMatch(/--frobnicate is not a flag rumpxen-cc knows/);
    expect(refusal(['-c', 'a.c', 'b.o'])).toMatch(/b\.o is an object or archive, which -c does not use/);
    expect(refusal(['-c', '-o', 'x.o', 'a.c', 'b.c'])).toMatch(/one output for 2 sources/);
    expect(refusal(['-c'])).toMatch(/no source/);
    expect(refusal([])).toMatch(/no input files/);
    expect(refusal(['-o'])).toMatch(/-o needs a value/);
    expect(refusal(['notes.txt'])).toMatch(/notes\.txt is neither a flag nor/);
  });

  it('-MD needs -MF; one -c source gets -MT OBJ when it has none', () => {
    expect(refusal(['-MD', '-c', 'a.c'])).toMatch(/-MD\/-MMD needs -MF FILE/);
    expect(plan(['-MD', '-MF', 'a.d', '-c', 'a.c', '-o', 'out/a.o']).cflags).toEqual(['-MD', '-MF', 'a.d', '-MT', 'out/a.o']);
    expect(plan(['-MMD', '-MF', 'a.d', '-MT', 'x', '-c', 'a.c']).cflags).toEqual(['-MMD', '-MF', 'a.d', '-MT', 'x']);
    expect(refusal(['-MD', '-MF', 'd', '-c', 'a.c', 'b.c'])).toMatch(/needs -MT TARGET/);
  });

  it('--help', () => {
    expect(parseCcArgs(['-O2', '--help'])).toEqual({ kind: 'help' });
    expect(CC_USAGE).toMatch(/image-linker build APP\.o --libc netbsd/);
  });
});

describe('the rumpxen-cc bin', () => {
  let dir: string;
  beforeAll(async () => {
    expect(existsSync(join(__dirname, '..', 'dist', 'cc-cli.js')), 'build the package first: npm run build -w packages/netbsd-libc').toBe(true);
    await buildNetbsdLibc('xen-pv', { onProgress: (l) => console.error(l) });
    dir = mkdtempSync(join(tmpdir(), 'rumpxen-cc-test-'));
  }, 900_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function cc(args: string[]) {
    const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: dir, timeout: 600_000 });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  }

  it('--help prints the usage on stdout and exits 0', () => {
    const r = cc(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(CC_USAGE);
  });

  it('-c compiles against NetBSD\'s headers into SRC.o: __NetBSD__, a NetBSD-only function and errno, no PIC', () => {
    // reallocarr(3) and the EFTYPE errno exist in NetBSD's headers and not in glibc's.
    writeFileSync(join(dir, 'nb.c'), [
      '#include <errno.h>', '#include <stdlib.h>', '#include <stdio.h>',
      '#ifndef __NetBSD__', '#error not NetBSD', '#endif',
      '#ifdef __linux__', '#error linux', '#endif',
      'int nb_value = EFTYPE;',
      'int nb_grow(int **p) { return reallocarr(p, 4, sizeof(**p)); }',
      'int nb_print(void) { return printf("%d\\n", nb_value); }', '',
    ].join('\n'));
    const r = cc(['-O2', '-Wall', '-Werror', '-c', 'nb.c']);
    expect(r.code, r.stderr).toBe(0);
    const syms = execFileSync('nm', [join(dir, 'nb.o')], { encoding: 'utf8' });
    expect(syms).toMatch(/ D nb_value$/m);
    expect(syms).toMatch(/ U reallocarr$/m);
    expect(syms).not.toMatch(/_GLOBAL_OFFSET_TABLE_/);
    // EFTYPE is 79 in NetBSD's errno.h.
    const data = execFileSync('objdump', ['-s', '-j', '.data', join(dir, 'nb.o')], { encoding: 'utf8' });
    expect(data).toMatch(/0000 4f000000/);
  }, 120_000);

  it('without -c: a relocatable object of the sources and objects, for image-linker build', () => {
    writeFileSync(join(dir, 'main.c'), 'extern int nb_print(void);\nint main(void) { return nb_print(); }\n');
    const r = cc(['-O2', '-o', 'app.o', 'main.c', 'nb.o', '-lm']);
    expect(r.code, r.stderr).toBe(0);
    const header = execFileSync('readelf', ['-h', join(dir, 'app.o')], { encoding: 'utf8' });
    expect(header).toMatch(/Type:\s+REL \(Relocatable file\)/);
    const syms = execFileSync('nm', [join(dir, 'app.o')], { encoding: 'utf8' });
    expect(syms).toMatch(/ T main$/m);
    expect(syms).toMatch(/ T nb_print$/m);
    expect(syms).toMatch(/ U printf$/m);
  }, 120_000);

  it('a source that does not compile: exit 1, the source and gcc\'s message; bad flags exit 2', () => {
    writeFileSync(join(dir, 'bad.c'), 'int f(void) { return undeclared_name; }\n');
    const r = cc(['-c', 'bad.c']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad\.c does not compile/);
    expect(r.stderr).toMatch(/undeclared_name/);
    expect(existsSync(join(dir, 'bad.o'))).toBe(false);
    const f = cc(['-fPIC', '-c', 'nb.c']);
    expect(f.code).toBe(2);
    expect(f.stderr).toMatch(/^rumpxen-cc: -fPIC cannot be used for a rumpxen guest/);
  }, 120_000);
});
