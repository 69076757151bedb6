#!/usr/bin/env node
/**
 * SQLite's amalgamation for examples/netbsd-sqlite, fetched at set-up time and never kept in
 * git: the `better-sqlite3` npm package (pinned version and integrity below) ships it under
 * deps/sqlite3/. Steps, each skipped when already done:
 *   1. `npm pack` the pinned version into <repo>/.cache/sqlite/ and check its sha512;
 *   2. unpack deps/sqlite3/ beside it;
 *   3. stage sqlite3.c and sqlite3.h into this folder's build/ (git-ignored), with
 *      script.sql as a C string (build/script.h) for main.c.
 * `--host` then builds main.c with SQLite for this machine (gcc, glibc; SQLite's object cached
 * by the hash of its source, flags and compiler) and runs it: the output a DomU must print.
 * Exported for the image-linker's test and bench: prepareSqlite, buildHostProgram,
 * runHostProgram, buildWithDriver, sqliteCflags.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const EXAMPLE_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = join(EXAMPLE_DIR, '..', '..');
export const MANIFEST = join(EXAMPLE_DIR, 'rumpxen.json');

/** The package that ships the amalgamation, pinned by version and by npm's integrity string. */
export const SQLITE_PACKAGE = {
  name: 'better-sqlite3',
  version: '13.2.0',
  integrity: 'sha512-Z8Q/9x/uNyKxA1v4FNodyItRVRw1TeKBrmj32JhxhR0ceNcBY+wMobt/Bv7M7TzwPAXjnZRtNaEsATnUZSKWZQ==',
  /** What its deps/sqlite3/sqlite3.h says. */
  sqliteVersion: '3.54.1',
};

export class PrepareError extends Error {
  constructor(subject, problem, fix) {
    super(`${subject}: ${problem} ${fix}`);
    this.name = 'PrepareError';
  }
}

const cacheDir = () => join(process.env.RUMPXEN_CACHE_DIR ?? join(ROOT, '.cache'), 'sqlite');
const sha = (alg, data) => createHash(alg).update(data).digest();

/** Writes `data` to `file` through a temporary file, and only when it differs. */
function writeIfChanged(file, data) {
  if (existsSync(file) && readFileSync(file).equals(Buffer.from(data))) return false;
  const temp = `${file}.tmp-${process.pid}`;
  writeFileSync(temp, data);
  renameSync(temp, file);
  return true;
}

function integrityOf(file) {
  return `sha512-${sha('sha512', readFileSync(file)).toString('base64')}`;
}

