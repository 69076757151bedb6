// Shared by test/xen-full.test.ts and bench/: the DomU fixture and the dom0
// preparation that lets the host's node (chrooted by `hostrun`) use libxl.
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

// `hostrun` chroots onto the host's read-only /: give libxl its writable state
// folders and xenstored's socket there, shared with dom0's own xl.
export const DOM0_PREP = `
set -e
mkdir -p /var/lib/xen /run/xen
grep -q ' /host/var/lib ' /proc/mounts || mount -t tmpfs tmpfs /host/var/lib
mkdir -p /host/var/lib/xen /host/run/xen /host/run/xenstored
grep -q ' /host/var/lib/xen ' /proc/mounts || mount --bind /var/lib/xen /host/var/lib/xen
grep -q ' /host/run/xen ' /proc/mounts || mount --bind /run/xen /host/run/xen
grep -q ' /host/run/xenstored ' /proc/mounts || mount --bind /run/xenstored /host/run/xenstored
`;
