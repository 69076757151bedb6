/**
 * NetBSD's C library for a Xen target: libc, libm, libpthread and libutil built from the tree
 * by NetBSD's own makefiles in their `RUMPRUN=yes` mode (no system call stubs, no malloc, no
 * static TLS set-up: what lies under libc is @rumpxen/netbsd-libc's), plus the target's base
 * rump kernel (librump.a) again with `RUMP_KERNEL_IS_LIBC`, whose system calls are then also
 * exported under their libc names (`write`, `_sys_write`, ...).
 *
 * It runs on top of the target's kernel-mode build: that build's tools (the cross wrappers,
 * nbmake and the mk.conf buildrump.sh wrote, which already says RUMPRUN=yes) with a make
 * wrapper of its own, whose objects, headers and archives go into this build's folder, never
 * into the kernel build's. Cached like the kernel builds: a folder keyed by the kernel build
 * and everything below, `result.json` written last, a lock beside it.
 */
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { TargetDefinition } from '@rumpxen/hypercall-api';
import { buildNetbsd, runStep, type BuildOptions, type NetbsdBuild } from './build.js';
import { netbsdCacheDir, withLock } from './cache.js';
import { targetDefinition } from './configs.js';
import { NetbsdBuildError } from './errors.js';

/** Bumped when the layout of a libc build folder or the way it is made changes. */
const LIBC_FORMAT = 1;

export const LIBC_STEPS = ['headers', 'libraries', 'rumpkern'] as const;
export type LibcStep = (typeof LIBC_STEPS)[number];

/** The libraries built, by their folder under lib/ (each installs lib<name>.a). */
export const LIBC_LIBRARIES = ['libc', 'libm', 'libpthread', 'libutil'] as const;

export interface NetbsdLibcConfig {
  /** Flags libc's objects get (mk.conf BUILDRUMP_CFLAGS): the target's application flags. */
  cflags: string[];
  /** Flags the RUMP_KERNEL_IS_LIBC rump kernel base gets: the kernel build's. */
  kernelCflags: string[];
  /** Make variables set in mk.conf for every folder. */
  vars: Record<string, string>;
  libraries: string[];
}

export interface NetbsdLibcBuild {
  target: string;
  mode: 'libc';
  key: string;
  dir: string;
  /** The sysroot: usr/include (NetBSD's headers: userland, kernel, rump) and usr/lib. */
  sysroot: string;
  includeDir: string;
  libDir: string;
  /** lib<name>.a by library name (c, m, pthread, util). */
  archives: Record<string, string>;
  /**
   * The base rump kernel (`rump` component) built with RUMP_KERNEL_IS_LIBC: use it instead of
   * the kernel build's librump.a in images linked with this libc.
   */
  rumpKernelLibc: string;
  /** The kernel-mode build whose tools made this one. */
  kernel: { dir: string; key: string };
  config: NetbsdLibcConfig;
  stepSeconds: Partial<Record<LibcStep, number>>;
  log: string;
  cached: boolean;
}

/** Flags of a target that are about where headers come from (NetBSD's build adds its own -I). */
const INCLUDE_FLAG = /^(-I.*|-isystem.*|-include.*)$/;

export function libcConfig(target: TargetDefinition, kernel: NetbsdBuild): NetbsdLibcConfig {
  // The application flags of the guest toolchain contract (floating point allowed, as printf's
  // %f needs), -nostdinc kept so that only NetBSD's headers are seen; -fcommon for 2016 code;
  // no loops turned into memset/memcpy calls inside the C library's own string functions.
  const codegen = target.cflags.filter((f) => !INCLUDE_FLAG.test(f));
  return {
    cflags: ['-fcommon', ...codegen, '-fno-tree-loop-distribute-patterns'],
    kernelCflags: [...kernel.config.cflags],
    // Manual pages, NLS catalogues, lint and profiling libraries are not wanted in an image.
    vars: { MKMAN: 'no', MKNLS: 'no', MKLINT: 'no', MKPROFILE: 'no', MKDOC: 'no', MKINFO: 'no', MKSHARE: 'no' },
    libraries: [...LIBC_LIBRARIES],
  };
}

