/**
 * The guest C compile step: the one build of C that runs in a rumpxen guest. It compiles the
 * guest kernel and pcix (through their `c/build.sh`), the test programs and the testbed's
 * fixture guests (through their helpers), and a manifest's sources (the image-linker's
 * `compileSources`). Host C is CMake's (hypercall-api's `c/CMakeLists.txt`), the Node addon
 * cmake-js's; the flags are the callers' (toolchain.ts's contract first).
 *
 * Each object is compiled under a temp name and renamed into place when the compiler
 * succeeds, so an object that exists is whole; sources compile in parallel, up to the CPU count.
 */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

/** One compile: what guestCompileCommand turns into a command line. */
export interface GuestCompileCommandSpec {
  /** The compiler driver; default `gcc`. */
  cc?: string;
  /** Flags, in order: the toolchain contract's, then the build's own (and any -I it orders itself). */
  cflags: readonly string[];
  /** Folders passed with `-isystem`, after `cflags`. */
  systemIncludeDirs?: readonly string[];
  /** Folders passed with `-I`, after those. */
  includeDirs?: readonly string[];
  source: string;
  object: string;
}

/** The command line that compiles one source: `[cc, ...cflags, -isystem …, -I …, -c, source, -o, object]`. */
export function guestCompileCommand(spec: GuestCompileCommandSpec): [cc: string, ...args: string[]] {
  return [
    spec.cc ?? 'gcc',
    ...spec.cflags,
    ...(spec.systemIncludeDirs ?? []).flatMap((d) => ['-isystem', d]),
    ...(spec.includeDirs ?? []).flatMap((d) => ['-I', d]),
    '-c', spec.source, '-o', spec.object,
  ];
}

/** Sources to compile into a folder, all with the same flags. */
export interface GuestCompileSpec {
  sources: readonly string[];
  cflags: readonly string[];
  /** Folders passed with `-I`, after `cflags`. */
  includeDirs?: readonly string[];
  /**
   * Give back the compiler's own freestanding headers (stddef.h, stdint.h), which `-nostdinc`
   * drops: `-isystem <cc -print-file-name=include>`, after `cflags` and before `includeDirs`.
   */
  compilerHeaders?: boolean;
  /** Folder for the objects (created if missing). */
  outDir: string;
  /**
   * Objects are named for their source's path under this folder, `/` as `_`, the extension
   * replaced by `.o` (`kern/mm.c` → `kern_mm.o`); default: the source's own folder (`mm.o`).
   */
  sourceRoot?: string;
  /** Names an object instead (a file name in `outDir`). */
  objectName?: (source: string) => string;
  /** The compiler driver; default `gcc`. */
  cc?: string;
  /** Compiles at once at most; default the CPU count. */
  jobs?: number;
  /** Receives what the compiler printed for a source that compiled (warnings); default: written to stderr. */
  onOutput?: (source: string, output: string) => void;
}

/** How many of the compiler's lines an error shows. */
const SHOWN_LINES = 10;

/** A source that did not compile: names it, shows the compiler's first lines and the command. */
export class GuestCompileError extends Error {
  override readonly name = 'GuestCompileError';
  constructor(
    /** The source (for a compiler that cannot run, the first source it was run for). */
    readonly source: string,
    /** What went wrong, one line: `gcc exit 1`, `gcc was not found`. */
    readonly problem: string,
    /** The compiler's output (its diagnostics), whole. */
    readonly output: string,
    /** The command line, with the object's final path. */
    readonly command: readonly string[],
  ) {
    const lines = output.trimEnd().split('\n').filter((l) => l.trim() !== '');
    const shown = lines.slice(0, SHOWN_LINES).map((l) => `  ${l}`);
    if (lines.length > SHOWN_LINES) shown.push(`  (${lines.length - SHOWN_LINES} more lines)`);
    super([
      `${source} does not compile (${problem})${shown.length ? ':' : '.'}`,
      ...shown,
      `Fix the source; the command was: ${command.join(' ')}`,
    ].join('\n'));
  }

  /** The compiler's first lines, as the message shows them. */
  get firstLines(): string[] {
    return this.output.trimEnd().split('\n').filter((l) => l.trim() !== '').slice(0, SHOWN_LINES);
  }
}

const compilerIncludes = new Map<string, string>();

/**
 * The compiler's own header folder (`cc -print-file-name=include`: stddef.h, stdint.h and the
 * other freestanding headers), asked once per compiler. Throws naming the compiler when it
 * cannot be run.
 */
