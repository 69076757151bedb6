// Compiles a C program of c/test against the MD layer and links it with libpcix.a and the
// xen-pv guest kernel into a bootable image (the target's start object, libraries and linker
// script) with the image-linker's ld command line, @rumpxen/protocol's guestLinkCommand.
// Plain JS: the bench uses it too.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConformanceOutput } from '@rumpxen/hypercall-api';
import { xenPvTarget } from '@rumpxen/minios-binding';
import { compileGuestObjectsSync, linkGuestImage, protocolIncludeDir } from '@rumpxen/protocol';
import { pciGuestLibrary } from '@rumpxen/pci-passthrough';

const pkgRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function imageDir(label) {
  return mkdtempSync(join(tmpdir(), `rumpxen-pci-${label}-`));
}

export function buildPciTestImage(program, dir) {
  const target = xenPvTarget;
  const lib = pciGuestLibrary('xen-pv', { check: true });
  for (const f of [target.startObject, ...target.libraries]) {
    if (!existsSync(f)) throw new Error(`${f} is missing: run \`npx nx run @rumpxen/minios-binding:build\` first`);
  }
  // @rumpxen/protocol's guest compile step: <dir>/<program>.o.
  const [obj] = compileGuestObjectsSync({
    sources: [join(pkgRoot, 'c', 'test', `${program}.c`)],
    // A test program is driver code, as a rump kernel's would be: the target's kernelCflags.
    cflags: ['-std=gnu11', '-O2', '-Wall', '-Wextra', '-Werror', ...target.kernelCflags],
    compilerHeaders: true,
    // edu.c's case harness: @rumpxen/protocol's rumpxen/case.h.
    includeDirs: [...target.includeDirs, lib.includeDir, protocolIncludeDir],
    outDir: dir,
  });
  const out = join(dir, `${program}.elf`);
  const script = `${out}.lds`;
  writeFileSync(script, target.linkerScript);
  return linkGuestImage({
    script,
    entry: target.entrySymbol,
    startObject: target.startObject,
    objects: [obj],
    wholeArchives: [],
    archives: [lib.archive, ...target.libraries],
    ldflags: target.ldflags,
    map: `${out}.map`,
    output: out,
  });
}

// Case lines by name (`PASS`, `FAIL <reason>`, `SKIP <reason>`), parsed by hypercall-api's
// parseConformanceOutput, the one parser of the guest output protocol.
export function caseResults(lines) {
  const out = {};
  for (const c of parseConformanceOutput(lines.join('\n')).cases) out[c.name] = c.reason ? `${c.outcome} ${c.reason}` : c.outcome;
  return out;
}

export const EDU_CASES = ['edu_probe', 'bar_map', 'ident', 'liveness', 'factorial', 'bad_bar_ram', 'intr_intx', 'rump_intr', 'intr_msi', 'dma_roundtrip', 'dma_bounce', 'dma_constraints', 'bad_dma', 'rumpcomp', 'dma_free', 'msi_release'];
