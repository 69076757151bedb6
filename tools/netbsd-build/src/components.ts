/**
 * The rump kernel components a build produced and what each needs. A component is linked
 * whole (its link sets register it), so it needs every archive that defines a symbol one of
 * its members leaves undefined: read from the archives' symbol tables with nm.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { NetbsdBuildError } from './errors.js';

export interface Component {
  /** `rump` (the base kernel), `vfs`, `net`, `net_netinet`, `fs_tmpfs`, `dev_disk`, … */
  name: string;
  /** The static archive, absolute. */
  archive: string;
  /** Components this one needs directly (their symbols), by name. */
  requires: string[];
}

/** Archives that are not kernel components: NetBSD's own hypercall library and the sysproxy client. */
const NOT_COMPONENTS = new Set(['rumpuser', 'rumpclient']);

/** `librumpnet_netinet.a` → `net_netinet`; `librump.a` → `rump`; undefined for other files. */
export function componentName(file: string): string | undefined {
  const m = /^librump(.*)\.a$/.exec(file);
  if (!m || file.endsWith('_pic.a')) return undefined;
  const rest = m[1]!;
  if (rest === '') return 'rump';
  if (NOT_COMPONENTS.has(`rump${rest}`)) return undefined;
  return rest;
}

/** Names a user may write for a component: `net_netinet`, `rumpnet_netinet`, `librumpnet_netinet.a`; `base` for `rump`. */
export function normalizeComponentName(spec: string): string {
  let s = spec.replace(/\.a$/, '').replace(/^lib/, '');
  if (s === 'base' || s === 'rump' || s === 'rumpkern') return 'rump';
  if (s.startsWith('rump')) s = s.slice(4);
  return s;
}

interface Symbols {
  defined: Set<string>;
  undefined: Set<string>;
}

function archiveSymbols(archive: string): Symbols {
  const r = spawnSync('nm', ['-g', '-P', archive], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) {
    throw new NetbsdBuildError(archive, `cannot be read with nm (${r.error?.message ?? r.stderr.trim()}).`, 'Install binutils (apt-get install binutils).', 1);
  }
  const defined = new Set<string>();
  const undef = new Set<string>();
  for (const line of r.stdout.split('\n')) {
    const [name, type] = line.split(' ');
    if (!name || !type || name.endsWith(':')) continue;
    if (type === 'U') undef.add(name);
    else if (type !== 'w' && type !== 'v') defined.add(name);
  }
  for (const d of defined) undef.delete(d);
  return { defined, undefined: undef };
}

/**
 * Every component archive in `libDir` with its direct requirements. A symbol defined by more
 * than one component gives no edge (the user chooses which, e.g. one of two file systems);
 * symbols no component defines are the platform's (rumpuser_*, link-set bounds, libc).
 */
export function componentGraph(libDir: string): Component[] {
  if (!existsSync(libDir)) return [];
  const comps = readdirSync(libDir)
    .map((f) => ({ file: f, name: componentName(f) }))
    .filter((c): c is { file: string; name: string } => c.name !== undefined)
    .map((c) => ({ name: c.name, archive: join(libDir, c.file), syms: archiveSymbols(join(libDir, c.file)) }));
  const providers = new Map<string, string[]>();
  for (const c of comps) for (const s of c.syms.defined) providers.set(s, [...(providers.get(s) ?? []), c.name]);
  return comps
    .map((c) => {
      const req = new Set<string>();
      for (const s of c.syms.undefined) {
        const p = providers.get(s);
        if (p && p.length === 1 && p[0] !== c.name) req.add(p[0]!);
      }
      return { name: c.name, archive: c.archive, requires: [...req].sort() };
    })
    .sort((a, b) => (a.name < b.name ? -1 : 1));
}

/**
 * The components to link for `wanted`, with everything they need, in link order (each
 * before what it needs). Throws naming an unknown component and the closest known names.
 */
export function resolveComponents(all: Component[], wanted: string[]): Component[] {
  const byName = new Map(all.map((c) => [c.name, c]));
  const order: Component[] = [];
  const seen = new Set<string>();
  const visit = (name: string, from: string) => {
    if (seen.has(name)) return;
    const c = byName.get(name);
    if (!c) {
      const near = all.map((x) => x.name).filter((n) => n.includes(name) || name.includes(n)).slice(0, 6);
      throw new NetbsdBuildError(
        `component "${from}"`,
        `is not among the ${all.length} components of this NetBSD build.`,
        near.length ? `Did you mean ${near.join(', ')}? (\`rumpxen-netbsd-build components TARGET\` lists them all.)` : 'List them with `rumpxen-netbsd-build components TARGET`.',
      );
    }
    seen.add(name);
    order.push(c);
    for (const r of c.requires) visit(r, from);
  };
  for (const w of wanted) visit(normalizeComponentName(w), w);
  // Link order: a component before the ones it needs; the base kernel last.
  const depth = new Map<string, number>();
  const depthOf = (n: string, stack: Set<string>): number => {
    if (depth.has(n)) return depth.get(n)!;
    if (stack.has(n)) return 0;
    stack.add(n);
    const d = 1 + Math.max(-1, ...(byName.get(n)?.requires ?? []).map((r) => depthOf(r, stack)));
    stack.delete(n);
    depth.set(n, d);
    return d;
  };
  return order.sort((a, b) => depthOf(b.name, new Set()) - depthOf(a.name, new Set()) || (a.name < b.name ? -1 : 1));
}
