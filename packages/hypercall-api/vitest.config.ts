import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'hypercall-api',
    include: ['test/**/*.test.ts'],
    passWithNoTests: true,
  },
});
