/**
 * Where rumpxen keeps what it fetches and builds (the testbed's Debian packages, NetBSD's
 * trees and builds): `$RUMPXEN_CACHE`, else `.cache` in the repository (git-ignored), else
 * `~/.cache/rumpxen`. Each tool keeps its own folder below it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

/** The npm workspace root at or above `from` (the first folder whose package.json has `workspaces`), or undefined. */
export function workspaceRoot(from: string): string | undefined {
  let dir = resolve(from);
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { workspaces?: unknown }).workspaces) return dir;
      } catch {
        // not a readable package.json: keep walking
      }
    }
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/**
 * `$RUMPXEN_CACHE`, else `<repository>/.cache`, else `~/.cache/rumpxen`. The repository is the
 * workspace root around the first of `from` that is in one (a tool passes its own folder, and
 * the working directory first if it should follow it).
 */
export function rumpxenCacheDir(...from: string[]): string {
  const env = process.env.RUMPXEN_CACHE;
  if (env) return resolve(env);
  for (const f of from) {
    const root = workspaceRoot(f);
    if (root) return join(root, '.cache');
  }
  return join(homedir(), '.cache', 'rumpxen');
}
