// Shared by test/xen-full.test.ts and bench/: the DomU fixture. (The testbed's dom0 itself
// gives the host's node, chrooted by `hostrun`, libxl's state folders and xenstored's socket.)
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// The testbed's DomU console fixture (x86-64 PV, writes to its console ring; its command
// line picks `hang`, `crash` or `result=FAILURE`, otherwise it powers off after three lines).
const FIXTURE_SRC = join(PACKAGE_DIR, '..', '..', 'tools', 'xen-testbed', 'fixtures');
const CFLAGS = ['-O2', '-ffreestanding', '-mno-red-zone', '-fno-pic', '-fno-stack-protector', '-nostdinc', '-nostdlib',
  '-fno-asynchronous-unwind-tables', '-mgeneral-regs-only', '-Wall', '-Wextra', '-Werror'];

function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`building the DomU fixture: ${cmd} ${args.join(' ')} failed:\n${r.error?.message ?? ''}${r.stderr}`);
}

/** Builds the DomU fixture into build/fixtures/domu-console.elf (temp name, then rename) and returns its path. */
export function buildDomUFixture() {
  const outDir = join(PACKAGE_DIR, 'build', 'fixtures');
  mkdirSync(outDir, { recursive: true });
  const tmp = mkdtempSync(join(outDir, '.domu-'));
  try {
    run('gcc', [...CFLAGS, '-c', join(FIXTURE_SRC, 'domu-start.S'), '-o', join(tmp, 'start.o')]);
    run('gcc', [...CFLAGS, '-c', join(FIXTURE_SRC, 'domu-console.c'), '-o', join(tmp, 'console.o')]);
    run('ld', ['-nostdlib', '-static', '-no-pie', '-z', 'noexecstack', '-z', 'max-page-size=4096', '-T', join(FIXTURE_SRC, 'domu.ld'),
      '-o', join(tmp, 'domu.elf'), join(tmp, 'start.o'), join(tmp, 'console.o')]);
    const out = join(outDir, 'domu-console.elf');
    renameSync(join(tmp, 'domu.elf'), out);
    return out;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
