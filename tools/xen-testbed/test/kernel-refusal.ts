/** The kernel checks' refusal of a file, for tests that hold its message. */
import { expect } from 'vitest';
import { BadKernelError, validateKernel } from '../src/index.js';

/** The message with which `validateKernel` refuses `path` (a BadKernelError, exit 2); fails the test if it accepts it. */
export function kernelRefusal(path: string, pvh = false): string {
  try {
    validateKernel(path, { pvh });
  } catch (e) {
    expect(e).toBeInstanceOf(BadKernelError);
    expect((e as BadKernelError).exitCode).toBe(2);
    return (e as Error).message;
  }
  throw new Error(`validateKernel accepted ${path}`);
}
