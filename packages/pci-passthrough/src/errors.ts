import { PciSpecError } from '@rumpxen/protocol';

/**
 * Errors a user can cause on the host side of PCI passthrough. Each names the input, what was
 * wrong with it and what to do; `code` lets callers (the image-linker CLI, tests) tell them apart
 * without matching on message text.
 */
export type PciErrorCode =
  | 'BAD_BDF'
  | 'NO_SUCH_DEVICE'
  | 'BOUND_TO_HOST_DRIVER'
  | 'NO_IOMMU'
  | 'NO_PCIBACK'
  | 'BAD_CONFIG_SPACE'
  | 'BAD_OPTION'
  | 'NOT_ASSIGNED'
  | 'SYSFS_WRITE_FAILED'
  | 'VERIFY_FAILED'
  | 'BAD_STATE';

export class PciError extends Error {
  readonly code: PciErrorCode;
  /** Exit code a CLI uses when this error ends a command (2 = bad input, 1 = environment). */
  readonly exitCode: number;
  constructor(code: PciErrorCode, message: string, exitCode = 1) {
    super(message);
    this.name = 'PciError';
    this.code = code;
    this.exitCode = exitCode;
  }
}

/**
 * Runs `f` (a call into @rumpxen/protocol's PCI device model) and turns a spec it refused into
 * a PciError with the same message: BAD_BDF for the address, BAD_OPTION for an option, exit 2.
 */
export function pciErrorOf<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (!(e instanceof PciSpecError)) throw e;
    const code = e.problem === 'bdf' || e.problem === 'device-number' ? 'BAD_BDF' : 'BAD_OPTION';
    throw new PciError(code, e.message, 2);
  }
}
