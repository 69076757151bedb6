/**
 * Xen 4.17's rule for a kernel as its only domain (dom0), matched by the testbed's kernel
 * check: xen/arch/x86/pv/dom0_build.c refuses a PV dom0 ("Kernel does not support Dom0
 * operation") only when the kernel has a XEN_ELFNOTE_SUPPORTED_FEATURES note and XENFEAT_dom0
 * is not among the features libelf collected from that note and any XEN_ELFNOTE_FEATURES
 * string. Unit cases of the parser, then fixture variants booted under real Xen.
 */
import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { BadKernelError, bootGuest, buildFixture, liveQemuCount, parseXenFeatures, readKernelInfo, validateKernel, XEN_ELFNOTE, xenDom0Support, type XenNoteEntry } from '../src/index.js';
import { cliPath } from './cli.js';
import { kernelRefusal } from './kernel-refusal.js';

const XEN_MESSAGE = 'Kernel does not support Dom0 operation';
const DOM0 = 1 << 11;

let fx: { noNote: string; noDom0: string; viaFeatures: string; unknownRequired: string; pvhNoDom0: string; pv: string };
beforeAll(() => {
  fx = {
    pv: buildFixture({ kind: 'pv' }),
    noNote: buildFixture({ kind: 'pv', supportedFeatures: null }),
    noDom0: buildFixture({ kind: 'pv', supportedFeatures: 0 }),
    viaFeatures: buildFixture({ kind: 'pv', supportedFeatures: 0, features: 'writable_page_tables|!dom0' }),
    unknownRequired: buildFixture({ kind: 'pv', supportedFeatures: null, features: 'dom0|!no_such_feature' }),
    pvhNoDom0: buildFixture({ kind: 'pvh', supportedFeatures: 0 }),
  };
});

const u32 = (v: number, bytes = 4) => {
  const b = Buffer.alloc(bytes);
  if (bytes >= 4) b.writeUInt32LE(v >>> 0, 0);
  else if (bytes === 2) b.writeUInt16LE(v, 0);
  return b;
};
const sf = (v: number, bytes = 4): XenNoteEntry => ({ type: XEN_ELFNOTE.SUPPORTED_FEATURES, desc: u32(v, bytes) });
const feat = (s: string): XenNoteEntry => ({ type: XEN_ELFNOTE.FEATURES, desc: Buffer.from(`${s}\0`, 'latin1') });

describe('XEN_ELFNOTE_FEATURES as libelf reads it (parseXenFeatures)', () => {
  it('known names set their bit; "!" marks them required too', () => {
    expect(parseXenFeatures('writable_page_tables|!dom0')).toEqual({ supported: 1 | DOM0, required: DOM0 });
    expect(parseXenFeatures('!writable_page_tables|pae_pgdir_above_4gb')).toEqual({ supported: 1 | (1 << 4), required: 1 });
    expect(parseXenFeatures('|dom0')).toEqual({ supported: DOM0, required: 0 });
    expect(parseXenFeatures('')).toEqual({ supported: 0, required: 0 });
  });

  it('names match whole words only; unknown plain names are ignored', () => {
    expect(parseXenFeatures('dom0x|xdom0|Dom0|dom|mmu_pt_update_preserve_ad')).toEqual({ supported: 0, required: 0 });
    expect(parseXenFeatures('no_such_feature|dom0')).toEqual({ supported: DOM0, required: 0 });
  });

  it('an unknown required name stops the parse (Xen then refuses the kernel)', () => {
    expect(parseXenFeatures('!no_such_feature|dom0')).toEqual({ supported: 0, required: 0, unknownRequired: '!no_such_feature' });
  });

  it('the string ends at its first NUL, and a word is cut after 63 characters', () => {
    expect(parseXenFeatures('dom0\0|!no_such_feature')).toEqual({ supported: DOM0, required: 0 });
    // Xen's 64-byte word buffer: the 63 x's make one word, "dom0" the next.
    expect(parseXenFeatures(`${'x'.repeat(63)}dom0`)).toEqual({ supported: DOM0, required: 0 });
    expect(parseXenFeatures(`${'x'.repeat(62)}dom0`)).toEqual({ supported: 0, required: 0 });
  });
});

