/** What a machine lacks for Xen control, checked before any library is opened. */
import { existsSync } from 'node:fs';

export interface ProbePaths {
  privcmd: string;
  xenstoredSockets: string[];
  xenbus: string;
}

export const DEFAULT_PROBE_PATHS: ProbePaths = {
  privcmd: '/dev/xen/privcmd',
  xenstoredSockets: ['/run/xenstored/socket', '/var/run/xenstored/socket'],
  xenbus: '/dev/xen/xenbus',
};

/** Human descriptions of what is missing; empty when Xen looks usable. */
export function probeXen(paths: ProbePaths = DEFAULT_PROBE_PATHS): string[] {
  const missing: string[] = [];
  if (!existsSync(paths.privcmd)) {
    missing.push(`${paths.privcmd} does not exist (not a Xen dom0, or the xen-privcmd module is not loaded)`);
  }
  if (!paths.xenstoredSockets.some((p) => existsSync(p)) && !existsSync(paths.xenbus)) {
    missing.push(`xenstored is not reachable (no ${[...paths.xenstoredSockets, paths.xenbus].join(', ')}; start xenstored)`);
  }
  return missing;
}
