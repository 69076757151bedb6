/**
 * declaresDom0: whether `run --on testbed` can boot an image as Xen's only domain. Xen 4.17
 * refuses a PV dom0 ("Kernel does not support Dom0 operation") only when the kernel has a
 * XEN_ELFNOTE_SUPPORTED_FEATURES note without XENFEAT_dom0 (nor "dom0"/"!dom0" in a
 * XEN_ELFNOTE_FEATURES string); an image without the note boots as dom0. Checked on
 * hand-made reports, on the testbed's fixture kernels (inspect, agreeing with the testbed's
 * own check), and by running them on the testbed.
 */
import { buildFixture, readKernelInfo, xenDom0Support } from '@rumpxen/xen-testbed';
import { beforeAll, describe, expect, it } from 'vitest';
import { declaresDom0, inspect, run, type ImageReport } from '../src/index.js';
import { workdir } from './helpers.js';

const DOM0 = 1n << 11n;
type Note = ImageReport['xenNotes'][number];
const report = (xenNotes: Note[], target: ImageReport['target'] = 'xen-pv') => ({ target, xenNotes }) as unknown as ImageReport;
/** A note as inspect decodes it, with the file's bytes: numbers as 8-byte words, strings as text, hex as given. */
const note = (type: number, name: string, value: string | bigint): Note => {
  let raw: string;
  if (typeof value === 'bigint') {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(value);
    raw = b.toString('hex');
  } else raw = name === 'SUPPORTED_FEATURES' ? value : Buffer.from(value, 'latin1').toString('hex');
  return { type, name, value, raw };
};
const sf = (value: string | bigint): Note => note(17, 'SUPPORTED_FEATURES', value);
const features = (value: string): Note => note(10, 'FEATURES', value);
const PV_NOTES: Note[] = [note(6, 'GUEST_OS', 'rumpxen'), note(5, 'XEN_VERSION', 'xen-3.0'), note(8, 'LOADER', 'generic'), note(1, 'ENTRY', 0x100000n)];

describe('declaresDom0 on reports', () => {
  it('no SUPPORTED_FEATURES note: boots as the only domain', () => {
    expect(declaresDom0(report(PV_NOTES))).toBe(true);
    expect(declaresDom0(report([...PV_NOTES, features('writable_page_tables')]))).toBe(true);
  });

  it('a SUPPORTED_FEATURES note without XENFEAT_dom0: a DomU', () => {
    expect(declaresDom0(report([...PV_NOTES, sf(0n)]))).toBe(false);
    expect(declaresDom0(report([...PV_NOTES, sf(1n)]))).toBe(false);
    expect(declaresDom0(report([...PV_NOTES, sf(0n), features('writable_page_tables|dom0x')]))).toBe(false);
    // Sizes Xen reads as 0 (not a multiple of 4: decoded as hex), and an empty note.
    expect(declaresDom0(report([...PV_NOTES, sf('000800')]))).toBe(false);
    expect(declaresDom0(report([...PV_NOTES, sf('')]))).toBe(false);
  });

  it('XENFEAT_dom0 in the note or in the FEATURES string, "dom0" or "!dom0"', () => {
    expect(declaresDom0(report([...PV_NOTES, sf(DOM0)]))).toBe(true);
    expect(declaresDom0(report([...PV_NOTES, sf(0n), features('dom0')]))).toBe(true);
    expect(declaresDom0(report([...PV_NOTES, features('writable_page_tables|!dom0'), sf(0n)]))).toBe(true);
    expect(declaresDom0(report([...PV_NOTES, sf(0n), sf(DOM0)]))).toBe(true);
    // Xen reads the first 32-bit word of a longer note (12 bytes: decoded as hex here).
    expect(declaresDom0(report([...PV_NOTES, sf('000800000000000000000000')]))).toBe(true);
    expect(declaresDom0(report([...PV_NOTES, sf(DOM0 | (1n << 40n))]))).toBe(true);
    expect(declaresDom0(report([...PV_NOTES, sf(1n << 43n)]))).toBe(false);
  });

  it('PVH: Xen 4.17 builds a PVH dom0 without looking at the notes', () => {
    expect(declaresDom0(report([note(18, 'PHYS32_ENTRY', 0x100000n), sf(0n)], 'xen-pvh'))).toBe(true);
    expect(declaresDom0(report([...PV_NOTES, note(18, 'PHYS32_ENTRY', 0x100000n), sf(0n)], 'xen-pv+pvh'))).toBe(false);
  });
});

let fx: { noNote: string; noDom0: string; viaFeatures: string; pv: string };
beforeAll(() => {
  const outDir = workdir('dom0-fixtures');
  fx = {
    pv: buildFixture({ kind: 'pv', outDir }),
    noNote: buildFixture({ kind: 'pv', outDir, supportedFeatures: null }),
    noDom0: buildFixture({ kind: 'pv', outDir, supportedFeatures: 0 }),
    viaFeatures: buildFixture({ kind: 'pv', outDir, supportedFeatures: 0, features: 'writable_page_tables|!dom0' }),
  };
});

describe('declaresDom0 on real kernels (the testbed\'s fixtures)', () => {
  it('agrees with the testbed\'s check of Xen\'s rule', async () => {
    const want = { pv: true, noNote: true, noDom0: false, viaFeatures: true };
    for (const [name, path] of Object.entries(fx)) {
      const r = await inspect(path);
      expect(r.target, name).toBe('xen-pv');
      expect(declaresDom0(r), name).toBe(want[name as keyof typeof want]);
      expect(xenDom0Support(readKernelInfo(path).xenNoteList).pvDom0, name).toBe(want[name as keyof typeof want]);
    }
  });

  it('run --on testbed boots an image without a SUPPORTED_FEATURES note as the only domain', async () => {
    const progress: string[] = [];
    const r = await run({ image: fx.noNote, on: 'testbed', args: ['mode=result:SUCCESS'], timeoutS: 60, onProgress: (l) => progress.push(l) });
    expect(progress.some((l) => l.includes('as its only domain'))).toBe(true);
    expect(r.ranOn).toBe('testbed');
    expect(r.console).toContain('fixture: hello from the test guest');
    expect(r.console.at(-1)).toBe('Test result: SUCCESS');
    expect(r.exitCode).toBe(0);
  }, 120_000);

  it('run --on testbed runs one whose SUPPORTED_FEATURES lacks XENFEAT_dom0 as a DomU of a full testbed', async () => {
    const progress: string[] = [];
    const r = await run({ image: fx.noDom0, on: 'testbed', args: ['result=SKIP'], timeoutS: 180, onProgress: (l) => progress.push(l) });
    expect(progress).toContain('the image does not declare XENFEAT_dom0, so it runs as a DomU of a full testbed');
    expect(r.ranOn).toBe('testbed-domu');
    expect(r.console).toContain('domu-fixture: hello from a PV DomU');
    expect(r).toMatchObject({ exitCode: 3, verdict: 'SKIP' });
  }, 300_000);
});
