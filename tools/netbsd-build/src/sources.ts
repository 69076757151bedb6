/**
 * The two inputs of every build: NetBSD's tree (rumpkernel/src-netbsd, branch all-src) and
 * buildrump.sh, each from a tarball or a folder named by an environment variable, or else
 * fetched with git at the pinned commits. Each gets an identity that keys the build cache.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { NetbsdBuildError } from './errors.js';
import { netbsdCacheDir, withLock } from './cache.js';

/** The upstream trees and the commits this project builds (see the README). */
export const PINNED_SOURCES = {
  netbsd: {
    env: 'RUMPXEN_NETBSD_SRC',
    repository: 'https://github.com/rumpkernel/src-netbsd.git',
    branch: 'all-src',
    commit: 'b7a6451a8d004a75172f186bcade321d5d1a3c4b',
    /** A file that only a NetBSD tree with rump kernel sources has. */
    marker: join('sys', 'rump', 'Makefile.rump'),
  },
  buildrump: {
    env: 'RUMPXEN_BUILDRUMP',
    repository: 'https://github.com/rumpkernel/buildrump.sh.git',
    branch: 'master',
    commit: '6cccd464a9675ce19eaca569b1c9c2837492038c',
    marker: 'buildrump.sh',
  },
} as const;

export type SourceKind = keyof typeof PINNED_SOURCES;

export interface SourceTree {
  kind: SourceKind;
  /** The tree's top folder (holds `sys/` for NetBSD, `buildrump.sh` for the driver). */
  dir: string;
  /** What keys the cache: `sha256:…` of a tarball, `git:<commit>`, or `dir:<hash of names, sizes and times>`. */
  identity: string;
  /** Where it came from, for messages: the variable's value or the git repository. */
  origin: string;
}

const TARBALL = /\.(tar\.xz|txz|tar\.gz|tgz|tar\.bz2|tar)$/;

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** A cheap identity for a folder: its git commit when it is a checkout, else names, sizes and mtimes of every file. */
function folderIdentity(dir: string): string {
  if (existsSync(join(dir, '.git'))) {
    const head = spawnSync('git', ['-C', dir, 'rev-parse', 'HEAD'], { encoding: 'utf8' });
    const dirty = spawnSync('git', ['-C', dir, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' });
    if (head.status === 0 && dirty.status === 0 && dirty.stdout.trim() === '') return `git:${head.stdout.trim()}`;
  }
  const hash = createHash('sha256');
  const walk = (d: string, rel: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (e.name === '.git') continue;
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p, `${rel}${e.name}/`);
      else {
        const st = statSync(p, { throwIfNoEntry: false });
        if (st) hash.update(`${rel}${e.name}\0${st.size}\0${Math.trunc(st.mtimeMs)}\n`);
      }
    }
  };
  walk(dir, '');
  return `dir:${hash.digest('hex')}`;
}

/** The one folder a tarball unpacked to (or the unpack folder itself when it has several). */
function topFolder(dir: string): string {
  const entries = readdirSync(dir, { withFileTypes: true });
  return entries.length === 1 && entries[0]!.isDirectory() ? join(dir, entries[0]!.name) : dir;
}

function checkTree(kind: SourceKind, dir: string, origin: string): void {
  const pin = PINNED_SOURCES[kind];
  if (!existsSync(join(dir, pin.marker))) {
    const what = kind === 'netbsd' ? 'a NetBSD source tree (rumpkernel/src-netbsd, all-src)' : 'buildrump.sh';
    throw new NetbsdBuildError(
      `${pin.env}=${origin}`,
      `does not hold ${what}: ${join(dir, pin.marker)} is missing.`,
      `Point ${pin.env} at the tarball or folder of ${what} (commit ${pin.commit.slice(0, 8)}).`,
    );
  }
}

