/**
 * The guest toolchain contract, and every build that compiles guest C holding to it: the
 * flags are read back from what each build made (gcc records its code-generation switches in
 * DW_AT_producer with -g, or in .GCC.command.line with -frecord-gcc-switches), not from the
 * build scripts.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { guestCflags, guestKernelCflags, i386Cflags } from '../src/toolchain.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
let tmp: string;
let probes = 0;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'rumpxen-toolchain-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** One object's recorded command line (`GNU C17 12.2.0 -m… -f…`), split into switches. */
type CompileRecord = { object: string; switches: string[] };

/** The gcc records in a file: DW_AT_producer of each C compile unit, else .GCC.command.line. */
function records(file: string): CompileRecord[] {
  const out: CompileRecord[] = [];
  let object = file;
  const dwarf = execFileSync('readelf', ['--debug-dump=info', '--dwarf-depth=1', file], { encoding: 'utf8', maxBuffer: 1 << 26 });
  for (const line of dwarf.split('\n')) {
    const member = /^File: (.*)$/.exec(line);
    if (member) object = member[1]!;
    const producer = /DW_AT_producer\s*:(?:\s*\(indirect string, offset: 0x[0-9a-f]+\):)?\s*(GNU .*)$/.exec(line);
    if (producer) out.push({ object, switches: producer[1]!.trim().split(/\s+/) });
  }
  if (out.length > 0) return out;
  const strings = execFileSync('readelf', ['-p', '.GCC.command.line', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  for (const line of strings.split('\n')) {
    const m = /^\s*\[\s*[0-9a-f]+\]\s+(GNU C.*)$/.exec(line);
    if (m) out.push({ object: file, switches: m[1]!.trim().split(/\s+/) });
  }
  return out;
}

/**
 * The switches gcc records for `flags`: what it records compiling with them less what it
 * records without them (-nostdinc, a preprocessor option, is never recorded; -fno-pic is
 * folded into -fno-pie).
 */
function recordedFor(flags: readonly string[], m32 = false): string[] {
  const src = join(tmp, 'empty.c');
  writeFileSync(src, 'int rumpxen_toolchain_probe;\n');
  const recordOf = (extra: readonly string[]) => {
    const obj = join(tmp, `probe-${(probes += 1)}.o`);
    execFileSync('gcc', [...(m32 ? ['-m32'] : []), ...extra, '-frecord-gcc-switches', '-c', src, '-o', obj]);
    return records(obj)[0]!.switches;
  };
  const base = new Set(recordOf([]));
  return recordOf(flags).filter((s) => !base.has(s) && !s.startsWith('-frecord'));
}

function missing(record: CompileRecord, expected: readonly string[]): string[] {
  return expected.filter((f) => !record.switches.includes(f));
}

describe('the guest toolchain contract', () => {
  it('kernel flags are the application flags plus no builtins, no loop-to-memset, general registers only', () => {
    expect(guestKernelCflags.slice(0, guestCflags.length)).toEqual(guestCflags);
    expect(guestKernelCflags.slice(guestCflags.length)).toEqual(['-fno-builtin', '-fno-tree-loop-distribute-patterns', '-mgeneral-regs-only']);
    // Application code may use floating point and SSE.
    expect(guestCflags).not.toContain('-mgeneral-regs-only');
  });

  it('gcc takes it for x86-64, and for -m32 without the x86-64 code model', () => {
    expect(i386Cflags(guestKernelCflags)).toEqual(guestKernelCflags.filter((f) => f !== '-mcmodel=small'));
    expect(recordedFor(guestKernelCflags)).toEqual(expect.arrayContaining(['-mcmodel=small', '-mgeneral-regs-only']));
    const i386 = recordedFor(i386Cflags(guestKernelCflags), true);
    expect(i386).toContain('-mgeneral-regs-only');
    expect(i386).not.toContain('-mcmodel=small');
  });
});

describe('every build of guest C compiled with the contract (read back from its objects)', () => {
  // The leaf depends on nothing, while the packages that build guest C depend on it; so
  // their built files are read from the workspace by path (npm test builds everything first).
  const built = [
    { build: 'guest kernel, xen-pv (minios-binding c/build.sh)', file: 'packages/minios-binding/build/xen-pv/libmkernel.a', pkg: '@rumpxen/minios-binding' },
    { build: 'guest kernel, xen-pvh (minios-binding c/build.sh)', file: 'packages/minios-binding/build/xen-pvh/libmkernel.a', pkg: '@rumpxen/minios-binding' },
    { build: 'pcix (pci-passthrough c/build.sh)', file: 'packages/pci-passthrough/build/xen-pv/libpcix.a', pkg: '@rumpxen/pci-passthrough' },
    { build: 'conformance suite (hypercall-api c/CMakeLists.txt)', file: 'packages/hypercall-api/build/libconformance.a', pkg: '@rumpxen/hypercall-api' },
  ];
  it.each(built)('$build: every C object has the kernel flags', ({ file, pkg }) => {
    const path = join(root, file);
    if (!existsSync(path)) throw new Error(`${path} is missing: build it first (npx nx run ${pkg}:build)`);
    const members = execFileSync('ar', ['t', path], { encoding: 'utf8' }).trim().split('\n');
    const found = records(path);
    // Every member carries a record (assembly ones say GNU AS), so none escapes the check.
    expect(found.map((r) => r.object.replace(/^.*\((.*)\)$/, '$1')).sort()).toEqual([...members].sort());
    const expected = recordedFor(guestKernelCflags);
    const c = found.filter((r) => r.switches[1]?.startsWith('C'));
    expect(c.length).toBeGreaterThan(0);
    expect(c.map((r) => ({ object: r.object, missing: missing(r, expected) }))).toEqual(c.map((r) => ({ object: r.object, missing: [] })));
  });

  it.each([
    { kind: 'pv' as const, m32: false },
    { kind: 'pvh' as const, m32: true },
  ])('testbed fixture $kind (xen-testbed buildFixture): its C objects have the kernel flags', async ({ kind, m32 }) => {
    // Loaded at run time by name: a static import would make the leaf depend on the testbed.
    const testbedName = '@rumpxen/xen-testbed';
    const testbed = (await import(testbedName)) as { buildFixture(o: { kind: 'pv' | 'pvh'; outDir: string }): string };
    const image = testbed.buildFixture({ kind, outDir: join(tmp, 'fixtures') });
    const found = records(image).filter((r) => r.switches[1]?.startsWith('C'));
    expect(found.length, `${image} holds no record of how its C was compiled`).toBeGreaterThan(0);
    const expected = recordedFor(m32 ? i386Cflags(guestKernelCflags) : guestKernelCflags, m32);
    for (const r of found) expect(missing(r, expected), r.switches.join(' ')).toEqual([]);
  });
});
