/**
 * The host's side of test/dom0/steps.mjs: the step reports in a dom0 run's stdout, and each
 * step's value for the assertions that depend on it. A step that failed, was not run, or
 * reported nothing (the script died before it) throws when its value is asked for, naming
 * why, so only the assertions on that step fail.
 */
import { STEP_PREFIX } from './dom0/steps.mjs';

export interface StepRecord {
  step: string;
  ok: boolean;
  value?: unknown;
  error?: string;
  skipped?: string;
}

export class StepResults {
  readonly records = new Map<string, StepRecord>();

  /** `whyMissing`: what to say for a step with no report (e.g. the script's exit code and last stderr lines). */
  constructor(
    stdout: string,
    private readonly whyMissing: string,
  ) {
    for (const line of stdout.split('\n')) {
      if (!line.startsWith(STEP_PREFIX)) continue;
      const r = JSON.parse(line.slice(STEP_PREFIX.length)) as StepRecord;
      this.records.set(r.step, r);
    }
  }

  /** The value a step returned; throws an Error naming the step and why when it has none. */
  value<T>(name: string): T {
    const r = this.records.get(name);
    if (!r) throw new Error(`dom0 step '${name}' reported nothing: ${this.whyMissing}`);
    if (!r.ok) throw new Error(`dom0 step '${name}' ${r.skipped ?? `failed: ${r.error}`}`);
    return r.value as T;
  }
}
