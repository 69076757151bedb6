/**
 * Test prerequisites that `npm test` provides (scripts/setup.sh installs them, the build runs
 * first): when one is missing the test fails with the fix instead of skipping.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** This package's built dist/ (what dom0 imports over 9p), or an error naming the build. */
export function requireDist(): string {
  const dist = join(pkgDir, 'dist');
  if (!existsSync(join(dist, 'index.js'))) {
    throw new Error(`${join(dist, 'index.js')} is missing: @rumpxen/pci-passthrough is not built; run \`npx nx run @rumpxen/pci-passthrough:build\``);
  }
  return dist;
}

/** lspci's path, or an error naming the package to install. */
export function requireLspci(): string {
  const path = ['/usr/bin/lspci', '/bin/lspci', '/usr/sbin/lspci', '/sbin/lspci'].find((p) => existsSync(p));
  if (!path) throw new Error('lspci is not installed (needed to cross-check the decoder): run `apt-get install -y pciutils` (scripts/setup.sh does)');
  return path;
}
