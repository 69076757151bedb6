/**
 * The testbed's assets: Debian's Xen hypervisor, the dom0 kernel and its modules, busybox,
 * and the Xen tools with their libraries, fetched with `apt-get download`, unpacked with
 * `dpkg -x` into a cache folder, plus files derived from them (the gunzipped hypervisor, the
 * uncompressed dom0 kernel).
 *
 * Cache layout (`cacheDir()`):
 *   debs/<file>.deb                    the downloaded packages (kept: re-deriving needs no network)
 *   pkg/<package>/root/                the package unpacked with dpkg -x
 *   pkg/<package>/fetched.json         marker: which .deb, which version (written last)
 *   pkg/<package>/<derived files>      e.g. xen (ELF), vmlinux (ELF)
 * A package folder appears by rename of a complete temp folder, so a present marker means a
 * complete package.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { rumpxenCacheDir, workspaceRoot } from '@rumpxen/protocol';
import { MissingAssetError, TestbedError } from './errors.js';

/** Debian package names the testbed uses, each unpacked into its own folder. */
export const XEN_PACKAGE = 'xen-hypervisor-4.17-amd64';
/** Metapackage; the versioned `linux-image-6.1.0-N-amd64` it depends on is what is fetched. */
export const LINUX_PACKAGE = 'linux-image-amd64';
export const BUSYBOX_PACKAGE = 'busybox-static';
export const XEN_UTILS_PACKAGE = 'xen-utils-4.17';
/** Libraries xl, xenstored and xenconsoled need beyond the host's libc, libz, liblzma, libzstd, libuuid, libgcc_s. */
export const XEN_LIBRARY_PACKAGES = [
  'libxencall1',
  'libxendevicemodel1',
  'libxenevtchn1',
  'libxenforeignmemory1',
  'libxengnttab1',
  'libxenhypfs1',
  'libxenmisc4.17',
  'libxenstore4',
  'libxentoolcore1',
  'libxentoollog1',
  'libyajl2',
] as const;
/** Packages whose unpacked trees together form the dom0 userland (merge their roots). */
export const DOM0_USERLAND_PACKAGES = [BUSYBOX_PACKAGE, XEN_UTILS_PACKAGE, 'xen-utils-common', 'xenstore-utils', ...XEN_LIBRARY_PACKAGES] as const;
/** Every package `fetch` downloads, in order. */
export const ALL_PACKAGES = [XEN_PACKAGE, LINUX_PACKAGE, ...DOM0_USERLAND_PACKAGES] as const;
export type PackageName = (typeof ALL_PACKAGES)[number];

/** Asset names: what `fetchAssets({ only })` and errors talk about. */
export type AssetName = 'xen' | 'dom0-kernel' | 'dom0-vmlinux' | 'dom0-modules' | 'busybox' | 'xen-tools' | 'xen-libraries';

/** Which packages each asset needs. */
export const ASSET_PACKAGES: Record<AssetName, readonly PackageName[]> = {
  xen: [XEN_PACKAGE],
  'dom0-kernel': [LINUX_PACKAGE],
  'dom0-vmlinux': [LINUX_PACKAGE],
  'dom0-modules': [LINUX_PACKAGE],
  busybox: [BUSYBOX_PACKAGE],
  'xen-tools': [XEN_UTILS_PACKAGE, 'xen-utils-common', 'xenstore-utils'],
  'xen-libraries': [...XEN_LIBRARY_PACKAGES],
};

/** What `fetched.json` records about an unpacked package. */
export interface PackageMarker {
  /** The package asked for (e.g. linux-image-amd64). */
  package: string;
  /** The package actually downloaded (e.g. linux-image-6.1.0-56-amd64). */
  deb: string;
  version: string;
  debFile: string;
  /** For the kernel: the `uname -r` of the kernel (folder name under /lib/modules). */
  kernelRelease?: string;
}

/** The folder of the repository this package lives in, or undefined when installed elsewhere. */
export function repoRoot(): string | undefined {
  return workspaceRoot(dirname(fileURLToPath(import.meta.url)));
}

/** `$RUMPXEN_CACHE`, else `<repo root>/.cache` (git-ignored), else `~/.cache/rumpxen`. */
export function cacheDir(): string {
  return rumpxenCacheDir(dirname(fileURLToPath(import.meta.url)));
}

