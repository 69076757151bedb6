/**
 * `rumpxen-cc`: a gcc-like compiler driver for programs written for NetBSD, in the way of
 * rumprun's `x86_64-rumprun-netbsd-gcc`. `-c` compiles sources into objects against NetBSD's
 * headers for a Xen target; without `-c` the program's objects are linked into one relocatable
 * object (`ld -r`), which `image-linker build APP.o --libc netbsd --component …` makes an image
 * of. The compile is compileNetbsdSources, the one the image-linker's manifests use.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { GuestCompileError } from '@rumpxen/protocol';
import { compileNetbsdSources } from './compile.js';
import { isLibcTarget, LIBC_TARGETS, type LibcTargetName } from './index.js';

/** The environment variable that names the target when no --target is given. */
export const CC_TARGET_ENV = 'RUMPXEN_TARGET';

export const CC_USAGE = `usage: rumpxen-cc [--target xen-pv|xen-pvh] [-c] [-o OUT] [FLAGS] FILE...

Compiles C for a rumpxen Xen image with NetBSD's libc, as a NetBSD compiler would: NetBSD's
headers (<stdio.h>, <sys/socket.h>, …), __NetBSD__ defined, the guest's code flags
(-ffreestanding -fno-pic -mno-red-zone -nostdinc …) in front of yours. NetBSD's libc is
built first when the cache lacks it (about two minutes, once).

  rumpxen-cc -c [-o OBJ] SRC...   compile each .c/.S into an object (SRC.o, or OBJ for one SRC)
  rumpxen-cc -o APP.o FILE...     compile the sources among FILEs, then link them with the
                                  other objects and archives into one relocatable object
                                  (ld -r; default name a.out), to make an image with:
      image-linker build APP.o --libc netbsd --target xen-pv --component vfs ... -o APP

options:
  --target T, -target T, --target=T   xen-pv (default) or xen-pvh; else $${CC_TARGET_ENV}
  -c                    compile only
  -o FILE               the output
  -O*, -g*, -D…, -U…, -I DIR, -isystem DIR, -include FILE, -W…, -w, -std=…, -f…, -m…,
  -pedantic, -ansi, -MD, -MMD, -MP, -MF F, -MT T, -MQ T
                        passed to gcc (-MD/-MMD need -MF; without -MT, one -c
                        source gets -MT OBJ)
  -pthread              -D_REENTRANT (libpthread is linked by the image-linker)
  -lc -lm -lutil -lpthread   accepted: the image-linker links these libraries into every image
  -lNAME, -L DIR        other archives, searched by ld -r when linking
  -v                    print the commands
  -h, --help            this text

Refused, because a guest image cannot use them: -shared, -fPIC/-fpic/-fPIE/-fpie, -pie,
-rdynamic, -m32, -E/-S/-M (no preprocessor-only or assembler output), C++ sources.
Exit codes: 0 ok, 1 a compile or link failed, 2 bad arguments.`;

/** Libraries the image-linker links into every image with --libc netbsd. */
const LIBC_LIBRARIES = new Set(['c', 'm', 'util', 'pthread']);

/** Flags given whole to gcc. */
const PASS = [/^-O[0-3sgz]?$/, /^-O(fast)?$/, /^-g/, /^-[DU].+/, /^-W(?!l,|a,|p,)/, /^-w$/, /^-std=/, /^-f/, /^-m/, /^-pedantic/, /^-ansi$/, /^-I.+/, /^-M(M)?D$/, /^-MP$/];
/** Flags whose value is the next argument, given to gcc. */
const PASS_WITH_VALUE = new Set(['-D', '-U', '-I', '-isystem', '-include', '-iquote', '-MF', '-MT', '-MQ']);

