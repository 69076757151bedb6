/**
 * Runs the conformance suite on the posix target, linked both ways (librumpuser.so.0 and
 * librumpuser.a), in beforeAll (not while vitest collects the tests), and reports every case
 * by name as its own test. The names come from the runner's `--list` (it runs no case), so
 * collecting the tests costs a few milliseconds.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  conformanceDprintfLine,
  conformanceFileParam,
  conformanceFileSize,
  mandatory,
  parseConformanceOutput,
  requireArtifact,
  xtfExitCodes,
} from '../src/index.js';

const workDir = mkdtempSync(join(tmpdir(), 'rumpxen-conformance-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

function runSuite(runner: string) {
  const file = join(workDir, `${runner.replace(/\W/g, '_')}.img`);
  writeFileSync(file, randomBytes(conformanceFileSize));
  const r = spawnSync(runner, [], {
    env: { ...process.env, [conformanceFileParam]: file },
    encoding: 'utf8',
    timeout: 120_000,
  });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  return { status: r.status, signal: r.signal, output, report: parseConformanceOutput(output) };
}

/** The case names a runner knows, in order, without running them. */
function listCases(runner: string): string[] {
  const r = spawnSync(runner, ['--list'], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`${runner} --list failed (status ${r.status}): ${r.stdout}${r.stderr}`);
  return [...`${r.stdout}${r.stderr}`.matchAll(/^case ([A-Za-z0-9_.-]+): LISTED$/gm)].map((m) => m[1]!);
}

for (const variant of ['shared', 'static'] as const) {
  describe(`conformance on posix (librumpuser ${variant === 'shared' ? '.so.0' : '.a'})`, () => {
    let run: ReturnType<typeof runSuite>;

    beforeAll(() => {
      run = runSuite(requireArtifact(variant === 'shared' ? 'conformancePosixShared' : 'conformancePosixStatic'));
    }, 150_000);

    it('ends with Test result: SUCCESS and exit status 0', () => {
      expect(run.signal, run.output).toBeNull();
      expect(run.report.result, run.output).toBe('SUCCESS');
      expect(run.status).toBe(xtfExitCodes.SUCCESS);
    });

    it('reports every case it announced', () => {
      expect(run.report.announced, run.output).not.toBeNull();
      expect(run.report.cases.length).toBe(run.report.announced);
    });

    it('prints rumpuser_dprintf output verbatim', () => {
      expect(run.output.split('\n')).toContain(conformanceDprintfLine);
    });

    const runner = requireArtifact(variant === 'shared' ? 'conformancePosixShared' : 'conformancePosixStatic');
    const listed = listCases(runner);

    it('lists its cases with --list', () => {
      expect(listed.length).toBeGreaterThan(40);
      expect(new Set(listed).size).toBe(listed.length);
    });

    // On posix a SKIP means a missing feature, so it fails too.
    it.each(listed)('case %s passes', (name) => {
      const c = run.report.cases.find((x) => x.name === name);
      expect(c, `case ${name} was not reported:\n${run.output}`).toBeDefined();
      expect(`case ${name}: ${c!.outcome} ${c!.reason}`.trimEnd()).toBe(`case ${name}: PASS`);
    });
  });
}

describe('conformance suite objects', () => {
  let undefinedSyms: Set<string>;
  let defined: Set<string>;
  let external: string[];

  beforeAll(() => {
    const archive = requireArtifact('conformanceArchive');
    undefinedSyms = new Set(
      execFileSync('nm', ['-u', archive], { encoding: 'utf8' })
        .split('\n')
        .map((l) => l.trim().replace(/^[Uvw]\s+/, ''))
        .filter((s) => s.length > 0 && !s.endsWith(':')),
    );
    defined = new Set(
      execFileSync('nm', ['--defined-only', archive], { encoding: 'utf8' })
        .split('\n')
        .map((l) => l.trim().split(/\s+/)[2])
        .filter((s): s is string => Boolean(s)),
    );
    external = [...undefinedSyms].filter((s) => !defined.has(s));
  });

  it('call every mandatory hypercall', () => {
    expect(mandatory.map((h) => h.name).filter((n) => !undefinedSyms.has(n))).toEqual([]);
  });

  it('need nothing from outside but rumpuser_* and the linker\'s link-set bounds (no libc)', () => {
    expect(external.filter((s) => !s.startsWith('rumpuser_') && !/^__(start|stop)_link_set_/.test(s))).toEqual([]);
  });

  it('define main(int, char **) as the entry the guest kernel calls', () => {
    expect(defined.has('main')).toBe(true);
  });
});
