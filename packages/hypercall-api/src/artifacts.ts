/**
 * Absolute paths of what this package's C build produces: the generated headers, the posix
 * target's librumpuser, and the conformance suite's archive and posix runners. Paths are
 * computed from where this module lives (dist/ when consumed, src/ under vitest): both sit
 * directly under the package root.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Root of the @rumpxen/hypercall-api package. */
export const hypercallApiRoot: string = dirname(dirname(fileURLToPath(import.meta.url)));

export interface HypercallApiArtifacts {
  /** Generated headers: rumpuser.h, rumpuser_component.h, pci_user.h, rumpxen/netbsd_errno.h, … */
  includeDir: string;
  /** cmake build directory of `c/`. */
  buildDir: string;
  /** posix target, shared: the real file, soname `librumpuser.so.0`. */
  librumpuserShared: string;
  /** posix target, static archive. */
  librumpuserStatic: string;
  /** The conformance suite's freestanding objects (with `main`), for every target to link. */
  conformanceArchive: string;
  /** The suite linked against librumpuser.so.0 (non-PIE executable). */
  conformancePosixShared: string;
  /** The suite linked against librumpuser.a (non-PIE executable). */
  conformancePosixStatic: string;
  /** Benchmark of the posix target (librumpuser.so.0) against raw pthreads/malloc. */
  benchPosix: string;
  /** The same benchmark linked against librumpuser.a. */
  benchPosixStatic: string;
  /** Host-side probe of rumpuser_daemonize_begin/done (forks; not part of the suite). */
  daemonizeProbe: string;
  /** Host-side probe of rumpuser_dl_bootstrap against a real shared object. */
  dlProbe: string;
  /** Host-side probe of getparam, exit, panic, kill, seterrno and errtrans. */
  posixProbe: string;
}

const buildDir = join(hypercallApiRoot, 'build');

export const hypercallApiArtifacts: Readonly<HypercallApiArtifacts> = Object.freeze({
  includeDir: join(hypercallApiRoot, 'include'),
  buildDir,
  librumpuserShared: join(buildDir, 'librumpuser.so.0'),
  librumpuserStatic: join(buildDir, 'librumpuser.a'),
  conformanceArchive: join(buildDir, 'libconformance.a'),
  conformancePosixShared: join(buildDir, 'conformance-posix-shared'),
  conformancePosixStatic: join(buildDir, 'conformance-posix-static'),
  benchPosix: join(buildDir, 'bench-posix'),
  benchPosixStatic: join(buildDir, 'bench-posix-static'),
  daemonizeProbe: join(buildDir, 'daemonize-probe'),
  dlProbe: join(buildDir, 'dl-probe'),
  posixProbe: join(buildDir, 'posix-probe'),
});

/**
 * Returns the artifact's path, or throws naming it and how to produce it. `what` is a key of
 * hypercallApiArtifacts, e.g. `requireArtifact('librumpuserStatic')`.
 */
export function requireArtifact(what: keyof HypercallApiArtifacts): string {
  const path = hypercallApiArtifacts[what];
  if (!existsSync(path)) {
    throw new Error(
      `@rumpxen/hypercall-api: ${what} (${path}) does not exist: the package's C part is not built; ` +
        'run `npx nx run @rumpxen/hypercall-api:build` (needs cmake and gcc)',
    );
  }
  return path;
}