/** Why a flag cannot work for a guest, and what to do. */
const REFUSED: Array<[RegExp, string]> = [
  [/^-shared$/, 'an image is one static program: there are no shared libraries to make. Link with -o APP.o (ld -r) and give it to image-linker build'],
  [/^-f(PIC|pic|PIE|pie)$/, 'guest code is linked at a fixed address and built with -fno-pic; drop the flag'],
  [/^-(pie|static-pie)$/, 'guest images are not position independent; drop the flag'],
  [/^-rdynamic$/, 'there is no dynamic linker in a guest; drop the flag'],
  [/^-m32$/, 'the Xen targets are x86-64 only; drop the flag'],
  [/^-mred-zone$/, 'Xen builds event frames right below the stack pointer, so guest code needs -mno-red-zone; drop the flag'],
  [/^-(E|S|M|MM)$/, 'rumpxen-cc makes objects only (-c) or a relocatable program (-o); run gcc yourself for preprocessor or assembler output'],
  [/^-Wl,|^-Xlinker$/, 'linker flags belong to the image link: pass them to image-linker, not to rumpxen-cc'],
];

const SOURCE = /\.(c|S|s)$/;
const CXX_SOURCE = /\.(cc|cpp|cxx|C|c\+\+)$/;
const LINKABLE = /\.(o|a)$/;

export interface CcPlan {
  target: LibcTargetName;
  compileOnly: boolean;
  output?: string;
  sources: string[];
  /** Objects and archives for ld -r, in the order given (sources' objects in their place). */
  linkInputs: Array<{ source: string } | { file: string }>;
  cflags: string[];
  libDirs: string[];
  /** -lNAME beyond libc's own: archives found in libDirs by ld -r. */
  libraries: string[];
  verbose: boolean;
}

export type CcCommand = { kind: 'help' } | { kind: 'run'; plan: CcPlan };

/** A bad command line: the argument, what is wrong, the fix (exit code 2). */
export class CcUsageError extends Error {
  override readonly name = 'CcUsageError';
  readonly exitCode = 2;
  constructor(subject: string, problem: string, fix: string) {
    super(`rumpxen-cc: ${subject} ${problem} ${fix}`);
  }
}

