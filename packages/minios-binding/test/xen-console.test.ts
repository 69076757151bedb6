// DomainConsole on a real pty (created by python3's pty module, standing in
// for xenconsoled's master side): line splitting, CR stripping, the exit
// line, raw mode (no echo of guest output back to the guest), input, and
// the end of the stream when the master side closes.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';

import { DomainConsole } from '../src/xen/console.js';

// The master side: prints the slave path, then on "go" writes guest output in two pieces,
// reads what comes back for a while, prints it as JSON, closes the master and exits.
const MASTER = String.raw`
import os, pty, select, sys, json, time
master, slave = pty.openpty()
print(os.ttyname(slave), flush=True)
os.close(slave)
sys.stdin.readline()
os.write(master, b"hello from the guest\r\nsplit ")
time.sleep(0.2)
os.write(master, b"line\r\nrumpxen: exit 3\r\n")
got = b""
end = time.time() + 1.5
while time.time() < end:
    r, _, _ = select.select([master], [], [], 0.1)
    if r:
        try:
            got += os.read(master, 4096)
        except OSError:
            break
print(json.dumps(got.decode("latin1")), flush=True)
os.close(master)
`;

let child: ChildProcessWithoutNullStreams | undefined;
afterEach(() => child?.kill());

describe('DomainConsole on a pty', () => {
  it('reads lines, records the exit status, sends input without echo, and ends with the pty', async () => {
    child = spawn('python3', ['-c', MASTER]);
    const out = createInterface({ input: child.stdout });
    const lines = out[Symbol.asyncIterator]();
    const slave = (await lines.next()).value as string;
    expect(slave).toMatch(/^\/dev\/pts\/\d+$/);

    let exitStatus: number | undefined;
    const con = DomainConsole.fromTty(slave, 7, (s) => (exitStatus = s));
    child.stdin.write('go\n');
    const seen: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await con.next();
      expect(r.done).toBe(false);
      seen.push(r.value as string);
    }
    expect(seen).toEqual(['hello from the guest', 'split line', 'rumpxen: exit 3']);
    expect(exitStatus).toBe(3);

    await con.write('input for the guest\n');
    const back = JSON.parse((await lines.next()).value as string) as string;
    // Raw mode: the master sees exactly the input (no echo of the guest's output, no CR added).
    expect(back).toBe('input for the guest\n');

    // The master closed: the iterator ends instead of hanging.
    const end = await con.next();
    expect(end.done).toBe(true);
    con.close();
  }, 20_000);

  it('times out waitForLine with a message naming the domain and the pattern', async () => {
    child = spawn('python3', ['-c', MASTER]);
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const slave = (await lines.next()).value as string;
    using con = DomainConsole.fromTty(slave, 9);
    await expect(con.waitForLine(/never printed/, 300)).rejects.toThrow(/domain 9 console: no line matched \/never printed\/ within 300 ms/);
  }, 20_000);
});
