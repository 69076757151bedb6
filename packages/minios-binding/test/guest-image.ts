/**
 * Test helper: compiles C test programs for a guest target and links them into a bootable
 * image with the target's own start object, libraries and linker script, with the
 * image-linker's ld command line (@rumpxen/protocol's guestLinkCommand).
 */
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireArtifact, type TargetDefinition } from '@rumpxen/hypercall-api';
import { caseVerdicts, compileGuestObjectsSync, linkGuestImage, protocolIncludeDir } from '@rumpxen/protocol';
import { guestPackageRoot } from '../src/targets.js';

export const testSourceDir = join(guestPackageRoot, 'c', 'test');

/** A fresh temp folder for one test file's images. */
export function imageDir(label: string): string {
  return mkdtempSync(join(tmpdir(), `rumpxen-guest-${label}-`));
}

/** Compiles one C file for the target (@rumpxen/protocol's guest compile step); returns the object's path. */
export function compileForTarget(target: TargetDefinition, source: string, outDir: string): string {
  const [object] = compileGuestObjectsSync({
    sources: [source],
    cflags: ['-std=gnu11', '-O2', '-Wall', '-Wextra', '-Werror', ...target.cflags],
    compilerHeaders: true,
    // c/test/case.h is @rumpxen/protocol's rumpxen/case.h over the guest kernel.
    includeDirs: [...target.includeDirs, protocolIncludeDir],
    outDir,
  });
  return object!;
}

/** Links objects (and archives, linked whole) into a guest image, its link map beside it (`<out>.map`). */
export function linkImage(
  target: TargetDefinition,
  inputs: { objects?: string[]; wholeArchives?: string[] },
  out: string,
): string {
  for (const f of [target.startObject!, ...target.libraries]) {
    if (!existsSync(f)) throw new Error(`${f} is missing: run \`npx nx run @rumpxen/minios-binding:build\` first`);
  }
  const script = `${out}.lds`;
  writeFileSync(script, target.linkerScript!);
  return linkGuestImage({
    script,
    entry: target.entrySymbol,
    startObject: target.startObject,
    objects: inputs.objects ?? [],
    wholeArchives: inputs.wholeArchives ?? [],
    archives: target.libraries,
    ldflags: target.ldflags,
    map: `${out}.map`,
    output: out,
  });
}

/** Compiles the named programs from c/test and links them into one image. */
export function buildTestImage(target: TargetDefinition, programs: string[], outDir: string, name: string): string {
  const objects = programs.map((p) => compileForTarget(target, join(testSourceDir, p), outDir));
  return linkImage(target, { objects }, join(outDir, name));
}

/**
 * `case NAME: PASS|FAIL reason|SKIP reason` lines of a console, by case name, as
 * `PASS`, `FAIL <reason>` or `SKIP <reason>` (protocol's caseVerdicts).
 */
export function caseResults(lines: readonly string[]): Record<string, string> {
  return caseVerdicts(lines);
}

/** The conformance suite's objects (hypercall-api's libconformance.a, linked whole) as an image. */
export function linkConformanceImage(target: TargetDefinition, out: string): string {
  return linkImage(target, { wholeArchives: [requireArtifact('conformanceArchive')] }, out);
}
