import { describe, expect, it } from 'vitest';
import { classifyXenLine, decideVerdict, EXIT_TIMEOUT, parseExitLine, parseResultLine, splitXenLine } from '../src/verdict.js';

describe('result protocol', () => {
  it('maps each XTF result line to its exit code', () => {
    const codes = { SUCCESS: 0, SKIP: 3, ERROR: 4, FAILURE: 5, CRASH: 6 } as const;
    for (const [word, code] of Object.entries(codes)) {
      const v = decideVerdict({ guestLines: ['hello', `Test result: ${word}`], end: 'poweroff' });
      expect(v).toMatchObject({ exitCode: code, verdict: word });
    }
  });

  it('takes the last result line, and it outranks an exit line', () => {
    const v = decideVerdict({ guestLines: ['Test result: FAILURE', 'Test result: SKIP', 'rumpxen: exit 9'], end: 'poweroff' });
    expect(v.exitCode).toBe(3);
  });

  it('uses the reported exit status without a result line, whether the guest powered off or crashed', () => {
    expect(decideVerdict({ guestLines: ['rumpxen: exit 7'], end: 'poweroff' }).exitCode).toBe(7);
    expect(decideVerdict({ guestLines: ['rumpxen: exit 7'], end: 'crash' }).exitCode).toBe(7);
    expect(decideVerdict({ guestLines: ['rumpxen: exit 0'], end: 'poweroff' })).toMatchObject({ exitCode: 0, verdict: 'SUCCESS' });
    expect(decideVerdict({ guestLines: ['rumpxen: exit -1'], end: 'crash' }).exitCode).toBe(255);
    // A guest that exits 0 powers off: "exit 0" followed by a crash or a Xen panic is a crash.
    expect(decideVerdict({ guestLines: ['rumpxen: exit 0'], end: 'crash' })).toMatchObject({ exitCode: 6, verdict: 'CRASH' });
    expect(decideVerdict({ guestLines: ['rumpxen: exit 0'], end: 'xen-panic' })).toMatchObject({ exitCode: 6, verdict: 'CRASH' });
  });

  it('gives 0 for a plain poweroff or reboot, 6 for a crash or Xen panic, 124 for a timeout', () => {
    expect(decideVerdict({ guestLines: ['hi'], end: 'poweroff' }).exitCode).toBe(0);
    expect(decideVerdict({ guestLines: [], end: 'reboot' }).exitCode).toBe(0);
    expect(decideVerdict({ guestLines: ['hi'], end: 'crash' })).toMatchObject({ exitCode: 6, verdict: 'CRASH' });
    expect(decideVerdict({ guestLines: [], end: 'xen-panic', detail: 'Xen panicked: x' }).reason).toContain('Xen panicked: x');
    const t = decideVerdict({ guestLines: ['Test result: SUCCESS'], end: 'timeout', timeoutS: 5 });
    expect(t).toMatchObject({ exitCode: EXIT_TIMEOUT, verdict: 'TIMEOUT' });
    expect(t.reason).toMatch(/timed out after 5 s/);
  });

  it('reads a result line as the conformance suite\'s parser does: the whole line, whitespace around it aside', () => {
    // The testbed once took a line that only started with a result; the conformance parser
    // refused one with leading whitespace. One parser now (@rumpxen/protocol).
    expect(decideVerdict({ guestLines: ['Test result: SUCCESS (3 cases)'], end: 'crash' })).toMatchObject({ exitCode: 6, verdict: 'CRASH' });
    expect(decideVerdict({ guestLines: ['Test result: CRASH: page fault'], end: 'poweroff' })).toMatchObject({ exitCode: 0, verdict: 'SUCCESS' });
    expect(decideVerdict({ guestLines: ['  Test result: SKIP\r'], end: 'poweroff' })).toMatchObject({ exitCode: 3, verdict: 'SKIP' });
    expect(parseResultLine('Test result: SUCCESS.')).toBeUndefined();
  });

  it('parses result and exit lines strictly', () => {
    expect(parseResultLine('Test result: SUCCESS')).toBe('SUCCESS');
    expect(parseResultLine('Test result: MAYBE')).toBeUndefined();
    expect(parseResultLine('xx Test result: SUCCESS')).toBeUndefined();
    expect(parseExitLine('rumpxen: exit 12')).toBe(12);
    expect(parseExitLine('rumpxen: exit twelve')).toBeUndefined();
  });

  it('tells Xen lines from guest lines and recognises the end messages seen from Xen 4.17', () => {
    expect(splitXenLine('(XEN) [    1.007561] Hardware Dom0 halted: halting machine')).toEqual({ source: 'xen', text: 'Hardware Dom0 halted: halting machine' });
    expect(splitXenLine('(XEN) [0000000006106d03] Bootloader: qemu')).toEqual({ source: 'xen', text: 'Bootloader: qemu' });
    expect(splitXenLine('fixture: hello')).toEqual({ source: 'guest', text: 'fixture: hello' });
    expect(classifyXenLine('Hardware Dom0 halted: halting machine')).toEqual({ end: 'poweroff', final: true });
    expect(classifyXenLine('Hardware Dom0 crashed: rebooting machine in 5 seconds.')).toEqual({ end: 'crash', final: true });
    expect(classifyXenLine("Hardware Dom0 crashed: 'noreboot' set - not rebooting.")).toEqual({ end: 'crash', final: true });
    expect(classifyXenLine('Hardware Dom0 shutdown: rebooting machine')).toEqual({ end: 'reboot', final: true });
    expect(classifyXenLine('Panic on CPU 0:')).toEqual({ end: 'xen-panic', final: false });
    expect(classifyXenLine("Manual reset required ('noreboot' specified)")).toEqual({ end: 'xen-panic', final: true });
    expect(classifyXenLine('Brought up 1 CPUs')).toBeUndefined();
  });
});
