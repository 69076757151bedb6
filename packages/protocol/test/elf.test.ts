/**
 * The one ELF reader: a whole ELF64 file in memory (parseElf, strict) and the parts of a
 * kernel by positional reads (FileSource + readElfHeader/Segments/Sections, readLoaderNotes,
 * lenient), checked against binutils and against hand-made files.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ElfFormatError,
  FileSource,
  PT_NOTE,
  memorySource,
  parseElf,
  protocolIncludeDir,
  readArchive,
  readElfHeader,
  readElfSections,
  readElfSegments,
  readLoaderNotes,
  readNotes,
  readXenLoaderNotes,
} from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'protocol-elf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** One ELF note: owner, type, descriptor; `pad` false leaves the descriptor unpadded (a segment's last note). */
function note(owner: string, type: number, desc: Uint8Array | string, pad = true): Buffer {
  const name = Buffer.from(`${owner}\0`, 'latin1');
  const d = typeof desc === 'string' ? Buffer.from(`${desc}\0`, 'latin1') : Buffer.from(desc);
  const align = (b: Buffer) => Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
  const head = Buffer.alloc(12);
  head.writeUInt32LE(name.length, 0);
  head.writeUInt32LE(d.length, 4);
  head.writeUInt32LE(type, 8);
  return Buffer.concat([head, align(name), pad ? align(d) : d]);
}

/** An ELF executable with one PT_NOTE segment holding `notes` and no section headers. */
function elfWithNoteSegment(elfClass: 32 | 64, notes: Buffer): Buffer {
  const is64 = elfClass === 64;
  const ehsize = is64 ? 64 : 52;
  const phentsize = is64 ? 56 : 32;
  const h = Buffer.alloc(ehsize + phentsize);
  h.set([0x7f, 0x45, 0x4c, 0x46, is64 ? 2 : 1, 1, 1]);
  h.writeUInt16LE(2, 16); // ET_EXEC
  h.writeUInt16LE(is64 ? 62 : 3, 18);
  h.writeUInt32LE(1, 20);
  const at = ehsize + phentsize;
  if (is64) {
    h.writeBigUInt64LE(0x100000n, 24);
    h.writeBigUInt64LE(BigInt(ehsize), 32);
    h.writeUInt16LE(ehsize, 52);
    h.writeUInt16LE(phentsize, 54);
    h.writeUInt16LE(1, 56);
    h.writeUInt16LE(64, 58);
    const p = ehsize;
    h.writeUInt32LE(PT_NOTE, p);
    h.writeUInt32LE(4, p + 4);
    h.writeBigUInt64LE(BigInt(at), p + 8);
    h.writeBigUInt64LE(BigInt(notes.length), p + 32);
    h.writeBigUInt64LE(BigInt(notes.length), p + 40);
    h.writeBigUInt64LE(4n, p + 48);
  } else {
    h.writeUInt32LE(0x100000, 24);
    h.writeUInt32LE(ehsize, 28);
    h.writeUInt16LE(ehsize, 40);
    h.writeUInt16LE(phentsize, 42);
    h.writeUInt16LE(1, 44);
    h.writeUInt16LE(40, 46);
    const p = ehsize;
    h.writeUInt32LE(PT_NOTE, p);
    h.writeUInt32LE(at, p + 4);
    h.writeUInt32LE(notes.length, p + 16);
    h.writeUInt32LE(notes.length, p + 20);
    h.writeUInt32LE(4, p + 24);
    h.writeUInt32LE(4, p + 28);
  }
  return Buffer.concat([h, notes]);
}

