/**
 * `prune`: the build folders no target of this version would use go; the current ones, other
 * files, and a build a live process holds stay. Run on a scratch copy of the cache's layout:
 * the current kernel build's result.json (made by `npm test` before the tests), stale folders
 * with real files, a hard link and a symbolic link pointing out of the folder.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildNetbsd, currentBuildDirs, pruneNetbsdCache, resolveSource, type NetbsdBuild, type SourceTree } from '../src/index.js';

let root: string;
let outside: string;
let sources: { netbsd: SourceTree; buildrump: SourceTree };
let pv: NetbsdBuild;
let posix: NetbsdBuild;

const STALE_KERNEL = 'kernel-0000000000000000';
const STALE_LIBC = 'libc-1111111111111111';
const BUSY = 'userspace-2222222222222222';
const DEAD_LOCK = 'kernel-3333333333333333';

beforeAll(async () => {
  sources = { netbsd: await resolveSource('netbsd'), buildrump: await resolveSource('buildrump') };
  pv = await buildNetbsd('xen-pv', { cachedOnly: true });
  posix = await buildNetbsd('posix', { cachedOnly: true });
  root = mkdtempSync(join(tmpdir(), 'netbsd-prune-'));
  outside = mkdtempSync(join(tmpdir(), 'netbsd-prune-outside-'));
  writeFileSync(join(outside, 'keep.txt'), 'not the cache\'s');
  // The current builds, as far as prune reads them: the kernel's result.json gives libc's key.
  for (const b of [pv, posix]) {
    mkdirSync(join(root, basename(b.dir)));
    copyFileSync(join(b.dir, 'result.json'), join(root, basename(b.dir), 'result.json'));
  }
  const stale = join(root, STALE_KERNEL);
  mkdirSync(join(stale, 'dest', 'lib'), { recursive: true });
  writeFileSync(join(stale, 'dest', 'lib', 'librump.a'), Buffer.alloc(64 * 1024, 1));
  linkSync(join(stale, 'dest', 'lib', 'librump.a'), join(stale, 'dest', 'lib', 'librump-hardlink.a'));
  symlinkSync(outside, join(stale, 'src-link'));
  mkdirSync(join(root, STALE_LIBC));
  writeFileSync(join(root, STALE_LIBC, 'result.json'), '{}');
  // A build in progress: its lock is held by a live process (this one).
  mkdirSync(join(root, BUSY));
  mkdirSync(join(root, `${BUSY}.lock`));
  writeFileSync(join(root, `${BUSY}.lock`, 'pid'), String(process.pid));
  // A stale build whose builder died: its lock goes with it.
  mkdirSync(join(root, DEAD_LOCK));
  mkdirSync(join(root, `${DEAD_LOCK}.lock`));
  writeFileSync(join(root, `${DEAD_LOCK}.lock`, 'pid'), '999999999');
  // Not build folders: left alone.
  writeFileSync(join(root, 'notes.txt'), 'mine');
  mkdirSync(join(root, 'kernel-old-by-hand'));
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
  if (outside) rmSync(outside, { recursive: true, force: true });
});

const CLI = join(__dirname, '..', 'dist', 'cli.js');

describe('pruning the NetBSD build cache', () => {
  it('the CLI refuses arguments to prune, naming them and the fix', () => {
    const r = spawnSync(process.execPath, [CLI, 'prune', 'xen-pv'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/prune xen-pv: takes no arguments\. Run prune alone, or with --dry-run/);
  });

  it('knows the current build folders: each target\'s build and the libc over the kernel build', () => {
    const names = currentBuildDirs(sources, root);
    expect(names).toContain(basename(pv.dir));
    expect(names).toContain(basename(posix.dir));
    expect([...names].filter((n) => n.startsWith('libc-'))).toHaveLength(1);
    expect(names).not.toContain(STALE_KERNEL);
  });

  it('--dry-run lists the stale folders with their disk space and removes nothing', async () => {
    const before = readdirSync(root).sort();
    const r = await pruneNetbsdCache({ dryRun: true, buildRoot: root, sources });
    expect(r.removed.map((d) => basename(d.dir))).toEqual([STALE_KERNEL, DEAD_LOCK, STALE_LIBC]);
    // The 64 KiB file once (its hard link is the same blocks), the link not followed.
    const kernel = r.removed.find((d) => basename(d.dir) === STALE_KERNEL)!;
    expect(kernel.bytes).toBeGreaterThanOrEqual(64 * 1024);
    expect(kernel.bytes).toBeLessThan(2 * 64 * 1024);
    expect(r.busy.map((d) => basename(d))).toEqual([BUSY]);
    expect(r.current.map((d) => basename(d)).sort()).toEqual([basename(pv.dir), basename(posix.dir)].sort());
    expect(readdirSync(root).sort()).toEqual(before);
  });

  it('removes the stale folders and their locks, and nothing else', async () => {
    const r = await pruneNetbsdCache({ buildRoot: root, sources });
    expect(r.removed.map((d) => basename(d.dir))).toEqual([STALE_KERNEL, DEAD_LOCK, STALE_LIBC]);
    const left = readdirSync(root).sort();
    expect(left).toEqual([BUSY, `${BUSY}.lock`, basename(pv.dir), basename(posix.dir), 'kernel-old-by-hand', 'notes.txt'].sort());
    // What the stale folder's link pointed to is untouched.
    expect(existsSync(join(outside, 'keep.txt'))).toBe(true);
    // A second run finds nothing more to do.
    const again = await pruneNetbsdCache({ buildRoot: root, sources });
    expect(again.removed).toEqual([]);
  });
});
