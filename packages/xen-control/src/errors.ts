/** Errors raised by the Xen API; every one names the input, the problem and the fix. */
import { DomainConfigError } from '@rumpxen/protocol';

/** A Xen library call failed. `code` is the errno name (`ESRCH`, `EACCES`...), `syscall` the call. */
export class XenError extends Error {
  override readonly name = 'XenError';
  constructor(
    message: string,
    readonly code: string,
    readonly syscall: string,
    readonly errno: number,
  ) {
    super(message);
  }
}

/** Xen (or its libraries, or xenstored) is not usable on this machine. `missing` lists what is absent. */
export class XenUnavailableError extends Error {
  override readonly name = 'XenUnavailableError';
  readonly code = 'ERR_XEN_UNAVAILABLE';
  constructor(
    readonly missing: string[],
    detail?: string,
  ) {
    super(
      `Xen is not available here: ${missing.join('; ')}. ` +
        'Run this as root in a Xen dom0 with xenstored started, or boot one with @rumpxen/xen-testbed.' +
        (detail ? `\n${detail}` : ''),
    );
  }
}

/**
 * A domain config or an argument was refused before reaching Xen. `field` is the offending
 * input. A DomainConfigError of @rumpxen/protocol (the domain model's own check), named for
 * this API.
 */
export class XenConfigError extends DomainConfigError {
  override readonly name: string = 'XenConfigError';
  override readonly code: string = 'ERR_XEN_CONFIG';
}

interface NativeErrorShape {
  message: string;
  code?: string;
  syscall?: string;
  errno?: number;
}

/** Turns an addon rejection (an Error with code/syscall/errno) into a XenError; anything else passes through. */
export function fromNative(e: unknown): unknown {
  if (e instanceof Error && typeof (e as NativeErrorShape).syscall === 'string') {
    const n = e as NativeErrorShape;
    return new XenError(n.message, n.code ?? 'EIO', n.syscall ?? '', n.errno ?? 0);
  }
  return e;
}

/** Awaits a native promise, converting its rejection. */
export async function call<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    throw fromNative(e);
  }
}
