/**
 * Where NetBSD trees and builds are kept, and the lock that lets several processes (test
 * workers, a CLI run) share one build instead of doing it twice.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { processAlive } from '@rumpxen/protocol';

function repoRoot(from = process.cwd()): string | undefined {
  let dir = resolve(from);
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { workspaces?: unknown }).workspaces) return dir;
      } catch {
        // not the root's package.json; keep looking upward
      }
    }
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/** `$RUMPXEN_CACHE`, else `<repo root>/.cache` (git-ignored), else `~/.cache/rumpxen`; NetBSD files go in `netbsd/` below it. */
export function netbsdCacheDir(): string {
  const env = process.env.RUMPXEN_CACHE;
  const base = env ? resolve(env) : (() => {
    const root = repoRoot() ?? repoRoot(dirname(new URL(import.meta.url).pathname));
    return root ? join(root, '.cache') : join(homedir(), '.cache', 'rumpxen');
  })();
  return join(base, 'netbsd');
}

/**
 * Runs `fn` holding an exclusive lock on `dir` (a `.lock` folder beside it). A lock left by a
 * process that no longer runs is taken over; `onWait` is told once when another live
 * process holds it.
 */
export async function withLock<T>(dir: string, fn: () => Promise<T>, onWait?: (holder: number) => void): Promise<T> {
  const lock = `${dir}.lock`;
  mkdirSync(dirname(lock), { recursive: true });
  let told = false;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let holder = NaN;
      try {
        holder = Number(readFileSync(join(lock, 'pid'), 'utf8'));
      } catch {
        // the holder has made the folder but not yet written its pid
      }
      const young = Date.now() - statMs(lock) < 5000;
      if (Number.isFinite(holder) ? !processAlive(holder) : !young) {
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (!told && Number.isFinite(holder)) {
        onWait?.(holder);
        told = true;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function statMs(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}
