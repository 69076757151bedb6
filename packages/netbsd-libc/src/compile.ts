/**
 * Compiling a program against NetBSD's libc for a Xen target: the one way, used by the
 * `rumpxen-cc` driver and by the image-linker's manifest `sources` with `"libc": "netbsd"`.
 * The target's flags come first (the guest toolchain contract: -ffreestanding -fno-pic
 * -mno-red-zone -nostdinc …, from @rumpxen/minios-binding's target), then NetBSD's headers and
 * defines (`netbsdLibc(target).cflags`), then the program's own flags; @rumpxen/protocol's
 * guest compile step runs the compiler.
 */
import { compileGuestObjects, type GuestCompileSpec } from '@rumpxen/protocol';
import { xenPvhTarget, xenPvTarget } from '@rumpxen/minios-binding';
import type { BuildOptions } from '@rumpxen/netbsd-build';
import { netbsdLibc, type LibcTargetName, type NetbsdLibcLink } from './index.js';

export interface NetbsdCompileOptions {
  target: LibcTargetName | string;
  sources: readonly string[];
  /** Folder for the objects (created if missing). */
  outDir: string;
  /** The program's own flags (-O2 -g -D… -I… -W…), after the target's and NetBSD's. */
  cflags?: readonly string[];
  /** Names each object (a file name in outDir); default `<source's base name>.o`. */
  objectName?: (source: string) => string;
  /** The compiler driver; default `gcc`. */
  cc?: string;
  /** Receives what the compiler printed for a source that compiled (warnings); default: stderr. */
  onOutput?: GuestCompileSpec['onOutput'];
  /** Progress lines (NetBSD's libc build when it is not in the cache, each source compiled). */
  onProgress?: (line: string) => void;
  /** Options of NetBSD's libc build (cache folder, sources). */
  build?: BuildOptions;
}

/** The compile flags for `target` in order: the target's, then NetBSD's headers and defines. */
export function netbsdCompileFlags(target: LibcTargetName, link: Pick<NetbsdLibcLink, 'cflags'>): { cflags: string[]; includeDirs: string[] } {
  const def = target === 'xen-pvh' ? xenPvhTarget : xenPvTarget;
  return { cflags: [...def.cflags, ...link.cflags], includeDirs: [...def.includeDirs] };
}

/**
 * Compiles C (and assembler) sources against NetBSD's libc for a Xen target into `outDir`,
 * building NetBSD's libc first when the cache lacks it. Resolves to the objects in the
 * sources' order; a source that does not compile throws @rumpxen/protocol's GuestCompileError
 * (naming the source, with the compiler's first lines and the command).
 */
export async function compileNetbsdSources(opts: NetbsdCompileOptions): Promise<string[]> {
  const link = await netbsdLibc(opts.target, { ...opts.build, onProgress: opts.onProgress ?? opts.build?.onProgress });
  const { cflags, includeDirs } = netbsdCompileFlags(link.target, link);
  for (const src of opts.sources) opts.onProgress?.(`compiling ${src}`);
  return compileGuestObjects({
    sources: opts.sources,
    cflags: [...cflags, ...(opts.cflags ?? [])],
    // -nostdinc drops the compiler's own freestanding headers (stdarg.h's builtins stay; NetBSD's
    // headers cover the rest): give them back after NetBSD's, as the image-linker always did.
    compilerHeaders: true,
    includeDirs,
    outDir: opts.outDir,
    objectName: opts.objectName,
    cc: opts.cc,
    onOutput: opts.onOutput,
  });
}
