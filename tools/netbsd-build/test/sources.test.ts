/**
 * Where the NetBSD tree and buildrump.sh come from: the two variables (tarball or folder),
 * their refusals, and the single message when neither is given and git cannot fetch.
 * Each case runs the CLI in a child with its own empty cache.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildNetbsd, PINNED_SOURCES, resolveSource, type NetbsdBuild } from '../src/index.js';

const cli = join(__dirname, '..', 'bin', 'rumpxen-netbsd-build.js');
let scratch: string;
let posix: NetbsdBuild;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'netbsd-sources-'));
  posix = await buildNetbsd('posix', { cachedOnly: true });
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function runCli(args: string[], env: Record<string, string | undefined>) {
  const cache = mkdtempSync(join(scratch, 'cache-'));
  const full: NodeJS.ProcessEnv = { ...process.env, RUMPXEN_CACHE: cache, ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete full[k];
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: full, timeout: 60_000 });
}

describe('NetBSD sources', () => {
  it('without either variable and without git access, one message names both variables', () => {
    // git is pointed at a repository that cannot exist, so no network is tried.
    const r = runCli(['build', 'xen-pv'], {
      RUMPXEN_NETBSD_SRC: undefined,
      RUMPXEN_BUILDRUMP: undefined,
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: `url.${join(scratch, 'no-such-repo')}/.insteadOf`,
      GIT_CONFIG_VALUE_0: 'https://github.com/',
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(PINNED_SOURCES.netbsd.env);
    expect(r.stderr).toContain(PINNED_SOURCES.buildrump.env);
    expect(r.stderr).toContain(PINNED_SOURCES.netbsd.commit.slice(0, 8));
    expect(r.stderr.trim().split('\n').filter((l) => l.startsWith('rumpxen-netbsd-build:'))).toHaveLength(1);
  });

  it('a variable naming nothing is refused, naming the variable', () => {
    const r = runCli(['build', 'posix'], { RUMPXEN_NETBSD_SRC: join(scratch, 'missing.tar.xz') });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/RUMPXEN_NETBSD_SRC=.*missing\.tar\.xz: does not exist/);
  });

  it('a file that is not a tarball is refused', () => {
    const f = join(scratch, 'notes.txt');
    writeFileSync(f, 'not a tree');
    const r = runCli(['build', 'posix'], { RUMPXEN_NETBSD_SRC: f });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('is neither a folder nor a tarball');
  });

  it('a folder that is not a NetBSD tree is refused before any build starts', () => {
    const d = join(scratch, 'empty-tree');
    mkdirSync(d, { recursive: true });
    const r = runCli(['build', 'posix'], { RUMPXEN_NETBSD_SRC: d });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(join('sys', 'rump', 'Makefile.rump'));
  });

  it('a folder is used in place, keyed by its files: a changed file is a new source', async () => {
    const d = join(scratch, 'tree');
    mkdirSync(join(d, 'sys', 'rump'), { recursive: true });
    writeFileSync(join(d, 'sys', 'rump', 'Makefile.rump'), '# 1\n');
    const a = await resolveSource('netbsd', undefined, d);
    const b = await resolveSource('netbsd', undefined, d);
    expect(a.dir).toBe(d);
    expect(a.identity).toMatch(/^dir:[0-9a-f]{64}$/);
    expect(b.identity).toBe(a.identity);
    writeFileSync(join(d, 'sys', 'rump', 'Makefile.rump'), '# 2, longer\n');
    expect((await resolveSource('netbsd', undefined, d)).identity).not.toBe(a.identity);
  });

  it("the posix build in the cache names the sources it was built from", () => {
    expect(posix.sources.netbsd).toMatch(/^(sha256|git|dir):/);
    expect(posix.sources.buildrump).toMatch(/^(sha256|git|dir):/);
  });

  it('a failing build names the step and its log, and leaves no finished build behind', () => {
    const d = join(scratch, 'broken-tree');
    mkdirSync(join(d, 'sys', 'rump'), { recursive: true });
    writeFileSync(join(d, 'sys', 'rump', 'Makefile.rump'), '# a NetBSD tree with nothing else in it\n');
    const cache = mkdtempSync(join(scratch, 'cache-'));
    const r = spawnSync(process.execPath, [cli, 'build', 'xen-pv'], {
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, RUMPXEN_CACHE: cache, RUMPXEN_NETBSD_SRC: d, RUMPXEN_BUILDRUMP: posix.buildrumpDir },
    });
    expect(r.status).toBe(1);
    const m = /failed in buildrump\.sh's "(\w+)" step \(exit \d+\).*Last lines of (\S+build\.log):/s.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    expect(m![1]).toBe('tools');
    expect(existsSync(m![2]!)).toBe(true);
    expect(existsSync(join(m![2]!, '..', 'result.json'))).toBe(false);
  });

  it('an unknown target is refused with the known ones', () => {
    const r = runCli(['build', 'xen-arm'], {});
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('posix, xen-pv, xen-pvh');
  });
});
