import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // graphql 16 has no "exports" map: Node loads its CJS build, Vite would pick index.mjs.
    // Two copies break instanceof checks ("from another module or realm"), so tests use Node's.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // Every temporary file of the run under one folder, removed at its end.
    globalSetup: ['test/helpers/run-tmpdir.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two cores: files that start servers and sessions run two at a time at most.
    maxWorkers: 2,
    reporters: ['default'],
    // A test that asserts nothing fails: a test that cannot fail is a defect.
    expect: { requireAssertions: true },
  },
});
