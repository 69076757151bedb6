/**
 * parseConformanceOutput reads case and result lines with the result protocol's one parser
 * (@rumpxen/protocol), so a line gets the answer the testbed's verdict gives it too.
 */
import { describe, expect, it } from 'vitest';
import { parseResultLine } from '@rumpxen/protocol';
import { parseConformanceOutput, xtfExitCodes } from '../src/index.js';

describe('parseConformanceOutput', () => {
  it('reads a result line with whitespace around it, and refuses one with more after the word, as every reader does', () => {
    const lines = ['  Test result: SKIP\r', '\tTest result: FAILURE', 'Test result: SUCCESS (3 cases)', 'Test result: SUCCESS.', 'Test result: CRASH: page fault'];
    expect(lines.map((l) => parseConformanceOutput(l).result)).toEqual(['SKIP', 'FAILURE', null, null, null]);
    for (const l of lines) expect(parseConformanceOutput(l).result ?? undefined).toBe(parseResultLine(l));
  });

  it('keeps the worst outcome of a case reported twice, the last result line and the announcement', () => {
    const r = parseConformanceOutput('conformance: rumpuser v17, 2 cases\r\ncase a: PASS\ncase a: FAIL late\n case b: SKIP none here\nTest result: SUCCESS\nTest result: FAILURE\n');
    expect(r).toEqual({
      announced: 2,
      cases: [{ name: 'a', outcome: 'FAIL', reason: 'late' }, { name: 'b', outcome: 'SKIP', reason: 'none here' }],
      result: 'FAILURE',
    });
    expect(xtfExitCodes[r.result!]).toBe(5);
  });
});
