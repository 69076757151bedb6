/**
 * Xen control figures (issue 6 bench): request → first console line and domains created per
 * second, through the addon's direct and libxl paths and through `xl create`, in one dom0.
 * Prints the table; the ≥5x goal is reported, never asserted.
 */
import { it } from 'vitest';

import { runXenBench } from './xen-bench.mjs';

it('compares the addon fast path with xl create', async () => {
  await runXenBench({ runs: Number(process.env.BENCH_RUNS ?? 5), loop: Number(process.env.BENCH_LOOP ?? 10) });
}, 900_000);
