#!/usr/bin/env node
// Runs every check of `npm test` and prints one closing line "N passed, N failed" over all of
// them: NetBSD built (or found in the cache) for every target; the build again, which must come
// entirely from nx's cache (one result per project); tsc over every workspace (one result
// each); and every workspace's test suite in one vitest run (the C conformance clients, the
// NetBSD suites and the testbed boots report through it case by case).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
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
// NetBSD's libc for the Xen targets, on top of that kernel build's tools.
const netbsdLibc = netbsd.status === 0
  ? spawnSync(process.execPath, [netbsdCli, 'build', 'libc', 'xen-pv'], { stdio: ['ignore', 'ignore', 'inherit'], cwd: root })
  : netbsd;
if (netbsd.status !== 0 || netbsdLibc.status !== 0) {
  console.error('test: building NetBSD failed (see above)');
  console.log('0 passed, 1 failed');
  process.exit(1);
}

// nx caches every build (nx.json: inputs and outputs per project): a second build with nothing
// changed runs nothing, it takes each project's outputs from the cache. `npm test` has just
// built, so this build must come entirely from the cache; a project that rebuilds is a
// failure (an undeclared input or output, or a build that writes into its own inputs).
const nxPackage = join(root, 'node_modules', 'nx');
const nx = join(nxPackage, JSON.parse(readFileSync(join(nxPackage, 'package.json'), 'utf8')).bin.nx);
const again = spawnSync(process.execPath, [nx, 'run-many', '-t', 'build', '--outputStyle=stream'], {
  cwd: root,
  encoding: 'utf8',
  env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
});
// Colours are off, and any escape sequence left is removed before reading nx's lines.
const nxOut = (again.stdout ?? '').replace(/\u001b\[[0-9;]*m/g, '');
const runs = [...nxOut.matchAll(/^> nx run (\S+):build(.*)$/gm)];
const rebuilt = runs.filter((m) => !/\[(local cache|existing outputs match the cache, left as is)\]/.test(m[2])).map((m) => m[1]);
let cachePassed = runs.length - rebuilt.length;
let cacheFailed = rebuilt.length + (again.status !== 0 || runs.length === 0 ? 1 : 0);
if (cacheFailed) console.error(`build cache: rebuilt on the second build: ${rebuilt.join(', ') || '(nx failed)'}\n${nxOut}${again.stderr}`);
console.error(`build cache: ${cachePassed} projects taken from the cache, ${rebuilt.length} rebuilt`);

// Type-check every workspace as a whole: src/, test/ and bench/ TypeScript and the hand-written
// .d.mts declarations (skipLibCheck off: declaration files are checked too). tsup's
// declaration pass sees src/ only. One result per workspace, counted in the closing line.
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const workspaces = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).workspaces.flatMap((glob) => {
  const base = glob.replace(/\/\*$/, '');
  return readdirSync(join(root, base)).map((d) => join(base, d));
});
let typecheckPassed = 0;
let typecheckFailed = 0;
for (const ws of workspaces.filter((w) => existsSync(join(root, w, 'tsconfig.json')))) {
  const r = spawnSync(process.execPath, [tsc, '--noEmit', '--skipLibCheck', 'false', '-p', ws], { cwd: root, encoding: 'utf8' });
  if (r.status === 0) {
    typecheckPassed += 1;
  } else {
    typecheckFailed += 1;
    console.error(`typecheck ${ws}: FAIL\n${r.stdout}${r.stderr}`);
  }
}
console.error(`typecheck: ${typecheckPassed} workspaces passed, ${typecheckFailed} failed`);

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
passed += typecheckPassed + cachePassed;
failed += typecheckFailed + cacheFailed;
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed === 0 && vitest.status === 0 ? 0 : 1);
