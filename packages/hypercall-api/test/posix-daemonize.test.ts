/**
 * rumpuser_daemonize_begin/done on the posix target: the parent waits for the child's
 * start-up report and exits with it; the child runs on in a session of its own with its
 * stdio detached. (Forking cannot be part of the freestanding conformance suite.)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { requireArtifact } from '../src/index.js';

const probe = requireArtifact('daemonizeProbe');
const dir = mkdtempSync(join(tmpdir(), 'rumpxen-daemonize-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function waitForFile(path: string): Promise<string> {
  for (let i = 0; i < 100 && !existsSync(path); i++) await new Promise((r) => setTimeout(r, 50));
  // The child writes then closes; give it a moment to finish the line.
  await new Promise((r) => setTimeout(r, 50));
  return readFileSync(path, 'utf8');
}

describe('rumpuser_daemonize_begin/done (posix)', () => {
  it('parent exits 0 once the child reports success; child has its own session and no stdio', async () => {
    const report = join(dir, 'ok.txt');
    const r = spawnSync(probe, ['0', report], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('child stdout');
    const m = /^pid (\d+) sid (\d+) done (-?\d+)$/m.exec(await waitForFile(report));
    expect(m).not.toBeNull();
    expect(Number(m![1])).not.toBe(r.pid);
    expect(Number(m![2])).toBe(Number(m![1]));
    expect(Number(m![3])).toBe(0);
  });

  it('parent exits 1 and names the error when the child reports a failure', async () => {
    const report = join(dir, 'fail.txt');
    const r = spawnSync(probe, ['22', report], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('failed to start: error 22');
    expect(await waitForFile(report)).toMatch(/done 0$/m);
  });
});
