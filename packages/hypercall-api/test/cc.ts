/** Compiling C snippets against the generated headers, on Linux and freestanding. */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { headerNames, renderHeader } from '../src/index.js';

export const gccInclude = execFileSync('gcc', ['-print-file-name=include'], { encoding: 'utf8' }).trim();

export type Mode = 'linux' | 'freestanding';

const made: string[] = [];
function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
}

/** Removes every temp directory this module created (call from afterAll). */
export function cleanupTemp(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

export const modeFlags: Record<Mode, string[]> = {
  linux: ['-std=c11', '-Wall', '-Wextra', '-Werror', '-pedantic'],
  freestanding: ['-std=c11', '-Wall', '-Wextra', '-Werror', '-ffreestanding', '-nostdinc', '-isystem', gccInclude],
};

/** A fresh include directory holding the headers as rendered now (optionally tampered with). */
export function freshInclude(edit?: (name: string, text: string) => string): string {
  const dir = tempDir('hcapi-inc-');
  for (const name of headerNames) {
    const path = join(dir, name);
    mkdirSync(dirname(path), { recursive: true });
    const text = renderHeader(name);
    writeFileSync(path, edit ? edit(name, text) : text);
  }
  return dir;
}

export interface CcResult {
  ok: boolean;
  stderr: string;
  out: string;
}

/** Compiles `source` to an object (or, with link, an executable) with the mode's flags. */
export function cc(source: string, include: string, mode: Mode, link = false): CcResult {
  const dir = tempDir('hcapi-cc-');
  const src = join(dir, 't.c');
  writeFileSync(src, source);
  const out = join(dir, link ? 't' : 't.o');
  const args = [...modeFlags[mode], '-I', include, ...(link ? [] : ['-c']), src, '-o', out];
  const r = spawnSync('gcc', args, { encoding: 'utf8' });
  return { ok: r.status === 0, stderr: r.stderr, out };
}

/** Builds and runs a hosted program; returns its stdout. */
export function run(source: string, include: string): string {
  const r = cc(source, include, 'linux', true);
  if (!r.ok) throw new Error(`compile failed:\n${r.stderr}`);
  return execFileSync(r.out, { encoding: 'utf8' });
}
