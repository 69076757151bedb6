import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'netbsd-libc',
    include: ['test/**/*.test.ts'],
    passWithNoTests: true,
  },
});
