/**
 * GraphQL abuse limits, checked while Yoga validates a document (before anything runs):
 * depth, aliases, tokens, directives and cost via graphql-armor; field suggestions off
 * in production (they leak the schema); introspection switchable, on by default because
 * auditors and GraphiQL read the schema.
 */
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { NoSchemaIntrospectionCustomRule } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Config } from '../config.js';

export function limitPlugins(config: Config): Plugin[] {
  const armor = EnvelopArmorPlugin({
    maxDepth: { n: config.GRAPHQL_MAX_DEPTH, ignoreIntrospection: true },
    maxAliases: { n: config.GRAPHQL_MAX_ALIASES },
    maxTokens: { n: config.GRAPHQL_MAX_TOKENS },
    maxDirectives: { n: 10 },
    costLimit: { maxCost: config.GRAPHQL_MAX_COST, ignoreIntrospection: true },
    blockFieldSuggestion: { enabled: config.NODE_ENV === 'production' },
  }) as Plugin;
  const plugins: Plugin[] = [armor];
  if (!config.INTROSPECTION_ENABLED) {
    plugins.push({ onValidate: ({ addValidationRule }) => addValidationRule(NoSchemaIntrospectionCustomRule) });
  }
  return plugins;
}
