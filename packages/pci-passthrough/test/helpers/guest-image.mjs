// Compiles a C program of c/test against the MD layer and links it with libpcix.a and the
// xen-pv guest kernel into a bootable image, the way the image-linker links one (the target's
// start object, libraries and linker script). Plain JS: the bench uses it too.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConformanceOutput } from '@rumpxen/hypercall-api';
import { xenPvTarget } from '@rumpxen/minios-binding';
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
  const compilerInclude = execFileSync('gcc', ['-print-file-name=include'], { encoding: 'utf8' }).trim();
  const source = join(pkgRoot, 'c', 'test', `${program}.c`);
  const obj = join(dir, `${program}.o`);
  execFileSync('gcc', [
    '-std=gnu11', '-O2', '-Wall', '-Wextra', '-Werror', '-mgeneral-regs-only', ...target.cflags,
    '-isystem', compilerInclude, ...target.includeDirs.flatMap((d) => ['-I', d]), '-I', lib.includeDir,
    '-c', source, '-o', obj,
  ], { stdio: ['ignore', 'inherit', 'inherit'] });
  const out = join(dir, `${program}.elf`);
  const script = `${out}.lds`;
  writeFileSync(script, target.linkerScript);
  execFileSync('ld', [...target.ldflags, '-T', script, '-o', out, target.startObject, obj, lib.archive, ...target.libraries],
    { stdio: ['ignore', 'inherit', 'inherit'] });
  return out;
}

// Case lines by name (`PASS`, `FAIL <reason>`, `SKIP <reason>`), parsed by hypercall-api's
// parseConformanceOutput, the one parser of the guest output protocol.
export function caseResults(lines) {
  const out = {};
  for (const c of parseConformanceOutput(lines.join('\n')).cases) out[c.name] = c.reason ? `${c.outcome} ${c.reason}` : c.outcome;
  return out;
}

export const EDU_CASES = ['edu_probe', 'bar_map', 'ident', 'liveness', 'factorial', 'bad_bar_ram', 'intr_intx', 'rump_intr', 'intr_msi', 'dma_roundtrip', 'dma_constraints', 'bad_dma', 'rumpcomp', 'dma_free', 'msi_release'];
