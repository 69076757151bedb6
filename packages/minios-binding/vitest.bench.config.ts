import { defineConfig } from 'vitest/config';

/** `npm run bench`: boots measurement images; prints figures, never a pass/fail goal. */
export default defineConfig({
  test: {
    name: 'minios-binding-bench',
    include: ['bench/**/*.bench-run.ts'],
    // Each file boots Xen in QEMU: one at a time.
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 600_000,
  },
});