function packageDir(pkg: string, cache = cacheDir()): string {
  return join(cache, 'pkg', pkg);
}

/** The marker of an unpacked package, or undefined when the package is not (completely) in the cache. */
export function packageMarker(pkg: PackageName, cache = cacheDir()): PackageMarker | undefined {
  const file = join(packageDir(pkg, cache), 'fetched.json');
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as PackageMarker;
  } catch {
    return undefined;
  }
}

/** Paths of the assets; each getter throws MissingAssetError (naming the package and the fetch command) when its file is absent. */
export interface AssetPaths {
  readonly cacheDir: string;
  /** Xen as a multiboot ELF (gunzipped xen.gz): QEMU's `-kernel`. */
  readonly xen: string;
  /** The dom0 kernel as shipped (bzImage). */
  readonly dom0Kernel: string;
  /** The dom0 kernel as an uncompressed ELF with Xen notes: boots ~2.3 s faster under TCG. */
  readonly dom0Vmlinux: string;
  /** `uname -r` of the dom0 kernel, e.g. 6.1.0-56-amd64. */
  readonly dom0KernelRelease: string;
  /** `/lib/modules/<release>` of the dom0 kernel (modules.dep etc. included). */
  readonly dom0Modules: string;
  /** The static busybox binary. */
  readonly busybox: string;
  /** `/usr/lib/xen-4.17/bin` of xen-utils-4.17: xl, xenstored, xenconsoled, xen-init-dom0. */
  readonly xenToolsBin: string;
  /** The unpacked roots of DOM0_USERLAND_PACKAGES, to be merged into a dom0 root file system. */
  readonly dom0UserlandRoots: string[];
  /** The unpacked root of one package. */
  packageRoot(pkg: PackageName): string;
}

/** Typed paths into the cache; nothing is checked until a path is read. */
export function assetPaths(cache = cacheDir()): AssetPaths {
  const need = (asset: AssetName, pkg: PackageName, path: (m: PackageMarker) => string): string => {
    const marker = packageMarker(pkg, cache);
    if (!marker) throw new MissingAssetError(asset, pkg, cache);
    const p = path(marker);
    if (!existsSync(p)) throw new MissingAssetError(asset, pkg, cache, p);
    return p;
  };
  const root = (pkg: PackageName) => join(packageDir(pkg, cache), 'root');
  const release = (m: PackageMarker) => {
    if (!m.kernelRelease) throw new MissingAssetError('dom0-kernel', LINUX_PACKAGE, cache, `the kernel release in ${join(packageDir(LINUX_PACKAGE, cache), 'fetched.json')}`);
    return m.kernelRelease;
  };
  return {
    cacheDir: cache,
    get xen() {
      return need('xen', XEN_PACKAGE, () => join(packageDir(XEN_PACKAGE, cache), 'xen'));
    },
    get dom0Kernel() {
      return need('dom0-kernel', LINUX_PACKAGE, (m) => join(root(LINUX_PACKAGE), 'boot', `vmlinuz-${release(m)}`));
    },
    get dom0Vmlinux() {
      return need('dom0-vmlinux', LINUX_PACKAGE, () => join(packageDir(LINUX_PACKAGE, cache), 'vmlinux'));
    },
    get dom0KernelRelease() {
      const m = packageMarker(LINUX_PACKAGE, cache);
      if (!m) throw new MissingAssetError('dom0-kernel', LINUX_PACKAGE, cache);
      return release(m);
    },
    get dom0Modules() {
      return need('dom0-modules', LINUX_PACKAGE, (m) => join(root(LINUX_PACKAGE), 'lib', 'modules', release(m)));
    },
    get busybox() {
      return need('busybox', BUSYBOX_PACKAGE, () => join(root(BUSYBOX_PACKAGE), 'bin', 'busybox'));
    },
    get xenToolsBin() {
      return need('xen-tools', XEN_UTILS_PACKAGE, () => join(root(XEN_UTILS_PACKAGE), 'usr', 'lib', 'xen-4.17', 'bin'));
    },
    get dom0UserlandRoots() {
      return DOM0_USERLAND_PACKAGES.map((pkg) =>
        need(pkg === BUSYBOX_PACKAGE ? 'busybox' : (XEN_LIBRARY_PACKAGES as readonly string[]).includes(pkg) ? 'xen-libraries' : 'xen-tools', pkg, () => root(pkg)),
      );
    },
    packageRoot(pkg: PackageName) {
      const asset = (Object.keys(ASSET_PACKAGES) as AssetName[]).find((a) => ASSET_PACKAGES[a].includes(pkg)) ?? 'xen';
      return need(asset, pkg, () => root(pkg));
    },
  };
}

