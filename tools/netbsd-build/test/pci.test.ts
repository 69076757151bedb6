/**
 * The kernel build's `pci` step (src/pci.ts): NetBSD's PCI components for the Xen targets, built
 * against @rumpxen/hypercall-api's rumpcomp_userfeatures_pci.h, with libpci's bus_dma patched
 * for machine-contiguous segments. Reads the build `npm test` made (cachedOnly).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildNetbsd, PCI_COMPONENT_DIRS, PCI_PATCHES, pciKeyPart, resolveComponents, type NetbsdBuild } from '../src/index.js';

let pv: NetbsdBuild;
let posix: NetbsdBuild;

beforeAll(async () => {
  pv = await buildNetbsd('xen-pv', { cachedOnly: true });
  posix = await buildNetbsd('posix', { cachedOnly: true });
});

const members = (archive: string) => spawnSync('ar', ['t', archive], { encoding: 'utf8' }).stdout.trim().split('\n');
const undefinedSymbols = (archive: string) =>
  spawnSync('nm', ['-u', archive], { encoding: 'utf8', maxBuffer: 64 << 20 }).stdout.split('\n').map((l) => l.trim().split(/\s+/).pop()!);

describe('NetBSD PCI components (kernel build, pci step)', () => {
  it('builds pci, miiphy, pci_if_wm and pci_if_pcn, with what each needs', () => {
    expect(PCI_COMPONENT_DIRS).toEqual(['libpci', 'libmiiphy', 'libpci_if_wm', 'libpci_if_pcn']);
    const byName = new Map(pv.components.map((c) => [c.name, c]));
    expect(byName.get('dev_pci')?.requires).toEqual(['dev', 'rump']);
    expect(byName.get('dev_miiphy')?.requires).toEqual(['dev', 'net_net', 'rump']);
    for (const drv of ['dev_pci_if_wm', 'dev_pci_if_pcn']) expect(byName.get(drv)?.requires).toEqual(['dev', 'dev_miiphy', 'dev_pci', 'net', 'net_net', 'rump']);
    expect(resolveComponents(pv.components, ['dev_pci_if_wm']).map((c) => c.name)).toEqual(expect.arrayContaining(['dev_pci_if_wm', 'dev_pci', 'dev_miiphy', 'rump']));
    expect(pv.stepSeconds.pci).toBeGreaterThan(0);
    // The userspace (posix) build has no pci step and no PCI components.
    expect(posix.components.map((c) => c.name)).not.toContain('dev_pci');
  });

  it('libpci was compiled with the platform header (IOSPACE and DMAFREE on) and its patched sources', () => {
    const lib = join(pv.libDir, 'librumpdev_pci.a');
    const objs = members(lib);
    for (const p of PCI_PATCHES) {
      expect(objs).toContain(p.compiledAs.replace(/\.c$/, '.o'));
      expect(objs).not.toContain(p.source.replace(/\.c$/, '.o'));
    }
    const undef = undefinedSymbols(lib);
    // The patched teardown calls pci-passthrough's extensions of the hypercalls.
    expect(undef).toContain('rumpcomp_pci_irq_disestablish');
    expect(undef).toContain('rumpcomp_pci_unmap');
    // The patched bus_dma bounces 32-bit maps through pci-passthrough's low areas.
    for (const f of ['create', 'destroy', 'beyond', 'reset', 'add', 'start', 'sync']) expect(undef).toContain(`rumpcomp_pci_bounce_${f}`);
    // Only referenced when rumpcomp_userfeatures_pci.h turns the features on.
    expect(undef).toContain('rumpcomp_pci_iospace_init');
    expect(undef).toContain('rumpcomp_pci_dmafree');
    expect(readFileSync(join(pv.dir, 'pci', 'rumpcomp_userfeatures_pci.h'), 'utf8')).toBe(pciKeyPart().userfeatures);
  });

  it('each patch applies cleanly to the NetBSD source it names, and is part of the build key', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'nbpci-'));
    try {
      for (const p of PCI_PATCHES) {
        const copy = join(tmp, p.source);
        copyFileSync(join(pv.netbsdSrcDir, 'sys', 'rump', 'dev', 'lib', 'libpci', p.source), copy);
        const r = spawnSync('patch', ['--dry-run', copy, join(__dirname, '..', 'patches', p.patch)], { encoding: 'utf8' });
        expect(r.status, r.stdout + r.stderr).toBe(0);
        expect(r.stdout).not.toMatch(/offset|fuzz/i);
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    expect(pciKeyPart().patches).toEqual(PCI_PATCHES.map((p) => readFileSync(join(__dirname, '..', 'patches', p.patch), 'utf8')));
  });
});
