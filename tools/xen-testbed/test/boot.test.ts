/**
 * Guest-as-dom0 boots under real Xen (in QEMU): every exit-code path, PVH, two boots at once,
 * and the CLI (console separation, Xen log, SIGINT and SIGKILL cleanup). One QEMU at a time
 * except where two at once is the point.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assetPaths, bootGuest, buildFixture, liveQemuCount } from '../src/index.js';
import { cliPath } from './cli.js';

let fx: { pv: string; pvh: string };
let scratch: string;
beforeAll(() => {
  fx = { pv: buildFixture({ kind: 'pv' }), pvh: buildFixture({ kind: 'pvh' }) };
  scratch = mkdtempSync(join(tmpdir(), 'xen-testbed-boot-test-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const boot = (cmdline: string, extra: Partial<Parameters<typeof bootGuest>[0]> = {}) => bootGuest({ kernel: fx.pv, cmdline, timeoutS: 30, ...extra });

describe('guest as dom0 (library)', () => {
  it('powers off cleanly: exit 0, console lines apart from Xen lines, timings', async () => {
    const r = await boot('mode=poweroff');
    expect(r).toMatchObject({ exitCode: 0, verdict: 'SUCCESS', end: 'poweroff' });
    expect(r.consoleLines).toEqual(['fixture: hello from the test guest', 'fixture: mode poweroff', 'fixture: powering off']);
    expect(r.xenLines.some((l) => l.includes('Hardware Dom0 halted'))).toBe(true);
    expect(r.xenLines.every((l) => l.startsWith('(XEN)'))).toBe(true);
    expect(r.timings.firstConsoleLineMs).toBeGreaterThan(0);
    expect(r.timings.totalMs).toBeGreaterThanOrEqual(r.timings.firstConsoleLineMs!);
    expect(liveQemuCount()).toBe(0);
  }, 60_000);

  it('maps each Test result line to its XTF exit code', async () => {
    const want = { SUCCESS: 0, SKIP: 3, ERROR: 4, FAILURE: 5, CRASH: 6 } as const;
    for (const [word, code] of Object.entries(want)) {
      const r = await boot(`mode=result:${word}`);
      expect(r.consoleLines.at(-1)).toBe(`Test result: ${word}`);
      expect(r).toMatchObject({ exitCode: code, verdict: word, end: 'poweroff' });
    }
  }, 120_000);

  it('gives 6 for a crash and the reported status for rumpxen: exit N', async () => {
    const crash = await boot('mode=crash');
    expect(crash).toMatchObject({ exitCode: 6, verdict: 'CRASH', end: 'crash' });
    const exitCrash = await boot('mode=exit:7');
    expect(exitCrash).toMatchObject({ exitCode: 7, end: 'crash' });
    const exitOff = await boot('mode=exitoff:7');
    expect(exitOff).toMatchObject({ exitCode: 7, end: 'poweroff' });
    const reboot = await boot('mode=reboot');
    expect(reboot).toMatchObject({ exitCode: 0, end: 'reboot' });
  }, 120_000);

  it('loses no console output from a chatty guest (5000 lines, ~125 KB)', async () => {
    const r = await boot('mode=result:SUCCESS lines=5000', { timeoutS: 60 });
    expect(r.exitCode).toBe(0);
    const filler = r.consoleLines.filter((l) => l.startsWith('fixture: filler line '));
    expect(filler).toHaveLength(5000);
    expect(filler.every((l, i) => l === `fixture: filler line ${i + 1}`)).toBe(true);
  }, 90_000);

  it('stops a guest that never ends at the timeout with 124', async () => {
    const r = await boot('mode=spin', { timeoutS: 6 });
    expect(r).toMatchObject({ exitCode: 124, verdict: 'TIMEOUT', end: 'timeout' });
    expect(r.reason).toMatch(/timed out after 6 s/);
    expect(r.consoleLines).toContain('fixture: waiting forever');
    expect(liveQemuCount()).toBe(0);
  }, 60_000);

  it('boots the PVH fixture as a PVH dom0 with HAP', async () => {
    const r = await bootGuest({ kernel: fx.pvh, pvh: true, cmdline: 'mode=result:SUCCESS', timeoutS: 30 });
    expect(r).toMatchObject({ exitCode: 0, verdict: 'SUCCESS' });
    expect(r.xenLines.some((l) => l.includes('Hardware Assisted Paging (HAP) detected'))).toBe(true);
    expect(r.xenLines.some((l) => l.includes('Building a PVH Dom0'))).toBe(true);
    expect(r.consoleLines).toEqual(['fixture: hello from the test guest', 'fixture: mode result:SUCCESS', 'case first: PASS', 'case second: SKIP not applicable here', 'Test result: SUCCESS']);
    // The short form too: with no console ring (HVM_PARAM_CONSOLE_PFN 0) it knows it is dom0 and uses console_io.
    const s = await bootGuest({ kernel: fx.pvh, pvh: true, cmdline: 'result=SKIP', timeoutS: 30 });
    expect(s.consoleLines).toEqual(['domu-fixture: hello from a PVH dom0', 'domu-fixture: cmdline=result=SKIP', 'Test result: SKIP']);
    expect(s).toMatchObject({ exitCode: 3, verdict: 'SKIP' });
  }, 90_000);

  it('boots Debian\'s Linux vmlinux (standard Xen notes) as dom0: no root file system, so it panics → 6', async () => {
    const r = await bootGuest({ kernel: assetPaths().dom0Vmlinux, cmdline: 'console=hvc0 earlyprintk=xen', memoryMb: 512, timeoutS: 120 });
    expect(r.consoleLines.some((l) => /Linux version 6\.1\./.test(l))).toBe(true);
    expect(r.consoleLines.some((l) => l.includes('Kernel panic - not syncing'))).toBe(true);
    expect(r).toMatchObject({ exitCode: 6, verdict: 'CRASH', end: 'crash' });
  }, 150_000);

  it('runs two testbeds at once, each with its own verdict', async () => {
    const [a, b] = await Promise.all([boot('mode=result:FAILURE'), boot('mode=exitoff:3')]);
    expect(a.exitCode).toBe(5);
    expect(b.exitCode).toBe(3);
    expect(a.consoleLines).not.toContain('rumpxen: exit 3');
    expect(liveQemuCount()).toBe(0);
  }, 90_000);

  it('stops when the caller aborts, with 124 and a reason that says so', async () => {
    const ac = new AbortController();
    const r = await boot('mode=spin', { signal: ac.signal, onConsoleLine: (l) => l.includes('forever') && ac.abort() });
    expect(r).toMatchObject({ exitCode: 124, end: 'timeout' });
    expect(r.reason).toMatch(/stopped by the caller/);
    expect(liveQemuCount()).toBe(0);
  }, 60_000);

  it('stops QEMU and rethrows when the caller\'s line callback throws', async () => {
    const p = boot('mode=spin', {
      onConsoleLine: (l) => {
        if (l.includes('waiting forever')) throw new Error('caller bug');
      },
    });
    await expect(p).rejects.toThrow('caller bug');
    expect(liveQemuCount()).toBe(0);
  }, 60_000);
});

function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) [ZX]/.test(stat);
  } catch {
    return false;
  }
}

function childPids(pid: number): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/stat`, 'utf8').replace(/^\d+ \(.*\) /, '').split(' ')[1] === String(pid);
      } catch {
        return false;
      }
    })
    .map(Number);
}

function startCli(args: string[]): { child: ChildProcess; stdout: () => string; stderr: () => string; done: Promise<{ code: number | null; signal: NodeJS.Signals | null }> } {
  const child = spawn(process.execPath, [cliPath(), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('close', (code, signal) => r({ code, signal })));
  return { child, stdout: () => out, stderr: () => err, done };
}

async function until(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('guest as dom0 (CLI)', () => {
  it('prints only the guest console on stdout, Xen\'s log to --xen-log, and exits with the verdict', async () => {
    const log = join(scratch, 'xen.log');
    const c = startCli(['boot', '--kernel', fx.pv, '--cmdline', 'mode=result:ERROR', '--timeout', '30', '--xen-log', log]);
    const r = await c.done;
    expect(r.code).toBe(4);
    expect(c.stdout()).toBe('fixture: hello from the test guest\nfixture: mode result:ERROR\ncase first: PASS\ncase second: SKIP not applicable here\nTest result: ERROR\n');
    expect(c.stderr()).toContain('Test result: ERROR');
    const xen = readFileSync(log, 'utf8');
    expect(xen).toMatch(/^\(XEN\) /);
    expect(xen).toContain('Hardware Dom0 halted: halting machine');
    expect(xen).not.toContain('fixture:');
  }, 60_000);

  it('sends Xen\'s log to stderr with --verbose and reports a bad kernel with exit 2', async () => {
    const c = startCli(['boot', '--kernel', fx.pv, '--cmdline', 'mode=crash', '--timeout', '30', '--verbose']);
    expect((await c.done).code).toBe(6);
    expect(c.stderr()).toContain('(XEN) ');
    expect(c.stderr()).toContain('Hardware Dom0 crashed');
    expect(c.stdout()).not.toContain('(XEN)');

    const bad = startCli(['boot', '--kernel', join(fx.pv, '..', '..', '..', 'package.json')]);
    expect((await bad.done).code).toBe(2);
    expect(bad.stderr()).toMatch(/package\.json is not an ELF file/);
  }, 60_000);

  it('passes --qemu-arg values that start with "-" to QEMU: a PVH dom0 on a CPU without SVM/NPT is named as such', async () => {
    const c = startCli(['boot', '--kernel', fx.pvh, '--pvh', '--cmdline', 'mode=result:SUCCESS', '--timeout', '30', '--qemu-arg', '-cpu', '--qemu-arg', 'qemu64']);
    expect((await c.done).code).toBe(6);
    expect(c.stdout()).toBe('');
    expect(c.stderr()).toMatch(/Xen panicked: .*Error creating d0/);
    expect(c.stderr()).toContain('Xen did not report HAP: PVH needs the CPU model to have SVM and NPT');
  }, 60_000);

  it('leaves no QEMU and no temp folder when the caller dies of an uncaught exception', async () => {
    const script = join(scratch, 'uncaught.mjs');
    const dist = join(cliPath(), '..', 'index.js');
    writeFileSync(
      script,
      `import { bootGuest } from ${JSON.stringify(dist)};\n` +
        `bootGuest({ kernel: ${JSON.stringify(fx.pv)}, cmdline: 'mode=spin', timeoutS: 60, onConsoleLine: (l) => {\n` +
        `  console.log(l);\n` +
        `  if (l.includes('forever')) setTimeout(() => { throw new Error('caller blew up'); }, 200);\n` +
        `} });\n`,
    );
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (err += d));
    let qemuPids: number[] = [];
    const poll = setInterval(() => {
      const now = childPids(child.pid!);
      if (now.length) qemuPids = now;
    }, 20);
    const code = await new Promise<number | null>((r) => child.on('close', r));
    clearInterval(poll);
    expect(out).toContain('fixture: waiting forever');
    expect(err).toContain('caller blew up');
    expect(code).toBe(1);
    expect(qemuPids).toHaveLength(1);
    await until(() => !pidAlive(qemuPids[0]!), 5_000);
    expect(readdirSync(tmpdir()).filter((d) => d.startsWith(`rumpxen-testbed-${child.pid}-`))).toEqual([]);
  }, 60_000);

  for (const signal of ['SIGINT', 'SIGKILL'] as const) {
    it(`leaves no QEMU and no temp folder when the CLI gets ${signal}`, async () => {
      const c = startCli(['boot', '--kernel', fx.pv, '--cmdline', 'mode=spin', '--timeout', '60']);
      await until(() => c.stdout().includes('fixture: waiting forever'), 30_000);
      const cliPid = c.child.pid!;
      const qemuPids = childPids(cliPid);
      expect(qemuPids).toHaveLength(1);
      expect(readFileSync(`/proc/${qemuPids[0]}/cmdline`, 'utf8')).toContain('qemu-system-x86_64');
      const tmpDirs = () => readdirSync(tmpdir()).filter((d) => d.startsWith(`rumpxen-testbed-${cliPid}-`));
      expect(tmpDirs()).toHaveLength(1);
      c.child.kill(signal);
      const r = await c.done;
      expect(r.signal).toBe(signal);
      await until(() => !pidAlive(qemuPids[0]!), 5_000);
      if (signal === 'SIGINT') expect(tmpDirs()).toEqual([]);
      else {
        // A SIGKILLed Node cannot clean up: the next run sweeps its folder.
        expect(existsSync(join(tmpdir(), tmpDirs()[0] ?? 'none'))).toBe(true);
        await boot('mode=poweroff');
        expect(tmpDirs()).toEqual([]);
      }
    }, 60_000);
  }
});
