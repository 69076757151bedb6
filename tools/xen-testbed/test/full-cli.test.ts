/**
 * The full-mode CLI: `boot --domu` (one real dom0 boot in this file) and the input errors of
 * `run` and `boot --domu`, which must fail before anything boots.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildFixture } from '../src/index.js';
import { cliPath } from './cli.js';

const scratch = mkdtempSync(join(tmpdir(), 'rumpxen-full-cli-'));
const live = new Set<ChildProcess>();
afterAll(() => {
  // SIGTERM makes the CLI stop its QEMU: no machine outlives a failed or timed-out case.
  for (const child of live) child.kill('SIGTERM');
  rmSync(scratch, { recursive: true, force: true });
});

function runCli(args: string[]) {
  return spawnSync(process.execPath, [cliPath(), ...args], { encoding: 'utf8', timeout: 30_000 });
}

/** Runs the CLI to its end (a real boot), collecting its output; afterAll stops it if the case gives up. */
async function runCliToEnd(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [cliPath(), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  live.add(child);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  live.delete(child);
  return { code, stdout, stderr };
}

describe('full-mode CLI: bad input fails fast with exit code 2', () => {
  it('run without --dom0-cmd', () => {
    const r = runCli(['run']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/missing --dom0-cmd CMD/);
  });

  it('boot --domu with a file that is not an ELF kernel, before any QEMU starts', () => {
    const notElf = join(scratch, 'not-a-kernel.txt');
    writeFileSync(notElf, 'hello, I am text\n');
    const r = runCli(['boot', '--domu', notElf]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/not an ELF file/);
    expect(r.stderr).not.toMatch(/booting Xen/);
  });

  it('boot --domu with a missing disk file or a bad BDF', () => {
    const fixture = buildFixture({ kind: 'pv' });
    const r1 = runCli(['boot', '--domu', fixture, '--disk', join(scratch, 'nope.img')]);
    expect(r1.status).toBe(2);
    expect(r1.stderr).toMatch(/disk file '.*nope\.img' does not exist/);
    const r2 = runCli(['boot', '--domu', fixture, '--pci', '00:3']);
    expect(r2.status).toBe(2);
    expect(r2.stderr).toMatch(/PCI address '00:3' is not a BDF/);
  });

  it('boot --domu with a bad --xenstore entry', () => {
    const fixture = buildFixture({ kind: 'pv' });
    const r1 = runCli(['boot', '--domu', fixture, '--xenstore', 'no-equals-sign']);
    expect(r1.status).toBe(2);
    expect(r1.stderr).toMatch(/--xenstore 'no-equals-sign' is not KEY=VALUE/);
    const r2 = runCli(['boot', '--domu', fixture, '--xenstore', '/local/domain/0/x=1']);
    expect(r2.status).toBe(2);
    expect(r2.stderr).toMatch(/xenstore key '\/local\/domain\/0\/x' is not usable: write it relative to \/local\/domain\/<domid>\//);
    expect(r2.stderr).not.toMatch(/booting Xen/);
  });

  it('--help tells about the options', () => {
    const r = runCli(['boot', '--domu', 'x', '--help']);
    expect(r.status).toBe(0);
    for (const opt of ['--disk FILE', '--vif', '--pci BDF', '--timeout S', '--memory MB', '--xenstore KEY=VALUE']) expect(r.stdout).toContain(opt);
  });
});

describe('full-mode CLI: boot --domu', () => {
  it('streams the DomU console to stdout and exits with its verdict (FAILURE -> 5)', async () => {
    const fixture = buildFixture({ kind: 'pv' });
    const { code, stdout, stderr } = await runCliToEnd(['boot', '--domu', fixture, '--cmdline', 'result=FAILURE', '--timeout', '60']);
    expect(stderr).toMatch(/dom0 ready after/);
    expect(stdout.split('\n')).toEqual(['domu-fixture: hello from a PV DomU', 'domu-fixture: cmdline=result=FAILURE', 'Test result: FAILURE', '']);
    expect(stderr).toMatch(/Test result: FAILURE; the guest powered off \(exit 5\)/);
    expect(code).toBe(5);
  }, 240_000);
});

describe('full-mode CLI: run --dom0-cmd', () => {
  it("runs the command in dom0, streams its stdout and stderr apart, and exits with its code", async () => {
    const { code, stdout, stderr } = await runCliToEnd(['run', '--no-share', '--dom0-cmd', 'xl list | cut -c1-8; echo to-stderr >&2; exit 3', '--timeout', '60']);
    expect(stdout.split('\n')).toEqual(['Name    ', 'Domain-0', '']);
    expect(stderr).toContain('to-stderr');
    expect(code).toBe(3);
  }, 240_000);
});
