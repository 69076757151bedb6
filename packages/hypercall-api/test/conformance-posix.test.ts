/**
 * Runs the conformance suite on the posix target, linked both ways (librumpuser.so.0 and
 * librumpuser.a), and reports every case the suite printed as a vitest test of its own.
 * The runs happen while vitest collects the tests: the case names come from the output.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
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

for (const variant of ['shared', 'static'] as const) {
  const runner = requireArtifact(variant === 'shared' ? 'conformancePosixShared' : 'conformancePosixStatic');
  const run = runSuite(runner);

  describe(`conformance on posix (librumpuser ${variant === 'shared' ? '.so.0' : '.a'})`, () => {
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

    for (const c of run.report.cases) {
      // On posix every case must run: a SKIP here means a missing feature, so it fails too.
      it(c.name, () => {
        expect(c.outcome === 'PASS' ? '' : `${c.outcome} ${c.reason}`).toBe('');
      });
    }
  });
}

describe('conformance suite objects', () => {
  const archive = requireArtifact('conformanceArchive');
  const undefinedSyms = new Set(
    execFileSync('nm', ['-u', archive], { encoding: 'utf8' })
      .split('\n')
      .map((l) => l.trim().replace(/^[Uvw]\s+/, ''))
      .filter((s) => s.length > 0 && !s.endsWith(':')),
  );
  const defined = new Set(
    execFileSync('nm', ['--defined-only', archive], { encoding: 'utf8' })
      .split('\n')
      .map((l) => l.trim().split(/\s+/)[2])
      .filter((s): s is string => Boolean(s)),
  );
  const external = [...undefinedSyms].filter((s) => !defined.has(s));

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
