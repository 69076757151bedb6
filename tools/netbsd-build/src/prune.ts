/**
 * Removing builds from the cache that no target of this version would use: a build folder is
 * keyed by its sources, flags and options, so every change of those (a new component, a patch,
 * a compiler flag) leaves the old folder behind (50-90 MiB each, on disk).
 */
import { existsSync, lstatSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { processAlive } from '@rumpxen/protocol';
import { buildConfig, targetDefinition, TARGETS } from './configs.js';
import { buildKey, type NetbsdBuild } from './build.js';
import { libcConfig, libcKey } from './libc.js';
import { netbsdCacheDir } from './cache.js';
import { resolveSource, type SourceTree } from './sources.js';

export interface PruneOptions {
  /** List what would go, remove nothing. */
  dryRun?: boolean;
  /** The folder holding the build folders; default `<cache>/netbsd/build`. */
  buildRoot?: string;
  /** The source trees the current keys are made from; default resolved as a build would. */
  sources?: { netbsd: SourceTree; buildrump: SourceTree };
}

export interface PruneResult {
  /** The build folders of the current keys that are in the cache (kept). */
  current: string[];
  /** The build folders removed (or, with dryRun, that would be), with their size in bytes. */
  removed: { dir: string; bytes: number }[];
  /** Stale folders left alone because a live process holds their lock (a build running). */
  busy: string[];
}

/** `kernel-…`, `userspace-…` and `libc-…`: the build folders buildNetbsd and buildNetbsdLibc make. */
const BUILD_DIR = /^(kernel|userspace|libc)-[0-9a-f]{16}$/;

/** The disk space under path, as du counts it: allocated blocks, each hard-linked file once, links not followed. */
function bytesIn(path: string, seen = new Set<string>()): number {
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (!st) return 0;
  const id = `${st.dev}:${st.ino}`;
  if (seen.has(id)) return 0;
  seen.add(id);
  let n = st.blocks * 512;
  if (st.isDirectory()) for (const e of readdirSync(path)) n += bytesIn(join(path, e), seen);
  return n;
}

function lockedByLiveProcess(dir: string): boolean {
  try {
    return processAlive(Number(readFileSync(join(`${dir}.lock`, 'pid'), 'utf8')));
  } catch {
    return false;
  }
}

/**
 * The names of the build folders the current version would use: each target's kernel or
 * userspace build, and for the Xen targets the libc made over that kernel build (known only
 * when the kernel build is in the cache: its result gives libc's flags).
 */
export function currentBuildDirs(sources: { netbsd: SourceTree; buildrump: SourceTree }, buildRoot: string): Set<string> {
  const names = new Set<string>();
  for (const name of TARGETS) {
    const def = targetDefinition(name);
    const config = buildConfig(def);
    const kernelDir = `${config.mode}-${buildKey(sources.netbsd, sources.buildrump, config).slice(0, 16)}`;
    names.add(kernelDir);
    if (name === 'posix') continue;
    let kernel: NetbsdBuild;
    try {
      kernel = JSON.parse(readFileSync(join(buildRoot, kernelDir, 'result.json'), 'utf8')) as NetbsdBuild;
    } catch {
      continue;
    }
    names.add(`libc-${libcKey(kernel, libcConfig(def, kernel)).slice(0, 16)}`);
  }
  return names;
}

/**
 * Removes the build folders of the cache that no target would use now (see currentBuildDirs),
 * each with its lock folder; leaves anything else in the folder (sources, host tools, other
 * files) and any stale build a live process holds the lock of.
 */
export async function pruneNetbsdCache(opts: PruneOptions = {}): Promise<PruneResult> {
  const buildRoot = opts.buildRoot ?? join(netbsdCacheDir(), 'build');
  const sources = opts.sources ?? { netbsd: await resolveSource('netbsd'), buildrump: await resolveSource('buildrump') };
  const current = currentBuildDirs(sources, buildRoot);
  const result: PruneResult = { current: [], removed: [], busy: [] };
  if (!existsSync(buildRoot)) return result;
  for (const name of readdirSync(buildRoot).sort()) {
    if (!BUILD_DIR.test(name)) continue;
    const dir = join(buildRoot, name);
    if (current.has(name)) {
      result.current.push(dir);
      continue;
    }
    if (lockedByLiveProcess(dir)) {
      result.busy.push(dir);
      continue;
    }
    const bytes = bytesIn(dir);
    if (!opts.dryRun) {
      rmSync(dir, { recursive: true, force: true });
      rmSync(`${dir}.lock`, { recursive: true, force: true });
    }
    result.removed.push({ dir, bytes });
  }
  return result;
}
