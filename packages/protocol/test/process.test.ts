// processAlive: this process is alive, a child that has exited and been reaped is not.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { processAlive } from '../src/index.js';

describe('processAlive', () => {
  it('is true for a running process (ours, and init) and false for a reaped one', () => {
    expect(processAlive(process.pid)).toBe(true);
    expect(processAlive(1)).toBe(true);
    const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    expect(processAlive(Number(child.stdout))).toBe(false);
  });
});