async function unpackTarball(kind: SourceKind, tarball: string, onProgress: (l: string) => void): Promise<SourceTree> {
  const pin = PINNED_SOURCES[kind];
  const sum = await sha256File(tarball);
  const dest = join(netbsdCacheDir(), 'src', `${kind}-${sum.slice(0, 16)}`);
  await withLock(dest, async () => {
    if (existsSync(`${dest}.complete`)) return;
    onProgress(`unpacking ${tarball} (${kind}) into ${dest}`);
    const tmp = `${dest}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    rmSync(dest, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    const tar = spawnSync('tar', ['-xf', tarball, '-C', tmp], { encoding: 'utf8' });
    if (tar.status !== 0) {
      rmSync(tmp, { recursive: true, force: true });
      throw new NetbsdBuildError(`${pin.env}=${tarball}`, `cannot be unpacked (tar: ${tar.stderr.trim() || `exit ${tar.status}`}).`, 'Check that the file is a complete tarball (compare its sha256 with SOURCES.md).');
    }
    rmSync(`${dest}.complete`, { force: true });
    renameSync(tmp, dest);
    writeFileSync(`${dest}.complete`, `${tarball}\n`);
  });
  const dir = topFolder(dest);
  checkTree(kind, dir, tarball);
  return { kind, dir, identity: `sha256:${sum}`, origin: tarball };
}

function fetchWithGit(kind: SourceKind, onProgress: (l: string) => void): Promise<SourceTree> {
  const pin = PINNED_SOURCES[kind];
  const dest = join(netbsdCacheDir(), 'src', `${kind}-git-${pin.commit.slice(0, 12)}`);
  return withLock(dest, async () => {
    if (!existsSync(join(dest, '.git', 'rumpxen-complete'))) {
      onProgress(`fetching ${pin.repository} at ${pin.commit.slice(0, 12)} with git into ${dest}`);
      rmSync(dest, { recursive: true, force: true });
      mkdirSync(dest, { recursive: true });
      const git = (...args: string[]) => spawnSync('git', ['-C', dest, ...args], { encoding: 'utf8', env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } });
      const steps = [['init', '-q'], ['fetch', '-q', '--depth', '1', pin.repository, pin.commit], ['checkout', '-q', 'FETCH_HEAD']];
      for (const s of steps) {
        const r = git(...s);
        if (r.status !== 0) {
          rmSync(dest, { recursive: true, force: true });
          const why = r.error ? String(r.error.message) : (r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`);
          throw new NetbsdBuildError(
            'NetBSD sources',
            `are not given and cannot be fetched: git ${s[0]} of ${pin.repository} failed (${why}).`,
            `Set ${PINNED_SOURCES.netbsd.env} to the src-netbsd tarball or folder (all-src, commit ${PINNED_SOURCES.netbsd.commit.slice(0, 8)}) and ` +
              `${PINNED_SOURCES.buildrump.env} to the buildrump.sh tarball or folder (commit ${PINNED_SOURCES.buildrump.commit.slice(0, 8)}), ` +
              'or give this machine access to the git repositories.',
            1,
          );
        }
      }
      mkdirSync(join(dest, '.git', 'rumpxen-complete'));
    }
    checkTree(kind, dest, pin.repository);
    return { kind, dir: dest, identity: `git:${pin.commit}`, origin: pin.repository };
  });
}

function lastUsedFile(kind: SourceKind): string {
  return join(netbsdCacheDir(), 'src', `${kind}.last.json`);
}

/** The tree used last time, while it is still there (so later runs need not name it again). */
function lastUsed(kind: SourceKind): SourceTree | undefined {
  try {
    const t = JSON.parse(readFileSync(lastUsedFile(kind), 'utf8')) as SourceTree;
    return existsSync(join(t.dir, PINNED_SOURCES[kind].marker)) && !t.identity.startsWith('dir:') ? t : undefined;
  } catch {
    return undefined;
  }
}

function remember(tree: SourceTree): SourceTree {
  mkdirSync(dirname(lastUsedFile(tree.kind)), { recursive: true });
  writeFileSync(lastUsedFile(tree.kind), `${JSON.stringify(tree)}\n`);
  return tree;
}

/**
 * The tree for `kind`: from `$RUMPXEN_NETBSD_SRC` / `$RUMPXEN_BUILDRUMP` (a tarball, unpacked
 * once into the cache, or a folder used in place); unset, the tarball or git tree used last
 * (still in the cache), else fetched with git at the pinned commit.
 */
export async function resolveSource(kind: SourceKind, onProgress: (line: string) => void = () => {}, given = process.env[PINNED_SOURCES[kind].env]): Promise<SourceTree> {
  const tree = await resolveSourceOnce(kind, onProgress, given);
  // A folder is used in place and may change: only tarballs and git trees are remembered.
  return tree.identity.startsWith('dir:') ? tree : remember(tree);
}

async function resolveSourceOnce(kind: SourceKind, onProgress: (line: string) => void, given: string | undefined): Promise<SourceTree> {
  const pin = PINNED_SOURCES[kind];
  if (given === undefined || given === '') return lastUsed(kind) ?? fetchWithGit(kind, onProgress);
  const path = resolve(given);
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) {
    throw new NetbsdBuildError(`${pin.env}=${given}`, 'does not exist.', `Point it at the ${kind === 'netbsd' ? 'src-netbsd' : 'buildrump.sh'} tarball or folder, or unset it to fetch with git.`);
  }
  if (st.isDirectory()) {
    checkTree(kind, path, given);
    return { kind, dir: path, identity: folderIdentity(path), origin: path };
  }
  if (!TARBALL.test(path)) {
    throw new NetbsdBuildError(`${pin.env}=${given}`, 'is neither a folder nor a tarball (.tar.xz, .tar.gz, .tgz, .tar.bz2, .tar).', 'Point it at the tarball or the unpacked folder.');
  }
  return unpackTarball(kind, path, onProgress);
}
