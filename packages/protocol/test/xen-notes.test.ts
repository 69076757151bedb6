/**
 * Xen note numbers, written once for TS (XEN_ELFNOTE) and once for C (c/include/rumpxen/
 * xen_note.h): both held equal to Xen's own public headers (libxen-dev), and the C note
 * emitter to the ELF note layout; then decoding, targets and the dom0 rule's feature parse.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  decodeXenNote,
  parseElf,
  parseXenFeatures,
  protocolIncludeDir,
  targetFromNotes,
  XEN_ELFNOTE,
  XEN_NOTE_TYPES,
  XENFEAT_DOM0,
  xenDom0Support,
  xenNotes,
  type XenNoteName,
} from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'protocol-xen-notes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const XEN_HEADERS = '/usr/include/xen/elfnote.h';

/** The values a C compiler gives XEN_ELFNOTE_<name> (every name of the TS table) and XENFEAT_dom0 after `includes`. */
function cValues(label: string, includes: string, flags: string[] = []): Record<string, number> {
  const names = Object.keys(XEN_ELFNOTE) as XenNoteName[];
  const src = join(dir, `${label}.c`);
  writeFileSync(
    src,
    `${includes}\nint printf(const char *, ...);\nint main(void) {\n` +
      names.map((n) => `  printf("${n} %ld\\n", (long)XEN_ELFNOTE_${n});\n`).join('') +
      '  printf("XENFEAT_dom0 %ld\\n", (long)XENFEAT_dom0);\n  return 0;\n}\n',
  );
  const exe = join(dir, label);
  execFileSync('gcc', [...flags, src, '-o', exe]);
  return Object.fromEntries(execFileSync(exe).toString().trim().split('\n').map((l) => [l.split(' ')[0], Number(l.split(' ')[1])]));
}

const ours = { ...XEN_ELFNOTE, XENFEAT_dom0: XENFEAT_DOM0 };

describe('Xen note numbers, one table per language', () => {
  it.skipIf(!existsSync(XEN_HEADERS))("XEN_ELFNOTE is Xen's xen/elfnote.h, and XENFEAT_DOM0 its xen/features.h", () => {
    expect(cValues('xen', '#include <xen/elfnote.h>\n#include <xen/features.h>')).toEqual(ours);
  });

  it('rumpxen/xen_note.h (for code built with -nostdinc) has the same numbers', () => {
    expect(cValues('protocol', '#include <rumpxen/xen_note.h>', ['-I', protocolIncludeDir])).toEqual(ours);
  });

  it.skipIf(!existsSync(XEN_HEADERS))("rumpxen/xen_note.h and Xen's headers can meet in one file (the same definitions)", () => {
    expect(cValues('both', '#include <xen/elfnote.h>\n#include <xen/features.h>\n#include <rumpxen/xen_note.h>', ['-I', protocolIncludeDir, '-Werror'])).toEqual(ours);
  });

  it('XEN_NOTE emits one ELF note named "Xen" in .note.Xen, padded to 4 bytes', () => {
    const src = join(dir, 'note.S');
    writeFileSync(src, '#include <rumpxen/xen_note.h>\nXEN_NOTE(XEN_ELFNOTE_GUEST_OS, .asciz "abcde")\nXEN_NOTE(XEN_ELFNOTE_SUPPORTED_FEATURES, .long (1 << XENFEAT_dom0))\n');
    const obj = join(dir, 'note.o');
    execFileSync('gcc', ['-nostdinc', '-I', protocolIncludeDir, '-c', src, '-o', obj]);
    const elf = parseElf(readFileSync(obj), obj);
    const section = elf.sections.find((s) => s.name === '.note.Xen')!;
    expect(Buffer.from(elf.sectionData(section)).toString('hex')).toBe(
      // namesz 4, descsz 6, type 6, "Xen\0", "abcde\0" + 2 bytes of padding
      '04000000' + '06000000' + '06000000' + '58656e00' + '6162636465000000' +
        // namesz 4, descsz 4, type 17, "Xen\0", 0x800
        '04000000' + '04000000' + '11000000' + '58656e00' + '00080000',
    );
    expect(xenNotes(elf.notes)).toEqual([
      { type: 6, name: 'GUEST_OS', value: 'abcde', raw: '616263646500' },
      { type: 17, name: 'SUPPORTED_FEATURES', value: 0x800n, raw: '00080000' },
    ]);
  });
});