function write(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

/** Assembles a .S file that uses XEN_NOTE (rumpxen/xen_note.h) into an object, optionally linked. */
function assemble(name: string, source: string, opts: { m32?: boolean; link?: boolean } = {}): string {
  const src = write(`${name}.S`, Buffer.from(source));
  const obj = join(dir, `${name}.o`);
  execFileSync('gcc', [...(opts.m32 ? ['-m32'] : []), '-nostdinc', '-I', protocolIncludeDir, '-c', src, '-o', obj]);
  if (!opts.link) return obj;
  const exe = join(dir, `${name}.elf`);
  execFileSync('ld', [...(opts.m32 ? ['-m', 'elf_i386'] : []), '-static', '-nostdlib', '-z', 'noexecstack', '-e', 'start', '-o', exe, obj]);
  return exe;
}

const KERNEL_S = `#include <rumpxen/xen_note.h>
XEN_NOTE(XEN_ELFNOTE_GUEST_OS, .asciz "protocol-test")
XEN_NOTE(XEN_ELFNOTE_XEN_VERSION, .asciz "xen-3.0")
XEN_NOTE(XEN_ELFNOTE_PHYS32_ENTRY, .long start)
.pushsection .note.other, "a", @note
.long 4, 4, 1
.asciz "GNU"
.long 7
.popsection
.text
.globl start
start:
	hlt
`;

describe('parseElf (a whole ELF64 file, strict)', () => {
  it('reads the sections and symbols binutils reads', () => {
    const src = write('sym.c', Buffer.from('int counter = 7; static int hidden; extern int elsewhere(int);\n__attribute__((weak)) int soft(void) { return 1; }\nint visible(int x) { hidden += x; return elsewhere(x) + counter + hidden; }\n'));
    const obj = join(dir, 'sym.o');
    execFileSync('gcc', ['-c', src, '-o', obj]);
    const elf = parseElf(readFileSync(obj), obj);
    expect(elf).toMatchObject({ kind: 'relocatable', machineName: 'x86-64' });
    const readelf = execFileSync('readelf', ['-SW', obj]).toString();
    const theirs = [...readelf.matchAll(/^\s*\[\s*(\d+)\]\s+(\S+)\s+\S+\s+[0-9a-f]+\s+[0-9a-f]+\s+([0-9a-f]+)/gm)].map((m) => [Number(m[1]), m[2], BigInt(`0x${m[3]}`)]).filter((r) => r[0] !== 0);
    expect(elf.sections.filter((s) => s.index > 0).map((s) => [s.index, s.name, s.size])).toEqual(theirs);
    const nm = execFileSync('nm', ['-g', obj]).toString().trim().split('\n').map((l) => l.trim().split(/\s+/).slice(-2).join(' ')).sort();
    const ours = elf.symbols.filter((s) => s.binding !== 'local').map((s) => `${s.shndx === 0 ? 'U' : s.binding === 'weak' ? 'W' : s.section === '.text' ? 'T' : 'D'} ${s.name}`).sort();
    expect(ours).toEqual(nm);
  });

  it('reads notes from note sections, each named by its section', () => {
    const obj = assemble('notes64', KERNEL_S);
    const notes = parseElf(readFileSync(obj), obj).notes;
    expect(notes.map((n) => [n.owner, n.type, n.source])).toEqual([['Xen', 6, '.note.Xen'], ['Xen', 5, '.note.Xen'], ['Xen', 18, '.note.Xen'], ['GNU', 1, '.note.other']]);
    expect(Buffer.from(notes[0]!.desc).toString('latin1')).toBe('protocol-test\0');
  });

  it('reads only the header of a file that is not ELF64 little-endian', () => {
    const elf = parseElf(elfWithNoteSegment(32, note('Xen', 6, 'x')), 'k32');
    expect(elf).toMatchObject({ kind: 'executable', machine: 3, machineName: 'i386', sections: [], segments: [], notes: [] });
  });

  it('refuses a file that is not ELF, a truncated one and a note past its section, naming the file (ElfFormatError, or the caller\'s error)', () => {
    expect(() => parseElf(Buffer.from('#!/bin/sh\n'), 'script.sh')).toThrow(/^script\.sh: is not an ELF file/);
    const trunc = new Uint8Array(40);
    trunc.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
    expect(() => parseElf(trunc, 'short.o')).toThrow(ElfFormatError);
    expect(() => parseElf(trunc, 'short.o')).toThrow(/short\.o: is truncated: the ELF64 header lies past the end of the file \(40 bytes\)/);
    class Mine extends Error {}
    expect(() => parseElf(trunc, 'short.o', { error: (f, p) => new Mine(`${f} ${p}`) })).toThrow(Mine);
    const bad = note('Xen', 6, 'abcdefgh').subarray(0, 18);
    expect(() => readNotes(bad, '.note.Xen', 'img')).toThrow(/img: has a malformed note in \.note\.Xen: a note runs past the end of its section/);
  });

  it('reads ar archives member by member, as ar t lists them', () => {
    const objs = ['a', 'b', 'a-member-name-longer-than-sixteen-chars'].map((n) => {
      const src = write(`${n}.c`, Buffer.from(`int f_${n.replace(/-/g, '_')}(void) { return 1; }\n`));
      const obj = join(dir, `${n}.o`);
      execFileSync('gcc', ['-c', src, '-o', obj]);
      return obj;
    });
    const lib = join(dir, 'libx.a');
    execFileSync('ar', ['rcs', lib, ...objs]);
    const members = readArchive(readFileSync(lib), lib);
    expect(members.map((m) => m.name)).toEqual(execFileSync('ar', ['t', lib]).toString().trim().split('\n'));
    expect(() => readArchive(Buffer.from('not an archive'), 'x.a')).toThrow(/x\.a: is not an ar archive/);
  });
});

describe('a kernel by positional reads (lenient)', () => {
  it('reads a 32-bit and a 64-bit kernel\'s header, segments, sections and Xen notes as readelf does', () => {
    for (const m32 of [true, false]) {
      const exe = assemble(m32 ? 'k32' : 'k64', KERNEL_S, { m32, link: true });
      const file = FileSource.open(exe);
      try {
        const h = readElfHeader(file.read(0, 64));
        expect(h).toMatchObject({ elfClass: m32 ? 32 : 64, littleEndian: true, kind: 'executable', machine: m32 ? 3 : 62 });
        const readelfSegments = execFileSync('readelf', ['-lW', exe]).toString().match(/^\s+(LOAD|NOTE|GNU_\w+)\s/gm)!.map((s) => s.trim());
        expect(readElfSegments(file, h).map((s) => s.typeName)).toEqual(readelfSegments);
        expect(readElfSections(file, h).map((s) => s.name)).toContain('.note.Xen');
        const notes = readXenLoaderNotes(file, h, exe);
        expect(notes.map((n) => [n.type, n.source])).toEqual([[6, 'PT_NOTE'], [5, 'PT_NOTE'], [18, 'PT_NOTE']]);
        const start = Number.parseInt(execFileSync('nm', [exe]).toString().match(/^([0-9a-f]+) T start$/m)![1]!, 16);
        expect(new DataView(notes[2]!.desc.buffer, notes[2]!.desc.byteOffset).getUint32(0, true)).toBe(start);
      } finally {
        file.close();
      }
    }
  });

  it('takes the PT_NOTE segments\' notes, and the SHT_NOTE sections\' when the segments hold no Xen note', () => {
    const obj = assemble('sections-only', KERNEL_S);
    const src = memorySource(readFileSync(obj));
    const h = readElfHeader(src.read(0, 64));
    expect(readElfSegments(src, h)).toEqual([]);
    expect(readXenLoaderNotes(src, h, obj).map((n) => [n.type, n.source])).toEqual([[6, '.note.Xen'], [5, '.note.Xen'], [18, '.note.Xen']]);
    // A PT_NOTE with only a GNU note: Xen's notes come from the sections.
    const gnuOnly = elfWithNoteSegment(64, note('GNU', 1, new Uint8Array(4)));
    const g = memorySource(gnuOnly);
    expect(readLoaderNotes(g, readElfHeader(gnuOnly), 'g').map((n) => n.owner)).toEqual(['GNU']);
    expect(readXenLoaderNotes(g, readElfHeader(gnuOnly), 'g')).toEqual([]);
  });

  it('keeps the notes before a damaged one and reads no further, without an error', () => {
    const good = note('Xen', 6, 'guest');
    const damaged = Buffer.concat([good, note('Xen', 5, 'xen-3.0').subarray(0, 16)]);
    expect(readNotes(damaged, 'PT_NOTE', 'k', { lenient: true }).map((n) => n.type)).toEqual([6]);
    const longName = Buffer.concat([good, note('X'.repeat(300), 7, 'v')]);
    expect(readNotes(longName, 'PT_NOTE', 'k', { lenient: true }).map((n) => n.type)).toEqual([6]);
  });

  it('reads a last note whose descriptor is not padded the same way in memory and by positional reads', () => {
    const bytes = elfWithNoteSegment(64, Buffer.concat([note('Xen', 5, 'xen-3.0'), note('Xen', 6, Buffer.from('abc'), false)]));
    expect(bytes.length % 4).not.toBe(0);
    const path = write('unpadded.elf', bytes);
    const inMemory = parseElf(bytes, path).notes;
    const file = FileSource.open(path);
    try {
      const positional = readXenLoaderNotes(file, readElfHeader(file.read(0, 64)), path);
      expect(positional).toEqual(inMemory);
      expect(positional.map((n) => [n.type, Buffer.from(n.desc).toString('latin1')])).toEqual([[5, 'xen-3.0\0'], [6, 'abc']]);
    } finally {
      file.close();
    }
  });

  it('reads past the end of a file short, and never more than asked', () => {
    const path = write('ten', Buffer.from('0123456789'));
    const file = FileSource.open(path);
    try {
      expect(file.size).toBe(10);
      expect(Buffer.from(file.read(6, 100)).toString()).toBe('6789');
      expect(file.read(20, 4).length).toBe(0);
      expect(Buffer.from(file.read(2, 3)).toString()).toBe('234');
    } finally {
      file.close();
    }
    expect(() => FileSource.open(join(dir, 'absent'))).toThrow(/ENOENT/);
  });
});