export function libcKey(kernel: NetbsdBuild, config: NetbsdLibcConfig): string {
  const what = { format: LIBC_FORMAT, kernel: kernel.key, config };
  return createHash('sha256').update(JSON.stringify(what)).digest('hex');
}

function sq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The make wrapper: the kernel build's brrumpmake (environment for nbmake: tool folder,
 * MACHINE, MAKECONF, MAKEOBJDIR, DESTDIR, ...) with the object, stage and mk.conf paths moved
 * into this build's folder.
 */
function makeWrapper(kernel: NetbsdBuild, dir: string): string {
  const text = readFileSync(kernel.rumpmake, 'utf8');
  const kobj = join(kernel.dir, 'obj');
  const ktools = join(kernel.dir, 'tools');
  const moved = text
    .split(`${kobj}/dest.stage`).join(join(dir, 'dest'))
    .split(kobj).join(join(dir, 'obj'))
    .split(`${ktools}/mk.conf`).join(join(dir, 'tools', 'mk.conf'));
  if (!moved.includes(join(dir, 'tools', 'mk.conf')) || !moved.includes(join(dir, 'obj'))) {
    throw new NetbsdBuildError(`the make wrapper ${kernel.rumpmake}`, 'does not name its object folder and mk.conf where buildrump.sh puts them.', 'Rebuild the kernel-mode build (delete its folder).');
  }
  return moved;
}

/**
 * mk.conf: the kernel build's (RUMPRUN=yes, the tools, BUILDRUMP_CPPFLAGS pointing at the
 * stage's usr/include) with libc's compiler flags, the variables, and installs that create
 * the folders they install into (NetBSD makes them from an mtree spec this tree lacks).
 */
function mkConf(kernel: NetbsdBuild, dir: string, config: NetbsdLibcConfig): string {
  const base = readFileSync(join(kernel.dir, 'tools', 'mk.conf'), 'utf8')
    .split('\n')
    .filter((l) => !l.startsWith('BUILDRUMP_CFLAGS='))
    .join('\n');
  const into = join(dir, 'tools', 'install-into');
  return [
    base.trimEnd(),
    '# rumpxen-netbsd-build libc mode',
    `BUILDRUMP_CFLAGS=${config.cflags.join(' ')}`,
    ...Object.entries(config.vars).map(([k, v]) => `${k}=${v}`),
    `INSTALL_FILE=${into} \${INSTALL} \${INSTPRIV} \${COPY} \${PRESERVE} \${RENAME}`,
    `INSTALL_LINK=${into} \${INSTALL} \${INSTPRIV} \${HRDLINK} \${RENAME}`,
    `INSTALL_SYMLINK=${into} \${INSTALL} \${INSTPRIV} \${SYMLINK} \${RENAME}`,
    '',
  ].join('\n');
}

/** install(1) after creating the folder of its last argument (the target). */
const INSTALL_INTO = `#!/bin/sh
# Written by rumpxen-netbsd-build: creates the target's folder, then runs install(1).
for last; do :; done
case "$last" in */*) mkdir -p "\${last%/*}" ;; esac
exec "$@"
`;

