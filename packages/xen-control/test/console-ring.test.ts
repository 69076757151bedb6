// ConsoleRing's line handling over a stand-in for the addon's ring reader (the real one, on a
// guest's console page, is shown in dom0 by xen-full.test.ts): chunks that split lines and
// UTF-8 characters, CR stripping, the exit line, bytes the ring lost, the end of the stream
// when the domain has ended, the first-line timing on the addon's clock, waitForLine's
// timeout, and close() ending a read in flight.
import { describe, expect, it } from 'vitest';

import { createRequest, type CreateConfig } from '../src/config.js';
import { ConsoleRing } from '../src/console-ring.js';
import { XenConfigError } from '../src/errors.js';
import type { NativeConsoleRing, NativeRingChunk } from '../src/native.js';

type Step = Partial<NativeRingChunk> | 'wait';

/**
 * Gives the scripted chunks one read at a time; an empty chunk takes the read's timeout (as the
 * addon's does when the guest writes nothing), at most 5 ms; 'wait' (and the end of the script,
 * unless thenEmpty) parks a read until close(), which rejects it as the addon does.
 */
function fakeRing(steps: Step[], thenEmpty = false): NativeConsoleRing & { closed: boolean; reads: number } {
  let cancel: ((e: Error) => void) | undefined;
  const ring = {
    closed: false,
    reads: 0,
    read(timeoutMs: number): Promise<NativeRingChunk> {
      ring.reads++;
      const s = steps.shift() ?? (thenEmpty ? {} : undefined);
      const empty = s !== undefined && s !== 'wait' && !s.data && !s.ended && !s.lost;
      if (empty) return new Promise((res) => setTimeout(() => res({ data: Buffer.alloc(0), lost: 0, ended: false, atMs: 0 }), Math.min(timeoutMs, 5)));
      if (s === 'wait' || s === undefined) {
        return new Promise((_, reject) => {
          cancel = reject;
        });
      }
      return Promise.resolve({ data: Buffer.alloc(0), lost: 0, ended: false, atMs: 0, ...s });
    },
    close(): void {
      ring.closed = true;
      const e = Object.assign(new Error('reading the console ring was cancelled (closed) (poll: ECANCELED)'), { code: 'ECANCELED', syscall: 'poll', errno: 125 });
      cancel?.(e);
    },
  };
  return ring;
}

async function all(r: ConsoleRing): Promise<string[]> {
  const out: string[] = [];
  for await (const line of r) out.push(line);
  return out;
}

describe('ConsoleRing', () => {
  it('splits chunks into lines, across chunk ends and inside UTF-8 characters, strips CR, and ends with the domain', async () => {
    const euro = Buffer.from('€'); // 3 bytes: split between two chunks
    const ring = fakeRing([
      { data: Buffer.from('hello fr'), atMs: 100 },
      { data: Buffer.from('om a PV DomU\r\nprice: '), atMs: 105 },
      { data: Buffer.concat([euro.subarray(0, 1)]), atMs: 106 },
      { data: Buffer.concat([euro.subarray(1), Buffer.from('5\nno newline at the end')]), atMs: 107 },
      { ended: true, atMs: 110 },
    ]);
    const r = new ConsoleRing(7, ring, 98, 0.5);
    expect(await all(r)).toEqual(['hello from a PV DomU', 'price: €5', 'no newline at the end']);
    // The first complete line was in the chunk seen at 105 on the addon's clock; the page was mapped at 98.
    expect(r.timings).toEqual({ attach: 0.5, attachedAt: 98, firstLine: 7, firstLineAt: 105 });
    expect(r.lost).toBe(0);
  });

  it('reports `rumpxen: exit N` lines and counts the bytes the ring overwrote before they were read', async () => {
    const seen: number[] = [];
    const ring = fakeRing([{ data: Buffer.from('st line\nrumpxen: exit 7\n'), lost: 300 }, { ended: true }]);
    const r = new ConsoleRing(7, ring, 0, 0, (s) => seen.push(s));
    expect(await all(r)).toEqual(['st line', 'rumpxen: exit 7']);
    expect(seen).toEqual([7]);
    expect(r.lost).toBe(300);
  });

  it('waits across empty reads for a matching line, consuming the lines before it', async () => {
    const ring = fakeRing([{}, { data: Buffer.from('booting\n') }, {}, { data: Buffer.from('ready: yes\nafter\n') }]);
    const r = new ConsoleRing(3, ring, 0, 0);
    expect(await r.waitForLine(/^ready/, 5_000)).toBe('ready: yes');
    expect((await r.next()).value).toBe('after');
    expect(ring.reads).toBe(4);
  });

  it('gives up after the timeout with the domain named, and rejects once the domain has ended without a match', async () => {
    const r = new ConsoleRing(5, fakeRing([], true), 0, 0);
    await expect(r.waitForLine(/never/, 30)).rejects.toThrow(/domain 5 console ring: no line matched \/never\/ within 30 ms/);
    const ended = new ConsoleRing(5, fakeRing([{ data: Buffer.from('only\n') }, { ended: true }]), 0, 0);
    await expect(ended.waitForLine(/never/, 5_000)).rejects.toThrow(/ended before a line matched/);
  });

  it('close() unmaps, ends a read in flight without an error, and calls back once', async () => {
    const ring = fakeRing([{ data: Buffer.from('one\n') }, 'wait']);
    let closes = 0;
    const r = new ConsoleRing(9, ring, 0, 0, () => undefined, () => closes++);
    const lines = all(r);
    await new Promise((res) => setTimeout(res, 20));
    r.close();
    r.close();
    expect(await lines).toEqual(['one']);
    expect(ring.closed).toBe(true);
    expect(closes).toBe(1);
    expect(await r.next()).toEqual({ done: true, value: undefined });
  });
});

describe('createRequest and the consoleRing option', () => {
  const base: CreateConfig = { name: 'r', kernel: '/images/r.elf', memory: 16 };
  it('asks for the ring only when consoleRing is true, and refuses anything but a boolean', () => {
    expect(createRequest({ ...base, consoleRing: true }).consoleRing).toBe(true);
    expect('consoleRing' in createRequest(base)).toBe(false);
    expect('consoleRing' in createRequest({ ...base, consoleRing: false })).toBe(false);
    let e: unknown;
    try {
      createRequest({ ...base, consoleRing: 'yes' as unknown as boolean });
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(XenConfigError);
    expect((e as XenConfigError).field).toBe('consoleRing');
  });
});
