/**
 * Every error a user can cause: what was wrong (the subject), why, and what to do. The CLI
 * prints `message` and exits with `exitCode` (2 for bad input, 1 for a failed build).
 */
export class NetbsdBuildError extends Error {
  readonly subject: string;
  readonly problem: string;
  readonly fix: string;
  readonly exitCode: number;

  constructor(subject: string, problem: string, fix: string, exitCode = 2) {
    super(`${subject}: ${problem} ${fix}`);
    this.name = 'NetbsdBuildError';
    this.subject = subject;
    this.problem = problem;
    this.fix = fix;
    this.exitCode = exitCode;
  }
}
