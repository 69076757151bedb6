#!/usr/bin/env node
// npm run bench: the posix target's hypercalls against raw pthreads/malloc, same run, once
// through librumpuser.so.0 and once through librumpuser.a. Prints one row per measurement
// with both costs and the ratio (goal: <= 1.1x). Progress goes to stderr.
// Usage: node bench/posix.mjs [--quick] [--json FILE]
import { spawnSync } from 'node:child_process';
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const GOAL = 1.1;
const args = process.argv.slice(2);
if (args.includes('--help')) {
  console.log('usage: npm run bench -w @rumpxen/hypercall-api [-- --quick] [-- --json FILE]\n' +
    'Measures uncontended mutex enter/exit, cv ping-pong, malloc/free 64 B and 4 KiB, each through\n' +
    'librumpuser (shared, then static) and through raw pthreads/malloc in the same run, and\n' +
    'prints the ratios (goal <= 1.1x). --quick: fewer rounds; --json FILE: also write the rows.');
  process.exit(0);
}
const known = new Set(['--quick', '--json']);
for (const [i, a] of args.entries()) {
  if (a.startsWith('--') && !known.has(a)) {
    console.error(`bench: unknown option "${a}"; see --help`);
    process.exit(2);
  }
  if (!a.startsWith('--') && args[i - 1] !== '--json') {
    console.error(`bench: unexpected argument "${a}"; see --help`);
    process.exit(2);
  }
}
const quick = args.includes('--quick');
const jsonAt = args.indexOf('--json');
const jsonFile = jsonAt >= 0 ? args[jsonAt + 1] : undefined;
if (jsonAt >= 0 && !jsonFile) {
  console.error('bench: --json needs a file name, e.g. --json bench.json');
  process.exit(2);
}

const build = join(dirname(fileURLToPath(import.meta.url)), '..', 'build');
const results = {};
for (const [library, exe] of [['librumpuser.so.0', 'bench-posix'], ['librumpuser.a', 'bench-posix-static']]) {
  const path = join(build, exe);
  if (!existsSync(path)) {
    console.error(`bench: ${path} does not exist; build it with \`npx nx run @rumpxen/hypercall-api:build\``);
    process.exit(1);
  }
  console.error(`bench: ${library}`);
  const r = spawnSync(path, quick ? ['--quick'] : [], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) {
    console.error(`bench: ${path} exited with ${r.status ?? r.signal}`);
    process.exit(1);
  }
  const rows = r.stdout.split('\n').filter((l) => l.startsWith('bench ')).map((l) => {
    const [, name, raw, rump, ratio] = l.split(' ');
    return { name, rawNs: Number(raw), rumpuserNs: Number(rump), ratio: Number(ratio) };
  });
  results[library] = rows;
  console.log(`\nposix target through ${library} vs raw host primitives (ns per operation, best of the rounds)`);
  console.log(`${'measurement'.padEnd(24)}${'raw'.padStart(10)}${'rumpuser'.padStart(10)}${'ratio'.padStart(8)}  goal <= ${GOAL}x`);
  for (const row of rows) {
    const verdict = row.ratio <= GOAL ? 'met' : 'MISSED';
    console.log(`${row.name.padEnd(24)}${row.rawNs.toFixed(2).padStart(10)}${row.rumpuserNs.toFixed(2).padStart(10)}${(row.ratio.toFixed(2) + 'x').padStart(8)}  ${verdict}`);
  }
}
if (jsonFile) {
  const tmp = `${jsonFile}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify({ goal: GOAL, results }, null, 2) + '\n');
  renameSync(tmp, jsonFile);
}
