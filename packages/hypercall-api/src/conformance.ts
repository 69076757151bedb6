/**
 * The conformance suite's contract for whoever runs it on a target: how it is compiled, what
 * it needs, and how to read its output (`case NAME: PASS|FAIL reason|SKIP reason` lines, a
 * `conformance: rumpuser vN, M cases` announcement, and XTF's `Test result:` line).
 */

/**
 * Flags the suite's objects are compiled with: freestanding, no PIC, small code model (the
 * image must sit in the low 2 GiB), no red zone (x86-64), frame pointers for backtraces.
 */
export const conformanceCflags: readonly string[] = Object.freeze([
  '-ffreestanding',
  '-fno-pic',
  '-fno-pie',
  '-mcmodel=small',
  '-mno-red-zone',
  '-fno-stack-protector',
  '-fstack-clash-protection',
  '-fno-omit-frame-pointer',
  '-nostdinc',
  '-fno-builtin',
  '-fno-tree-loop-distribute-patterns',
]);

/**
 * rumpuser_getparam name of the file the file/bio cases work on: an existing file (or disk)
 * of exactly `conformanceFileSize` bytes that the suite may overwrite. Without it those cases
 * SKIP, as they do when rumpuser_open returns ENXIO.
 */
export const conformanceFileParam = 'RUMPXEN_CONFORMANCE_FILE';
export const conformanceFileSize = 64 * 1024;

/** A line the console_dprintf case prints; a runner checks it arrived verbatim. */
export const conformanceDprintfLine = 'console: dprintf 42 -7 ff abc';

export type CaseOutcome = 'PASS' | 'FAIL' | 'SKIP';

export interface ConformanceCase {
  name: string;
  outcome: CaseOutcome;
  /** Why it failed or skipped; empty for PASS. */
  reason: string;
}

export type XtfResult = 'SUCCESS' | 'SKIP' | 'ERROR' | 'FAILURE' | 'CRASH';

/** XTF's exit status for each result. */
export const xtfExitCodes: Readonly<Record<XtfResult, number>> = Object.freeze({
  SUCCESS: 0,
  SKIP: 3,
  ERROR: 4,
  FAILURE: 5,
  CRASH: 6,
});

export interface ConformanceReport {
  /** Cases in the order they reported. A case reported twice keeps its worst outcome. */
  cases: ConformanceCase[];
  /** Number of cases the suite announced, or null if the announcement never came. */
  announced: number | null;
  /** The XTF result line, or null if the run ended without one (hang, crash). */
  result: XtfResult | null;
}

const caseLine = /^case ([A-Za-z0-9_.-]+): (PASS|FAIL|SKIP)(?: (.*))?$/;
const announceLine = /^conformance: rumpuser v\d+, (\d+) cases$/;
const resultLine = /^Test result: (SUCCESS|SKIP|ERROR|FAILURE|CRASH)$/;
const rank: Record<CaseOutcome, number> = { PASS: 0, SKIP: 1, FAIL: 2 };

/** Reads a conformance run's console output (any target; other lines are ignored). */
export function parseConformanceOutput(text: string): ConformanceReport {
  const byName = new Map<string, ConformanceCase>();
  let announced: number | null = null;
  let result: XtfResult | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '').trimEnd();
    let m = caseLine.exec(line);
    if (m) {
      const next: ConformanceCase = { name: m[1]!, outcome: m[2] as CaseOutcome, reason: m[3] ?? '' };
      const prev = byName.get(next.name);
      if (!prev || rank[next.outcome] > rank[prev.outcome]) byName.set(next.name, next);
      continue;
    }
    if ((m = announceLine.exec(line))) announced = Number(m[1]);
    else if ((m = resultLine.exec(line))) result = m[1] as XtfResult;
  }
  return { cases: [...byName.values()], announced, result };
}