describe('the dom0 rule on a kernel\'s notes (xenDom0Support)', () => {
  it('no SUPPORTED_FEATURES note: Xen does not check, the kernel boots as dom0', () => {
    expect(xenDom0Support([])).toEqual({ supportedFeaturesNote: false, supported: 0, pvDom0: true });
    expect(xenDom0Support([feat('writable_page_tables')])).toMatchObject({ supportedFeaturesNote: false, pvDom0: true });
  });

  it('a SUPPORTED_FEATURES note: XENFEAT_dom0 must be in it or in a FEATURES string', () => {
    expect(xenDom0Support([sf(DOM0)])).toMatchObject({ supportedFeaturesNote: true, supported: DOM0, pvDom0: true });
    expect(xenDom0Support([sf(0)])).toMatchObject({ supportedFeaturesNote: true, supported: 0, pvDom0: false });
    expect(xenDom0Support([sf(1)]).pvDom0).toBe(false);
    expect(xenDom0Support([sf(0), feat('dom0')]).pvDom0).toBe(true);
    expect(xenDom0Support([feat('!dom0'), sf(0)]).pvDom0).toBe(true);
    expect(xenDom0Support([sf(0), feat('writable_page_tables')]).pvDom0).toBe(false);
  });

  it('the notes add up; only the first 32-bit word counts, and none when the size is not a multiple of 4', () => {
    expect(xenDom0Support([sf(0), sf(DOM0)]).pvDom0).toBe(true);
    expect(xenDom0Support([sf(DOM0, 8)]).pvDom0).toBe(true);
    expect(xenDom0Support([sf(DOM0, 2)])).toMatchObject({ supportedFeaturesNote: true, supported: 0, pvDom0: false });
    expect(xenDom0Support([{ type: XEN_ELFNOTE.SUPPORTED_FEATURES, desc: Buffer.alloc(0) }]).pvDom0).toBe(false);
    expect(xenDom0Support([sf(0xffffffff)])).toMatchObject({ supported: 0xffffffff, pvDom0: true });
  });
});

