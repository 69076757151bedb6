/** The built guest library as the image-linker sees it (paths, target check, archive contents). */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hypercallApiArtifacts } from '@rumpxen/hypercall-api';
import { PciError, pciGuestLibrary, pciPackageRoot } from '../src/index.js';

describe('pciGuestLibrary', () => {
  it('points at the built xen-pv archive and the pcix headers', () => {
    const lib = pciGuestLibrary('xen-pv');
    expect(lib.archive).toBe(join(pciPackageRoot, 'build', 'xen-pv', 'libpcix.a'));
    expect(existsSync(join(lib.includeDir, 'pcix', 'bus.h'))).toBe(true);
    expect(existsSync(join(lib.includeDir, 'pcix', 'pcix.h'))).toBe(true);
  });

  it('the archive defines every rumpcomp_pci_* of pci_user.h and the MD layer', () => {
    const syms = execFileSync('nm', ['--defined-only', '-g', pciGuestLibrary('xen-pv', { check: true }).archive], { encoding: 'utf8' });
    const defined = new Set([...syms.matchAll(/ T (\w+)$/gm)].map((m) => m[1]));
    const header = readFileSync(join(hypercallApiArtifacts.includeDir, 'pci_user.h'), 'utf8');
    const rumpcomp = [...header.matchAll(/\b(rumpcomp_pci_\w+)\(/g)].map((m) => m[1]);
    expect(rumpcomp.length).toBeGreaterThanOrEqual(10);
    for (const name of rumpcomp) expect(defined, name).toContain(name);
    // The extensions netbsd-build's patched librumpdev_pci calls for a driver's detach.
    for (const name of ['rumpcomp_pci_irq_disestablish', 'rumpcomp_pci_unmap']) expect(defined, name).toContain(name);
    // The bounce-buffer extensions the patched librumpdev_pci's bus_dma calls.
    for (const op of ['create', 'destroy', 'beyond', 'reset', 'add', 'start', 'sync']) expect(defined).toContain(`rumpcomp_pci_bounce_${op}`);
    for (const name of ['pci_make_tag', 'pci_decompose_tag', 'pci_conf_read', 'pci_conf_write', 'pci_bus_maxdevs',
      'bus_space_map', 'bus_space_unmap', 'bus_space_subregion', 'bus_space_read_8', 'bus_space_write_multi_4',
      'bus_space_read_region_2', 'bus_space_barrier', 'pci_intr_map', 'pci_intr_establish', 'pci_intr_disestablish',
      'pci_intr_string', 'pci_msi_alloc_exact', 'pci_intr_release', 'bus_dmamap_create', 'bus_dmamap_destroy',
      'bus_dmamap_load', 'bus_dmamap_unload', 'bus_dmamap_sync', 'bus_dmamem_alloc', 'bus_dmamem_free',
      'bus_dmamem_map', 'bus_dmamem_unmap']) expect(defined, name).toContain(name);
  });

  it('refuses targets it has no mechanism for, naming the fix', () => {
    expect(() => pciGuestLibrary('xen-pvh')).toThrow(PciError);
    expect(() => pciGuestLibrary('xen-pvh')).toThrow(/'xen-pvh' is not built: only 'xen-pv' is supported .* build the image for xen-pv/);
  });
});
