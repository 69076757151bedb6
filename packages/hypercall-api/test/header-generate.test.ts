import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main, staleHeaders, writeHeaders } from '../src/generate.js';
import { headerNames, renderHeader } from '../src/index.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('generate', () => {
  it('writes every header, then finds nothing stale and rewrites nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hcapi-gen-'));
    dirs.push(dir);
    expect(staleHeaders(dir)).toEqual([...headerNames]);
    const first = writeHeaders(dir);
    expect(first.written).toHaveLength(headerNames.length);
    expect(readFileSync(join(dir, 'rumpxen/netbsd_errno.h'), 'utf8')).toBe(renderHeader('rumpxen/netbsd_errno.h'));
    expect(staleHeaders(dir)).toEqual([]);
    expect(writeHeaders(dir).written).toEqual([]);
  });

  it('--check reports a hand-edited header and exits 1', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hcapi-gen-'));
    dirs.push(dir);
    writeHeaders(dir);
    writeFileSync(join(dir, 'rumpuser.h'), '/* edited */\n');
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(main(['--check', dir])).toBe(1);
      expect(String(err.mock.calls[0]?.[0])).toContain('rumpuser.h');
      expect(main([])).toBe(2);
      expect(main(['--bogus', dir])).toBe(2);
    } finally {
      err.mockRestore();
    }
  });
});
