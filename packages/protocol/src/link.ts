/**
 * The guest image link step: the one GNU ld command line that makes a rumpxen image from a
 * target's start object, linker script and libraries and the application's inputs. The
 * image-linker runs it for the Xen targets; the test helpers that link guest images run it too.
 */
import { spawnSync } from 'node:child_process';

export interface GuestLinkSpec {
  /** GNU ld to run; default `ld`. */
  ld?: string;
  /** The target's linker script, as a file. */
  script: string;
  /** A script read before `script` that adds output sections with INSERT (image-linker's link sets and TLS). */
  supplement?: string;
  /** The symbol the image starts at (the target's entrySymbol). */
  entry: string;
  /** Drop sections nothing refers to; the entry stays as a root. */
  gcSections?: boolean;
  /** The target's start object, linked first; null for none. */
  startObject: string | null;
  /** Relocatable objects, in link order. */
  objects: readonly string[];
  /** Archives linked whole: rump kernel components register through link sets nothing refers to. */
  wholeArchives: readonly string[];
  /** Archives searched as one group (they may refer to each other in any order): the application's, then the target's libraries. */
  archives: readonly string[];
  /** The target's ldflags. */
  ldflags: readonly string[];
  /** Write GNU ld's link map here. */
  map?: string;
  /** The image to write. */
  output: string;
}

/** The command line that links a guest image: `[ld, ...arguments]`. */
export function guestLinkCommand(spec: GuestLinkSpec): [ld: string, ...args: string[]] {
  return [
    spec.ld ?? 'ld',
    '-static', '-nostdlib', '--no-dynamic-linker',
    ...(spec.supplement ? ['-T', spec.supplement] : []), '-T', spec.script,
    '-e', spec.entry,
    ...(spec.gcSections ? ['--gc-sections', '--undefined', spec.entry] : []),
    ...spec.ldflags,
    ...(spec.map ? ['-Map', spec.map] : []), '-o', spec.output,
    ...(spec.startObject ? [spec.startObject] : []),
    ...spec.objects,
    ...(spec.wholeArchives.length ? ['--whole-archive', ...spec.wholeArchives, '--no-whole-archive'] : []),
    '--start-group', ...spec.archives, '--end-group',
  ];
}

/**
 * Links a guest image with guestLinkCommand and returns `spec.output`. Throws an Error with
 * the command and ld's messages when ld cannot be run or fails.
 */
export function linkGuestImage(spec: GuestLinkSpec): string {
  const [ld, ...args] = guestLinkCommand(spec);
  const r = spawnSync(ld, args, { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    const why = r.error ? r.error.message : `exit ${r.status ?? r.signal}: ${r.stderr.trim()}`;
    throw new Error(`linking ${spec.output} failed (${why}); the command was: ${[ld, ...args].join(' ')}`);
  }
  return spec.output;
}
