/**
 * Target resolution: a target name becomes the TargetDefinition that the package owning it
 * exports (posix: @rumpxen/hypercall-api; xen-pv, xen-pvh: @rumpxen/minios-binding), and the
 * hypercall interface data comes from @rumpxen/hypercall-api.
 */
import * as hypercallApi from '@rumpxen/hypercall-api';
import * as miniosBinding from '@rumpxen/minios-binding';
import type { TargetDefinition, TargetName } from '@rumpxen/hypercall-api';
import { readFileSync } from 'node:fs';
import { ImageLinkerError } from './errors.js';

export type { TargetDefinition, TargetName };

export const TARGET_NAMES: readonly TargetName[] = ['xen-pv', 'xen-pvh', 'posix'];

const EXPORTS: Record<TargetName, { pkg: string; name: string; module: Record<string, unknown> }> = {
  posix: { pkg: '@rumpxen/hypercall-api', name: 'posixTarget', module: hypercallApi as Record<string, unknown> },
  'xen-pv': { pkg: '@rumpxen/minios-binding', name: 'xenPvTarget', module: miniosBinding as Record<string, unknown> },
  'xen-pvh': { pkg: '@rumpxen/minios-binding', name: 'xenPvhTarget', module: miniosBinding as Record<string, unknown> },
};

export function isTargetName(name: string): name is TargetName {
  return (TARGET_NAMES as readonly string[]).includes(name);
}

/** The definition of a named target, or the definition itself when one is passed. */
export function resolveTarget(target: TargetName | TargetDefinition | string): TargetDefinition {
  if (typeof target !== 'string') return target;
  if (target.endsWith('.json')) return loadTargetFile(target);
  if (!isTargetName(target)) {
    throw new ImageLinkerError(`target "${target}"`, 'is not a known target.', `Use one of: ${TARGET_NAMES.join(', ')}.`);
  }
  const where = EXPORTS[target];
  const value = where.module[where.name];
  // Targets may be exported as objects or as functions that build them on demand.
  const def = typeof value === 'function' ? (value as () => unknown)() : value;
  if (!def || typeof def !== 'object') {
    throw new ImageLinkerError(
      `target "${target}"`,
      `is not available: ${where.pkg} does not export ${where.name} in the installed build.`,
      `Build the workspace (npx nx run-many -t build) or update ${where.pkg}.`,
      1,
    );
  }
  return def as TargetDefinition;
}

export interface HypercallInfo {
  name: string;
  mandatory: boolean;
  area: string;
  interface: string;
}

/** Every hypercall the interface data knows (rumpuser and the other interfaces). */
export function knownHypercalls(): HypercallInfo[] {
  return hypercallApi.hypercalls
    .filter((h) => h.direction !== 'upcall')
    .map((h) => ({ name: h.name, mandatory: h.mandatory, area: h.area, interface: h.interface }));
}

/**
 * A target described in a JSON file (a TargetDefinition whose layout bounds are hex strings):
 * for targets outside this project, and for testing the link step on its own.
 */
export function loadTargetFile(file: string): TargetDefinition {
  let data: Record<string, unknown>;
  try {
    data = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new ImageLinkerError(`--target ${file}`, `cannot be read as JSON (${(e as Error).message}).`, `Use one of ${TARGET_NAMES.join(', ')}, or a JSON target definition.`);
  }
  const layout = data.layout as { start?: string; end?: string } | undefined;
  const strings = (k: string) => Array.isArray(data[k]) && (data[k] as unknown[]).every((x) => typeof x === 'string');
  const ok =
    isTargetName(String(data.name)) && typeof data.entrySymbol === 'string' && strings('cflags') && strings('includeDirs') && strings('libraries') && strings('ldflags') &&
    (data.startObject === null || typeof data.startObject === 'string') && (data.linkerScript === null || typeof data.linkerScript === 'string') &&
    typeof layout?.start === 'string' && typeof layout?.end === 'string';
  if (!ok) {
    throw new ImageLinkerError(
      `--target ${file}`,
      'is not a complete target definition.',
      'Give name (xen-pv|xen-pvh|posix), triple, cflags, includeDirs, startObject, libraries, linkerScript, entrySymbol, layout {start, end as hex strings} and ldflags.',
    );
  }
  return { ...(data as unknown as TargetDefinition), layout: { start: BigInt(layout!.start!), end: BigInt(layout!.end!) } };
}
