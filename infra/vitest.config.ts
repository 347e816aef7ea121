import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Synthesizing the stack takes a few seconds per template.
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
