/**
 * Building from a manifest: compile its C sources with the target's flags (posix: the host
 * compiler's defaults plus the include directories), then link everything with `build`.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { build, type BuildResult } from './build.js';
import { buildNetbsd } from '@rumpxen/netbsd-build';
import { ImageLinkerError } from './errors.js';
import { isComponentPath } from './inputs.js';
import type { Manifest } from './manifest.js';
import { resolveTarget, type TargetDefinition } from './targets.js';

/** Compiles C sources for a target into `outDir`; returns the objects. */
export async function compileSources(sources: string[], target: TargetDefinition, outDir: string, cc = 'cc', onProgress?: (l: string) => void, extraCflags: string[] = []): Promise<string[]> {
  mkdirSync(outDir, { recursive: true });
  const objects: string[] = [];
  // -nostdinc drops the compiler's own freestanding headers (stddef.h, stdint.h) too, which
  // the interface headers include: give them back, as the guest kernel's build does.
  const freestandingIncludes = target.cflags.includes('-nostdinc') && !target.cflags.includes('-isystem')
    ? ['-isystem', execFileSync(cc, ['-print-file-name=include']).toString().trim()]
    : [];
  for (const src of sources) {
    const obj = join(outDir, `${basename(src).replace(/\.[cS]$/, '')}.${target.name}.o`);
    const args = ['-c', ...target.cflags, ...extraCflags, ...freestandingIncludes, ...target.includeDirs.map((d) => `-I${d}`), src, '-o', obj];
    onProgress?.(`compiling ${src}`);
    const r = await new Promise<{ code: number; err: string }>((resolveRun) => {
      const c = spawn(cc, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      c.stderr.on('data', (d: Buffer) => (err += d.toString()));
      c.on('error', () => resolveRun({ code: 127, err: `${cc} not found` }));
      c.on('close', (code) => resolveRun({ code: code ?? 1, err }));
    });
    if (r.code !== 0) {
      throw new ImageLinkerError(src, `does not compile for target ${target.name}: ${r.err.trim().split('\n').slice(0, 8).join(' | ')}`, `Fix the source (it is compiled with: ${cc} ${args.slice(0, -3).join(' ')}).`);
    }
    objects.push(obj);
  }
  return objects;
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
  const objects = await compileSources(m.sources, def, join(dirname(output), 'obj'), 'cc', opts.onProgress, [...m.cflags, ...netbsdInclude]);
  return build({
    inputs: [...objects, ...m.inputs],
    target: def,
    components: m.components,
    sysroot: m.sysroot,
    output,
    map: opts.map,
    gcSections: m.gcSections,
    onProgress: opts.onProgress,
  });
}
