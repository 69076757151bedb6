import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BadKernelError, buildFixture, readKernelInfo, TestbedError, validateKernel, XEN_ELFNOTE } from '../src/index.js';

let fx: { pv: string; pvh: string };
let dir: string;
beforeAll(() => {
  fx = { pv: buildFixture({ kind: 'pv' }), pvh: buildFixture({ kind: 'pvh' }) };
  dir = mkdtempSync(join(tmpdir(), 'xen-testbed-elf-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function badKernelMessage(path: string, pvh = false): string {
  try {
    validateKernel(path, { pvh });
  } catch (e) {
    expect(e).toBeInstanceOf(BadKernelError);
    expect((e as BadKernelError).exitCode).toBe(2);
    return (e as Error).message;
  }
  throw new Error(`validateKernel accepted ${path}`);
}

describe('kernel checks', () => {
  it('reads the Xen notes of the PV fixture', () => {
    const info = readKernelInfo(fx.pv);
    expect(info).toMatchObject({ kind: 'elf', elfClass: 64, machine: 62 });
    expect(info.xenNotes.get(XEN_ELFNOTE.GUEST_OS)?.toString('latin1')).toBe('rumpxen-fixture\0');
    expect(info.xenNotes.has(XEN_ELFNOTE.HYPERCALL_PAGE)).toBe(true);
    expect(() => validateKernel(fx.pv, { pvh: false })).not.toThrow();
  });

  it('accepts the PVH fixture with --pvh and sends it there without', () => {
    expect(() => validateKernel(fx.pvh, { pvh: true })).not.toThrow();
    expect(badKernelMessage(fx.pvh)).toMatch(/32-bit ELF .*try --pvh/);
    expect(badKernelMessage(fx.pv, true)).toMatch(/no XEN_ELFNOTE_PHYS32_ENTRY.*boot it as PV/);
  });

  it('rejects a file that is not an ELF, naming it', () => {
    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'just some text\n');
    expect(badKernelMessage(text)).toMatch(new RegExp(`kernel ${text} is not an ELF file`));
  });

  it('rejects an ELF without Xen notes, and a missing file', () => {
    expect(badKernelMessage(process.execPath)).toMatch(/has no Xen ELF notes/);
    expect(badKernelMessage(join(dir, 'absent.elf'))).toMatch(/cannot open it \(ENOENT\)/);
  });
});

describe('buildFixture', () => {
  it('writes <outDir>/fixture-<kind>.elf (no temp files left) and reads its notes back', () => {
    const out = join(dir, 'fx-out');
    const pvh = buildFixture({ kind: 'pvh', outDir: out });
    expect(pvh).toBe(join(out, 'fixture-pvh.elf'));
    expect(readdirSync(out)).toEqual(['fixture-pvh.elf']);
    const info = readKernelInfo(pvh);
    expect(info).toMatchObject({ kind: 'elf', elfClass: 32, machine: 3 });
    expect(info.xenNotes.get(XEN_ELFNOTE.GUEST_OS)?.toString('latin1')).toBe('rumpxen-fixture-pvh\0');
  });

  it('refuses an unknown kind, naming it and the kinds there are', () => {
    expect(() => buildFixture({ kind: 'hvm' as never })).toThrow(TestbedError);
    expect(() => buildFixture({ kind: 'hvm' as never })).toThrow(/fixture kind 'hvm' is unknown: use 'pv' or 'pvh'/);
  });
});
