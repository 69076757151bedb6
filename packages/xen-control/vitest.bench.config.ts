import { defineConfig } from 'vitest/config';

/** `npm run bench`: boots a full testbed; prints figures, never a pass/fail goal. */
export default defineConfig({
  test: {
    name: 'xen-control-bench',
    include: ['bench/**/*.bench-run.ts'],
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 600_000,
  },
});
