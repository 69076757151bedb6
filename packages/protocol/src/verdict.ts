/**
 * The result protocol of rumpxen's guests and of whatever runs them (XTF's, extended):
 *   - a guest prints one `case NAME: PASS`, `case NAME: FAIL why` or `case NAME: SKIP why` line
 *     per case (C programs: c/include/rumpxen/case.h);
 *   - its last `Test result: SUCCESS|SKIP|ERROR|FAILURE|CRASH` line gives 0/3/4/5/6;
 *   - otherwise a `rumpxen: exit N` line gives N (the guest powers off for 0, crashes else),
 *     except that `exit 0` followed by a crash or a Xen panic gives 6;
 *   - otherwise a clean poweroff (or reboot) gives 0 and a crash 6;
 *   - no end within the time limit gives 124.
 * A line is read without the whitespace around it (a console's `\r` included) and must be
 * the whole line: `Test result: SUCCESS.` or `Test result: SUCCESS (3 cases)` is not a result.
 */

/** XTF's results, in the order of their exit codes. */
export const XTF_RESULTS = ['SUCCESS', 'SKIP', 'ERROR', 'FAILURE', 'CRASH'] as const;
export type XtfResult = (typeof XTF_RESULTS)[number];

/** XTF's exit status for each result. */
export const XTF_EXIT_CODES: Readonly<Record<XtfResult, number>> = Object.freeze({ SUCCESS: 0, SKIP: 3, ERROR: 4, FAILURE: 5, CRASH: 6 });
/** Exit code of a run that hit its time limit (as timeout(1)). */
export const EXIT_TIMEOUT = 124;
/** Exit code for bad input (a kernel that cannot boot, a missing asset, a bad option). */
export const EXIT_BAD_INPUT = 2;
/** Exit code when the runner itself failed (QEMU would not start). */
export const EXIT_TESTBED_FAILURE = 1;

/** What a result line starts with. */
export const RESULT_LINE_PREFIX = 'Test result: ';
/** What an exit line starts with (the guest kernel prints it when main returns). */
export const EXIT_LINE_PREFIX = 'rumpxen: exit ';

/** The result line for a result: `Test result: SUCCESS`. */
export function resultLine(result: XtfResult): string {
  return `${RESULT_LINE_PREFIX}${result}`;
}

const RESULT_LINE = new RegExp(`^${RESULT_LINE_PREFIX}(${XTF_RESULTS.join('|')})$`);
const EXIT_LINE = new RegExp(`^${EXIT_LINE_PREFIX}(-?\\d+)$`);
const CASE_LINE = /^case ([A-Za-z0-9_.-]+): (PASS|FAIL|SKIP)(?: (.*))?$/;

/** The XTF result of one guest line, if it is a result line. */
export function parseResultLine(line: string): XtfResult | undefined {
  return RESULT_LINE.exec(line.trim())?.[1] as XtfResult | undefined;
}

/** The status of one `rumpxen: exit N` line, if it is one. */
export function parseExitLine(line: string): number | undefined {
  const m = EXIT_LINE.exec(line.trim());
  return m ? Number(m[1]) : undefined;
}

export type CaseOutcome = 'PASS' | 'FAIL' | 'SKIP';

export interface CaseLine {
  /** Letters, digits, `_`, `.` and `-`. */
  name: string;
  outcome: CaseOutcome;
  /** Why it failed or skipped; empty for PASS. */
  reason: string;
}

/** One `case NAME: PASS|FAIL why|SKIP why` line, if it is one. */
export function parseCaseLine(line: string): CaseLine | undefined {
  const m = CASE_LINE.exec(line.trim());
  return m ? { name: m[1]!, outcome: m[2] as CaseOutcome, reason: m[3] ?? '' } : undefined;
}

/**
 * Every case line of a console, by name: `PASS`, or the outcome and its reason
 * (`FAIL why`, `SKIP why`). A later line for the same case wins.
 */
export function caseVerdicts(lines: Iterable<string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of lines) {
    const c = parseCaseLine(l);
    if (c) out[c.name] = c.reason ? `${c.outcome} ${c.reason}` : c.outcome;
  }
  return out;
}

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
    return { exitCode: XTF_EXIT_CODES[result], verdict: result, reason: `${resultLine(result)}; the guest ${how}${detail}` };
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
