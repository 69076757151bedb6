#!/usr/bin/env node
/**
 * rumpxen-netbsd-build CLI. Exit codes: 0 ok, 2 bad input (one paragraph naming the input
 * and the fix), 1 a failed build (naming the step and its log).
 */
import { parseArgs } from 'node:util';
import { buildNetbsd, cachedBuilds } from './build.js';
import { buildNetbsdLibc, cachedLibcBuilds, LIBC_LIBRARIES } from './libc.js';
import { TARGETS } from './configs.js';
import { NetbsdBuildError } from './errors.js';
import { PINNED_SOURCES } from './sources.js';
import { netbsdCacheDir } from './cache.js';
import { pruneNetbsdCache } from './prune.js';

const USAGE = `usage: rumpxen-netbsd-build <command> [options]

commands:
  build TARGET... [--jobs N] [-q]
      Build NetBSD's rump kernel components for each target (${TARGETS.join(', ')}) with
      buildrump.sh, or find the build in the cache; prints each build's folder. posix:
      shared and static userspace libraries; xen-pv, xen-pvh: kernel-only static archives
      (non-PIC, curlwp as a hypercall) compiled with the target's kernel flags (the two
      share one build while their flags agree). Progress goes to stderr.
  build libc TARGET... [--jobs N] [-q]
      Build NetBSD's C library for each Xen target (xen-pv, xen-pvh):
      ${LIBC_LIBRARIES.join(', ')} in their RUMPRUN mode (no system call stubs), and the
      base rump kernel with its system calls under libc's names (RUMP_KERNEL_IS_LIBC), with
      the tools of the target's kernel build (made first if missing); headers and static
      archives in the build's dest/usr.
  components TARGET [--json]
      The components of the target's build (it must be built) and what each needs.
  list [--json]
      The builds in the cache.
  prune [--dry-run] [--json]
      Remove the builds in the cache that no target of this version would use (each change
      of sources, flags or options leaves the old build folder behind, 50-90 MiB); keeps the
      current builds, sources, host tools and any build a running process holds. Prints each
      folder removed (--dry-run: that would be) and the space freed.

sources:
  ${PINNED_SOURCES.netbsd.env}   the NetBSD tree: a tarball or folder (src-netbsd, all-src)
  ${PINNED_SOURCES.buildrump.env}   buildrump.sh: a tarball or folder
  Unset: fetched with git at the pinned commits (netbsd ${PINNED_SOURCES.netbsd.commit.slice(0, 12)},
  buildrump.sh ${PINNED_SOURCES.buildrump.commit.slice(0, 12)}).
cache: $RUMPXEN_CACHE/netbsd, else <repository>/.cache/netbsd (now: ${netbsdCacheDir()}).
`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { help: { type: 'boolean', short: 'h' }, jobs: { type: 'string', short: 'j' }, quiet: { type: 'boolean', short: 'q' }, json: { type: 'boolean' }, 'dry-run': { type: 'boolean' } },
  });
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    process.stdout.write(USAGE);
    return values.help ? 0 : 2;
  }
  const progress = values.quiet ? undefined : (l: string) => process.stderr.write(`${l}\n`);
  switch (command) {
    case 'build': {
      const libc = rest[0] === 'libc';
      const targets = libc ? rest.slice(1) : rest;
      if (targets.length === 0) throw new NetbsdBuildError(libc ? 'build libc' : 'build', 'needs at least one target.', `Name one or more of ${libc ? 'xen-pv, xen-pvh' : TARGETS.join(', ')}.`);
      const jobs = values.jobs === undefined ? undefined : Number(values.jobs);
      if (jobs !== undefined && !(Number.isInteger(jobs) && jobs > 0)) throw new NetbsdBuildError(`--jobs ${values.jobs}`, 'is not a positive whole number.', 'Give e.g. --jobs 2.');
      if (libc) {
        for (const t of targets) {
          const b = await buildNetbsdLibc(t, { onProgress: progress, jobs });
          process.stdout.write(`${t}\t${b.dir}\t${b.cached ? 'cached' : 'built'}\n`);
        }
        return 0;
      }
      for (const t of targets) {
        const b = await buildNetbsd(t, { onProgress: progress, jobs });
        process.stdout.write(`${t}\t${b.dir}\t${b.cached ? 'cached' : 'built'}\n`);
      }
      return 0;
    }
    case 'components': {
      if (rest.length !== 1) throw new NetbsdBuildError('components', 'needs exactly one target.', `Name one of ${TARGETS.join(', ')}.`);
      const b = await buildNetbsd(rest[0]!, { cachedOnly: true });
      if (values.json) process.stdout.write(`${JSON.stringify(b.components, null, 2)}\n`);
      else for (const c of b.components) process.stdout.write(`${c.name.padEnd(24)} ${c.requires.join(' ') || '-'}\n`);
      return 0;
    }
    case 'list': {
      const builds = cachedBuilds();
      const libcs = cachedLibcBuilds();
      if (values.json) process.stdout.write(`${JSON.stringify([...builds, ...libcs], null, 2)}\n`);
      else {
        for (const b of builds) process.stdout.write(`${b.mode}\t${b.key.slice(0, 16)}\t${b.components.length} components\t${b.dir}\n`);
        for (const b of libcs) process.stdout.write(`libc\t${b.key.slice(0, 16)}\t${Object.keys(b.archives).length} libraries\t${b.dir}\n`);
      }
      return 0;
    }
    case 'prune': {
      if (rest.length !== 0) throw new NetbsdBuildError(`prune ${rest.join(' ')}`, 'takes no arguments.', 'Run prune alone, or with --dry-run to see what would go.');
      const dryRun = !!values['dry-run'];
      const r = await pruneNetbsdCache({ dryRun });
      if (values.json) {
        process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
        return 0;
      }
      const mib = (n: number) => `${(n / 1048576).toFixed(0)} MiB`;
      for (const d of r.removed) process.stdout.write(`${dryRun ? 'would remove' : 'removed'}\t${mib(d.bytes)}\t${d.dir}\n`);
      for (const d of r.busy) process.stdout.write(`in use, kept\t-\t${d}\n`);
      for (const d of r.current) process.stdout.write(`current, kept\t-\t${d}\n`);
      const total = r.removed.reduce((n, d) => n + d.bytes, 0);
      process.stdout.write(`${r.removed.length} stale build${r.removed.length === 1 ? '' : 's'}, ${mib(total)} ${dryRun ? 'would be freed' : 'freed'}\n`);
      return 0;
    }
    default:
      throw new NetbsdBuildError(`command "${command}"`, 'is not known.', 'Use build, components, list or prune (--help shows them).');
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof NetbsdBuildError) {
      process.stderr.write(`rumpxen-netbsd-build: ${e.message}\n`);
      process.exitCode = e.exitCode;
    } else if (e instanceof TypeError && (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`rumpxen-netbsd-build: ${e.message}; see --help\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`rumpxen-netbsd-build: ${(e as Error)?.stack ?? String(e)}\n`);
      process.exitCode = 1;
    }
  },
);
