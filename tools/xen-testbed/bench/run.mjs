#!/usr/bin/env node
// Bundles every bench/*.bench.ts with esbuild (they import the TS sources and fixtures) into
// build/bench/ and runs them one after another; arguments (e.g. --runs 3) go to each.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const benches = readdirSync(join(pkg, 'bench')).filter((f) => f.endsWith('.bench.ts')).sort();
const esbuild = spawnSync(
  'npx',
  ['esbuild', ...benches.map((b) => join('bench', b)), '--bundle', '--platform=node', '--format=esm', '--packages=external', '--log-level=warning', '--outdir=build/bench', '--out-extension:.js=.mjs'],
  { cwd: pkg, stdio: 'inherit' },
);
if (esbuild.status !== 0) process.exit(esbuild.status ?? 1);
for (const b of benches) {
  const r = spawnSync(process.execPath, [join(pkg, 'build', 'bench', b.replace(/\.ts$/, '.mjs')), ...process.argv.slice(2)], { cwd: pkg, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`bench: ${b} failed (exit ${r.status})`);
    process.exit(r.status ?? 1);
  }
}
