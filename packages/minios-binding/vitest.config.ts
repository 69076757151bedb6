import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'minios-binding',
    include: ['test/**/*.test.ts'],
    passWithNoTests: true,
  },
});