describe('decoding and targets', () => {
  it('names every type of the table and decodes strings, numbers and lists by type', () => {
    for (const [name, type] of Object.entries(XEN_ELFNOTE)) expect(XEN_NOTE_TYPES[type]?.name).toBe(name);
    const n = (type: number, desc: number[]) => ({ owner: 'Xen', type, desc: new Uint8Array(desc), source: 't' });
    expect(decodeXenNote(n(18, [0x00, 0x10, 0x20, 0x00])).value).toBe(0x201000n);
    expect(decodeXenNote(n(99, [1, 2]))).toEqual({ type: 99, name: 'UNKNOWN_99', value: '0102', raw: '0102' });
    expect(decodeXenNote(n(13, new Array(16).fill(0xff))).value).toEqual([0xffffffffffffffffn, 0xffffffffffffffffn]);
    expect(decodeXenNote(n(6, [0x61, 0x62, 0, 0])).value).toBe('ab');
    expect(decodeXenNote(n(17, [1, 2, 3])).value).toBe('010203');
  });

  it('tells PV, PVH, both and none apart', () => {
    const x = (name: string) => ({ type: XEN_ELFNOTE[name as XenNoteName], name, value: 0n, raw: '0000000000000000' });
    expect(targetFromNotes([x('GUEST_OS'), x('ENTRY')])).toBe('xen-pv');
    expect(targetFromNotes([x('GUEST_OS')])).toBe('xen-pv');
    expect(targetFromNotes([x('PHYS32_ENTRY')])).toBe('xen-pvh');
    expect(targetFromNotes([x('HYPERCALL_PAGE'), x('PHYS32_ENTRY')])).toBe('xen-pv+pvh');
    expect(targetFromNotes([])).toBe('posix');
  });
});

describe("the dom0 rule's features (Xen 4.17's libelf)", () => {
  const DOM0 = 1 << XENFEAT_DOM0;
  const word = (v: number) => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v, true);
    return b;
  };
  it('parses FEATURES strings word by word, "!" for required, an unknown "!name" ending the parse', () => {
    expect(parseXenFeatures('writable_page_tables|!dom0')).toEqual({ supported: 1 | DOM0, required: DOM0 });
    expect(parseXenFeatures('dom0x|Dom0')).toEqual({ supported: 0, required: 0 });
    expect(parseXenFeatures('dom0|!nope|writable_page_tables')).toEqual({ supported: DOM0, required: 0, unknownRequired: '!nope' });
    expect(parseXenFeatures('dom0\0|!nope')).toEqual({ supported: DOM0, required: 0 });
  });

  it('refuses a PV dom0 only when a SUPPORTED_FEATURES note lacks XENFEAT_dom0 and no FEATURES string names it', () => {
    const sf = (v: number) => ({ type: XEN_ELFNOTE.SUPPORTED_FEATURES, desc: word(v) });
    const feat = (s: string) => ({ type: XEN_ELFNOTE.FEATURES, desc: new TextEncoder().encode(`${s}\0`) });
    expect(xenDom0Support([]).pvDom0).toBe(true);
    expect(xenDom0Support([sf(0)])).toEqual({ supportedFeaturesNote: true, supported: 0, pvDom0: false });
    expect(xenDom0Support([sf(DOM0)]).pvDom0).toBe(true);
    expect(xenDom0Support([sf(0), feat('!dom0')]).pvDom0).toBe(true);
    expect(xenDom0Support([{ type: XEN_ELFNOTE.SUPPORTED_FEATURES, desc: new Uint8Array([0, 8]) }]).pvDom0).toBe(false);
  });
});
