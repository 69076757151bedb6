import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeXenNote, parseElf, readArchive, targetFromNotes, xenNotes, ImageLinkerError } from '../src/index.js';
import { archive, compile, workdir, xenTarget } from './helpers.js';

const SRC = `
int counter = 7;
static int hidden;
__attribute__((weak)) int soft(void) { return 1; }
extern int elsewhere(int);
int visible(int x) { hidden += x; return elsewhere(x) + counter + hidden; }
__attribute__((section("link_set_demo"), used)) static const int *entry = &counter;
`;

describe('ELF reader', () => {
  it('reads the same sections and symbols as binutils', () => {
    const dir = workdir('elf');
    const obj = compile(dir, 'sym.c', SRC);
    const elf = parseElf(readFileSync(obj), obj);
    expect(elf.kind).toBe('relocatable');
    expect(elf.machineName).toBe('x86-64');
    // Section names and sizes against readelf -S.
    const readelf = execFileSync('readelf', ['-SW', obj]).toString();
    const theirs = [...readelf.matchAll(/^\s*\[\s*(\d+)\]\s+(\S+)\s+\S+\s+[0-9a-f]+\s+[0-9a-f]+\s+([0-9a-f]+)/gm)].map((m) => [Number(m[1]), m[2], BigInt(`0x${m[3]}`)]).filter((r) => r[0] !== 0);
    const ours = elf.sections.filter((s) => s.index > 0).map((s) => [s.index, s.name, s.size]);
    expect(ours).toEqual(theirs);
    // Global symbols with their binding and definedness against nm.
    const nm = execFileSync('nm', ['-g', obj]).toString().trim().split('\n').map((l) => l.trim().split(/\s+/).slice(-2).join(' ')).sort();
    const mine = elf.symbols
      .filter((s) => s.binding !== 'local')
      .map((s) => `${s.shndx === 0 ? 'U' : s.binding === 'weak' ? 'W' : s.section === '.text' ? 'T' : 'D'} ${s.name}`)
      .sort();
    expect(mine).toEqual(nm);
    expect(elf.sections.some((s) => s.name === 'link_set_demo')).toBe(true);
  });

  it('reads an ar archive member by member, as ar t lists them', () => {
    const dir = workdir('ar');
    const objs = ['a', 'b', 'a-member-name-longer-than-sixteen-chars'].map((n) => compile(dir, `${n}.c`, `int f_${n.replace(/-/g, '_')}(void) { return 1; }`));
    const lib = archive(dir, 'libx.a', objs);
    const members = readArchive(readFileSync(lib), lib);
    expect(members.map((m) => m.name)).toEqual(execFileSync('ar', ['t', lib]).toString().trim().split('\n'));
    for (const m of members) expect(parseElf(m.data, m.name).kind).toBe('relocatable');
  });

  it('decodes Xen notes by type number: strings and numbers, PV vs PVH vs none', () => {
    // The real targets' start objects (minios-binding's xen-pv and xen-pvh).
    const pv = parseElf(readFileSync(xenTarget('pv').startObject!), 'start-pv.o');
    const notes = xenNotes(pv.notes);
    expect(notes.find((n) => n.type === 6)).toMatchObject({ type: 6, name: 'GUEST_OS', value: 'rumpxen' });
    expect(notes.find((n) => n.type === 3)).toMatchObject({ type: 3, name: 'VIRT_BASE', value: 0n });
    expect(targetFromNotes(notes)).toBe('xen-pv');
    const pvh = parseElf(readFileSync(xenTarget('pvh').startObject!), 'start-pvh.o');
    expect(targetFromNotes(xenNotes(pvh.notes))).toBe('xen-pvh');
    expect(targetFromNotes([...notes, ...xenNotes(pvh.notes)])).toBe('xen-pv+pvh');
    expect(targetFromNotes([])).toBe('posix');
    // A 4-byte numeric descriptor (PHYS32_ENTRY is 32-bit) and an unknown type.
    expect(decodeXenNote({ owner: 'Xen', type: 18, desc: new Uint8Array([0x00, 0x10, 0x20, 0x00]), source: 't' }).value).toBe(0x201000n);
    expect(decodeXenNote({ owner: 'Xen', type: 99, desc: new Uint8Array([1, 2]), source: 't' })).toEqual({ type: 99, name: 'UNKNOWN_99', value: '0102', raw: '0102' });
    expect(decodeXenNote({ owner: 'Xen', type: 13, desc: new Uint8Array(16).fill(0xff), source: 't' }).value).toEqual([0xffffffffffffffffn, 0xffffffffffffffffn]);
  });

  it('reads segments of a linked program as readelf -l does', () => {
    const dir = workdir('seg');
    const exe = join(dir, 'prog');
    writeFileSync(join(dir, 'p.c'), 'int main(void) { return 0; }');
    execFileSync('gcc', [join(dir, 'p.c'), '-o', exe]);
    const elf = parseElf(readFileSync(exe), exe);
    const theirs = execFileSync('readelf', ['-lW', exe]).toString().match(/^\s+(LOAD|INTERP|DYNAMIC|NOTE|GNU_\w+|PHDR|TLS)\s/gm)!.map((s) => s.trim());
    expect(elf.segments.map((s) => s.typeName)).toEqual(theirs);
  });

  it('rejects files that are not ELF and truncated ELF headers with the file named', () => {
    expect(() => parseElf(new TextEncoder().encode('#!/bin/sh\necho hi\n'), 'script.sh')).toThrow(/script\.sh: is not an ELF file/);
    const trunc = new Uint8Array(40);
    trunc.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
    expect(() => parseElf(trunc, 'short.o')).toThrow(ImageLinkerError);
    expect(() => parseElf(trunc, 'short.o')).toThrow(/short\.o: is truncated/);
  });
});
