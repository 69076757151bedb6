/**
 * A C library for an image: `libc: "netbsd"` links NetBSD's libc (with the layer under it and
 * the rump kernel base that exports system calls under libc's names) from
 * @rumpxen/netbsd-libc, which is loaded only by builds that ask for it.
 */
import { ImageLinkerError } from './errors.js';

export const LIBCS = ['netbsd'] as const;
export type LibcName = (typeof LIBCS)[number];

/** What @rumpxen/netbsd-libc's netbsdLibc(target) gives (the parts used here). */
export interface LibcLink {
  cflags: string[];
  archives: string[];
  rumpKernel: string;
  ldflags: string[];
}

/** What @rumpxen/netbsd-libc exports that is used here. */
interface NetbsdLibcModule {
  netbsdLibc: (t: string, o: { onProgress?: (l: string) => void }) => Promise<LibcLink>;
  compileNetbsdSources: (o: {
    target: string;
    sources: readonly string[];
    outDir: string;
    cflags?: readonly string[];
    objectName?: (source: string) => string;
    cc?: string;
    onOutput?: (source: string, output: string) => void;
    onProgress?: (line: string) => void;
  }) => Promise<string[]>;
}

/** Checks the libc and target, then loads @rumpxen/netbsd-libc. */
async function loadLibc(libc: string, target: string): Promise<NetbsdLibcModule> {
  if (libc !== 'netbsd') {
    throw new ImageLinkerError(`libc "${libc}"`, 'is not a C library this tool links.', `Use ${LIBCS.map((l) => `"${l}"`).join(', ')}, or leave libc out.`);
  }
  if (target !== 'xen-pv' && target !== 'xen-pvh') {
    throw new ImageLinkerError(`libc "netbsd" for target ${target}`, 'is not available: NetBSD\'s libc is linked into Xen images (xen-pv, xen-pvh) only.', 'Build for --target xen-pv or xen-pvh, or leave libc out (posix programs use the host C library).');
  }
  // A specifier in a variable: the bundler leaves the import to run time.
  const name = '@rumpxen/netbsd-libc';
  try {
    return (await import(name)) as NetbsdLibcModule;
  } catch (e) {
    throw new ImageLinkerError(`libc "netbsd"`, `needs ${name}, which cannot be loaded (${(e as Error).message}).`, 'Build it: npx nx run @rumpxen/netbsd-libc:build.', 1);
  }
}

function notAvailable(target: string, e: unknown): Error {
  if (e instanceof Error && e.name === 'NetbsdBuildError') return e;
  return new ImageLinkerError(`libc "netbsd" for target ${target}`, `is not available: ${(e as Error).message}`, 'Build the monorepo (npm run build) and see the message above.', 1);
}

/** Compile and link settings of `libc` for a target; builds NetBSD's libc when it is not in the cache. */
export async function libcLink(libc: string, target: string, onProgress?: (l: string) => void): Promise<LibcLink> {
  const mod = await loadLibc(libc, target);
  try {
    return await mod.netbsdLibc(target, { onProgress });
  } catch (e) {
    throw notAvailable(target, e);
  }
}

export interface LibcCompileSpec {
  libc: string;
  target: string;
  sources: readonly string[];
  outDir: string;
  /** The manifest's own flags (and include folders), after the target's and the libc's. */
  cflags: readonly string[];
  objectName: (source: string) => string;
  cc?: string;
  onProgress?: (line: string) => void;
}

/**
 * Compiles a manifest's sources against `libc` through the libc package's own compile step
 * (for NetBSD's: the one `rumpxen-cc` runs, so both build a source alike). A source that does
 * not compile throws @rumpxen/protocol's GuestCompileError.
 */
export async function libcCompile(spec: LibcCompileSpec): Promise<string[]> {
  const mod = await loadLibc(spec.libc, spec.target);
  try {
    // Resolves the libc build first, so a build failure is not mistaken for a compile error.
    await mod.netbsdLibc(spec.target, { onProgress: spec.onProgress });
  } catch (e) {
    throw notAvailable(spec.target, e);
  }
  return mod.compileNetbsdSources({
    target: spec.target,
    sources: spec.sources,
    outDir: spec.outDir,
    cflags: spec.cflags,
    objectName: spec.objectName,
    cc: spec.cc,
    // What a compile that succeeded printed (warnings) is not this tool's output.
    onOutput: () => {},
    onProgress: spec.onProgress,
  });
}
