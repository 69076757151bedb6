/**
 * Where NetBSD trees and builds are kept, and the lock that lets several processes (test
 * workers, a CLI run) share one build instead of doing it twice.
 */
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { processAlive, rumpxenCacheDir } from '@rumpxen/protocol';

/** `$RUMPXEN_CACHE`, else `<repo root>/.cache` (git-ignored; the repository around the working directory, else around this package), else `~/.cache/rumpxen`; NetBSD files go in `netbsd/` below it. */
export function netbsdCacheDir(): string {
  return join(rumpxenCacheDir(process.cwd(), dirname(new URL(import.meta.url).pathname)), 'netbsd');
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
