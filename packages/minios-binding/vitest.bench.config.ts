import { defineConfig } from 'vitest/config';

/** `npm run bench`: boots measurement images; prints figures, never a pass/fail goal. */
export default defineConfig({
  test: {
    name: 'minios-binding-bench',
    include: ['bench/**/*.bench-run.ts'],
    testTimeout: 600_000,
    hookTimeout: 600_000,
  },
});
