/**
 * Every error a user can cause: which input was bad, what was wrong with it, and what to do.
 * The CLI prints `message` as one paragraph and exits with `exitCode` (2 for bad input).
 */
export class ImageLinkerError extends Error {
  readonly input: string;
  readonly problem: string;
  readonly fix: string;
  readonly exitCode: number;

  constructor(input: string, problem: string, fix: string, exitCode = 2) {
    super(`${input}: ${problem} ${fix}`);
    this.name = 'ImageLinkerError';
    this.input = input;
    this.problem = problem;
    this.fix = fix;
    this.exitCode = exitCode;
  }
}