/** Packages of ALL_PACKAGES not (completely) in the cache. */
export function missingPackages(only?: readonly AssetName[], cache = cacheDir()): PackageName[] {
  const wanted = only ? [...new Set(only.flatMap((a) => ASSET_PACKAGES[a]))] : [...ALL_PACKAGES];
  return wanted.filter((p) => !packageMarker(p, cache));
}

export interface FetchOptions {
  /** Say nothing when nothing is missing (progress still goes to stderr when work is done). */
  quiet?: boolean;
  /** Fetch only the packages these assets need. */
  only?: readonly AssetName[];
  /** Also make sure qemu-system-x86_64 is installed (default true). */
  qemu?: boolean;
}

export interface FetchResult {
  cacheDir: string;
  fetched: PackageName[];
  alreadyPresent: PackageName[];
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], cwd?: string): Run {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive', LC_ALL: 'C' } });
  if (r.error) {
    const e = r.error as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') throw new TestbedError(`${cmd} is not installed: the testbed needs it to fetch its assets (Debian: apt-get install -y ${cmd === 'dpkg' ? 'dpkg' : cmd === 'xz' ? 'xz-utils' : 'apt'})`);
    throw new TestbedError(`${cmd} ${args.join(' ')} failed to start: ${e.message}`);
  }
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs an apt command; when it fails for want of package lists, runs `apt-get update` once and retries. */
function aptWithUpdate(state: { updated: boolean }, progress: (s: string) => void, cmd: string, args: string[], cwd?: string): Run {
  let r = run(cmd, args, cwd);
  if (r.status !== 0 && !state.updated) {
    state.updated = true;
    progress(`${cmd} ${args.join(' ')} failed; running apt-get update and trying again`);
    const u = run('apt-get', ['update', '-q']);
    if (u.status !== 0) {
      throw new TestbedError(
        `apt-get update failed (exit ${u.status}); the testbed needs Debian's package lists to fetch its assets.\n${u.stderr.trim()}\n` +
          `Fix: run 'apt-get update' as root (with network access), then 'rumpxen-testbed fetch'.`,
      );
    }
    r = run(cmd, args, cwd);
  }
  return r;
}

/** The versioned kernel package `linux-image-amd64` depends on. */
function resolveKernelPackage(state: { updated: boolean }, progress: (s: string) => void): string {
  const find = (out: string) => /Depends:\s*(linux-image-\d\S*-amd64)\b/.exec(out)?.[1];
  let r = run('apt-cache', ['depends', LINUX_PACKAGE]);
  let name = r.status === 0 ? find(r.stdout) : undefined;
  if (!name && !state.updated) {
    state.updated = true;
    progress(`apt-cache does not know ${LINUX_PACKAGE}; running apt-get update`);
    run('apt-get', ['update', '-q']);
    r = run('apt-cache', ['depends', LINUX_PACKAGE]);
    name = r.status === 0 ? find(r.stdout) : undefined;
  }
  if (!name) {
    throw new TestbedError(
      `cannot tell which kernel package ${LINUX_PACKAGE} stands for ('apt-cache depends ${LINUX_PACKAGE}' gave no linux-image-*-amd64 dependency).\n` +
        `Fix: check /etc/apt/sources.list has Debian 12 (bookworm) main, run 'apt-get update', then 'rumpxen-testbed fetch'.`,
    );
  }
  return name;
}

/** Downloads one .deb into `<cache>/debs` and returns its path. */
function download(deb: string, cache: string, state: { updated: boolean }, progress: (s: string) => void): string {
  const debs = join(cache, 'debs');
  mkdirSync(debs, { recursive: true });
  const tmp = mkdtempSync(join(debs, '.download-'));
  try {
    const r = aptWithUpdate(state, progress, 'apt-get', ['download', '-q', deb], tmp);
    const files = readdirSync(tmp).filter((f) => f.endsWith('.deb'));
    if (r.status !== 0 || files.length !== 1) {
      throw new TestbedError(
        `apt-get download ${deb} failed (exit ${r.status}):\n${r.stderr.trim()}\n` +
          `Fix: check network access to the Debian mirror and that ${deb} is in the package lists (apt-cache policy ${deb}), then run 'rumpxen-testbed fetch' again.`,
      );
    }
    const final = join(debs, files[0]!);
    renameSync(join(tmp, files[0]!), final);
    return final;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Gunzips Xen's `xen.gz` into a multiboot ELF QEMU can load with -kernel. */
function deriveXen(root: string, out: string): void {
  const boot = join(root, 'boot');
  const gz = readdirSync(boot).find((f) => /^xen-.*\.gz$/.test(f));
  if (!gz) throw new TestbedError(`${XEN_PACKAGE} holds no boot/xen-*.gz (found: ${readdirSync(boot).join(', ')}); the package layout changed`);
  writeFileSync(out, gunzipSync(readFileSync(join(boot, gz))));
}

/**
 * Extracts the uncompressed kernel ELF from a bzImage: the boot protocol header gives the
 * payload's offset and length inside the protected-mode part (setup_sects at 0x1f1,
 * payload_offset at 0x248, payload_length at 0x24c). The payload ends with the 4-byte
 * uncompressed size, which `--single-stream` leaves unread.
 */
export function extractVmlinux(bzImage: string, out: string): void {
  const img = readFileSync(bzImage);
  if (img.length < 0x250 || img.readUInt32LE(0x202) !== 0x53726448 /* "HdrS" */) {
    throw new TestbedError(`${bzImage} is not a Linux bzImage (no "HdrS" boot header)`);
  }
  const setupSects = img[0x1f1] || 4;
  const start = (setupSects + 1) * 512 + img.readUInt32LE(0x248);
  const payload = img.subarray(start, start + img.readUInt32LE(0x24c));
  let elf: Buffer;
  if (payload[0] === 0x1f && payload[1] === 0x8b) {
    elf = gunzipSync(payload);
  } else if (payload.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) {
    const r = spawnSync('xz', ['-dc', '--single-stream'], { input: payload, maxBuffer: 512 << 20 });
    if (r.error || r.status !== 0) {
      throw new TestbedError(`xz could not decompress the kernel in ${bzImage}: ${r.error?.message ?? r.stderr.toString().trim()} (needs xz-utils: apt-get install -y xz-utils)`);
    }
    elf = r.stdout;
  } else if (payload.readUInt32LE(0) === 0xfd2fb528) {
    const r = spawnSync('zstd', ['-dc'], { input: payload, maxBuffer: 512 << 20 });
    if (r.error || r.status !== 0) throw new TestbedError(`zstd could not decompress the kernel in ${bzImage} (apt-get install -y zstd)`);
    elf = r.stdout;
  } else {
    throw new TestbedError(`${bzImage}: the kernel payload is in a compression the testbed does not know (first bytes ${payload.subarray(0, 4).toString('hex')})`);
  }
  if (elf.readUInt32BE(0) !== 0x7f454c46) throw new TestbedError(`${bzImage}: the decompressed payload is not an ELF`);
  writeFileSync(out, elf);
}

/** Unpacks a .deb and derives its extra files in a temp folder, then renames it into place. */
function install(pkg: PackageName, debFile: string, cache: string): void {
  const pkgRoot = join(cache, 'pkg');
  mkdirSync(pkgRoot, { recursive: true });
  const tmp = mkdtempSync(join(pkgRoot, `.${pkg}-`));
  try {
    const root = join(tmp, 'root');
    const x = run('dpkg', ['-x', debFile, root]);
    if (x.status !== 0) throw new TestbedError(`dpkg -x ${debFile} failed: ${x.stderr.trim()}\nFix: delete ${debFile} and run 'rumpxen-testbed fetch' again.`);
    const field = (f: string) => run('dpkg-deb', ['-f', debFile, f]).stdout.trim();
    const marker: PackageMarker = { package: pkg, deb: field('Package'), version: field('Version'), debFile: basename(debFile) };
    if (pkg === XEN_PACKAGE) deriveXen(root, join(tmp, 'xen'));
    if (pkg === LINUX_PACKAGE) {
      const releases = readdirSync(join(root, 'lib', 'modules'));
      if (releases.length !== 1) throw new TestbedError(`${debFile}: expected one kernel release under /lib/modules, found ${releases.join(', ') || 'none'}`);
      marker.kernelRelease = releases[0]!;
      extractVmlinux(join(root, 'boot', `vmlinuz-${marker.kernelRelease}`), join(tmp, 'vmlinux'));
    }
    writeFileSync(join(tmp, 'fetched.json'), JSON.stringify(marker, null, 2) + '\n');
    const final = packageDir(pkg, cache);
    if (packageMarker(pkg, cache)) {
      // Another fetch (a parallel test run) finished this package first: keep theirs.
      rmSync(tmp, { recursive: true, force: true });
      return;
    }
    rmSync(final, { recursive: true, force: true }); // an incomplete folder without a marker
    try {
      renameSync(tmp, final);
    } catch (e) {
      if (!packageMarker(pkg, cache)) throw e;
      rmSync(tmp, { recursive: true, force: true });
    }
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** Makes sure qemu-system-x86_64 is installed: apt-get install as root, else a clear error. */
export function ensureQemu(progress: (s: string) => void = (s) => process.stderr.write(`fetch: ${s}\n`)): void {
  const which = spawnSync('qemu-system-x86_64', ['--version'], { encoding: 'utf8' });
  if (!which.error && which.status === 0) return;
  if (process.getuid?.() !== 0) {
    throw new TestbedError(
      'qemu-system-x86_64 is not installed and the testbed is not running as root, so it cannot install it.\n' +
        'Fix: sudo apt-get install -y qemu-system-x86',
    );
  }
  progress('installing qemu-system-x86 (apt-get install)');
  const state = { updated: false };
  const r = aptWithUpdate(state, progress, 'apt-get', ['install', '-y', '-q', '--no-install-recommends', 'qemu-system-x86']);
  if (r.status !== 0) throw new TestbedError(`apt-get install -y qemu-system-x86 failed (exit ${r.status}):\n${r.stderr.trim()}`);
}

/**
 * Fetches what is missing from the cache. Idempotent: a package with a marker is not
 * downloaded again, so a second run needs no network and says nothing with `quiet`.
 */
export function fetchAssets(opts: FetchOptions = {}): FetchResult {
  const cache = cacheDir();
  const progress = (s: string) => process.stderr.write(`fetch: ${s}\n`);
  if (opts.qemu !== false) ensureQemu(progress);
  const missing = missingPackages(opts.only, cache);
  const wanted = opts.only ? [...new Set(opts.only.flatMap((a) => ASSET_PACKAGES[a]))] : [...ALL_PACKAGES];
  const result: FetchResult = { cacheDir: cache, fetched: [], alreadyPresent: wanted.filter((p) => !missing.includes(p)) };
  if (missing.length === 0) {
    if (!opts.quiet) progress(`all ${wanted.length} packages present in ${cache}`);
    return result;
  }
  mkdirSync(join(cache, 'debs'), { recursive: true });
  const state = { updated: false };
  for (const pkg of missing) {
    const deb = pkg === LINUX_PACKAGE ? resolveKernelPackage(state, progress) : pkg;
    const existing = readdirSync(join(cache, 'debs'), { withFileTypes: true }).find((d) => d.isFile() && d.name.startsWith(`${deb}_`) && d.name.endsWith('.deb'));
    let debFile: string;
    if (existing && statSync(join(cache, 'debs', existing.name)).size > 0) {
      debFile = join(cache, 'debs', existing.name);
      progress(`unpacking ${existing.name} (already downloaded)`);
    } else {
      progress(`downloading ${deb}${deb !== pkg ? ` (for ${pkg})` : ''}`);
      debFile = download(deb, cache, state, progress);
    }
    install(pkg, debFile, cache);
    result.fetched.push(pkg);
  }
  progress(`fetched ${result.fetched.length} package(s) into ${cache}`);
  return result;
}
