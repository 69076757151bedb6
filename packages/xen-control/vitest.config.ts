import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'xen-control',
    include: ['test/**/*.test.ts'],
    passWithNoTests: true,
    // xen-full boots Xen in QEMU: one file at a time, so a boot never shares the 2 cores with another.
    fileParallelism: false,
  },
});
