/**
 * One NetBSD build for one target: buildrump.sh (unmodified) run step by step (tools, build,
 * install) over the resolved sources, into a cache folder keyed by everything that decides
 * the result. A finished build has `result.json`; one without it is redone from scratch.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { TargetDefinition } from '@rumpxen/hypercall-api';
import { netbsdCacheDir, withLock } from './cache.js';
import { componentGraph, type Component } from './components.js';
import { buildConfig, targetDefinition, type BuildMode, type NetbsdBuildConfig } from './configs.js';
import { NetbsdBuildError } from './errors.js';
import { pciKeyPart, pciStepScript } from './pci.js';
import { resolveSource, type SourceTree } from './sources.js';

/** Bumped when the layout of a build folder or the way it is made changes. */
const FORMAT = 1;

export const BUILD_STEPS = ['tools', 'build', 'install'] as const;
/** After buildrump.sh's steps, kernel mode builds NetBSD's PCI driver components (src/pci.ts). */
export type BuildStep = (typeof BUILD_STEPS)[number] | 'pci';

export interface NetbsdBuild {
  /** The target asked for (xen-pv and xen-pvh share one kernel-mode build when their flags agree). */
  target: string;
  mode: BuildMode;
  /** The cache key: sha256 over sources, driver, mode, options, flags and compiler. */
  key: string;
  /** The build folder: dest/ (lib/, include/), obj/, tools/, build.log, result.json. */
  dir: string;
  libDir: string;
  includeDir: string;
  /** buildrump.sh's make wrapper for building more NetBSD folders against this build. */
  rumpmake: string;
  /** Where buildrump.sh is (its tests/ folder holds NetBSD's own test programs). */
  buildrumpDir: string;
  netbsdSrcDir: string;
  /** Every component archive, with the components it needs. */
  components: Component[];
  /** The options and flags buildrump.sh got. */
  config: NetbsdBuildConfig;
  sources: { netbsd: string; buildrump: string };
  /** Seconds each step took when this build was made. */
  stepSeconds: Partial<Record<BuildStep, number>>;
  log: string;
  /** True when this call found the build in the cache. */
  cached: boolean;
}

export interface BuildOptions {
  /** Progress lines (stderr in the CLI). */
  onProgress?: (line: string) => void;
  /** make -j; default the number of CPUs. */
  jobs?: number;
  /** Explicit sources (default: $RUMPXEN_NETBSD_SRC / $RUMPXEN_BUILDRUMP, else git). */
  netbsdSrc?: string;
  buildrump?: string;
  /** Only look in the cache; throw when the build is not there. */
  cachedOnly?: boolean;
}

