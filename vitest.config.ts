import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two cores: files that start servers and sessions run two at a time at most.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
