// Where rumpxen's cache is: $RUMPXEN_CACHE, else .cache in the workspace around the first given
// folder that is in one, else ~/.cache/rumpxen.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { rumpxenCacheDir, workspaceRoot } from '../src/index.js';

const saved = process.env.RUMPXEN_CACHE;
const dirs: string[] = [];
afterEach(() => {
  if (saved === undefined) delete process.env.RUMPXEN_CACHE;
  else process.env.RUMPXEN_CACHE = saved;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A workspace root with a package below it: returns [root, package folder, a folder in no workspace]. */
function tree(): [string, string, string] {
  const base = mkdtempSync(join(tmpdir(), 'protocol-cache-dir-'));
  dirs.push(base);
  const root = join(base, 'repo');
  const pkg = join(root, 'packages', 'p', 'dist');
  mkdirSync(pkg, { recursive: true });
  writeFileSync(join(root, 'package.json'), JSON.stringify({ workspaces: ['packages/*'] }));
  writeFileSync(join(root, 'packages', 'p', 'package.json'), JSON.stringify({ name: 'p' }));
  mkdirSync(join(base, 'elsewhere'));
  return [root, pkg, join(base, 'elsewhere')];
}

describe('rumpxenCacheDir', () => {
  it('finds the workspace root above a package, past package.json files without workspaces', () => {
    const [root, pkg, elsewhere] = tree();
    expect(workspaceRoot(pkg)).toBe(root);
    expect(workspaceRoot(elsewhere)).toBeUndefined();
  });

  it('is $RUMPXEN_CACHE, else the first workspace found, else ~/.cache/rumpxen', () => {
    const [root, pkg, elsewhere] = tree();
    delete process.env.RUMPXEN_CACHE;
    expect(rumpxenCacheDir(elsewhere, pkg)).toBe(join(root, '.cache'));
    expect(rumpxenCacheDir(elsewhere)).toBe(join(homedir(), '.cache', 'rumpxen'));
    process.env.RUMPXEN_CACHE = 'rel/cache';
    expect(rumpxenCacheDir(pkg)).toBe(join(process.cwd(), 'rel/cache'));
  });
});
