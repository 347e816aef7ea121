import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // As the root's vitest.config.ts: graphql 16 has no "exports" map, so Node loads its CJS build
    // and Vite would pick index.mjs. The gateway code these tests import (test/helpers/gateway.ts →
    // src/server.ts) would then meet two copies and fail instanceof checks ("from another module or realm").
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // As the root's: every temporary file of the run (CDK writes a cdk.out… per synthesized app) under
    // one folder, removed at its end.
    globalSetup: ['../test/helpers/run-tmpdir.ts'],
    // CDK's template assertions as matchers, so that they count for requireAssertions below.
    setupFiles: ['test/template-matchers.ts'],
    // Test files share no mutable state; reusing loaded modules saves re-importing aws-cdk-lib per file.
    isolate: false,
    // Synthesizing the stack takes a few seconds per template.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // As the root's: a test that asserts nothing fails.
    expect: { requireAssertions: true },
  },
});
