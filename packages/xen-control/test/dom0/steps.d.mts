export declare const STEP_PREFIX: string;
export interface Step {
  name: string;
  needs?: string[];
  run(values: Record<string, unknown>): unknown;
}
export declare function runSteps(
  steps: Step[],
  opts?: { afterFailure?: (name: string) => Promise<void>; write?: (line: string) => void },
): Promise<number>;
