import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'xen-testbed',
    include: ['test/**/*.test.ts'],
    passWithNoTests: true,
  },
});
