// The shutdown reasons: one list, in SHUTDOWN_* order (xen/sched.h), for every reader of a
// domain's end (the dom0 API's waitForShutdown, the testbed's DomU verdict, the image-linker's xl runner).
import { describe, expect, it } from 'vitest';
import { SHUTDOWN, SHUTDOWN_REASONS, shutdownReason } from '../src/index.js';

describe('shutdown reasons', () => {
  it('names SHUTDOWN_* codes 0-5 as xen/sched.h numbers them', () => {
    expect(SHUTDOWN_REASONS).toEqual(['poweroff', 'reboot', 'suspend', 'crash', 'watchdog', 'soft_reset']);
    expect([0, 1, 2, 3, 4, 5].map(shutdownReason)).toEqual([...SHUTDOWN_REASONS]);
  });

  it('gives each name its code', () => {
    expect(SHUTDOWN).toEqual({ poweroff: 0, reboot: 1, suspend: 2, crash: 3, watchdog: 4, soft_reset: 5 });
    expect(Object.isFrozen(SHUTDOWN)).toBe(true);
  });

  it('leaves codes Xen does not define to the caller', () => {
    for (const code of [-1, 6, 99, 1.5, Number.NaN]) expect(shutdownReason(code)).toBeUndefined();
  });
});
