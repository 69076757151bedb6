/**
 * The result protocol, read by one parser: result lines, exit lines, case lines, and the
 * verdict of a finished run.
 */
import { describe, expect, it } from 'vitest';
import {
  decideVerdict,
  EXIT_TIMEOUT,
  parseCaseLine,
  parseExitLine,
  parseResultLine,
  resultLine,
  XTF_EXIT_CODES,
  XTF_RESULTS,
} from '../src/index.js';

/**
 * Lines the two old result-line readers answered differently (the testbed's
 * `^Test result: WORD\b` on the trimmed line; the conformance parser's `^Test result: WORD$` on
 * the line without its trailing whitespace), with the one answer they get now.
 */
const DISPUTED_RESULT_LINES: readonly (readonly [string, string | undefined])[] = [
  ['  Test result: SKIP\r', 'SKIP'], // conformance parser: none (leading space)
  ['\tTest result: FAILURE', 'FAILURE'], // conformance parser: none
  ['Test result: SUCCESS (3 cases)', undefined], // testbed: SUCCESS
  ['Test result: SUCCESS.', undefined], // testbed: SUCCESS
  ['Test result: CRASH: page fault', undefined], // testbed: CRASH
];

describe('result lines', () => {
  it('maps every XTF result to its exit code, in XTF order', () => {
    expect(XTF_RESULTS.map((r) => [r, XTF_EXIT_CODES[r]])).toEqual([['SUCCESS', 0], ['SKIP', 3], ['ERROR', 4], ['FAILURE', 5], ['CRASH', 6]]);
    for (const r of XTF_RESULTS) expect(parseResultLine(resultLine(r))).toBe(r);
  });

  it('gives one answer for a line the old readers disagreed on: the whole line, whitespace around it aside', () => {
    for (const [line, want] of DISPUTED_RESULT_LINES) expect(parseResultLine(line), JSON.stringify(line)).toBe(want);
  });

  it('refuses other words, other cases and a line that only contains one', () => {
    for (const line of ['Test result: MAYBE', 'Test result: success', 'Test result: SUCCESSFUL', 'xx Test result: SUCCESS', 'Test result:SUCCESS', 'Test  result: SUCCESS', '']) {
      expect(parseResultLine(line), line).toBeUndefined();
    }
  });
});

describe('exit and case lines', () => {
  it('reads `rumpxen: exit N` with a sign, and nothing else', () => {
    expect(parseExitLine('rumpxen: exit 12')).toBe(12);
    expect(parseExitLine(' rumpxen: exit -1\r')).toBe(-1);
    expect(parseExitLine('rumpxen: exit twelve')).toBeUndefined();
    expect(parseExitLine('rumpxen: exit 1 2')).toBeUndefined();
  });

  it('reads `case NAME: PASS|FAIL why|SKIP why`', () => {
    expect(parseCaseLine('case pages: PASS')).toEqual({ name: 'pages', outcome: 'PASS', reason: '' });
    expect(parseCaseLine('case dma.round-trip_2: FAIL byte 3 came back as 0x7\r')).toEqual({ name: 'dma.round-trip_2', outcome: 'FAIL', reason: 'byte 3 came back as 0x7' });
    expect(parseCaseLine(' case multi_intr: SKIP one edu only')).toEqual({ name: 'multi_intr', outcome: 'SKIP', reason: 'one edu only' });
    expect(parseCaseLine('case x: LISTED')).toBeUndefined();
    expect(parseCaseLine('case a b: PASS')).toBeUndefined();
  });
});

describe('the verdict of a run', () => {
  it('takes the last result line, which outranks an exit line', () => {
    expect(decideVerdict({ guestLines: ['Test result: FAILURE', 'Test result: SKIP', 'rumpxen: exit 9'], end: 'poweroff' })).toMatchObject({ exitCode: 3, verdict: 'SKIP' });
  });

  it('ignores a disputed line that is no result: the end decides', () => {
    expect(decideVerdict({ guestLines: ['Test result: SUCCESS (3 cases)'], end: 'crash' })).toMatchObject({ exitCode: 6, verdict: 'CRASH' });
    expect(decideVerdict({ guestLines: ['  Test result: SKIP\r'], end: 'crash' })).toMatchObject({ exitCode: 3, verdict: 'SKIP' });
  });

  it('uses the exit line without a result line; exit 0 then a crash is a crash', () => {
    expect(decideVerdict({ guestLines: ['rumpxen: exit 7'], end: 'crash' }).exitCode).toBe(7);
    expect(decideVerdict({ guestLines: ['rumpxen: exit -1'], end: 'poweroff' }).exitCode).toBe(255);
    expect(decideVerdict({ guestLines: ['rumpxen: exit 0'], end: 'xen-panic' })).toMatchObject({ exitCode: 6, verdict: 'CRASH' });
  });

  it('gives 0 for a clean end, 6 for a crash, 124 for a timeout', () => {
    expect(decideVerdict({ guestLines: [], end: 'reboot' }).exitCode).toBe(0);
    expect(decideVerdict({ guestLines: [], end: 'machine-reset', detail: 'triple fault' })).toMatchObject({ exitCode: 6, reason: 'the guest ended with a machine reset: triple fault' });
    expect(decideVerdict({ guestLines: ['Test result: SUCCESS'], end: 'timeout', timeoutS: 5 })).toMatchObject({ exitCode: EXIT_TIMEOUT, verdict: 'TIMEOUT' });
  });
});
