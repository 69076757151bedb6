import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseElf, protocolIncludeDir, XEN_ELFNOTE as PROTOCOL_XEN_ELFNOTE, XENFEAT_DOM0 } from '@rumpxen/protocol';
import { buildFixture, fixtureSourceDir, readKernelInfo, TestbedError, validateKernel, XEN_ELFNOTE } from '../src/index.js';
import { kernelRefusal } from './kernel-refusal.js';

let fx: { pv: string; pvh: string };
let dir: string;
beforeAll(() => {
  fx = { pv: buildFixture({ kind: 'pv' }), pvh: buildFixture({ kind: 'pvh' }) };
  dir = mkdtempSync(join(tmpdir(), 'xen-testbed-elf-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

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
    expect(kernelRefusal(fx.pvh)).toMatch(/32-bit ELF .*try --pvh/);
    expect(kernelRefusal(fx.pv, true)).toMatch(/no XEN_ELFNOTE_PHYS32_ENTRY.*boot it as PV/);
  });

  it('rejects a file that is not an ELF, naming it', () => {
    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'just some text\n');
    expect(kernelRefusal(text)).toMatch(new RegExp(`kernel ${text} is not an ELF file`));
  });

  it('rejects an ELF without Xen notes, and a missing file', () => {
    expect(kernelRefusal(process.execPath)).toMatch(/has no Xen ELF notes/);
    expect(kernelRefusal(join(dir, 'absent.elf'))).toMatch(/cannot open it \(ENOENT\)/);
  });
});

describe("one ELF reader (@rumpxen/protocol's)", () => {
  it('reads a last Xen note whose descriptor is not padded to 4 bytes, as the image-linker reads it', () => {
    // Two notes in a PT_NOTE segment that ends right after "abc", the second note's descriptor.
    const src = join(dir, 'unpadded.S');
    writeFileSync(src, [
      '.text', '.globl _start', '_start: hlt',
      '.pushsection .note.Xen, "a", @note', '.p2align 2',
      '.long 4, 8, 5', '.asciz "Xen"', '.asciz "xen-3.0"',
      '.long 4, 3, 6', '.asciz "Xen"', '.ascii "abc"',
      '.popsection', '',
    ].join('\n'));
    const obj = join(dir, 'unpadded.o');
    const elf = join(dir, 'unpadded.elf');
    execFileSync('gcc', ['-c', src, '-o', obj]);
    execFileSync('ld', ['-static', '-nostdlib', '-z', 'noexecstack', '-o', elf, obj]);
    const info = readKernelInfo(elf);
    expect([...info.xenNotes.keys()]).toEqual([XEN_ELFNOTE.XEN_VERSION, XEN_ELFNOTE.GUEST_OS]);
    expect(info.xenNotes.get(XEN_ELFNOTE.GUEST_OS)?.toString('latin1')).toBe('abc');
    const inMemory = parseElf(readFileSync(elf), elf).notes.filter((n) => n.owner === 'Xen');
    expect(info.xenNoteList.map((n) => [n.type, n.desc.toString('hex')])).toEqual(inMemory.map((n) => [n.type, Buffer.from(n.desc).toString('hex')]));
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
