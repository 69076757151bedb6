import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'image-linker',
    include: ['test/**/*.test.ts'],
    passWithNoTests: true,
  },
});
