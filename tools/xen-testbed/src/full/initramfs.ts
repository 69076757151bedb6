/**
 * The full-mode dom0's initramfs: busybox, the Xen dom0 tools and their shared libraries,
 * the kernel modules dom0 needs (with modules.dep), and the scripts of dom0-scripts.ts.
 * Built in memory, written as an uncompressed newc cpio (the kernel unpacks it faster than a
 * gzip one under TCG), and cached in the asset cache under the hash of its content.
 */
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { type AssetPaths, assetPaths } from '../assets.js';
import { TestbedError } from '../errors.js';
import { type CpioEntry, writeCpio } from './cpio.js';
import {
  AGENT_SCRIPT,
  BLOCK_HOTPLUG_SCRIPT,
  HOSTRUN_SCRIPT,
  DOM0_TOOLS_FOR_HOST,
  dom0ToolWrapper,
  INITTAB,
  LINUX_DOMU_INIT,
  RC_SCRIPT,
  VIF_HOTPLUG_SCRIPT,
  WAIT_DOMAIN_SCRIPT,
  hostProgramWrapper,
} from './dom0-scripts.js';
import { modulesDep, resolveModules } from './modinfo.js';

/** Kernel modules dom0 loads at start, in this order (their dependencies are added before them). */
export const DOM0_MODULES = [
  'xen-evtchn',
  'xen-gntdev',
  'xen-gntalloc',
  'xen-privcmd',
  'xenfs',
  'xen-blkback',
  'xen-netback',
  'xen-pciback',
  'virtio_pci',
  'virtio_console',
  // dom0's end of a passed-through NIC's QEMU hub (TestbedOptions.passthroughNics).
  'virtio_net',
  '9pnet_virtio',
  '9p',
  'bridge',
  'tun',
  'loop',
] as const;

/** Programs of xen-utils-4.17 (in /usr/lib/xen-4.17/bin) dom0 needs. */
export const DOM0_XEN_PROGRAMS = ['xl', 'xenstored', 'xenconsoled', 'xen-init-dom0', 'xenconsole'] as const;

/** Host libraries dom0's programs load at run time without a DT_NEEDED entry. */
const DLOPENED_HOST_LIBRARIES = ['libgcc_s.so.1'] as const;

/** Host programs dom0 runs through `hostrun` under their own name. */
export const HOST_PROGRAM_WRAPPERS = ['node', 'npm', 'npx'] as const;

export interface Initramfs {
  /** The cpio file in the cache. */
  path: string;
  /** sha256 of the archive content (also in the file name). */
  hash: string;
  sizeBytes: number;
  /** False when the cached file was reused. */
  built: boolean;
  /** Modules in load order. */
  modules: string[];
}

/** An in-memory tree; paths are relative to the root, parents created on demand. */
class Tree {
  private readonly entries = new Map<string, CpioEntry>();

  dir(path: string): void {
    const parts = path.split('/').filter(Boolean);
    for (let i = 1; i <= parts.length; i++) {
      const p = parts.slice(0, i).join('/');
      const existing = this.entries.get(p);
      if (existing && existing.type !== 'dir') throw new Error(`initramfs: ${p} is both a ${existing.type} and a directory`);
      if (!existing) this.entries.set(p, { type: 'dir', path: p });
    }
  }

  private parent(path: string): string {
    const p = path.replace(/^\/+/, '');
    const d = posix.dirname(p);
    if (d !== '.') this.dir(d);
    return p;
  }

  file(path: string, data: Buffer | string, mode = 0o644): void {
    const p = this.parent(path);
    this.entries.set(p, { type: 'file', path: p, data: typeof data === 'string' ? Buffer.from(data) : data, mode });
  }

  symlink(path: string, target: string): void {
    const p = this.parent(path);
    if (!this.entries.has(p)) this.entries.set(p, { type: 'symlink', path: p, target });
  }

  char(path: string, major: number, minor: number, mode = 0o600): void {
    const p = this.parent(path);
    this.entries.set(p, { type: 'char', path: p, major, minor, mode });
  }

  has(path: string): boolean {
    return this.entries.has(path.replace(/^\/+/, ''));
  }

