/**
 * Why a Xen domain shut down: the SHUTDOWN_* codes of Xen's public `xen/sched.h`, which libxl
 * reports unchanged as `LIBXL_SHUTDOWN_REASON_*` and `xl list -v` prints in its reason column.
 */

/** The reasons by code: index = SHUTDOWN_* value. */
export const SHUTDOWN_REASONS = ['poweroff', 'reboot', 'suspend', 'crash', 'watchdog', 'soft_reset'] as const;

export type ShutdownReasonName = (typeof SHUTDOWN_REASONS)[number];

/** The SHUTDOWN_* code of each reason (`SHUTDOWN.crash === 3`). */
export const SHUTDOWN: Readonly<Record<ShutdownReasonName, number>> = Object.freeze(
  Object.fromEntries(SHUTDOWN_REASONS.map((name, code) => [name, code])) as Record<ShutdownReasonName, number>,
);

/** The name of a SHUTDOWN_* code; undefined for a code Xen does not define (the caller decides how to show it). */
export function shutdownReason(code: number): ShutdownReasonName | undefined {
  return Number.isInteger(code) && code >= 0 ? SHUTDOWN_REASONS[code] : undefined;
}
