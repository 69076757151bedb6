import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'pci-passthrough',
    include: ['test/**/*.test.ts'],
    passWithNoTests: true,
  },
});
