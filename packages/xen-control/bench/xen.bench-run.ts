/**
 * Xen control figures (issues 6 and 15): request → first console line and domains created
 * and destroyed per second, through the addon's fast path (and with each of its parts off),
 * its libxl path and `xl create`, in one dom0; where the fast path's time goes; a leak check.
 * Prints the tables and each goal as met or MISSED; never asserts a speed.
 */
import { it } from 'vitest';

import { runXenBench } from './xen-bench.mjs';

it('compares the addon fast path with xl create', async () => {
  await runXenBench({ runs: Number(process.env.BENCH_RUNS ?? 5), loop: Number(process.env.BENCH_LOOP ?? 10) });
}, 900_000);
