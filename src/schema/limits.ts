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

/**
 * Longest GraphQL document accepted, in characters. The token limit does not see comments,
 * and one name or string is one token however long: without this, documents of megabytes
 * (1,024 of them kept in Yoga's parse cache) could take the process's memory. The
 * gateway's own documents are under 1,000 characters; GraphiQL users have 64 times that.
 */
export const MAX_DOCUMENT_CHARS = 65_536;

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
