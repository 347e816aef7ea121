/**
 * Typed documents for the operations in schema/operations, generated from the committed
 * SDL. The tests and the UI import them from src/generated/.
 */
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: 'schema/schema.graphql',
  documents: ['schema/operations/*.graphql'],
  generates: {
    'src/generated/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: { importExtension: '.js', enumsAsTypes: true, useTypeImports: true, scalars: {} },
    },
  },
  hooks: {},
};

export default config;
