/**
 * The conformance suite's contract for whoever runs it on a target: how it is compiled, what
 * it needs, and how to read its output (`case NAME: PASS|FAIL reason|SKIP reason` lines, a
 * `conformance: rumpuser vN, M cases` announcement, and XTF's `Test result:` line).
 */
import { guestKernelCflags } from '@rumpxen/protocol';
import { parseCaseLine, parseResultLine, XTF_EXIT_CODES, type CaseLine, type CaseOutcome, type XtfResult } from '@rumpxen/protocol';

/**
 * Flags the suite's objects are compiled with (c/CMakeLists.txt reads them from here): the
 * suite plays a rump kernel, so these are the guest toolchain contract's kernel flags
 * (@rumpxen/protocol's guestKernelCflags), which the Xen targets' kernelCflags are too.
 */
export const conformanceCflags: readonly string[] = guestKernelCflags;

/**
 * rumpuser_getparam name of the file the file/bio cases work on: an existing file (or disk)
 * of exactly `conformanceFileSize` bytes that the suite may overwrite. Without it those cases
 * SKIP, as they do when rumpuser_open returns ENXIO.
 */
export const conformanceFileParam = 'RUMPXEN_CONFORMANCE_FILE';
export const conformanceFileSize = 64 * 1024;

/** A line the console_dprintf case prints; a runner checks it arrived verbatim. */
export const conformanceDprintfLine = 'console: dprintf 42 -7 ff abc';

// The lines and exit codes are the result protocol's, kept in @rumpxen/protocol (verdict.ts).
export type { CaseOutcome, XtfResult };

/** One case's line: name, outcome and, for FAIL and SKIP, the reason. */
export type ConformanceCase = CaseLine;

/** XTF's exit status for each result. */
export const xtfExitCodes: Readonly<Record<XtfResult, number>> = XTF_EXIT_CODES;

export interface ConformanceReport {
  /** Cases in the order they reported. A case reported twice keeps its worst outcome. */
  cases: ConformanceCase[];
  /** Number of cases the suite announced, or null if the announcement never came. */
  announced: number | null;
  /** The XTF result line, or null if the run ended without one (hang, crash). */
  result: XtfResult | null;
}

const announceLine = /^conformance: rumpuser v\d+, (\d+) cases$/;
const rank: Record<CaseOutcome, number> = { PASS: 0, SKIP: 1, FAIL: 2 };

/**
 * Reads a conformance run's console output (any target; other lines are ignored). Case and
 * result lines are read by the result protocol's one parser (@rumpxen/protocol).
 */
export function parseConformanceOutput(text: string): ConformanceReport {
  const byName = new Map<string, ConformanceCase>();
  let announced: number | null = null;
  let result: XtfResult | null = null;
  for (const line of text.split('\n')) {
    const next = parseCaseLine(line);
    if (next) {
      const prev = byName.get(next.name);
      if (!prev || rank[next.outcome] > rank[prev.outcome]) byName.set(next.name, next);
      continue;
    }
    const m = announceLine.exec(line.trim());
    if (m) announced = Number(m[1]);
    else result = parseResultLine(line) ?? result;
  }
  return { cases: [...byName.values()], announced, result };
}
