/**
 * The full testbed for a describe block's tests, in a file of its own: importing it loads
 * @rumpxen/xen-testbed, which tests of the library's loading (run.test.ts) must not get
 * through helpers.ts.
 */
import { Testbed } from '@rumpxen/xen-testbed';
import { afterAll, beforeAll } from 'vitest';

/**
 * A full testbed (Linux dom0 with xl; HAP, so PVH DomUs run too) for the tests of the
 * enclosing describe block: started before them, stopped after. Returns its getter.
 */
export function fullTestbed(): () => Testbed {
  let tb: Testbed | undefined;
  beforeAll(async () => {
    tb = await Testbed.start({ edu: false, pvh: true });
  }, 240_000);
  afterAll(async () => {
    await tb?.stop();
  });
  return () => {
    if (!tb) throw new Error('the full testbed did not start (see beforeAll)');
    return tb;
  };
}
