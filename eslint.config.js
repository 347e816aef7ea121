import tseslint from 'typescript-eslint';

export default tseslint.config(
  // One config for both TypeScript projects: the gateway (`npm run lint`) and the CDK app in infra/
  // (`npm run lint:infra`, which needs infra/node_modules for the aws-cdk-lib types).
  {
    ignores: ['dist/**', 'node_modules/**', 'model/**', 'src/generated/**', 'ui/dist/**', 'bench/results/**', 'coverage/**',
      'infra/node_modules/**', 'infra/cdk.out/**', 'infra/.venv/**'],
  },
  // Type-aware: the rules see where `any` flows in (JSON.parse, Response.json(), untyped
  // library returns), not only where it is written.
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        // Each file gets its nearest tsconfig.json: the root one covers src, test, bench, scripts,
        // ui/src, codegen.ts and vitest.config.ts, infra/tsconfig.json the CDK app (bin, lib, test,
        // vitest.config.ts); this file is in no tsconfig and gets the default project.
        projectService: { allowDefaultProject: ['eslint.config.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
  },
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      // Errors in recommendedTypeChecked already; named so that no preset change turns them off.
      '@typescript-eslint/no-unsafe-assignment': 'error',
      '@typescript-eslint/no-unsafe-member-access': 'error',
      '@typescript-eslint/no-unsafe-call': 'error',
      '@typescript-eslint/no-unsafe-return': 'error',
      '@typescript-eslint/no-unsafe-argument': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      // Passing on a rejection reason typed unknown, unchanged, is allowed, as only-throw-error
      // allows `throw err` of an unknown by default.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
    },
  },
  {
    // Vitest types its asymmetric matchers (expect.any, expect.stringMatching, expect.objectContaining…)
    // as `any` so they fit anywhere in an expected value: every one inside an object literal is
    // an "unsafe assignment". A JSON.parse result is still caught where it is used: the
    // member-access, call, argument and return rules stay on here.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
    },
  },
);
