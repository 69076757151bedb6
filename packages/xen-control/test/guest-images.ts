/**
 * The guest kernel's test programs (@rumpxen/minios-binding's c/test: xstest.c, sleeper.c,
 * hello.c) as images for the dom0 checks: each compiled with the target's flags and linked
 * by @rumpxen/protocol's linkGuestImage, the one guest link step.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { guestPackageRoot, type xenPvTarget } from '@rumpxen/minios-binding';
import { compileGuestObjectsSync, linkGuestImage, parseCaseLine, protocolIncludeDir } from '@rumpxen/protocol';

type GuestTarget = typeof xenPvTarget;

/** Compiles c/test/<program> of the guest kernel for the target and links it alone into outDir/name. */
export function buildTestImage(target: GuestTarget, program: string, outDir: string, name: string): string {
  for (const f of [target.startObject!, ...target.libraries]) {
    if (!existsSync(f)) throw new Error(`${f} is missing: run \`npx nx run @rumpxen/minios-binding:build\` first`);
  }
  // @rumpxen/protocol's guest compile step; the object is named for the image (one program, several images).
  const [object] = compileGuestObjectsSync({
    sources: [join(guestPackageRoot, 'c', 'test', program)],
    cflags: ['-std=gnu11', '-O2', '-Wall', '-Wextra', '-Werror', ...target.cflags],
    compilerHeaders: true,
    // c/test/case.h is @rumpxen/protocol's rumpxen/case.h over the guest kernel.
    includeDirs: [...target.includeDirs, protocolIncludeDir],
    outDir,
    objectName: () => `${basename(name)}.o`,
  });
  const output = join(outDir, name);
  const script = `${output}.lds`;
  writeFileSync(script, target.linkerScript!);
  return linkGuestImage({
    script,
    entry: target.entrySymbol,
    startObject: target.startObject!,
    objects: [object!],
    wholeArchives: [],
    archives: target.libraries,
    ldflags: target.ldflags,
    output,
  });
}

/** `case NAME: PASS|FAIL why|SKIP why` lines of a console by case name, as `PASS`, `FAIL <why>` or `SKIP <why>`. */
export function caseResults(lines: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of lines) {
    const c = parseCaseLine(line);
    if (c) out[c.name] = c.reason ? `${c.outcome} ${c.reason}` : c.outcome;
  }
  return out;
}
