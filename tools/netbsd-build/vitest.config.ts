import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'netbsd-build',
    include: ['test/**/*.test.ts'],
    // The NetBSD builds are shared through the cache: run the files one after another.
    fileParallelism: false,
    testTimeout: 60_000,
  },
});