/** Step 1: the tarball in the cache, checked. */
function fetchTarball(onProgress) {
  const { name, version, integrity } = SQLITE_PACKAGE;
  const dir = cacheDir();
  const tarball = join(dir, `${name}-${version}.tgz`);
  if (existsSync(tarball) && integrityOf(tarball) === integrity) return tarball;
  mkdirSync(dir, { recursive: true });
  const temp = mkdtempSync(join(dir, 'pack-'));
  try {
    onProgress?.(`fetching ${name}@${version} with npm pack`);
    const r = spawnSync('npm', ['pack', `${name}@${version}`, '--pack-destination', temp, '--ignore-scripts', '--loglevel=error'], { cwd: temp, encoding: 'utf8', timeout: 300_000 });
    const packed = join(temp, `${name}-${version}.tgz`);
    if (r.status !== 0 || !existsSync(packed)) {
      throw new PrepareError(`npm pack ${name}@${version}`, `failed (exit ${r.status ?? r.signal ?? r.error?.message})${(r.stderr || '').trim() ? `: ${r.stderr.trim().split('\n').filter((l) => l.trim() !== 'npm error').slice(0, 3).join(' | ')}` : ''}.`, 'Check that the npm registry is reachable (npm ping), or put the tarball at ' + tarball + '.');
    }
    const got = integrityOf(packed);
    if (got !== integrity) {
      throw new PrepareError(`${name}-${version}.tgz`, `has integrity ${got}, not the pinned ${integrity}.`, 'Something changed the package or the download; fix SQLITE_PACKAGE in examples/netbsd-sqlite/prepare.mjs only after checking the new tarball.');
    }
    renameSync(packed, tarball);
    return tarball;
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

/** Step 2: deps/sqlite3/ of the tarball, unpacked once. */
function unpack(tarball) {
  const dir = join(cacheDir(), `${SQLITE_PACKAGE.name}-${SQLITE_PACKAGE.version}`);
  const files = ['sqlite3.c', 'sqlite3.h'].map((f) => join(dir, f));
  if (files.every((f) => existsSync(f))) return { dir, sqlite3c: files[0], sqlite3h: files[1] };
  const temp = mkdtempSync(join(cacheDir(), 'unpack-'));
  try {
    const r = spawnSync('tar', ['-xzf', tarball, '-C', temp, 'package/deps/sqlite3'], { encoding: 'utf8' });
    if (r.status !== 0) throw new PrepareError(tarball, `does not unpack: ${r.stderr.trim()}`, 'Delete it so that it is fetched again.');
    const got = join(temp, 'package', 'deps', 'sqlite3');
    for (const f of ['sqlite3.c', 'sqlite3.h']) {
      if (!existsSync(join(got, f))) throw new PrepareError(tarball, `has no deps/sqlite3/${f} (it has: ${readdirSync(got).join(', ')}).`, 'Pin a better-sqlite3 version that ships the amalgamation.');
    }
    rmSync(dir, { recursive: true, force: true });
    renameSync(got, dir);
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
  return { dir, sqlite3c: files[0], sqlite3h: files[1] };
}

/** script.sql as a C string: the DomU has no file to read it from. */
function scriptHeader(sql) {
  const lines = sql.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const esc = (l) => l.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[^\x20-\x7e]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
  return ['/* Generated from script.sql by prepare.mjs: do not edit. */', 'static const char netbsd_sqlite_script[] =', ...lines.map((l) => `\t"${esc(l)}\\n"`), ';', ''].join('\n');
}

/**
 * Fetches (when not cached), checks, unpacks and stages SQLite's amalgamation and the script.
 * Returns the staged paths and the version.
 */
export function prepareSqlite({ onProgress } = {}) {
  const tarball = fetchTarball(onProgress);
  const { sqlite3c, sqlite3h } = unpack(tarball);
  const header = readFileSync(sqlite3h, 'utf8');
  const version = /#define SQLITE_VERSION\s+"([^"]+)"/.exec(header)?.[1];
  if (version !== SQLITE_PACKAGE.sqliteVersion) {
    throw new PrepareError(sqlite3h, `says SQLite ${version ?? '(no SQLITE_VERSION)'}, not ${SQLITE_PACKAGE.sqliteVersion}.`, 'Delete .cache/sqlite/ and run again; if it persists, update SQLITE_PACKAGE.sqliteVersion.');
  }
  const build = join(EXAMPLE_DIR, 'build');
  mkdirSync(build, { recursive: true });
  const staged = { sqlite3c: join(build, 'sqlite3.c'), sqlite3h: join(build, 'sqlite3.h'), script: join(build, 'script.h') };
  for (const [from, to] of [[sqlite3c, staged.sqlite3c], [sqlite3h, staged.sqlite3h]]) {
    if (!existsSync(to) || statSync(to).size !== statSync(from).size || !sha('sha256', readFileSync(to)).equals(sha('sha256', readFileSync(from)))) {
      copyFileSync(from, `${to}.tmp-${process.pid}`);
      renameSync(`${to}.tmp-${process.pid}`, to);
    }
  }
  writeIfChanged(staged.script, scriptHeader(readFileSync(join(EXAMPLE_DIR, 'script.sql'), 'utf8')));
  return { tarball, version, ...staged };
}

/** The compile flags of main.c and sqlite3.c (-O2 and SQLite's options): the manifest's, set there once. */
export function sqliteCflags() {
  return JSON.parse(readFileSync(MANIFEST, 'utf8')).cflags;
}

/** Objects for an older source, flags, compiler or libc build are not used again: one per kind stays. */
function pruneObjects(kind, keep) {
  for (const f of readdirSync(cacheDir())) {
    if (f.startsWith(`${kind}-`) && f.endsWith('.o') && f !== basename(keep) && !f.includes('.tmp-')) rmSync(join(cacheDir(), f), { force: true });
  }
}

function cc(args, what) {
  const r = spawnSync('cc', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new PrepareError(what, `does not compile for the host: ${(r.stderr || r.error?.message || '').trim().split('\n').slice(0, 8).join(' | ')}`, `Fix it (command: cc ${args.join(' ')}).`);
}

/**
 * main.c and SQLite built for this machine with its C library. SQLite's object is cached under
 * .cache/sqlite/host-<hash of source, flags and compiler>.o. Returns the program's path and
 * the seconds SQLite's compile took (0 when cached).
 */
export function buildHostProgram(outDir, { onProgress } = {}) {
  const p = prepareSqlite({ onProgress });
  const flags = sqliteCflags();
  const ccVersion = spawnSync('cc', ['--version'], { encoding: 'utf8' }).stdout ?? '';
  const key = createHash('sha256').update(readFileSync(p.sqlite3c)).update(JSON.stringify(flags)).update(ccVersion).digest('hex').slice(0, 16);
  const obj = join(cacheDir(), `host-${key}.o`);
  let compileSeconds = 0;
  if (!existsSync(obj)) {
    onProgress?.('compiling sqlite3.c for the host');
    const t0 = performance.now();
    const temp = `${obj}.tmp-${process.pid}.o`;
    cc(['-c', ...flags, '-o', temp, p.sqlite3c], p.sqlite3c);
    renameSync(temp, obj);
    compileSeconds = (performance.now() - t0) / 1000;
    pruneObjects('host', obj);
  }
  mkdirSync(outDir, { recursive: true });
  const program = join(outDir, 'netbsd-sqlite.host');
  cc([...flags, '-Wall', '-Wextra', '-Werror', '-o', program, join(EXAMPLE_DIR, 'main.c'), obj, '-lm'], join(EXAMPLE_DIR, 'main.c'));
  return { program, compileSeconds, sqliteObject: obj };
}

/** Runs the host program on a fresh directory; returns its exit code and output. */
export function runHostProgram(program) {
  const dir = mkdtempSync(join(tmpdir(), 'netbsd-sqlite-host-'));
  try {
    const r = spawnSync(program, [dir], { encoding: 'utf8', timeout: 120_000 });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The compiler driver of @rumpxen/netbsd-libc, as `npx rumpxen-cc` finds it. */
function rumpxenCc(args, what) {
  const bin = join(ROOT, 'node_modules', '.bin', 'rumpxen-cc');
  if (!existsSync(bin)) throw new PrepareError(bin, 'does not exist.', 'Install and build the monorepo (npm install && npm run build) so that @rumpxen/netbsd-libc\'s rumpxen-cc is linked.');
  const r = spawnSync(bin, args, { encoding: 'utf8', timeout: 900_000 });
  if (r.status !== 0) throw new PrepareError(what, `failed with rumpxen-cc (exit ${r.status ?? r.signal}): ${(r.stderr || r.error?.message || '').trim().split('\n').slice(-8).join(' | ')}`, `Fix it (command: rumpxen-cc ${args.join(' ')}).`);
}

/**
 * The program for a Xen target through @rumpxen/netbsd-libc's compiler driver, as a NetBSD
 * user would build it: `rumpxen-cc -c` for sqlite3.c (cached under
 * .cache/sqlite/<target>-<hash of source, flags, target and NetBSD libc build>.o) and main.c,
 * then `rumpxen-cc -o` into one relocatable object for `image-linker build APP.o --libc netbsd
 * --component …` (the manifest's components, returned). Builds NetBSD's libc when missing.
 */
export async function buildWithDriver(target, outDir, { onProgress } = {}) {
  const p = prepareSqlite({ onProgress });
  const { buildNetbsdLibc } = await import('@rumpxen/netbsd-build');
  const libc = await buildNetbsdLibc(target, { onProgress });
  const flags = sqliteCflags();
  const key = createHash('sha256').update(readFileSync(p.sqlite3c)).update(JSON.stringify([flags, target, libc.key])).digest('hex').slice(0, 16);
  const obj = join(cacheDir(), `${target}-${key}.o`);
  let compileSeconds = 0;
  if (!existsSync(obj)) {
    onProgress?.(`compiling sqlite3.c for ${target} with rumpxen-cc`);
    const t0 = performance.now();
    const temp = `${obj}.tmp-${process.pid}.o`;
    rumpxenCc(['--target', target, '-c', ...flags, '-o', temp, p.sqlite3c], p.sqlite3c);
    renameSync(temp, obj);
    compileSeconds = (performance.now() - t0) / 1000;
    pruneObjects(target, obj);
  }
  mkdirSync(outDir, { recursive: true });
  const main = join(outDir, `main.${target}.o`);
  rumpxenCc(['--target', target, '-c', ...flags, '-Wall', '-Wextra', '-Werror', '-o', main, join(EXAMPLE_DIR, 'main.c')], join(EXAMPLE_DIR, 'main.c'));
  const app = join(outDir, `netbsd-sqlite.${target}.o`);
  rumpxenCc(['--target', target, '-o', app, main, obj], app);
  return { app, components: JSON.parse(readFileSync(MANIFEST, 'utf8')).components, compileSeconds, sqliteObject: obj };
}

const HELP = `Usage: node examples/netbsd-sqlite/prepare.mjs [--host]

Fetches ${SQLITE_PACKAGE.name}@${SQLITE_PACKAGE.version} with npm pack into .cache/sqlite/ (checked
against its pinned sha512), unpacks SQLite ${SQLITE_PACKAGE.sqliteVersion}'s amalgamation and stages it with
script.sql in examples/netbsd-sqlite/build/. Safe to run again: finished steps are skipped.

  --host   also build main.c with SQLite for this machine and run it (the expected output)
  --help   this text`;

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    console.log(HELP);
  } else if (args.some((a) => a !== '--host')) {
    console.error(`prepare.mjs: unknown argument ${args.find((a) => a !== '--host')}.\n\n${HELP}`);
    process.exitCode = 2;
  } else {
    try {
      const progress = (l) => console.error(`prepare: ${l}`);
      const p = prepareSqlite({ onProgress: progress });
      console.error(`prepare: SQLite ${p.version} staged in ${dirname(p.sqlite3c)}`);
      if (args.includes('--host')) {
        const out = join(EXAMPLE_DIR, 'build', 'host');
        const h = buildHostProgram(out, { onProgress: progress });
        if (h.compileSeconds) console.error(`prepare: sqlite3.c compiled for the host in ${h.compileSeconds.toFixed(1)} s`);
        const r = runHostProgram(h.program);
        process.stdout.write(r.stdout);
        process.stderr.write(r.stderr);
        process.exitCode = r.code;
      }
    } catch (e) {
      console.error(e instanceof PrepareError ? `prepare.mjs: ${e.message}` : e);
      process.exitCode = 1;
    }
  }
}
