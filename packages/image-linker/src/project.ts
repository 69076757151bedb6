/**
 * Building from a manifest: compile its C sources with the target's flags (posix: the host
 * compiler's defaults plus the include directories), then link everything with `build`.
 */
import { basename, dirname, join } from 'node:path';
import { compileGuestObjects, GuestCompileError } from '@rumpxen/protocol';
import { build, type BuildResult } from './build.js';
import { buildNetbsd } from '@rumpxen/netbsd-build';
import { ImageLinkerError } from './errors.js';
import { isComponentPath } from './inputs.js';
import { libcCompile } from './libc.js';
import type { Manifest } from './manifest.js';
import { resolveTarget, type TargetDefinition } from './targets.js';

/** Compiles C sources for a target into `outDir` (@rumpxen/protocol's guest compile step, in parallel); returns the objects. */
export async function compileSources(sources: string[], target: TargetDefinition, outDir: string, cc = 'cc', onProgress?: (l: string) => void, extraCflags: string[] = []): Promise<string[]> {
  for (const src of sources) onProgress?.(`compiling ${src}`);
  try {
    return await compileGuestObjects({
      sources,
      cflags: [...target.cflags, ...extraCflags],
      // -nostdinc drops the compiler's own freestanding headers (stddef.h, stdint.h) too, which
      // the interface headers include: give them back, as the guest kernel's build does.
      compilerHeaders: target.cflags.includes('-nostdinc') && !target.cflags.includes('-isystem'),
      includeDirs: target.includeDirs,
      outDir,
      objectName: (src) => `${basename(src).replace(/\.[cS]$/, '')}.${target.name}.o`,
      cc,
      // What a compile that succeeded printed (warnings) is not this tool's output.
      onOutput: () => {},
    });
  } catch (e) {
    throw compileError(e, target.name);
  }
}

/** A source that did not compile, as this tool's error (other errors as they are). */
function compileError(e: unknown, target: string): unknown {
  // By name: a libc package's compile step throws its own instance of @rumpxen/protocol's class.
  if (!(e instanceof GuestCompileError) && !(e instanceof Error && e.name === 'GuestCompileError')) return e;
  const g = e as GuestCompileError;
  const command = g.command.slice(0, -4).join(' ');
  return new ImageLinkerError(g.source, `does not compile for target ${target}: ${g.firstLines.slice(0, 8).join(' | ') || g.problem}`, `Fix the source (it is compiled with: ${command}).`);
}

/** Compiles sources against a libc, through the libc package's compile step (libc.ts). */
async function compileWithLibc(libc: string, sources: string[], target: TargetDefinition, outDir: string, cflags: string[], onProgress?: (l: string) => void): Promise<string[]> {
  try {
    return await libcCompile({
      libc, target: target.name, sources, outDir, cflags, cc: 'cc', onProgress,
      objectName: (src) => `${basename(src).replace(/\.[cS]$/, '')}.${target.name}.o`,
    });
  } catch (e) {
    throw compileError(e, target.name);
  }
}

export interface ProjectBuildOptions {
  /** Override the manifest's target or output. */
  target?: string;
  output?: string;
  map?: string;
  onProgress?: (line: string) => void;
}

/** Compiles and links a manifest's image. */
export async function buildProject(m: Manifest, opts: ProjectBuildOptions = {}): Promise<BuildResult> {
  const def = resolveTarget(opts.target ?? m.target);
  const output = opts.output ?? (opts.target && opts.target !== m.target ? join(dirname(m.output), `${m.name}.${def.name}`) : m.output);
  // Sources of an image with NetBSD components by name see that build's headers (<rump/…>).
  const netbsdNames = m.sysroot ? [] : m.components.filter((c) => !isComponentPath(c));
  const netbsdInclude = netbsdNames.length ? [`-I${(await buildNetbsd(def, { onProgress: opts.onProgress })).includeDir}`] : [];
  const objDir = join(dirname(output), 'obj');
  // With a libc, its package compiles the sources (for NetBSD's: its headers before anything
  // else, the same step as its rumpxen-cc driver).
  const objects = m.libc
    ? await compileWithLibc(m.libc, m.sources, def, objDir, [...m.cflags, ...netbsdInclude], opts.onProgress)
    : await compileSources(m.sources, def, objDir, 'cc', opts.onProgress, [...m.cflags, ...netbsdInclude]);
  return build({
    inputs: [...objects, ...m.inputs],
    target: def,
    components: m.components,
    sysroot: m.sysroot,
    output,
    map: opts.map,
    gcSections: m.gcSections,
    libc: m.libc,
    onProgress: opts.onProgress,
  });
}
