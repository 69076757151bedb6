// DomainConsole on a real pty, standing in for xenconsoled's: util-linux
// `script` holds the master side (what the test writes to its stdin is guest
// output; what it prints is guest input) while `sleep` keeps the slave open
// until the test closes the master side itself (closePty), so nothing depends
// on timing. Covers line splitting, CR stripping, the exit line, raw mode (no
// echo, no CR added to input) and the end of the stream when the master closes.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';

import { DomainConsole } from '../src/console.js';

/**
 * Starts the master side; resolves with the slave's path and a reader of everything after it.
 * The pty lives until closePty (the sleep is only a bound should the test process die).
 */
async function startPty(): Promise<{ child: ChildProcessWithoutNullStreams; slave: string; output: () => string }> {
  const c = spawn('script', ['-qfc', 'tty; exec sleep 300', '/dev/null']);
  let text = '';
  c.stdout.setEncoding('latin1');
  c.stdout.on('data', (d: string) => (text += d));
  const deadline = Date.now() + 10_000;
  while (!/\/dev\/pts\/\d+\r?\n/.test(text)) {
    if (Date.now() > deadline) throw new Error(`script(1) printed no pty path: ${JSON.stringify(text)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const m = /(\/dev\/pts\/\d+)\r?\n/.exec(text)!;
  const after = m.index + m[0].length;
  return { child: c, slave: m[1]!, output: () => text.slice(after) };
}

/** Closes the master side: script(1) dies, the slave hangs up and sleep gets SIGHUP. */
async function closePty(c: ChildProcessWithoutNullStreams): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  const exited = new Promise((r) => c.once('exit', r));
  c.kill('SIGKILL');
  await exited;
}

let child: ChildProcessWithoutNullStreams | undefined;
afterEach(async () => {
  if (child) await closePty(child);
  child = undefined;
});

describe('DomainConsole on a pty', () => {
  it('reads lines, records the exit status, sends input without echo, and ends with the pty', async () => {
    const pty = await startPty();
    child = pty.child;
    let exitStatus: number | undefined;
    const con = DomainConsole.fromTty(pty.slave, 7, (s) => (exitStatus = s));
    child.stdin.write('hello from the guest\r\nsplit ');
    await new Promise((r) => setTimeout(r, 200));
    child.stdin.write('line\r\nrumpxen: exit 3\r\n');
    const seen: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await con.next();
      expect(r.done).toBe(false);
      seen.push(r.value as string);
    }
    expect(seen).toEqual(['hello from the guest', 'split line', 'rumpxen: exit 3']);
    expect(exitStatus).toBe(3);

    await con.write('input for the guest\n');
    const deadline = Date.now() + 5_000;
    while (!pty.output().includes('input for the guest') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    // Raw mode: the master side sees exactly the input (no echo of the guest's output, no CR added).
    expect(pty.output()).toBe('input for the guest\n');

    // The master side closes: the iterator ends instead of hanging.
    await closePty(pty.child);
    const end = await con.next();
    expect(end.done).toBe(true);
    con.close();
  }, 20_000);

  it('times out waitForLine with a message naming the domain and the pattern', async () => {
    const pty = await startPty();
    child = pty.child;
    using con = DomainConsole.fromTty(pty.slave, 9);
    await expect(con.waitForLine(/never printed/, 300)).rejects.toThrow(/domain 9 console: no line matched \/never printed\/ within 300 ms/);
  }, 20_000);
});