/** The steps, as one shell script run once per step (`sh build.sh STEP`). */
function buildScript(src: string, make: string, config: NetbsdLibcConfig, jobs: number): string {
  const libs = config.libraries.join(' ');
  return `#!/bin/sh
# Written by rumpxen-netbsd-build (libc mode). Usage: sh build.sh headers|libraries|rumpkern
set -e
SRC=${sq(src)}
M=${sq(make)}
step() { echo "--- $*"; }
case "$1" in
headers)
	# The kernel's headers as buildrump.sh's kernelheaders step installs them (sys/ without
	# the other architectures and modules; amd64 and x86 machine headers; the machine link),
	# then include/ and the libraries' own headers.
	dirs=$(cd "$SRC/sys" && "$M" -V '\${SUBDIR:Narch:Nmodules:Ncompat:Nnetnatm}' includes)
	for d in $dirs arch/amd64/include arch/x86/include; do
		step "sys/$d includes"
		(cd "$SRC/sys/$d" && "$M" obj && "$M" includes)
	done
	(cd "$SRC/sys/arch" && "$M" NOSUBDIR=1 includes)
	step "include includes"
	(cd "$SRC/include" && "$M" obj && "$M" includes)
	for l in ${libs}; do
		step "lib/$l includes"
		(cd "$SRC/lib/$l" && "$M" obj && "$M" includes)
	done
	;;
libraries)
	for l in ${libs}; do
		step "lib/$l"
		(cd "$SRC/lib/$l" && "$M" -j ${jobs} dependall && "$M" install)
	done
	;;
rumpkern)
	# The base rump kernel again, with the kernel build's flags and RUMP_KERNEL_IS_LIBC.
	step "sys/rump/librump/rumpkern (RUMP_KERNEL_IS_LIBC)"
	cd "$SRC/sys/rump/librump/rumpkern"
	"$M" obj
	"$M" -j ${jobs} RUMP_KERNEL_IS_LIBC=1 BUILDRUMP_CFLAGS=${sq(config.kernelCflags.join(' '))} dependall
	"$M" RUMP_KERNEL_IS_LIBC=1 BUILDRUMP_CFLAGS=${sq(config.kernelCflags.join(' '))} install
	;;
*)
	echo "unknown step $1" >&2
	exit 2
	;;
esac
`;
}

function readLibcResult(dir: string): NetbsdLibcBuild | undefined {
  try {
    const r = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as NetbsdLibcBuild;
    return r.mode === 'libc' ? r : undefined;
  } catch {
    return undefined;
  }
}

