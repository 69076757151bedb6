import { defineConfig } from 'vitest/config';

// One run over every workspace's own vitest config; `npm test` sums their results.
export default defineConfig({
  test: {
    projects: ['packages/*', 'tools/*'],
  },
});
