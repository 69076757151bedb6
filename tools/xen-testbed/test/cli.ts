/** Where the built CLI is; builds the package once when dist/ is missing (a fresh checkout's test run builds first). */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');

export function cliPath(): string {
  const cli = join(pkgDir, 'dist', 'cli.js');
  if (!existsSync(cli)) {
    const r = spawnSync('npx', ['tsup'], { cwd: pkgDir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`building the testbed CLI failed:\n${r.stderr}`);
  }
  return cli;
}
