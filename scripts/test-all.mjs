#!/usr/bin/env node
// Runs every workspace's test suite (one vitest run over all projects; the C conformance
// clients and the testbed boots report through it case by case) and prints one closing line
// "N passed, N failed" over all of them.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, '.cache', 'test-results');
mkdirSync(outDir, { recursive: true });

// Testbed assets (Xen, dom0 kernel and tools) come from Debian's packages; fetch what is
// missing before any test boots Xen. Quiet when the cache is complete.
const testbedCli = join(root, 'tools', 'xen-testbed', 'dist', 'cli.js');
if (!existsSync(testbedCli)) {
  console.error(`test: ${testbedCli} is missing, so the testbed assets cannot be fetched: build first ` +
    '(`npm run build`, or `npx nx run @rumpxen/xen-testbed:build`; `npm test` does both)');
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const fetched = spawnSync(process.execPath, [testbedCli, 'fetch', '--quiet'], { stdio: 'inherit', cwd: root });
if (fetched.status !== 0) {
  console.error('test: fetching the testbed assets failed (see above)');
  console.log('0 passed, 1 failed');
  process.exit(1);
}

// NetBSD, built once per configuration for the whole run (posix; xen-pv and xen-pvh share a
// kernel-only build): every test that needs a rump kernel takes it from the cache. Cached
// builds return at once; a first build takes minutes and shows its progress.
const netbsdCli = join(root, 'tools', 'netbsd-build', 'bin', 'rumpxen-netbsd-build.js');
const netbsd = spawnSync(process.execPath, [netbsdCli, 'build', 'posix', 'xen-pv', 'xen-pvh'], { stdio: ['ignore', 'ignore', 'inherit'], cwd: root });
if (netbsd.status !== 0) {
  console.error('test: building NetBSD failed (see above)');
  console.log('0 passed, 1 failed');
  process.exit(1);
}

const jsonOut = join(outDir, 'vitest.json');
rmSync(jsonOut, { force: true });
const vitest = spawnSync(
  process.execPath,
  [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${jsonOut}`, ...process.argv.slice(2)],
  { stdio: 'inherit', cwd: root, env: { ...process.env, FORCE_COLOR: process.stdout.isTTY ? '1' : '0' } },
);

let passed = 0;
let failed = 0;
let skipped = 0;
if (existsSync(jsonOut)) {
  const r = JSON.parse(readFileSync(jsonOut, 'utf8'));
  passed = r.numPassedTests ?? 0;
  failed = r.numFailedTests ?? 0;
  skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  // A suite that failed to load counts as a failure even though it ran no test.
  for (const suite of r.testResults ?? []) {
    if (suite.status === 'failed' && (suite.assertionResults ?? []).length === 0) failed += 1;
  }
} else {
  failed += 1;
}
if (vitest.status !== 0 && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed === 0 && vitest.status === 0 ? 0 : 1);