function fmt(s: number): string {
  return s < 60 ? `${s.toFixed(0)}s` : `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
}

function lastLines(file: string, n: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
  } catch {
    return '';
  }
}

/**
 * NetBSD's libc, libm, libpthread and libutil for a Xen target (and the rump kernel base that
 * exports system calls under libc's names), from the cache or built now on top of the
 * target's kernel-mode build (which is built first if missing). About two minutes cold.
 */
export async function buildNetbsdLibc(target: string | TargetDefinition, opts: BuildOptions = {}): Promise<NetbsdLibcBuild> {
  const def = typeof target === 'string' ? targetDefinition(target) : target;
  if (def.name === 'posix') {
    throw new NetbsdBuildError('target posix', 'has no NetBSD libc build: its programs use the host C library.', 'Build libc for xen-pv or xen-pvh.');
  }
  const progress = opts.onProgress ?? (() => {});
  const kernel = await buildNetbsd(def, opts);
  const config = libcConfig(def, kernel);
  const key = libcKey(kernel, config);
  const dir = join(netbsdCacheDir(), 'build', `libc-${key.slice(0, 16)}`);
  const label = `netbsd-build ${def.name} (libc)`;

  const found = readLibcResult(dir);
  if (found) return { ...found, target: def.name, cached: true };
  if (opts.cachedOnly) {
    throw new NetbsdBuildError(
      `NetBSD libc for ${def.name}`,
      `is not built (no ${join(dir, 'result.json')}).`,
      `Build it first: npx rumpxen-netbsd-build build libc ${def.name}`,
    );
  }

  return withLock(dir, async () => {
    const again = readLibcResult(dir);
    if (again) return { ...again, target: def.name, cached: true };
    rmSync(dir, { recursive: true, force: true });
    for (const d of ['obj', 'dest', 'tools']) mkdirSync(join(dir, d), { recursive: true });
    const make = join(dir, 'tools', 'make');
    writeFileSync(make, makeWrapper(kernel, dir));
    chmodSync(make, 0o755);
    writeFileSync(join(dir, 'tools', 'install-into'), INSTALL_INTO);
    chmodSync(join(dir, 'tools', 'install-into'), 0o755);
    writeFileSync(join(dir, 'tools', 'mk.conf'), mkConf(kernel, dir, config));
    const jobs = opts.jobs ?? availableParallelism();
    const script = join(dir, 'build.sh');
    writeFileSync(script, buildScript(kernel.netbsdSrcDir, make, config, jobs));
    const log = join(dir, 'build.log');
    const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: 'C' };
    for (const v of ['CFLAGS', 'LDFLAGS', 'CPPFLAGS', 'AFLAGS', 'CXXFLAGS', 'MAKEFLAGS', 'MAKEOBJDIR', 'MAKECONF', 'DESTDIR']) delete env[v];
    const stepSeconds: NetbsdLibcBuild['stepSeconds'] = {};
    progress(`${label}: building ${config.libraries.join(', ')} with the tools of ${kernel.dir} into ${dir}; log ${log}`);
    for (const step of LIBC_STEPS) {
      const t0 = Date.now();
      progress(`${label}: ${step} ...`);
      const code = await runStep(step, [script, step], env, dir, log, label, progress);
      stepSeconds[step] = (Date.now() - t0) / 1000;
      if (code !== 0) {
        throw new NetbsdBuildError(
          `NetBSD libc build for ${def.name}`,
          `failed in step "${step}" (exit ${code}) after ${fmt(stepSeconds[step]!)}. Last lines of ${log}:\n${lastLines(log, 15)}\n`,
          `Read ${log}; the folder is rebuilt from scratch on the next run.`,
          1,
        );
      }
      progress(`${label}: ${step} done in ${fmt(stepSeconds[step]!)}`);
    }
    const sysroot = join(dir, 'dest');
    const libDir = join(sysroot, 'usr', 'lib');
    const archives: Record<string, string> = {};
    for (const l of config.libraries) {
      const a = join(libDir, `${l}.a`);
      if (!existsSync(a)) throw new NetbsdBuildError(`NetBSD libc build for ${def.name}`, `installed no ${a}.`, `Read ${log}.`, 1);
      archives[l.replace(/^lib/, '')] = a;
    }
    // The RUMP_KERNEL_IS_LIBC base kernel, kept apart from the C libraries.
    const rumpDir = join(dir, 'rumpkern');
    mkdirSync(rumpDir, { recursive: true });
    const rumpKernelLibc = join(rumpDir, 'librump.a');
    renameSync(join(libDir, 'librump.a'), rumpKernelLibc);
    const result: NetbsdLibcBuild = {
      target: def.name,
      mode: 'libc',
      key,
      dir,
      sysroot,
      includeDir: join(sysroot, 'usr', 'include'),
      libDir,
      archives,
      rumpKernelLibc,
      kernel: { dir: kernel.dir, key: kernel.key },
      config,
      stepSeconds,
      log,
      cached: false,
    };
    const tmp = join(dir, 'result.json.tmp');
    writeFileSync(tmp, `${JSON.stringify({ ...result, cached: undefined }, null, 2)}\n`);
    renameSync(tmp, join(dir, 'result.json'));
    const total = Object.values(stepSeconds).reduce((a, b) => a + (b ?? 0), 0);
    progress(`${label}: ${Object.keys(archives).map((a) => `lib${a}.a`).join(' ')} in ${libDir} (${fmt(total)})`);
    return result;
  }, (holder) => progress(`${label}: waiting for process ${holder}, which is building the same configuration`));
}

/** Every finished libc build in the cache. */
export function cachedLibcBuilds(): NetbsdLibcBuild[] {
  const root = join(netbsdCacheDir(), 'build');
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((d) => d.startsWith('libc-'))
    .map((d) => readLibcResult(join(root, d)))
    .filter((b): b is NetbsdLibcBuild => b !== undefined);
}
