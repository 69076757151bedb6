/**
 * posixTarget is data the image-linker links by: linking the conformance suite with exactly
 * its fields (host gcc, ldflags, libraries) must give a program that passes the suite.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  conformanceFileParam,
  conformanceFileSize,
  parseConformanceOutput,
  posixTarget,
  requireArtifact,
} from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'rumpxen-posix-target-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('posixTarget', () => {
  it('points at files that exist', () => {
    for (const p of [...posixTarget.includeDirs, ...posixTarget.libraries]) expect(existsSync(p), p).toBe(true);
    expect(posixTarget.startObject).toBeNull();
    expect(posixTarget.linkerScript).toBeNull();
  });

  it('links the conformance suite into a program that passes it', () => {
    const exe = join(dir, 'conformance');
    execFileSync('gcc', [
      ...posixTarget.ldflags,
      '-o', exe,
      '-Wl,--whole-archive', requireArtifact('conformanceArchive'), '-Wl,--no-whole-archive',
      ...posixTarget.libraries,
    ]);
    const file = join(dir, 'disk.img');
    writeFileSync(file, randomBytes(conformanceFileSize));
    const r = spawnSync(exe, [], { env: { ...process.env, [conformanceFileParam]: file }, encoding: 'utf8', timeout: 120_000 });
    const report = parseConformanceOutput(r.stdout + r.stderr);
    expect(report.cases.filter((c) => c.outcome !== 'PASS')).toEqual([]);
    expect(report.result).toBe('SUCCESS');
    expect(r.status).toBe(0);
    // Non-PIE as the target says: the entry lies in the executable's fixed layout.
    const header = execFileSync('readelf', ['-hW', exe], { encoding: 'utf8' });
    expect(header).toMatch(/Type:\s+EXEC/);
    const entry = BigInt(/Entry point address:\s+(0x[0-9a-f]+)/.exec(header)![1]!);
    expect(entry >= posixTarget.layout.start && entry < posixTarget.layout.end).toBe(true);
  }, 120_000);
});
