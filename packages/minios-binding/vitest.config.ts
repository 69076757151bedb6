import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'minios-binding',
    include: ['test/**/*.test.ts'],
    passWithNoTests: true,
    // Files boot Xen in QEMU: one at a time, so a file never shares the 2 cores with another boot.
    fileParallelism: false,
  },
});