/** Reads a rumpxen-cc command line (and the environment's target) into what to do. */
export function parseCcArgs(argv: readonly string[], env: Record<string, string | undefined> = process.env): CcCommand {
  let target: string | undefined;
  let compileOnly = false;
  let output: string | undefined;
  let verbose = false;
  const sources: string[] = [];
  const linkInputs: CcPlan['linkInputs'] = [];
  const cflags: string[] = [];
  const libDirs: string[] = [];
  const libraries: string[] = [];
  const value = (i: number, flag: string): string => {
    const v = argv[i + 1];
    if (v === undefined) throw new CcUsageError(flag, 'needs a value.', `Write ${flag} VALUE.`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-h' || a === '--help') return { kind: 'help' };
    if (a === '--target' || a === '-target') {
      target = value(i, a);
      i++;
    } else if (a.startsWith('--target=')) {
      target = a.slice('--target='.length);
    } else if (a === '-c') {
      compileOnly = true;
    } else if (a === '-o') {
      output = value(i, a);
      i++;
    } else if (a.startsWith('-o') && a.length > 2) {
      output = a.slice(2);
    } else if (a === '-v') {
      verbose = true;
    } else if (a === '-pthread') {
      cflags.push('-D_REENTRANT');
    } else if (a === '-static' || a === '-nostartfiles') {
      // Every image is static and gets its start-up from the libc layer: nothing to do.
    } else if (a === '-L') {
      libDirs.push(value(i, a));
      i++;
    } else if (a.startsWith('-L')) {
      libDirs.push(a.slice(2));
    } else if (a === '-l' || a.startsWith('-l')) {
      const name = a === '-l' ? value(i, a) : a.slice(2);
      if (a === '-l') i++;
      if (!LIBC_LIBRARIES.has(name)) libraries.push(name);
    } else if (PASS_WITH_VALUE.has(a)) {
      cflags.push(a, value(i, a));
      i++;
    } else if (a.startsWith('-')) {
      const refused = REFUSED.find(([re]) => re.test(a));
      if (refused) throw new CcUsageError(a, 'cannot be used for a rumpxen guest:', `${refused[1]}.`);
      if (!PASS.some((re) => re.test(a))) {
        throw new CcUsageError(a, 'is not a flag rumpxen-cc knows.', 'See rumpxen-cc --help for the flags it takes (-O -g -D -U -I -W -f -m -std= …).');
      }
      cflags.push(a);
    } else if (CXX_SOURCE.test(a)) {
      throw new CcUsageError(a, 'is a C++ source: no C++ runtime is built for the Xen targets.', 'Compile C sources only.');
    } else if (SOURCE.test(a)) {
      sources.push(a);
      linkInputs.push({ source: a });
    } else if (LINKABLE.test(a)) {
      if (compileOnly) {
        // gcc ignores them with -c too; say so rather than drop them silently.
        throw new CcUsageError(a, 'is an object or archive, which -c does not use.', 'Leave it out of a -c command, or drop -c to link it.');
      }
      linkInputs.push({ file: a });
    } else {
      throw new CcUsageError(a, 'is neither a flag nor a .c, .S, .o or .a file.', 'Name C sources (.c), assembler (.S), objects (.o) or archives (.a).');
    }
  }
  // Objects are compiled under a temp name and renamed (protocol's compile step): gcc would
  // name a dependency file, and the rule's target, after that temp name.
  if (cflags.some((f) => f === '-MD' || f === '-MMD')) {
    if (!cflags.includes('-MF')) throw new CcUsageError('-MD/-MMD', 'needs -MF FILE here (objects are written under a temp name first).', 'Add -MF FILE.d (and -MT OBJ), as automake does.');
    if (!cflags.includes('-MT') && !cflags.includes('-MQ')) {
      if (!compileOnly || sources.length !== 1) throw new CcUsageError('-MD/-MMD', 'needs -MT TARGET unless one source is compiled with -c.', 'Add -MT OBJ.');
      cflags.push('-MT', output ?? defaultObjectName(sources[0]!));
    }
  }
  const chosen = target ?? env[CC_TARGET_ENV] ?? 'xen-pv';
  if (!isLibcTarget(chosen)) {
    const from = target !== undefined ? `--target ${chosen}` : `$${CC_TARGET_ENV}=${chosen}`;
    throw new CcUsageError(from, 'is not a target NetBSD\'s libc is built for.', `Use ${LIBC_TARGETS.join(' or ')}.`);
  }
  // compileOnly is set after every argument was read: -c may come after the objects.
  if (compileOnly) {
    const objects = linkInputs.filter((x) => 'file' in x);
    if (objects.length) throw new CcUsageError((objects[0] as { file: string }).file, 'is an object or archive, which -c does not use.', 'Leave it out of a -c command, or drop -c to link it.');
    if (sources.length === 0) throw new CcUsageError('-c', 'has no source to compile.', 'Name one or more .c or .S files.');
    if (output !== undefined && sources.length > 1) throw new CcUsageError('-o', `names one output for ${sources.length} sources.`, 'Compile one source per -o, or leave -o out (each SRC.c gives SRC.o).');
  } else if (linkInputs.length === 0) {
    throw new CcUsageError('rumpxen-cc', 'has no input files.', 'Name C sources, objects or archives (see rumpxen-cc --help).');
  }
  return { kind: 'run', plan: { target: chosen, compileOnly, output, sources, linkInputs, cflags, libDirs, libraries, verbose } };
}

/** `dir/foo.c` → `foo.o`, as gcc names -c outputs (in the current folder). */
export function defaultObjectName(source: string): string {
  return `${basename(source).replace(/\.[^.]+$/, '')}.o`;
}

export interface CcIo {
  /** Progress and -v lines (stderr in the CLI). */
  onProgress: (line: string) => void;
  /** What the compiler printed for sources that compiled (warnings). */
  onOutput?: (source: string, output: string) => void;
  cwd?: string;
}

/**
 * Runs a plan: compiles its sources (into the output's place with -c, else into a temp
 * folder) and, without -c, links them with the other inputs by `ld -r` into the output
 * (written under a temp name, then renamed). Returns the files written.
 */
export async function runCc(plan: CcPlan, io: CcIo): Promise<string[]> {
  const cwd = io.cwd ?? process.cwd();
  const abs = (p: string) => (p.startsWith('/') ? p : join(cwd, p));
  const compile = async (sources: string[], outDir: string, names: Map<string, string>) => {
    if (sources.length === 0) return [];
    return compileNetbsdSources({
      target: plan.target,
      sources: sources.map(abs),
      outDir,
      cflags: plan.cflags,
      objectName: (s) => names.get(s)!,
      onProgress: io.onProgress,
      onOutput: io.onOutput,
    });
  };
  if (plan.compileOnly) {
    const names = new Map(plan.sources.map((s) => [abs(s), plan.output !== undefined ? basename(plan.output) : defaultObjectName(s)]));
    const outDir = plan.output !== undefined ? abs(join(plan.output, '..')) : cwd;
    return compile(plan.sources, outDir, names);
  }
  const output = abs(plan.output ?? 'a.out');
  const work = mkdtempSync(join(tmpdir(), 'rumpxen-cc-'));
  try {
    // Objects of the sources in a temp folder, numbered: two sources may share a base name.
    const names = new Map(plan.sources.map((s, i) => [abs(s), `${i}-${defaultObjectName(s)}`]));
    const objects = await compile(plan.sources, work, names);
    const bySource = new Map(plan.sources.map((s, i) => [s, objects[i]!]));
    const inputs = plan.linkInputs.map((x) => ('source' in x ? bySource.get(x.source)! : abs(x.file)));
    for (const f of inputs) {
      if (!existsSync(f)) throw new CcUsageError(f, 'does not exist.', 'Name an object or archive that exists (or its source).');
    }
    const temp = `${output}.tmp-${process.pid}`;
    const args = ['-r', '-o', temp, ...inputs, ...plan.libDirs.map((d) => `-L${abs(d)}`), ...plan.libraries.map((l) => `-l${l}`)];
    if (plan.verbose) io.onProgress(`ld ${args.join(' ')}`);
    io.onProgress(`linking ${plan.output ?? 'a.out'} (ld -r)`);
    const r = spawnSync('ld', args, { encoding: 'utf8' });
    if (r.error || r.status !== 0) {
      rmSync(temp, { force: true });
      const why = r.error ? r.error.message : r.stderr.trim();
      throw new CcLinkError(`rumpxen-cc: linking ${output} failed (${why}); the command was: ld ${args.join(' ')}`);
    }
    renameSync(temp, output);
    return [output];
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** ld -r failed (exit code 1). */
export class CcLinkError extends Error {
  override readonly name = 'CcLinkError';
}

/** The CLI: runs a command line, returns its exit code; messages go to stderr. */
export async function ccMain(argv: readonly string[], stderr: (s: string) => void = (s) => process.stderr.write(s)): Promise<number> {
  let cmd: CcCommand;
  try {
    cmd = parseCcArgs(argv);
  } catch (e) {
    if (e instanceof CcUsageError) {
      stderr(`${e.message}\n`);
      return 2;
    }
    throw e;
  }
  if (cmd.kind === 'help') {
    process.stdout.write(`${CC_USAGE}\n`);
    return 0;
  }
  const plan = cmd.plan;
  try {
    await runCc(plan, {
      onProgress: (l) => {
        // Compile lines only with -v; the libc build's progress always (it takes minutes).
        if (plan.verbose || !l.startsWith('compiling ') && !l.startsWith('linking ')) stderr(`rumpxen-cc: ${l}\n`);
      },
      onOutput: (_s, o) => stderr(o),
    });
    return 0;
  } catch (e) {
    if (e instanceof CcUsageError) {
      stderr(`${e.message}\n`);
      return 2;
    }
    if (e instanceof GuestCompileError || e instanceof CcLinkError) {
      stderr(`${e.message}\n`);
      return 1;
    }
    stderr(`rumpxen-cc: ${(e as Error).message}\n`);
    return 1;
  }
}
