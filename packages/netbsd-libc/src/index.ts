/**
 * NetBSD's libc in rumpxen images. NetBSD's own libc, libm and libutil (built by
 * @rumpxen/netbsd-build in their RUMPRUN mode: no system call stubs) sit on the rump kernel,
 * whose base component is rebuilt to export its system calls under libc's names
 * (RUMP_KERNEL_IS_LIBC); this package is the layer under them that NetBSD does not have:
 * start-up (`c/start.c`: libc's globals, rump_init, main, exit), `_exit` as the domain's end
 * with its status, errno, malloc on the guest kernel's heap, anonymous mmap/munmap on its page
 * allocator, and signals as far as one program without processes has them.
 *
 * `netbsdLibc(target)` says how to compile and link a program against it; the image-linker's
 * `libc: "netbsd"` (manifest key, `--libc netbsd`) uses it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildNetbsdLibc, type BuildOptions, type NetbsdLibcBuild } from '@rumpxen/netbsd-build';

export type LibcTargetName = 'xen-pv' | 'xen-pvh';
export const LIBC_TARGETS: readonly LibcTargetName[] = ['xen-pv', 'xen-pvh'];

/** This package's root (dist/ and src/ both sit one level below it). */
export const netbsdLibcRoot: string = fileURLToPath(new URL('..', import.meta.url));

/** The layer's C sources. */
export const glueSourceDir: string = join(netbsdLibcRoot, 'c');

/** The layer under libc for a target, built by this package's build (`c/build.mjs`). */
export function glueArchive(target: LibcTargetName): string {
  return join(netbsdLibcRoot, 'build', target, 'libnblibc.a');
}

/**
 * What NetBSD's build defines for its own code when the compiler is the host's (Linux)
 * gcc, which the sources compiled against NetBSD's headers need as well.
 */
export const NETBSD_CPPFLAGS: readonly string[] = ['-D__NetBSD__', '-Ulinux', '-U__linux', '-U__linux__', '-U__gnu_linux__'];

/**
 * NetBSD's libraries linked into every image with this libc, after the layer (`libnblibc.a`),
 * by name in the libc build (`lib<name>.a`), in link order (one group, but the first archive
 * that defines a symbol gives it). Edit here to link another of the build's libraries.
 */
export const LINKED_LIBRARIES: readonly string[] = [
  // libpthread before libc, as NetBSD links -lpthread -lc: a program that uses threads pulls
  // its members, whose strong definitions replace libc's weak thread stubs.
  'pthread',
  'c',
  'm',
  'util',
];

export interface NetbsdLibcLink {
  target: LibcTargetName;
  /**
   * Flags for compiling a program against NetBSD's headers, after the target's cflags (which
   * hold -nostdinc): NetBSD's usr/include first, the NetBSD defines.
   */
  cflags: string[];
  includeDir: string;
  /**
   * Archives linked as libraries (in one group with the target's): the layer, libpthread,
   * libc, libm, libutil.
   */
  archives: string[];
  /** The base rump kernel with system calls under libc's names: replaces the `rump` component. */
  rumpKernel: string;
  /**
   * Linker flags: `--wrap=main`, so that the guest kernel's call of main(argc, argv, envp)
   * reaches the start-up code, which calls the program's main.
   */
  ldflags: string[];
  build: NetbsdLibcBuild;
}

export function isLibcTarget(name: string): name is LibcTargetName {
  return (LIBC_TARGETS as readonly string[]).includes(name);
}

/**
 * How to compile and link a program with NetBSD's libc for `target`: NetBSD's libc build
 * (from the cache, else built now: about two minutes on top of the kernel build) and this
 * package's layer.
 */
export async function netbsdLibc(target: string, opts: BuildOptions = {}): Promise<NetbsdLibcLink> {
  if (!isLibcTarget(target)) {
    throw new Error(`NetBSD's libc is linked into Xen images only (xen-pv, xen-pvh), not target ${target}; a posix program uses the host's C library.`);
  }
  const glue = glueArchive(target);
  if (!existsSync(glue)) {
    throw new Error(`${glue} does not exist: build @rumpxen/netbsd-libc first (npx nx run @rumpxen/netbsd-libc:build).`);
  }
  const build = await buildNetbsdLibc(target, opts);
  const archives = LINKED_LIBRARIES.map((name) => {
    const a = build.archives[name];
    if (!a) throw new Error(`NetBSD's libc build in ${build.dir} has no lib${name}.a: rebuild it (npx rumpxen-netbsd-build build libc ${target}).`);
    return a;
  });
  return {
    target,
    cflags: ['-isystem', build.includeDir, ...NETBSD_CPPFLAGS],
    includeDir: build.includeDir,
    archives: [glue, ...archives],
    rumpKernel: build.rumpKernelLibc,
    ldflags: ['--wrap=main'],
    build,
  };
}

export { compileNetbsdSources, netbsdCompileFlags, type NetbsdCompileOptions } from './compile.js';
export { ccMain, parseCcArgs, runCc, defaultObjectName, CcUsageError, CcLinkError, CC_USAGE, CC_TARGET_ENV, type CcPlan, type CcCommand, type CcIo } from './cc.js';
