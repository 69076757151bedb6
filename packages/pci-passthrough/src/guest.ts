/**
 * The guest side's built C for the image-linker: the archive and include folder of the PCI
 * services, rumpcomp_pci_* and the NetBSD-shaped MD layer (`c/build.sh`, run by this
 * package's build). xen-pv only: the mechanisms are PV ones (DOMID_IO mappings, p2m).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PciError } from './errors.js';

/** This package's root: dist/ (built) and src/ (tests) both sit one level below it. */
export const pciPackageRoot: string = fileURLToPath(new URL('..', import.meta.url));

export type PciGuestTarget = 'xen-pv';

export interface PciGuestLibrary {
  target: PciGuestTarget;
  /** `libpcix.a`: link after the program's objects, before the guest kernel's libmkernel.a. */
  archive: string;
  /** `-I` folder for `<pcix/bus.h>` (MD layer) and `<pcix/pcix.h>` (services). */
  includeDir: string;
}

/** Paths of the built guest library for a target; `check` throws PciError when not built. */
export function pciGuestLibrary(target: string = 'xen-pv', options: { check?: boolean } = {}): PciGuestLibrary {
  if (target !== 'xen-pv') {
    throw new PciError('BAD_OPTION', `PCI passthrough guest target '${target}' is not built: only 'xen-pv' is supported (the DOMID_IO and p2m mechanisms are PV ones); build the image for xen-pv`, 2);
  }
  const lib: PciGuestLibrary = {
    target,
    archive: join(pciPackageRoot, 'build', target, 'libpcix.a'),
    includeDir: join(pciPackageRoot, 'c', 'include'),
  };
  if (options.check && !existsSync(lib.archive)) {
    throw new PciError('BAD_STATE', `${lib.archive} is missing: run \`npx nx run @rumpxen/pci-passthrough:build\` (it runs c/build.sh)`, 1);
  }
  return lib;
}
