/**
 * `npx @rumpxen/image-linker` in a fresh clone: npm links a workspace's bins into
 * node_modules/.bin at install time, only for bin files that exist then, and dist/ is built
 * afterwards. The check mirrors a fresh clone with npm itself: a temp workspace holding this
 * package's package.json and its committed bin files (no dist/), `npm install --offline`,
 * then the bin before the build (a clear "not built" line) and after it (dist/ linked in).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const pkgDir = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { name: string; bin?: Record<string, string>; files?: string[] };
const BIN = 'image-linker';

let root: string;
let copy: string;

/** npm/npx in `root` with none of the npm_* variables of a surrounding `npm test` run. */
function npm(cmd: 'npm' | 'npx', args: string[]): { code: number; stdout: string; stderr: string } {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
  const r = spawnSync(cmd, args, { cwd: root, env, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: `${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'image-linker-npx-'));
  copy = join(root, 'packages', 'image-linker');
  mkdirSync(copy, { recursive: true });
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'npx-bin-check', private: true, workspaces: ['packages/*'] }));
  // The package as a clone has it: package.json (its @rumpxen dependencies, other workspaces,
  // left out so the install needs nothing from the registry) and the committed bin files;
  // no dist/, which only the build makes.
  const { dependencies: _d, devDependencies: _dd, ...manifest } = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  writeFileSync(join(copy, 'package.json'), JSON.stringify(manifest, null, 2));
  for (const target of Object.values(pkg.bin ?? {})) {
    const rel = normalize(target);
    if (rel.split('/')[0] === 'dist' || !existsSync(join(pkgDir, rel))) continue;
    mkdirSync(dirname(join(copy, rel)), { recursive: true });
    cpSync(join(pkgDir, rel), join(copy, rel));
  }
  const install = npm('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error']);
  expect(install.code, install.stderr).toBe(0);
}, 180_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('npx @rumpxen/image-linker in a fresh clone', () => {
  it('declares a committed bin (not a build output) and ships it', () => {
    expect(Object.keys(pkg.bin ?? {})).toEqual([BIN]);
    const target = normalize(pkg.bin![BIN]!);
    expect(target.split('/')[0]).not.toBe('dist');
    expect(readFileSync(join(pkgDir, target), 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/);
    expect(pkg.files).toContain(target.split('/')[0]);
    // npm ci links the bins the lock file names, not package.json's: the two must agree.
    const lock = JSON.parse(readFileSync(join(pkgDir, '..', '..', 'package-lock.json'), 'utf8'));
    expect(lock.packages['packages/image-linker'].bin).toEqual({ [BIN]: target });
  });

  it('npm links the bin at install time, before dist/ exists', () => {
    expect(existsSync(join(copy, 'dist'))).toBe(false);
    const link = join(root, 'node_modules', '.bin', BIN);
    expect(existsSync(link)).toBe(true);
    expect(realpathSync(link)).toBe(realpathSync(join(copy, normalize(pkg.bin![BIN]!))));
  });

  it('before the build: one line naming the fix, exit 1', () => {
    const r = npm('npx', ['--no-install', BIN, '--help']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^image-linker: @rumpxen\/image-linker is not built \(.*dist\/cli\.js is missing\); build it: `npm run build` at the repository root, or `npx nx run @rumpxen\/image-linker:build`$/);
  }, 60_000);

  it('after the build: npx image-linker and npx @rumpxen/image-linker run the CLI, exit codes pass through', () => {
    const dist = join(pkgDir, 'dist');
    if (!existsSync(join(dist, 'cli.js'))) throw new Error(`${dist}/cli.js is missing: build first (npx nx run @rumpxen/image-linker:build)`);
    symlinkSync(dist, join(copy, 'dist'), 'dir'); // what the build step adds to the clone
    for (const spec of [BIN, pkg.name]) {
      const r = npm('npx', ['--no-install', spec, '--help']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^usage: image-linker <command> \[options\]\n/);
    }
    const bad = npm('npx', ['--no-install', pkg.name, 'frobnicate']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^image-linker: .*has no command "frobnicate"/);
    const none = npm('npx', ['--no-install', BIN]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^usage: image-linker/);
  }, 60_000);
});
