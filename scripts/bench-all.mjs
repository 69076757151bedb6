#!/usr/bin/env node
// Runs the `bench` script of every workspace that has one, in dependency order.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { workspaces: patterns } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
// The workspace patterns are folders or "folder/*".
const folders = patterns.flatMap((p) => p.endsWith('/*')
  ? readdirSync(join(root, p.slice(0, -2))).sort().map((d) => `${p.slice(0, -2)}/${d}`)
  : [p]).filter((d) => existsSync(join(root, d, 'package.json')));
const pkgs = new Map(folders.map((d) => {
  const pkg = JSON.parse(readFileSync(join(root, d, 'package.json'), 'utf8'));
  return [pkg.name, pkg];
}));
// Dependency order: a package's benchmarks run after those of the workspaces it uses.
const ordered = [];
const visiting = new Set();
const visit = (name) => {
  if (ordered.includes(name)) return;
  if (visiting.has(name)) throw new Error(`bench: workspaces depend on each other in a cycle through ${name}`);
  visiting.add(name);
  const pkg = pkgs.get(name);
  for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.devDependencies })) if (pkgs.has(dep)) visit(dep);
  ordered.push(name);
};
for (const name of pkgs.keys()) visit(name);
let failures = 0;
for (const name of ordered) {
  const pkg = pkgs.get(name);
  if (!pkg.scripts?.bench) continue;
  console.log(`\n=== ${pkg.name} ===`);
  const r = spawnSync('npm', ['run', '-s', 'bench', '-w', pkg.name], { stdio: 'inherit', cwd: root });
  if (r.status !== 0) {
    console.error(`bench: ${pkg.name} failed with exit ${r.status}`);
    failures += 1;
  }
}
process.exit(failures ? 1 : 0);
