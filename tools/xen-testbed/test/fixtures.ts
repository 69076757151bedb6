/**
 * Builds the fixture guests in fixtures/ (gcc + ld, freestanding) into build/fixtures/:
 *   pv.elf   x86-64 PV kernel with the standard Xen ELF notes; also runs as a DomU (console ring)
 *   pvh.elf  32-bit PVH kernel (XEN_ELFNOTE_PHYS32_ENTRY), dom0 only
 * Their behaviour is picked by the command line (see fixtures/fixture.c): mode=poweroff,
 * mode=result:WORD, mode=crash, mode=reboot, mode=spin, mode=exit:N, mode=exitoff:N.
 * Each output is linked to a temp name and renamed, so parallel test files can build at once.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package folder: the nearest folder above this file that has fixtures/fixture.c (this file may run bundled from build/). */
function packageDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'fixtures', 'fixture.c'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`fixture build: no fixtures/fixture.c above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
  return dir;
}

export const FIXTURES_SRC = join(packageDir(), 'fixtures');
export const FIXTURES_OUT = join(packageDir(), 'build', 'fixtures');

const CFLAGS = [
  '-O2', '-ffreestanding', '-mno-red-zone', '-fno-pic', '-fno-stack-protector', '-nostdinc', '-nostdlib',
  '-fno-asynchronous-unwind-tables', '-mgeneral-regs-only', '-Wall', '-Wextra', '-Werror',
];

function sh(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`fixture build: ${cmd} ${args.join(' ')} failed:\n${r.error?.message ?? ''}${r.stderr}`);
}

function link(name: string, m32: boolean, sources: string[], script: string, out: string): string {
  const tmp = mkdtempSync(join(FIXTURES_OUT, `.${name}-`));
  try {
    const objs = sources.map((src) => {
      const obj = join(tmp, src.replace(/\.[cS]$/, '.o'));
      sh('gcc', [...(m32 ? ['-m32'] : []), ...CFLAGS, '-c', join(FIXTURES_SRC, src), '-o', obj]);
      return obj;
    });
    const elf = join(tmp, name);
    sh('ld', [...(m32 ? ['-m', 'elf_i386'] : []), '-nostdlib', '-static', '-no-pie', '-z', 'noexecstack', '-z', 'max-page-size=4096', '-T', join(FIXTURES_SRC, script), '-o', elf, ...objs]);
    renameSync(elf, out);
    return out;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export interface Fixtures {
  /** The x86-64 PV fixture. */
  pv: string;
  /** The 32-bit PVH fixture. */
  pvh: string;
}

/** Builds both fixtures (about half a second) and returns their paths. */
export function buildFixtures(): Fixtures {
  mkdirSync(FIXTURES_OUT, { recursive: true });
  return {
    pv: link('pv.elf', false, ['pv-start.S', 'pv.c', 'fixture.c'], 'pv.ld', join(FIXTURES_OUT, 'pv.elf')),
    pvh: link('pvh.elf', true, ['pvh-start.S', 'pvh.c', 'fixture.c'], 'pvh.ld', join(FIXTURES_OUT, 'pvh.elf')),
  };
}
