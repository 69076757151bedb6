/**
 * The start the NetBSD libc tests share: the image-linker's CLI must be built, NetBSD's libc for
 * the Xen targets is built first (taken from the cache when it is there), and each test file
 * gets a temporary folder for its images, removed after its tests (kept when
 * RUMPXEN_KEEP_TEST_DIRS is set).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { buildNetbsdLibc } from '@rumpxen/netbsd-build';

export const CLI = join(__dirname, '..', 'dist', 'cli.js');

/** Runs the image-linker's CLI (10 minutes at most, unless told). */
export function cli(args: string[], timeoutMs = 600_000) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: timeoutMs });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Registers the file's beforeAll (libc, then prepare(dir) builds the file's images) and
 * afterAll (the folder removed). Returns the folder's getter.
 */
export function libcTestFolder(tag: string, prepare: (dir: string) => Promise<void> | void, timeoutMs = 900_000): () => string {
  let dir: string | undefined;
  beforeAll(async () => {
    expect(existsSync(CLI), `${CLI} (build the monorepo first: npm run build)`).toBe(true);
    const t0 = Date.now();
    const lc = await buildNetbsdLibc('xen-pv', { onProgress: (l) => console.error(l) });
    if (!lc.cached) console.log(`NetBSD libc for xen-pv built in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    dir = mkdtempSync(join(tmpdir(), `${tag}-`));
    await prepare(dir);
  }, timeoutMs);
  afterAll(() => {
    if (dir && !process.env.RUMPXEN_KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    if (!dir) throw new Error('the test folder was not made (see beforeAll)');
    return dir;
  };
}
