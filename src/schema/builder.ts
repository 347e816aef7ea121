/**
 * The Pothos schema builder and the GraphQL context type. Defines no types itself.
 */
import SchemaBuilder from '@pothos/core';
import type { Predictor } from '../prediction.js';
import type { RequestState } from '../request-state.js';
import type { ModelAdmin } from '../model/model-admin.js';
import type { DriverBudget } from './explanation.js';
import { MAX_DIRECTIVES, MAX_DOCUMENT_CHARS, VARIABLE_LIMITS } from './limits.js';
import { CONFIG_DEFAULTS, grouped } from './stated-values.js';

export interface GraphQLContext {
  readonly predictor: Predictor;
  readonly admin: ModelAdmin;
  readonly maxBatch: number;
  readonly request: RequestState;
  /** Risk drivers being explained at once, across requests (explanation.ts): what each request takes is on its RequestState (driversHeld). */
  readonly drivers: DriverBudget;
  /**
   * Set once a predict or predictBatch field of the operation failed (prediction.ts
   * unlessEarlierFieldFailed). graphql-js runs no mutation field after one failed; graphql-jit
   * (graphql-endpoint's compiled path) runs the rest, which then do nothing.
   */
  rootFieldFailed?: boolean;
  /**
   * Risk drivers the operation's explanations write, counted over its predict and predictBatch
   * fields so far (explanation.ts reserveDrivers): aliases cannot multiply them past the allowance.
   */
  explainedDrivers?: number;
}

export interface GatewayTypes {
  Context: GraphQLContext;
  DefaultFieldNullability: false;
}

export const builder = new SchemaBuilder<GatewayTypes>({ defaultFieldNullability: false });

const { GRAPHQL_MAX_DEPTH, GRAPHQL_MAX_ALIASES, GRAPHQL_MAX_TOKENS, GRAPHQL_MAX_COST, BODY_LIMIT_BYTES, REQUEST_TIMEOUT_MS } = CONFIG_DEFAULTS;
const { maxStringChars, maxObjectKeys, maxDepth } = VARIABLE_LIMITS;

builder.queryType({
  description: 'Read-only questions about the gateway and its model. The limits on a document, and the refusals that are not GraphQL responses, are under Mutation.',
});

// What a client meets before any field runs: the document's limits (graphql-armor, limits.ts) and
// the refusals of the HTTP request itself (graphql-endpoint.ts, http.ts, app.ts), which Apollo and
// urql report as network errors with a body they do not read.
builder.mutationType({
  description: [
    'Predictions (mutations because each is a logged, metered act of scoring) and model administration.',
    '',
    `Limits on a document (defaults; the operator may change depth, aliases, tokens and cost; the directives and the character limit are fixed): depth ${GRAPHQL_MAX_DEPTH}, ${GRAPHQL_MAX_ALIASES} aliases, ` +
      `${grouped(GRAPHQL_MAX_TOKENS)} tokens, cost ${grouped(GRAPHQL_MAX_COST)}, ${MAX_DIRECTIVES} directives (beyond: GRAPHQL_PARSE_FAILED, HTTP 400), ` +
      `and ${grouped(MAX_DOCUMENT_CHARS)} characters (beyond: a 400 problem, below).`,
    '',
    'Some refusals come before GraphQL runs and are answered as application/problem+json ' +
      '({ type, title, status, detail, requestId }, and errors [{ path, message }] when a field is at fault, its path one string such as "variables.c.customerId"), ' +
      'not as GraphQL errors (no data, no extensions.code): tell them by that content-type, and read detail first (each message continues its path):',
    `- 400: a body that is not UTF-8, or a JSON object without a string query, or whose variables or extensions is not an object; an object that sends a field twice; a number such as 1e-400, ` +
      `which would read as 0; a document over ${grouped(MAX_DOCUMENT_CHARS)} characters; a variable with a string or field name over ` +
      `${grouped(maxStringChars)} characters, an object over ${maxObjectKeys} keys, or more than ${maxDepth} levels of nesting;`,
    `- 413: a body over BODY_LIMIT_BYTES (default ${grouped(BODY_LIMIT_BYTES)} bytes);`,
    '- 415: a content-type other than application/json in UTF-8, or a compressed body;',
    `- 503: too many request bodies at once (MAX_BODY_BYTES_IN_FLIGHT; with Retry-After), or no answer within REQUEST_TIMEOUT_MS ` +
      `(default ${grouped(REQUEST_TIMEOUT_MS)} ms; detail starts REQUEST_TIMEOUT), or none before the gateway stopped (detail starts SHUTTING_DOWN; with Retry-After); ` +
      '408 when the body itself did not arrive within REQUEST_TIMEOUT_MS.',
    '',
    'A failure no resolver expects is the GraphQL error "Unexpected error." (INTERNAL_SERVER_ERROR) with HTTP 200: quote its extensions.requestId (also the answer\'s x-request-id header), under which its cause is logged.',
  ].join('\n'),
});
