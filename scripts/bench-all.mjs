#!/usr/bin/env node
// Runs the `bench` script of every workspace that has one, in dependency order.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { workspaces } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
let failures = 0;
for (const ws of workspaces) {
  const pkg = JSON.parse(readFileSync(join(root, ws, 'package.json'), 'utf8'));
  if (!pkg.scripts?.bench) continue;
  console.log(`\n=== ${pkg.name} ===`);
  const r = spawnSync('npm', ['run', '-s', 'bench', '-w', pkg.name], { stdio: 'inherit', cwd: root });
  if (r.status !== 0) {
    console.error(`bench: ${pkg.name} failed with exit ${r.status}`);
    failures += 1;
  }
}
process.exit(failures ? 1 : 0);
