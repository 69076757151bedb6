/**
 * The result protocol (XTF's, extended by rumpxen):
 *   - the last guest line `Test result: SUCCESS|SKIP|ERROR|FAILURE|CRASH` gives 0/3/4/5/6;
 *   - otherwise a `rumpxen: exit N` line gives N (the guest powers off for 0, crashes else),
 *     except that `exit 0` followed by a crash or a Xen panic gives 6;
 *   - otherwise a clean poweroff (or reboot) gives 0 and a crash 6;
 *   - no end within the time limit gives 124.
 * And how the end of a guest-as-dom0 run shows on Xen's serial console.
 */

export type XtfResult = 'SUCCESS' | 'SKIP' | 'ERROR' | 'FAILURE' | 'CRASH';

export const XTF_EXIT_CODES: Readonly<Record<XtfResult, number>> = { SUCCESS: 0, SKIP: 3, ERROR: 4, FAILURE: 5, CRASH: 6 };
/** Exit code of a run that hit its time limit (as timeout(1)). */
export const EXIT_TIMEOUT = 124;
/** Exit code for bad input (a kernel that cannot boot, a missing asset, a bad option). */
export const EXIT_BAD_INPUT = 2;
/** Exit code when the testbed itself failed (QEMU would not start). */
export const EXIT_TESTBED_FAILURE = 1;

/** How a run ended. */
export type EndKind =
  | 'poweroff' // the guest powered off (SHUTDOWN_poweroff)
  | 'reboot' // the guest asked for a reboot (SHUTDOWN_reboot, or watchdog)
  | 'crash' // the guest crashed (SHUTDOWN_crash) or Xen killed it
  | 'xen-panic' // Xen itself panicked (e.g. it could not build the domain)
  | 'machine-reset' // QEMU exited with no shutdown message (triple fault, QEMU error)
  | 'timeout'; // no end within the time limit

/** What decided the exit code. */
export type Verdict = XtfResult | 'TIMEOUT';

export interface VerdictResult {
  exitCode: number;
  verdict: Verdict;
  /** One line for humans: what ended the run and why this exit code. */
  reason: string;
}

const RESULT_LINE = /^Test result: (SUCCESS|SKIP|ERROR|FAILURE|CRASH)\b/;
const EXIT_LINE = /^rumpxen: exit (-?\d+)\s*$/;

/** The XTF result of one guest line, if it is a result line. */
export function parseResultLine(line: string): XtfResult | undefined {
  return RESULT_LINE.exec(line.trim())?.[1] as XtfResult | undefined;
}

/** The status of one `rumpxen: exit N` line, if it is one. */
export function parseExitLine(line: string): number | undefined {
  const m = EXIT_LINE.exec(line.trim());
  return m ? Number(m[1]) : undefined;
}

export interface VerdictInput {
  /** The guest's console lines, in order. */
  guestLines: readonly string[];
  end: EndKind;
  /** For 'timeout': the limit, for the message. */
  timeoutS?: number;
  /** Extra words about the end (Xen's panic message, QEMU's stderr). */
  detail?: string;
}

/** Applies the result protocol to a finished run. */
export function decideVerdict(input: VerdictInput): VerdictResult {
  const { guestLines, end } = input;
  const detail = input.detail ? `: ${input.detail}` : '';
  if (end === 'timeout') {
    return {
      exitCode: EXIT_TIMEOUT,
      verdict: 'TIMEOUT',
      reason: `timed out after ${input.timeoutS ?? '?'} s with the guest still running (raise --timeout if it needs longer)`,
    };
  }
  let result: XtfResult | undefined;
  let exitStatus: number | undefined;
  for (const line of guestLines) {
    result = parseResultLine(line) ?? result;
    exitStatus = parseExitLine(line) ?? exitStatus;
  }
  const how = end === 'poweroff' ? 'powered off' : end === 'reboot' ? 'asked for a reboot' : end === 'crash' ? 'crashed' : end === 'xen-panic' ? 'ended with a Xen panic' : 'ended with a machine reset';
  if (result) {
    return { exitCode: XTF_EXIT_CODES[result], verdict: result, reason: `Test result: ${result}; the guest ${how}${detail}` };
  }
  const clean = end === 'poweroff' || end === 'reboot';
  if (exitStatus !== undefined) {
    // Exit statuses are 0..255 as a process's; a negative or larger main() return wraps.
    const code = ((exitStatus % 256) + 256) % 256;
    // "exit 0" then a crash (e.g. in teardown) is a crash, not a success: a guest that
    // exits 0 powers off.
    if (code === 0 && !clean) {
      return { exitCode: XTF_EXIT_CODES.CRASH, verdict: 'CRASH', reason: `the guest reported exit 0 but then ${how}${detail}` };
    }
    return { exitCode: code, verdict: code === 0 ? 'SUCCESS' : 'FAILURE', reason: `the guest reported exit ${exitStatus} and ${how}${detail}` };
  }
  if (clean) return { exitCode: 0, verdict: 'SUCCESS', reason: `the guest ${how}${detail}` };
  return { exitCode: XTF_EXIT_CODES.CRASH, verdict: 'CRASH', reason: `the guest ${how}${detail}` };
}

/**
 * Whether a line of Xen's log reports hardware-assisted paging in use (PVH and HVM guests need
 * it). Xen prints "... detected but disabled" when booted with hap=0: that is not HAP.
 */
export function reportsHap(line: string): boolean {
  return /HVM: Hardware Assisted Paging \(HAP\) detected\s*$/.test(line);
}

/** What one line of Xen's own output says about the end of a guest-as-dom0 run. */
export interface XenEndEvent {
  end: EndKind;
  /** The run is over once this line is seen (else wait for more lines, e.g. a panic's message). */
  final: boolean;
}

/**
 * Recognises the hardware domain's shutdown messages (xen/common/shutdown.c in 4.17, seen
 * on this testbed: "Hardware Dom0 halted: halting machine", "Hardware Dom0 crashed:
 * rebooting machine in 5 seconds.", "Hardware Dom0 shutdown: rebooting machine",
 * "Hardware Dom0 shutdown: watchdog rebooting machine") and Xen's panic banner.
 * `text` is the line without the "(XEN) [timestamp] " prefix.
 */
export function classifyXenLine(text: string): XenEndEvent | undefined {
  if (/^Hardware Dom\d+ halted/.test(text)) return { end: 'poweroff', final: true };
  if (/^Hardware Dom\d+ crashed/.test(text)) return { end: 'crash', final: true };
  if (/^Hardware Dom\d+ shutdown: (watchdog )?rebooting/.test(text)) return { end: 'reboot', final: true };
  if (/^Hardware Dom\d+ shutdown/.test(text)) return { end: 'crash', final: true };
  if (/^Panic on CPU \d+:/.test(text)) return { end: 'xen-panic', final: false };
  if (/^(Manual reset required|Reboot in five seconds)/.test(text)) return { end: 'xen-panic', final: true };
  return undefined;
}

const XEN_PREFIX = /^\(XEN\) (?:\[[ 0-9a-f.]+\] ?)?/;

/** Splits a serial line into Xen's own output (prefixed "(XEN)") and the hardware domain's console. */
export function splitXenLine(line: string): { source: 'xen' | 'guest'; text: string } {
  const m = XEN_PREFIX.exec(line);
  return m ? { source: 'xen', text: line.slice(m[0].length) } : { source: 'guest', text: line };
}
