/**
 * The bins of the workspace packages that have one, in a fresh clone: `npx @rumpxen/image-linker`
 * (`image-linker`), `npx @rumpxen/xen-testbed` (`rumpxen-testbed`) and `npx
 * @rumpxen/netbsd-build` (`rumpxen-netbsd-build`). npm links a workspace's bins into
 * node_modules/.bin at install time, only for bin files that exist then, and dist/ is built
 * afterwards; so each bin is a committed shim that runs the built CLI. The check mirrors a fresh
 * clone with npm itself: a temp workspace holding each package's package.json and its committed
 * bin files (no dist/), `npm install --offline`, then each bin before the build (a clear "not
 * built" line) and after it (dist/ linked in). Here because the image-linker depends on the
 * other two, so their builds come before its tests.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repoDir = fileURLToPath(new URL('../../..', import.meta.url));

/** A package with a bin, and what its CLI answers to `--help`, an unknown command and no arguments. */
interface BinPackage {
  /** Folder in the repository. */
  dir: string;
  bin: string;
  help: RegExp;
  unknown: RegExp;
  /** No arguments: the usage, on which stream. */
  bare: { stream: 'stdout' | 'stderr'; text: RegExp };
}

const PACKAGES: BinPackage[] = [
  {
    dir: 'packages/image-linker',
    bin: 'image-linker',
    help: /^usage: image-linker <command> \[options\]\n/,
    unknown: /^image-linker: .*has no command "frobnicate"/,
    bare: { stream: 'stderr', text: /^usage: image-linker/ },
  },
  {
    dir: 'tools/xen-testbed',
    bin: 'rumpxen-testbed',
    help: /^Usage: rumpxen-testbed <command> \[options\]\n/,
    unknown: /^rumpxen-testbed: unknown command 'frobnicate'/,
    bare: { stream: 'stderr', text: /^Usage: rumpxen-testbed/ },
  },
  {
    dir: 'tools/netbsd-build',
    bin: 'rumpxen-netbsd-build',
    help: /^usage: rumpxen-netbsd-build <command> \[options\]\n/,
    unknown: /^rumpxen-netbsd-build: command "frobnicate": is not known/,
    bare: { stream: 'stdout', text: /^usage: rumpxen-netbsd-build/ },
  },
];

type Manifest = { name: string; bin?: Record<string, string>; files?: string[] };
const manifestOf = (p: BinPackage) => JSON.parse(readFileSync(join(repoDir, p.dir, 'package.json'), 'utf8')) as Manifest;

let root: string;

/** npm/npx in `root` with none of the npm_* variables of a surrounding `npm test` run. */
function npm(cmd: 'npm' | 'npx', args: string[]): { code: number; stdout: string; stderr: string } {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
  const r = spawnSync(cmd, args, { cwd: root, env, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: `${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'npx-bin-'));
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'npx-bin-check', private: true, workspaces: PACKAGES.map((p) => p.dir) }));
  for (const p of PACKAGES) {
    // The package as a clone has it: package.json (its @rumpxen dependencies, other workspaces,
    // left out so the install needs nothing from the registry) and the committed bin files;
    // no dist/, which only the build makes.
    const src = join(repoDir, p.dir);
    const copy = join(root, p.dir);
    mkdirSync(copy, { recursive: true });
    const { dependencies: _d, devDependencies: _dd, ...manifest } = JSON.parse(readFileSync(join(src, 'package.json'), 'utf8'));
    writeFileSync(join(copy, 'package.json'), JSON.stringify(manifest, null, 2));
    for (const target of Object.values(manifestOf(p).bin ?? {})) {
      const rel = normalize(target);
      if (rel.split('/')[0] === 'dist' || !existsSync(join(src, rel))) continue;
      mkdirSync(dirname(join(copy, rel)), { recursive: true });
      cpSync(join(src, rel), join(copy, rel));
    }
  }
  const install = npm('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error']);
  expect(install.code, install.stderr).toBe(0);
}, 180_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe.each(PACKAGES)('npx $bin in a fresh clone ($dir)', (p) => {
  const pkg = manifestOf(p);
  const target = () => normalize(pkg.bin![p.bin]!);

  it('declares a committed bin (not a build output) and ships it', () => {
    expect(Object.keys(pkg.bin ?? {})).toEqual([p.bin]);
    expect(target().split('/')[0]).not.toBe('dist');
    expect(readFileSync(join(repoDir, p.dir, target()), 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/);
    expect(pkg.files).toContain(target().split('/')[0]);
    // npm ci links the bins the lock file names, not package.json's: the two must agree.
    const lock = JSON.parse(readFileSync(join(repoDir, 'package-lock.json'), 'utf8'));
    expect(lock.packages[p.dir].bin).toEqual({ [p.bin]: target() });
  });

  it('npm links the bin at install time, before dist/ exists', () => {
    expect(existsSync(join(root, p.dir, 'dist'))).toBe(false);
    const link = join(root, 'node_modules', '.bin', p.bin);
    expect(existsSync(link)).toBe(true);
    expect(realpathSync(link)).toBe(realpathSync(join(root, p.dir, target())));
  });

  it('before the build: one line naming the fix, exit 1', () => {
    const r = npm('npx', ['--no-install', p.bin, '--help']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    const name = pkg.name.replace('/', '\\/');
    expect(lines[0]).toMatch(
      new RegExp(`^${p.bin}: ${name} is not built \\(.*dist/cli\\.js is missing\\); build it: \`npm run build\` at the repository root, or \`npx nx run ${name}:build\`$`),
    );
  }, 60_000);

  it('after the build: the bin and the package name run the CLI, exit codes pass through', () => {
    const dist = join(repoDir, p.dir, 'dist');
    if (!existsSync(join(dist, 'cli.js'))) throw new Error(`${dist}/cli.js is missing: build first (npx nx run ${pkg.name}:build)`);
    symlinkSync(dist, join(root, p.dir, 'dist'), 'dir'); // what the build step adds to the clone
    for (const spec of [p.bin, pkg.name]) {
      const r = npm('npx', ['--no-install', spec, '--help']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(p.help);
    }
    const bad = npm('npx', ['--no-install', pkg.name, 'frobnicate']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(p.unknown);
    const none = npm('npx', ['--no-install', p.bin]);
    expect(none.code).toBe(2);
    expect(none[p.bare.stream]).toMatch(p.bare.text);
  }, 60_000);
});

describe('npx in this checkout, as the README says (in CI: a fresh clone after npm ci and the build)', () => {
  for (const p of PACKAGES) {
    const name = (JSON.parse(readFileSync(join(repoDir, p.dir, 'package.json'), 'utf8')) as { name: string }).name;
    it(`npx ${name} --help and npx ${p.bin} --help print the CLI's help`, () => {
      for (const spec of [name, p.bin]) {
        const r = spawnSync('npx', ['--no-install', spec, '--help'], { cwd: repoDir, encoding: 'utf8', timeout: 60_000 });
        expect(r.status, `${spec}: ${r.stderr}`).toBe(0);
        expect(r.stdout).toMatch(p.help);
      }
    }, 120_000);
  }
});