  /** Entries sorted by path, so parents come first and equal trees give equal archives. */
  list(): CpioEntry[] {
    return [...this.entries.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }
}

/** Where each program's shared libraries live: `{ soname, hostPath, guestPath }` via ldd. */
function sharedLibraries(programs: string[], libDirs: string[], libRoots: string[]): Map<string, string> {
  const found = new Map<string, string>(); // guest path -> host file
  for (const prog of programs) {
    const r = spawnSync('ldd', [prog], { encoding: 'utf8', env: { ...process.env, LD_LIBRARY_PATH: libDirs.join(':'), LC_ALL: 'C' } });
    if (r.error) throw new TestbedError(`ldd is not installed; the testbed needs it to collect the libraries of ${prog} (Debian: apt-get install -y libc-bin)`);
    if (r.status !== 0) throw new TestbedError(`ldd ${prog} failed: ${r.stderr.trim() || r.stdout.trim()}`);
    for (const line of r.stdout.split('\n')) {
      const missing = /^\s*(\S+) => not found/.exec(line);
      if (missing) {
        throw new TestbedError(
          `${prog} needs ${missing[1]}, which is neither in the cached Xen library packages nor on this host.\n` +
            `Fix: run 'rumpxen-testbed fetch' (Xen libraries) or install the host library that provides ${missing[1]}.`,
        );
      }
      const m = /^\s*(?:(\S+) => )?(\/\S+) \(0x[0-9a-f]+\)/.exec(line);
      if (!m) continue;
      const hostPath = m[2]!;
      const root = libRoots.find((r) => hostPath.startsWith(r + '/'));
      const guestPath = root ? hostPath.slice(root.length) : m[1] ? posix.join(posix.dirname(hostPath), m[1]) : hostPath;
      found.set(guestPath, hostPath);
    }
  }
  return found;
}

/** The applets of a static busybox, as absolute paths (`/bin/sh`, `/sbin/modprobe`, ...). */
function busyboxApplets(busybox: string): string[] {
  const r = spawnSync(busybox, ['--list-full'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new TestbedError(`${busybox} --list-full failed: ${r.error?.message ?? r.stderr}; the cached busybox-static looks broken (run 'rumpxen-testbed fetch' again)`);
  return r.stdout.split('\n').filter((l) => l.length > 0).map((l) => '/' + l);
}

/** A root with the basic folders, device nodes and busybox with all its applets. */
function busyboxTree(assets: AssetPaths): Tree {
  const tree = new Tree();
  for (const d of ['proc', 'sys', 'dev', 'run', 'tmp', 'root', 'etc', 'var/lib', 'var/log', 'mnt']) tree.dir(d);
  tree.char('dev/console', 5, 1);
  tree.char('dev/null', 1, 3, 0o666);
  tree.symlink('var/run', '../run');
  tree.symlink('var/lock', '../run/lock');
  const busybox = assets.busybox;
  tree.file('bin/busybox', readFileSync(busybox), 0o755);
  for (const applet of busyboxApplets(busybox)) {
    if (applet === '/bin/busybox') continue;
    tree.symlink(applet, posix.relative(posix.dirname(applet), '/bin/busybox'));
  }
  return tree;
}

/** Adds the dom0 kernel's `wanted` modules (and their dependencies) with a modules.dep; returns them in load order. */
function addModules(tree: Tree, assets: AssetPaths, wanted: readonly string[]): string[] {
  const release = assets.dom0KernelRelease;
  const moduleDir = assets.dom0Modules;
  const modules = resolveModules(moduleDir, wanted);
  for (const m of modules) tree.file(`lib/modules/${release}/${m.relPath}`, readFileSync(join(moduleDir, m.relPath)));
  tree.file(`lib/modules/${release}/modules.dep`, modulesDep(modules));
  for (const f of ['modules.builtin', 'modules.order']) tree.file(`lib/modules/${release}/${f}`, readFileSync(join(moduleDir, f)));
  return modules.map((m) => m.name);
}

/** Writes `tree` as `<cache>/initramfs/<kind>-<hash>.cpio` unless that file is already there. */
function writeCached(tree: Tree, kind: string, cacheDir: string, modules: string[]): Initramfs {
  const archive = writeCpio(tree.list());
  const hash = createHash('sha256').update(archive).digest('hex');
  const path = join(cacheDir, 'initramfs', `${kind}-${hash.slice(0, 16)}.cpio`);
  if (existsSync(path) && statSync(path).size === archive.length) {
    return { path, hash, sizeBytes: archive.length, built: false, modules };
  }
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, archive);
  renameSync(tmp, path);
  return { path, hash, sizeBytes: archive.length, built: true, modules };
}

/** Assembles the dom0 tree from the cached packages. */
function dom0Tree(assets: AssetPaths): { tree: Tree; modules: string[] } {
  const tree = busyboxTree(assets);
  tree.symlink('init', 'bin/busybox');

  // Xen programs and their libraries.
  const xenBin = assets.xenToolsBin;
  const programs: string[] = [];
  for (const p of DOM0_XEN_PROGRAMS) {
    const host = join(xenBin, p);
    tree.file(`usr/lib/xen-4.17/bin/${p}`, readFileSync(host), 0o755);
    programs.push(host);
  }
  for (const p of ['xl', 'xenstored', 'xenconsoled', 'xen-init-dom0']) tree.symlink(`usr/sbin/${p}`, `../lib/xen-4.17/bin/${p}`);
  const xenstoreRoot = assets.packageRoot('xenstore-utils');
  const xenstoreBin = join(xenstoreRoot, 'usr', 'bin', 'xenstore');
  tree.file('usr/bin/xenstore', readFileSync(xenstoreBin), 0o755);
  programs.push(xenstoreBin);
  for (const name of readdirSync(join(xenstoreRoot, 'usr', 'bin'))) {
    if (/^xenstore-(read|write|rm|exists|list|ls|chmod|watch)$/.test(name)) tree.symlink(`usr/bin/${name}`, 'xenstore');
  }
  const libRoots = assets.dom0UserlandRoots;
  const libDirs = libRoots.flatMap((r) => [join(r, 'usr', 'lib', 'x86_64-linux-gnu'), join(r, 'lib', 'x86_64-linux-gnu')]).filter((d) => existsSync(d));
  for (const [guestPath, hostPath] of sharedLibraries(programs, libDirs, libRoots)) {
    tree.file(guestPath, readFileSync(hostPath), 0o755);
  }
  // glibc dlopen()s libgcc_s for pthread_cancel, which xl uses; ldd cannot see that.
  for (const lib of DLOPENED_HOST_LIBRARIES) {
    const dir = ['/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu'].find((d) => existsSync(join(d, lib)));
    if (!dir) throw new TestbedError(`the host library ${lib} was not found in /lib/x86_64-linux-gnu or /usr/lib/x86_64-linux-gnu; xl needs it in dom0 (Debian: apt-get install -y libgcc-s1)`);
    tree.file(`lib/x86_64-linux-gnu/${lib}`, readFileSync(join(dir, lib)), 0o755);
  }
  if (!tree.has('lib64/ld-linux-x86-64.so.2')) throw new TestbedError('the dynamic loader /lib64/ld-linux-x86-64.so.2 was not found by ldd; the testbed needs an x86-64 glibc host');

  // xl configuration and hotplug scripts.
  tree.file('etc/xen/xl.conf', 'autoballoon="off"\nlockfile="/run/lock/xl"\nvif.default.bridge="xenbr0"\n');
  tree.file('etc/xen/scripts/block', BLOCK_HOTPLUG_SCRIPT, 0o755);
  tree.file('etc/xen/scripts/vif-bridge', VIF_HOTPLUG_SCRIPT, 0o755);
  tree.file('etc/ld.so.conf', '/lib/x86_64-linux-gnu\n/usr/lib/x86_64-linux-gnu\n');
  tree.file('etc/passwd', 'root:x:0:0:root:/root:/bin/sh\n');
  tree.file('etc/group', 'root:x:0:\n');
  tree.file('etc/inittab', INITTAB);
  tree.file('etc/testbed/rc', RC_SCRIPT, 0o755);
  tree.file('etc/testbed/agent', AGENT_SCRIPT, 0o755);
  tree.file('usr/local/bin/hostrun', HOSTRUN_SCRIPT, 0o755);
  tree.file('usr/local/bin/tb-wait-domain', WAIT_DOMAIN_SCRIPT, 0o755);
  for (const p of HOST_PROGRAM_WRAPPERS) tree.file(`usr/local/bin/${p}`, hostProgramWrapper(p), 0o755);
  for (const p of DOM0_TOOLS_FOR_HOST) tree.file(`etc/testbed/host-tools/${p}`, dom0ToolWrapper(p), 0o755);

  const modules = addModules(tree, assets, DOM0_MODULES);
  tree.file('etc/testbed/modules', DOM0_MODULES.join('\n') + '\n');
  return { tree, modules };
}

/**
 * The dom0 initramfs for the cached assets: built when its content changed, else the cached
 * file. Written to a temp file and renamed, so a cached file is always complete.
 */
export function buildDom0Initramfs(assets: AssetPaths = assetPaths()): Initramfs {
  const { tree, modules } = dom0Tree(assets);
  return writeCached(tree, 'dom0', assets.cacheDir, modules);
}

/** Modules of the Linux DomU: the Xen frontends. */
export const LINUX_DOMU_MODULES = ['xen-netfront', 'xen-blkfront'] as const;

/**
 * The ramdisk of a known-good Linux DomU (the dom0 kernel booted as a PV DomU, with
 * busybox), to check the dom0 side of vifs and vbds against Linux's own frontends. Its
 * /init is LINUX_DOMU_INIT: see there for what it does and prints.
 */
export function buildLinuxDomUInitramfs(assets: AssetPaths = assetPaths()): Initramfs {
  const tree = busyboxTree(assets);
  const modules = addModules(tree, assets, LINUX_DOMU_MODULES);
  tree.file('init', LINUX_DOMU_INIT, 0o755);
  return writeCached(tree, 'linux-domu', assets.cacheDir, modules);
}
