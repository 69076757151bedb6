/**
 * Test fixtures made from scratch with the host toolchain: C/assembly compiled with gcc/as,
 * archives with `ar rcs`; the Xen targets are the real ones (@rumpxen/minios-binding's
 * xen-pv and xen-pvh: start object, libmkernel.a, linker script).
 */
import { compileGuestObjectsSync, guestCflags } from '@rumpxen/protocol';
import * as childProcess from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { resolveTarget, type TargetDefinition } from '../src/index.js';

const made: string[] = [];
// Temp folders go after each test file (set RUMPXEN_KEEP_TEST_DIRS=1 to look at them).
afterAll(() => {
  if (process.env.RUMPXEN_KEEP_TEST_DIRS) return;
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

export function workdir(tag: string): string {
  const d = mkdtempSync(join(tmpdir(), `il-test-${tag}-`));
  made.push(d);
  return d;
}

/** Writes `dir/name` and compiles it to `dir/<name less .c or .S>.o` (@rumpxen/protocol's guest compile step). */
export function compile(dir: string, name: string, source: string, flags: readonly string[] = []): string {
  const src = join(dir, name);
  writeFileSync(src, source);
  return compileGuestObjectsSync({ sources: [src], cflags: ['-O2', '-Wall', '-Werror', ...flags], outDir: dir })[0]!;
}

export function archive(dir: string, name: string, objects: string[]): string {
  const path = join(dir, name);
  execFileSync('ar', ['rcs', path, ...objects]);
  return path;
}

/** The guest toolchain contract's flags for application objects (@rumpxen/protocol). */
export const FREESTANDING: readonly string[] = guestCflags;

/** A component with a link set entry and thread-local variables, as a rump kernel has. */
export const COMPONENT_C = (name: string) => `
struct modinfo { const char *name; int order; };
static const struct modinfo mi_${name} = { "${name}", 1 };
__attribute__((used, section("link_set_modules")))
static const struct modinfo *const mi_${name}_p = &mi_${name};
__thread long curlwp_${name} = 0x${name.length}1;
__thread long tbss_${name};
long touch_${name}(void) { return curlwp_${name} + tbss_${name}; }
`;

/** The real Xen target of the given kind (@rumpxen/minios-binding's definition). */
export function xenTarget(kind: 'pv' | 'pvh'): TargetDefinition {
  return resolveTarget(kind === 'pv' ? 'xen-pv' : 'xen-pvh');
}

export const CLI = new URL('../dist/cli.js', import.meta.url).pathname;

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI (dist/cli.js) and returns its exit code and output. */
export function cli(args: string[], cwd?: string): CliRun {
  const r = childProcess.spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 600_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}


/** Writes the real Xen target of the given kind as a JSON target file `target-<kind>.json` (for the CLI's --target FILE.json). */
export function targetFile(dir: string, kind: 'pv' | 'pvh'): string {
  const def = xenTarget(kind);
  const file = join(dir, `target-${kind}.json`);
  writeFileSync(file, JSON.stringify({ ...def, layout: { start: `0x${def.layout.start.toString(16)}`, end: `0x${def.layout.end.toString(16)}` } }));
  return file;
}

/** A minimal ELF64 relocatable header for AArch64 (EM_AARCH64 = 183), written byte by byte. */
export function aarch64Object(): Uint8Array {
  const b = new Uint8Array(64);
  const dv = new DataView(b.buffer);
  b.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]); // ELF, 64-bit, little-endian, version 1
  dv.setUint16(16, 1, true); // ET_REL
  dv.setUint16(18, 183, true); // EM_AARCH64
  dv.setUint32(20, 1, true); // EV_CURRENT
  dv.setUint16(52, 64, true); // e_ehsize
  dv.setUint16(58, 64, true); // e_shentsize
  return b;
}