export function compilerIncludeDir(cc = 'gcc'): string {
  let dir = compilerIncludes.get(cc);
  if (dir === undefined) {
    const r = spawnSync(cc, ['-print-file-name=include'], { encoding: 'utf8' });
    if (r.error || r.status !== 0) {
      throw new Error(`cannot ask ${cc} for its header folder (${r.error ? r.error.message : `exit ${r.status}: ${r.stderr.trim()}`}): install gcc (apt-get install -y gcc) or name an installed compiler`);
    }
    dir = r.stdout.trim();
    compilerIncludes.set(cc, dir);
  }
  return dir;
}

interface Job {
  source: string;
  object: string;
  temp: string;
  command: [string, ...string[]];
}

let tempCount = 0;

/** Each source's object and command line; refuses two sources that would share an object. */
function plan(spec: GuestCompileSpec): Job[] {
  const cc = spec.cc ?? 'gcc';
  const systemIncludeDirs = spec.compilerHeaders ? [compilerIncludeDir(cc)] : [];
  const bySource = new Map<string, string>();
  return spec.sources.map((source) => {
    const object = join(spec.outDir, spec.objectName ? spec.objectName(source) : objectName(source, spec.sourceRoot));
    const other = bySource.get(object);
    if (other !== undefined) {
      throw new Error(`${source} and ${other} would both compile to ${object}: rename one, or name the objects (objectName)`);
    }
    bySource.set(object, source);
    tempCount += 1;
    const temp = `${object}.tmp-${process.pid}-${tempCount}`;
    const command = guestCompileCommand({ cc, cflags: spec.cflags, systemIncludeDirs, includeDirs: spec.includeDirs, source, object: temp });
    return { source, object, temp, command };
  });
}

/** `kern/mm.c` under the root → `kern_mm.o`. */
function objectName(source: string, root: string | undefined): string {
  const path = root === undefined ? basename(source) : relative(resolve(root), resolve(source));
  if (path === '' || path.startsWith('..') || isAbsolute(path)) throw new Error(`${source} is not under the source root ${root}: pass sources from inside it`);
  return `${path.replace(/\.[^./\\]*$/, '').split(sep).join('_')}.o`;
}

/** The command as the error shows it: the object's final path, not its temp name. */
function shown(job: Job): string[] {
  return job.command.map((a) => (a === job.temp ? job.object : a));
}

/** The job's outcome: renames the object into place, or removes the temp file and gives the error. */
function finish(job: Job, result: { error?: Error; status: number | null; signal: NodeJS.Signals | null; output: string }, spec: GuestCompileSpec): GuestCompileError | null {
  const cc = job.command[0];
  if (!result.error && result.status === 0) {
    renameSync(job.temp, job.object);
    if (result.output.trim() !== '') (spec.onOutput ?? ((_s, o) => process.stderr.write(o)))(job.source, result.output);
    return null;
  }
  rmSync(job.temp, { force: true });
  const problem = result.error
    ? (result.error as NodeJS.ErrnoException).code === 'ENOENT'
      ? `${cc} was not found: install gcc (apt-get install -y gcc) or name an installed compiler`
      : `${cc} could not be run: ${result.error.message}`
    : result.status !== null ? `${cc} exit ${result.status}` : `${cc} killed by ${result.signal}`;
  return new GuestCompileError(job.source, problem, result.output, shown(job));
}

/**
 * Compiles the sources into `outDir`, in parallel up to `jobs`; resolves to the objects, in
 * the sources' order. When one does not compile, no further one is started, and the first
 * failed (in the sources' order) is thrown as a GuestCompileError once the running ones end;
 * its object is not written (each object is renamed into place only when its compile succeeds).
 */
export async function compileGuestObjects(spec: GuestCompileSpec): Promise<string[]> {
  const jobs = plan(spec);
  mkdirSync(spec.outDir, { recursive: true });
  const errors = new Map<number, GuestCompileError>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length && errors.size === 0) {
      const index = next;
      next += 1;
      const job = jobs[index]!;
      const result = await run(job.command);
      const error = finish(job, result, spec);
      if (error) errors.set(index, error);
    }
  };
  const width = Math.max(1, Math.min(spec.jobs ?? availableParallelism(), jobs.length));
  await Promise.all(Array.from({ length: width }, worker));
  if (errors.size > 0) throw errors.get(Math.min(...errors.keys()))!;
  return jobs.map((j) => j.object);
}

/**
 * compileGuestObjects for a caller that cannot wait (test helpers and fixture builds with a
 * synchronous API): the same commands, objects and errors, one source at a time.
 */
