/**
 * The guest kernel's test programs (@rumpxen/minios-binding's c/test: xstest.c, sleeper.c,
 * hello.c) as images for the dom0 checks: each compiled with the target's flags and linked
 * by @rumpxen/protocol's linkGuestImage, the one guest link step.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { guestPackageRoot, type xenPvTarget } from '@rumpxen/minios-binding';
import { linkGuestImage, parseCaseLine, protocolIncludeDir } from '@rumpxen/protocol';

type GuestTarget = typeof xenPvTarget;

const compilerInclude = execFileSync('gcc', ['-print-file-name=include'], { encoding: 'utf8' }).trim();

/** Compiles c/test/<program> of the guest kernel for the target and links it alone into outDir/name. */
export function buildTestImage(target: GuestTarget, program: string, outDir: string, name: string): string {
  for (const f of [target.startObject!, ...target.libraries]) {
    if (!existsSync(f)) throw new Error(`${f} is missing: run \`npx nx run @rumpxen/minios-binding:build\` first`);
  }
  mkdirSync(outDir, { recursive: true });
  const object = join(outDir, `${basename(name)}.o`);
  execFileSync('gcc', [
    '-std=gnu11', '-O2', '-Wall', '-Wextra', '-Werror', ...target.cflags,
    '-isystem', compilerInclude, ...target.includeDirs.flatMap((d) => ['-I', d]),
    // c/test/case.h is @rumpxen/protocol's rumpxen/case.h over the guest kernel.
    '-I', protocolIncludeDir,
    '-c', join(guestPackageRoot, 'c', 'test', program), '-o', object,
  ], { stdio: ['ignore', 'inherit', 'inherit'] });
  const output = join(outDir, name);
  const script = `${output}.lds`;
  writeFileSync(script, target.linkerScript!);
  return linkGuestImage({
    script,
    entry: target.entrySymbol,
    startObject: target.startObject!,
    objects: [object],
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
