/**
 * GraphQL abuse limits, checked while Yoga validates a document (before anything runs):
 * depth, aliases, tokens, directives and cost via graphql-armor; field suggestions off
 * in production (they leak the schema); introspection switchable, on by default because
 * auditors and GraphiQL read the schema.
 */
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { GraphQLError, getNamedType, isIntrospectionType, type ASTVisitor, type ValidationContext } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Config } from '../config.js';

/**
 * Longest GraphQL document accepted, in characters. The token limit does not see comments,
 * and one name or string is one token however long: without this, documents of megabytes
 * (CACHED_DOCUMENTS of them kept parsed, as many compiled) could take the process's memory. The
 * gateway's own documents are under 1,000 characters; GraphiQL users have 64 times that.
 */
export const MAX_DOCUMENT_CHARS = 65_536;

/**
 * Bounds on GraphQL variables before graphql-js reads them. graphql-js prints the whole
 * invalid value into each of up to 50 error messages: a 5 MB customer of unknown keys came
 * back as a 505 MB answer after 44 s. A field name is bounded as a string is (graphql-js prints
 * it raw, in the value and in its "Field … is not defined" message, and names it in the issue's
 * path: one 4.9 MB name came back as a 4.9 MB answer, 20 copies of it built on the way).
 * CustomerInput has 20 fields and customerId at most 256 characters, so these bounds leave every
 * valid request alone.
 */
export const VARIABLE_LIMITS = { maxObjectKeys: 64, maxStringChars: 1024, maxDepth: 16 } as const;

/**
 * The first place in `value` over VARIABLE_LIMITS, as a path and what is wrong there; null when within.
 * The message says what the gateway reads, not what a field takes: the field at the path may take
 * less (customerId) or only names (an enum), which graphql-endpoint.ts adds (variable-rules.ts).
 */
export function variablesOverLimits(value: unknown): { path: (string | number)[]; message: string } | null {
  const { maxObjectKeys, maxStringChars, maxDepth } = VARIABLE_LIMITS;
  const visit = (v: unknown, depth: number): { path: (string | number)[]; message: string } | null => {
    if (typeof v === 'string') return v.length > maxStringChars ? { path: [], message: `a string of ${v.length} characters, longer than any string this gateway reads in variables (${maxStringChars})` } : null;
    if (typeof v !== 'object' || v === null) return null;
    if (depth > maxDepth) return { path: [], message: `nested more than ${maxDepth} levels deep` };
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const found = visit(v[i], depth + 1);
        if (found) return { ...found, path: [i, ...found.path] };
      }
      return null;
    }
    const keys = Object.keys(v);
    if (keys.length > maxObjectKeys) return { path: [], message: `an object of ${keys.length} keys, more than any object this gateway reads in variables has (${maxObjectKeys})` };
    // Named by the object's path: the name itself is what is too long to quote.
    const longName = keys.find((key) => key.length > maxStringChars);
    if (longName !== undefined) return { path: [], message: `an object that has a field name of ${longName.length} characters, longer than any name this gateway reads in variables (${maxStringChars})` };
    for (const key of keys) {
      const found = visit((v as Record<string, unknown>)[key], depth + 1);
      if (found) return { ...found, path: [key, ...found.path] };
    }
    return null;
  };
  return visit(value, 0);
}

/** Directives one document may use (graphql-armor); not configurable: the schema defines none of its own. */
export const MAX_DIRECTIVES = 10;

/**
 * graphql-armor's "Token limit of <n> exceeded." with the cure: a customer written in the document
 * is ~60 tokens, so a predictBatch of ~16 reaches the default limit (GraphiQL's Explorer writes
 * arguments inline), and a valid document was answered a syntax error with nothing to do about
 * it. graphql-armor prefixes "Syntax Error: ", answered as GRAPHQL_PARSE_FAILED (error-codes.ts).
 */
const tokenLimitMessage = (n: number): string =>
  `Token limit of ${n} exceeded. Values written in the document count, variables do not: send customers as variables, ` +
  'as in mutation Batch($customers: [CustomerInput!]!) { predictBatch(customers: $customers) { churnProbability } } with {"customers": [...]}.';

/** The committed SDL, from the repository's root (scripts/print-schema.ts writes it; the README's GraphQL section links it). */
export const SCHEMA_SDL_FILE = 'schema/schema.graphql';

/**
 * graphql-js's NoSchemaIntrospectionCustomRule, in its words, but once per document and saying
 * where the schema is: it refused each field of an introspection type, so a client generator's
 * standard introspection query got 39 errors, none pointing at the SDL such a team reads instead.
 * The rest of the document's introspection fields stay refused (the document does not validate).
 */
function noIntrospectionOnce(context: ValidationContext): ASTVisitor {
  let reported = false;
  return {
    Field(node) {
      if (reported) return;
      const type = getNamedType(context.getType());
      if (!type || !isIntrospectionType(type)) return;
      reported = true;
      context.reportError(
        new GraphQLError(
          `GraphQL introspection has been disabled, but the requested query contained the field "${node.name.value}". The schema is published as ` +
            `${SCHEMA_SDL_FILE} in the gateway's repository (its README's GraphQL section links it): generate clients from that file.`,
          { nodes: node },
        ),
      );
    },
  };
}

export function limitPlugins(config: Config): Plugin[] {
  const armor = EnvelopArmorPlugin({
    maxDepth: { n: config.GRAPHQL_MAX_DEPTH, ignoreIntrospection: true },
    maxAliases: { n: config.GRAPHQL_MAX_ALIASES },
    maxTokens: { n: config.GRAPHQL_MAX_TOKENS, exposeLimits: false, errorMessage: tokenLimitMessage(config.GRAPHQL_MAX_TOKENS) },
    maxDirectives: { n: MAX_DIRECTIVES },
    costLimit: { maxCost: config.GRAPHQL_MAX_COST, ignoreIntrospection: true },
    blockFieldSuggestion: { enabled: config.NODE_ENV === 'production' },
  }) as Plugin;
  const plugins: Plugin[] = [armor];
  if (!config.INTROSPECTION_ENABLED) {
    plugins.push({ onValidate: ({ addValidationRule }) => addValidationRule(noIntrospectionOnce) });
  }
  return plugins;
}