export function compileGuestObjectsSync(spec: GuestCompileSpec): string[] {
  const jobs = plan(spec);
  mkdirSync(spec.outDir, { recursive: true });
  for (const job of jobs) {
    const [cc, ...args] = job.command;
    const r: SpawnSyncReturns<string> = spawnSync(cc, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const error = finish(job, { error: r.error, status: r.status, signal: r.signal, output: `${r.stdout ?? ''}${r.stderr ?? ''}` }, spec);
    if (error) throw error;
  }
  return jobs.map((j) => j.object);
}

function run([cmd, ...args]: [string, ...string[]]): Promise<{ error?: Error; status: number | null; signal: NodeJS.Signals | null; output: string }> {
  return new Promise((done) => {
    let output = '';
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', (error) => done({ error, status: null, signal: null, output }));
    child.on('close', (status, signal) => done({ status, signal, output }));
  });
}

/** Sources compiled into an archive, with objects built already. */
export interface GuestArchiveSpec extends Omit<GuestCompileSpec, 'outDir'> {
  /** The archive to write (its folder is created if missing). */
  archive: string;
  /** Folder for the compiled objects; default a temp folder beside the archive, removed after. */
  outDir?: string;
  /** Objects to archive after the compiled ones. */
  objects?: readonly string[];
  /** The archiver; default `ar`. */
  ar?: string;
}

/**
 * Compiles the sources (compileGuestObjects) and archives them, then `objects`, with
 * `ar rcs` into a temp file renamed to `archive`: the archive is replaced only when every
 * source compiled and ar succeeded. Throws a GuestCompileError for a source, an Error naming
 * the archive and ar's message for ar.
 */
export async function buildGuestArchive(spec: GuestArchiveSpec): Promise<string> {
  const folder = dirname(spec.archive);
  mkdirSync(folder, { recursive: true });
  const outDir = spec.outDir ?? mkdtempSync(join(folder, `.${basename(spec.archive)}.objects-`));
  const temp = `${spec.archive}.tmp-${process.pid}-${(tempCount += 1)}`;
  try {
    const compiled = await compileGuestObjects({ ...spec, outDir });
    const ar = spec.ar ?? 'ar';
    const args = ['rcs', temp, ...compiled, ...(spec.objects ?? [])];
    const r = await run([ar, ...args]);
    if (r.error || r.status !== 0) {
      const why = r.error ? r.error.message : `exit ${r.status ?? r.signal}: ${r.output.trim()}`;
      throw new Error(`archiving ${spec.archive} failed (${why}); the command was: ${[ar, ...args].map((a) => (a === temp ? spec.archive : a)).join(' ')}`);
    }
    renameSync(temp, spec.archive);
    return spec.archive;
  } finally {
    rmSync(temp, { force: true });
    if (spec.outDir === undefined) rmSync(outDir, { recursive: true, force: true });
  }
}

/**
 * The shell builds' way in (`c/build.sh`, through `node -e "import('@rumpxen/protocol')…"`):
 * `SOURCE_ROOT OUT FLAGS... -- SOURCES... [-- OBJECTS...]`. OUT ending in `.a` is an archive
 * (buildGuestArchive: the sources compiled into a temp folder, then OBJECTS), else a folder
 * for the objects (compileGuestObjects). `CC` and `AR` from `env` name the tools. Resolves
 * to what it made: the archive, or the objects.
 */
export async function runGuestBuild(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const [sourceRoot, out, ...rest] = args;
  const first = rest.indexOf('--');
  if (sourceRoot === undefined || out === undefined || first < 0) {
    throw new Error(`runGuestBuild: the arguments are SOURCE_ROOT OUT FLAGS... -- SOURCES... [-- OBJECTS...], not: ${args.join(' ')}`);
  }
  const cflags = rest.slice(0, first);
  const after = rest.slice(first + 1);
  const second = after.indexOf('--');
  const sources = second < 0 ? after : after.slice(0, second);
  const objects = second < 0 ? [] : after.slice(second + 1);
  const cc = env.CC || undefined;
  if (out.endsWith('.a')) return [await buildGuestArchive({ sources, cflags, sourceRoot, archive: out, objects, cc, ar: env.AR || undefined })];
  if (objects.length > 0) throw new Error(`runGuestBuild: objects (${objects.join(' ')}) are only for an archive; ${out} is a folder`);
  return compileGuestObjects({ sources, cflags, sourceRoot, outDir: out, cc });
}