describe('fixture variants and the kernel check', () => {
  it('builds a PV fixture with only GUEST_OS, XEN_VERSION, LOADER, VIRT_BASE, PADDR_OFFSET, ENTRY and HYPERCALL_PAGE', () => {
    const info = readKernelInfo(fx.noNote);
    expect(info.xenNoteList.map((n) => n.type)).toEqual([6, 5, 8, 3, 4, 1, 2]);
    expect(fx.noNote).toMatch(/fixture-pv-sf-none\.elf$/);
    expect(readKernelInfo(fx.noDom0).xenNotes.get(XEN_ELFNOTE.SUPPORTED_FEATURES)).toEqual(u32(0));
    expect(readKernelInfo(fx.viaFeatures).xenNotes.get(XEN_ELFNOTE.FEATURES)?.toString('latin1')).toBe('writable_page_tables|!dom0\0');
    expect(readKernelInfo(fx.pv).xenNotes.get(XEN_ELFNOTE.SUPPORTED_FEATURES)).toEqual(u32(DOM0));
  });

  it('accepts what Xen 4.17 boots as dom0, refuses what it does not, quoting Xen', () => {
    expect(() => validateKernel(fx.noNote, { pvh: false })).not.toThrow();
    expect(() => validateKernel(fx.viaFeatures, { pvh: false })).not.toThrow();
    expect(() => validateKernel(fx.pvhNoDom0, { pvh: true })).not.toThrow();
    const msg = kernelRefusal(fx.noDom0);
    expect(msg).toContain(`kernel ${fx.noDom0} has a XEN_ELFNOTE_SUPPORTED_FEATURES note without XENFEAT_dom0`);
    expect(msg).toContain(`"${XEN_MESSAGE}"`);
    expect(kernelRefusal(fx.unknownRequired)).toMatch(/XEN_ELFNOTE_FEATURES note requires "!no_such_feature", a feature Xen 4\.17's ELF loader does not know/);
  });

  it('refuses bad variant options', () => {
    expect(() => buildFixture({ kind: 'pv', features: 'dom0"; .quad 1' })).toThrow(/only letters, digits/);
    expect(() => buildFixture({ kind: 'pv', supportedFeatures: -1 })).toThrow(/32-bit bitmap/);
  });
});

describe('under real Xen 4.17, as its only domain', () => {
  it('boots a PV kernel with no SUPPORTED_FEATURES note as dom0, and it prints its lines', async () => {
    const r = await bootGuest({ kernel: fx.noNote, cmdline: 'mode=poweroff', timeoutS: 60 });
    expect(r.xenLines.join('\n')).not.toContain(XEN_MESSAGE);
    expect(r.consoleLines).toEqual(['fixture: hello from the test guest', 'fixture: mode poweroff', 'fixture: powering off']);
    expect(r).toMatchObject({ exitCode: 0, verdict: 'SUCCESS', end: 'poweroff' });
    expect(r.xenLines.some((l) => l.includes('Hardware Dom0 halted'))).toBe(true);
  }, 90_000);

  it('rumpxen-testbed boot --kernel boots it too (exit 0, its console on stdout)', () => {
    const r = spawnSync(process.execPath, [cliPath(), 'boot', '--kernel', fx.noNote, '--cmdline', 'mode=result:SUCCESS', '--timeout', '60'], { encoding: 'utf8', timeout: 90_000 });
    expect(r.stderr).not.toMatch(/XENFEAT_dom0/);
    expect(r.stdout).toContain('fixture: hello from the test guest');
    expect(r.stdout.trim().split('\n').at(-1)).toBe('Test result: SUCCESS');
    expect(r.status).toBe(0);
  }, 90_000);

  it('refuses a kernel whose SUPPORTED_FEATURES lacks XENFEAT_dom0 before QEMU starts (library: BadKernelError; CLI: exit 2)', async () => {
    await expect(bootGuest({ kernel: fx.noDom0, timeoutS: 30 })).rejects.toThrow(BadKernelError);
    await expect(bootGuest({ kernel: fx.noDom0, timeoutS: 30 })).rejects.toThrow(XEN_MESSAGE);
    expect(liveQemuCount()).toBe(0);
    const r = spawnSync(process.execPath, [cliPath(), 'boot', '--kernel', fx.noDom0, '--timeout', '30'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`"${XEN_MESSAGE}"`);
  }, 90_000);

  it('and Xen itself refuses that kernel with that message (our check bypassed: QEMU\'s last -initrd wins)', async () => {
    const r = await bootGuest({ kernel: fx.pv, cmdline: 'mode=poweroff', qemuArgs: ['-initrd', fx.noDom0], timeoutS: 60 });
    expect(r.xenLines.some((l) => l.includes(XEN_MESSAGE))).toBe(true);
    expect(r.consoleLines).toEqual([]);
    expect(r).toMatchObject({ exitCode: 6, end: 'xen-panic' });
  }, 90_000);

  it('boots one whose SUPPORTED_FEATURES is 0 but whose FEATURES string says !dom0', async () => {
    const r = await bootGuest({ kernel: fx.viaFeatures, cmdline: 'mode=exitoff:9', timeoutS: 60 });
    expect(r.consoleLines).toContain('rumpxen: exit 9');
    expect(r).toMatchObject({ exitCode: 9, end: 'poweroff' });
  }, 90_000);

  it('PVH: Xen 4.17 checks no feature note for a PVH dom0 (a SUPPORTED_FEATURES of 0 boots)', async () => {
    const r = await bootGuest({ kernel: fx.pvhNoDom0, pvh: true, cmdline: 'mode=result:SKIP', timeoutS: 60 });
    expect(r.xenLines.some((l) => l.includes('Building a PVH Dom0'))).toBe(true);
    expect(r).toMatchObject({ exitCode: 3, verdict: 'SKIP' });
  }, 90_000);
});
