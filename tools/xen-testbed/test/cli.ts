/** Where the built CLI is; the build runs before the tests (`npm test`, nx `dependsOn`), never inside them. */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');

export function cliPath(): string {
  const cli = join(pkgDir, 'dist', 'cli.js');
  if (!existsSync(cli)) {
    throw new Error(`${cli} is missing: @rumpxen/xen-testbed is not built; run \`npx nx run @rumpxen/xen-testbed:build\` first`);
  }
  return cli;
}