function compilerIdentity(): string {
  const r = spawnSync('cc', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? (r.stdout.split('\n')[0] ?? '') : 'cc unavailable';
}

export function buildKey(src: SourceTree, driver: SourceTree, config: NetbsdBuildConfig): string {
  const what = { format: FORMAT, netbsd: src.identity, buildrump: driver.identity, mode: config.mode, args: config.args, cflags: config.cflags, env: config.env, cc: compilerIdentity() };
  // Only kernel builds get the PCI step, so the userspace (posix) key stays as it was.
  if (config.mode === 'kernel') Object.assign(what, { pci: pciKeyPart() });
  return createHash('sha256').update(JSON.stringify(what)).digest('hex');
}

function fmt(s: number): string {
  return s < 60 ? `${s.toFixed(0)}s` : `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
}

/** Environment for buildrump.sh: it refuses to run with CFLAGS, LDFLAGS, CPPFLAGS or AFLAGS set. */
function driverEnv(config: NetbsdBuildConfig): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...config.env, LC_ALL: 'C' };
  for (const v of ['CFLAGS', 'LDFLAGS', 'CPPFLAGS', 'AFLAGS', 'CXXFLAGS', 'MAKEFLAGS', 'MAKEOBJDIR']) delete env[v];
  return env;
}

/** Runs `sh ARGV...` for one step, appending its output to `log`; progress every 20 s. */
export function runStep(step: string, argv: string[], env: NodeJS.ProcessEnv, cwd: string, log: string, label: string, progress: (l: string) => void): Promise<number> {
  return new Promise((resolveStep, reject) => {
    const out = createWriteStream(log, { flags: 'a' });
    out.write(`\n=== ${step}: sh ${argv.join(' ')}\n`);
    const child = spawn('sh', argv, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const t0 = Date.now();
    let compiled = 0;
    let partial = '';
    const onData = (d: Buffer) => {
      out.write(d);
      const text = partial + d.toString();
      const lines = text.split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) if (/^\s+(compile|build|create)\s/.test(l)) compiled += 1;
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const timer = setInterval(() => progress(`${label}: ${step}: ${compiled} files so far, ${fmt((Date.now() - t0) / 1000)}`), 20_000);
    child.on('error', (e) => {
      clearInterval(timer);
      out.end();
      reject(e);
    });
    child.on('close', (code) => {
      clearInterval(timer);
      out.end(() => resolveStep(code ?? 1));
    });
  });
}

function lastLines(file: string, n: number): string {
  try {
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    return lines.slice(-n).join('\n');
  } catch {
    return '';
  }
}

function resultPath(dir: string): string {
  return join(dir, 'result.json');
}

function readResult(dir: string): NetbsdBuild | undefined {
  try {
    return JSON.parse(readFileSync(resultPath(dir), 'utf8')) as NetbsdBuild;
  } catch {
    return undefined;
  }
}

/**
 * The NetBSD build for `target` (a name or definition): from the cache when sources, driver,
 * mode, options, flags and compiler are unchanged, else built now (minutes; progress through
 * `onProgress`). Concurrent callers for the same build wait for one another.
 */
export async function buildNetbsd(target: string | TargetDefinition, opts: BuildOptions = {}): Promise<NetbsdBuild> {
  const def = typeof target === 'string' ? targetDefinition(target) : target;
  const progress = opts.onProgress ?? (() => {});
  const config = buildConfig(def);
  const src = await resolveSource('netbsd', progress, opts.netbsdSrc);
  const driver = await resolveSource('buildrump', progress, opts.buildrump);
  const key = buildKey(src, driver, config);
  const dir = join(netbsdCacheDir(), 'build', `${config.mode}-${key.slice(0, 16)}`);
  const label = `netbsd-build ${def.name} (${config.mode})`;

  const found = readResult(dir);
  if (found) return { ...found, target: def.name, cached: true };
  if (opts.cachedOnly) {
    throw new NetbsdBuildError(
      `NetBSD for ${def.name}`,
      `is not built (no ${resultPath(dir)}).`,
      `Build it first: npx rumpxen-netbsd-build ${def.name}   (npm test does this before its tests).`,
    );
  }

  return withLock(dir, async () => {
    const again = readResult(dir);
    if (again) return { ...again, target: def.name, cached: true };
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const log = join(dir, 'build.log');
    const obj = join(dir, 'obj');
    const tools = join(dir, 'tools');
    const dest = join(dir, 'dest');
    const jobs = opts.jobs ?? availableParallelism();
    const stepSeconds: NetbsdBuild['stepSeconds'] = {};
    progress(`${label}: building NetBSD (${src.origin}) with buildrump.sh (${driver.origin}) into ${dir}; log ${log}`);
    for (const step of BUILD_STEPS) {
      const argv = [join(driver.dir, 'buildrump.sh'), '-s', src.dir, '-o', obj, '-d', dest, '-T', tools, '-j', String(jobs), '-q', ...config.args, '-F', `CFLAGS=${config.cflags.join(' ')}`, step];
      const t0 = Date.now();
      progress(`${label}: ${step} ...`);
      const code = await runStep(step, argv, driverEnv(config), dir, log, label, progress);
      stepSeconds[step] = (Date.now() - t0) / 1000;
      if (code !== 0) {
        throw new NetbsdBuildError(
          `NetBSD build for ${def.name}`,
          `failed in buildrump.sh's "${step}" step (exit ${code}) after ${fmt(stepSeconds[step]!)}. Last lines of ${log}:\n${lastLines(log, 15)}\n`,
          `Read ${log}; the folder is rebuilt from scratch on the next run.`,
          1,
        );
      }
      progress(`${label}: ${step} done in ${fmt(stepSeconds[step]!)}`);
    }
    const libDir = join(dest, 'lib');
    const rumpmake = join(tools, 'bin', 'brrumpmake');
    if (config.mode === 'kernel') {
      const t0 = Date.now();
      progress(`${label}: pci ...`);
      const script = pciStepScript(dir, src.dir, rumpmake, libDir, jobs);
      const code = await runStep('pci', [script], driverEnv(config), dir, log, label, progress);
      stepSeconds.pci = (Date.now() - t0) / 1000;
      if (code !== 0) {
        throw new NetbsdBuildError(
          `NetBSD build for ${def.name}`,
          `failed in the "pci" step (NetBSD's PCI driver components, ${script}; exit ${code}) after ${fmt(stepSeconds.pci)}. Last lines of ${log}:\n${lastLines(log, 15)}\n`,
          `Read ${log}; the folder is rebuilt from scratch on the next run.`,
          1,
        );
      }
      progress(`${label}: pci done in ${fmt(stepSeconds.pci)}`);
    }
    const components = componentGraph(libDir);
    const result: NetbsdBuild = {
      target: def.name,
      mode: config.mode,
      key,
      dir,
      libDir,
      includeDir: join(dest, 'include'),
      rumpmake,
      buildrumpDir: driver.dir,
      netbsdSrcDir: src.dir,
      components,
      config,
      sources: { netbsd: src.identity, buildrump: driver.identity },
      stepSeconds,
      log,
      cached: false,
    };
    const tmp = `${resultPath(dir)}.tmp`;
    writeFileSync(tmp, `${JSON.stringify({ ...result, cached: undefined }, null, 2)}\n`);
    renameSync(tmp, resultPath(dir));
    progress(`${label}: ${components.length} components in ${libDir}`);
    return result;
  }, (holder) => progress(`${label}: waiting for process ${holder}, which is building the same configuration`));
}

/** Every finished build in the cache (for `list` and for cleaning). */
export function cachedBuilds(): NetbsdBuild[] {
  const root = join(netbsdCacheDir(), 'build');
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .map((d) => readResult(join(root, d)))
    .filter((b): b is NetbsdBuild => b !== undefined && (b.mode === 'kernel' || b.mode === 'userspace'));
}
