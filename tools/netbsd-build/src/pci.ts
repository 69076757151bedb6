/**
 * NetBSD's PCI driver components for the Xen targets. buildrump.sh's `fullbuild` leaves them
 * out (`RUMPPCIDEVS` in `sys/rump/dev/Makefile.rumpdevcomp` is listed only for rumpdescribe),
 * so a kernel-mode build makes them afterwards, one folder at a time, with the make wrapper it
 * left in its tools folder. `libpci`'s `pci_user.h` includes `rumpcomp_userfeatures_pci.h`,
 * which NetBSD does not ship: the platform provides it, here `@rumpxen/hypercall-api`'s
 * generated one, reached through libpci's own hook `RUMPCOMP_MAKEFILEINC_rumpdev_pci`.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderHeader } from '@rumpxen/hypercall-api';

/**
 * The folders under `sys/rump/dev/lib/` built for the Xen targets, in build order, each
 * giving the component named after its archive: `libpci` → `librumpdev_pci.a` → `dev_pci`.
 * pci: the bus and bus_space/bus_dma over rumpcomp_pci; pci_if_wm: wm(4), QEMU's e1000;
 * pci_if_pcn: pcn(4), QEMU's pcnet; miiphy: the PHY drivers both attach.
 */
export const PCI_COMPONENT_DIRS = ['libpci', 'libmiiphy', 'libpci_if_wm', 'libpci_if_pcn'] as const;

/**
 * Patches to libpci's sources, applied to copies in the build folder (the unpacked tree is
 * shared and stays as NetBSD has it): source file → patch in this package's `patches/`, and
 * the name the patched copy is compiled under (libpci's SRCS entry is swapped for it).
 * - rumpdev_bus_dma.c: DMA segments merged and cut at machine addresses (Xen PV: frames behind
 *   virtually adjacent pages need not be adjacent; rump's vtophys is the identity); and bounce
 *   buffers: maps on pa_dmat (32-bit devices) whose load reaches beyond 4 GiB are loaded over a
 *   low bounce area instead, and bus_dmamap_sync copies (pci-passthrough's
 *   rumpcomp_pci_bounce_* extensions hold the logic).
 * - rumpdev_pci.c, rumpdev_bus_space.c: pci_intr_disestablish and bus_space_unmap (memory),
 *   which panic in NetBSD's rump, call rumpcomp_pci_irq_disestablish and rumpcomp_pci_unmap
 *   (pci-passthrough's extensions of the hypercalls), so a driver can detach.
 */
export const PCI_PATCHES = [
  { source: 'rumpdev_bus_dma.c', patch: 'libpci-bus-dma-machine-contiguous.patch', compiledAs: 'rumpxen_bus_dma.c' },
  { source: 'rumpdev_pci.c', patch: 'libpci-intr-disestablish.patch', compiledAs: 'rumpxen_pci.c' },
  { source: 'rumpdev_bus_space.c', patch: 'libpci-bus-space-unmap.patch', compiledAs: 'rumpxen_bus_space.c' },
] as const;

const patchesDir = fileURLToPath(new URL('../patches/', import.meta.url));

/** Bumped when the way the PCI step builds changes (its script, its make fragment). */
const PCI_STEP_FORMAT = 3;

/** What decides the PCI step's result, for the build key. */
export function pciKeyPart(): { format: number; dirs: readonly string[]; userfeatures: string; patches: string[] } {
  return {
    format: PCI_STEP_FORMAT,
    dirs: PCI_COMPONENT_DIRS,
    userfeatures: renderHeader('rumpcomp_userfeatures_pci.h'),
    patches: PCI_PATCHES.map((p) => readFileSync(join(patchesDir, p.patch), 'utf8')),
  };
}

/**
 * Writes the platform header and the make fragment into `<buildDir>/pci/` and returns the
 * shell script that builds each folder and copies its archive into `libDir`.
 */
export function pciStepScript(buildDir: string, netbsdSrcDir: string, rumpmake: string, libDir: string, jobs: number): string {
  const inc = join(buildDir, 'pci');
  mkdirSync(inc, { recursive: true });
  writeFileSync(join(inc, 'rumpcomp_userfeatures_pci.h'), renderHeader('rumpcomp_userfeatures_pci.h'));
  const mk = join(inc, 'rumpdev_pci.mk');
  const libpci = join(netbsdSrcDir, 'sys', 'rump', 'dev', 'lib', 'libpci');
  const patched = join(inc, 'src');
  mkdirSync(patched, { recursive: true });
  writeFileSync(mk, [
    '# Written by @rumpxen/netbsd-build: where libpci finds rumpcomp_userfeatures_pci.h, and its patched',
    '# sources (copies in this folder; the patched copy keeps finding pci_user.h in libpci).',
    `CPPFLAGS+=-I${inc} -I${libpci}`,
    `.PATH: ${patched}`,
    ...PCI_PATCHES.map((p) => `SRCS:=\${SRCS:S/^${p.source}$/${p.compiledAs}/}`),
    '',
  ].join('\n'));
  const lines = ['set -e'];
  for (const p of PCI_PATCHES) {
    lines.push(
      `cp '${join(libpci, p.source)}' '${join(patched, p.compiledAs)}'`,
      `patch -s --no-backup-if-mismatch '${join(patched, p.compiledAs)}' '${join(patchesDir, p.patch)}'`,
    );
  }
  for (const d of PCI_COMPONENT_DIRS) {
    const src = join(netbsdSrcDir, 'sys', 'rump', 'dev', 'lib', d);
    const archive = `librumpdev_${d.slice(3)}.a`;
    lines.push(
      `cd '${src}'`,
      `'${rumpmake}' RUMPCOMP_MAKEFILEINC_rumpdev_pci='${mk}' obj`,
      `'${rumpmake}' -j ${jobs} RUMPCOMP_MAKEFILEINC_rumpdev_pci='${mk}' dependall`,
      `cp "$('${rumpmake}' -V .OBJDIR)/${archive}" '${libDir}/${archive}.tmp'`,
      `mv '${libDir}/${archive}.tmp' '${libDir}/${archive}'`,
    );
  }
  const script = join(inc, 'build.sh');
  writeFileSync(script, `${lines.join('\n')}\n`);
  return script;
}
