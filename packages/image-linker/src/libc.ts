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

/** Compile and link settings of `libc` for a target; builds NetBSD's libc when it is not in the cache. */
export async function libcLink(libc: string, target: string, onProgress?: (l: string) => void): Promise<LibcLink> {
  if (libc !== 'netbsd') {
    throw new ImageLinkerError(`libc "${libc}"`, 'is not a C library this tool links.', `Use ${LIBCS.map((l) => `"${l}"`).join(', ')}, or leave libc out.`);
  }
  if (target !== 'xen-pv' && target !== 'xen-pvh') {
    throw new ImageLinkerError(`libc "netbsd" for target ${target}`, 'is not available: NetBSD\'s libc is linked into Xen images (xen-pv, xen-pvh) only.', 'Build for --target xen-pv or xen-pvh, or leave libc out (posix programs use the host C library).');
  }
  // A specifier in a variable: the bundler leaves the import to run time.
  const name = '@rumpxen/netbsd-libc';
  let mod: { netbsdLibc: (t: string, o: { onProgress?: (l: string) => void }) => Promise<LibcLink> };
  try {
    mod = (await import(name)) as typeof mod;
  } catch (e) {
    throw new ImageLinkerError(`libc "netbsd"`, `needs ${name}, which cannot be loaded (${(e as Error).message}).`, 'Build it: npx nx run @rumpxen/netbsd-libc:build.', 1);
  }
  try {
    return await mod.netbsdLibc(target, { onProgress });
  } catch (e) {
    if (e instanceof Error && e.name === 'NetbsdBuildError') throw e;
    throw new ImageLinkerError(`libc "netbsd" for target ${target}`, `is not available: ${(e as Error).message}`, 'Build the monorepo (npm run build) and see the message above.', 1);
  }
}
