import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Test files share no mutable state; reusing loaded modules saves re-importing aws-cdk-lib per file.
    isolate: false,
    // Synthesizing the stack takes a few seconds per template.
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
