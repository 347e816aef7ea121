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
  description: 'Read-only questions about the gateway and its model. The limits on a document, and the errors and refusals of a request before any field runs, are under Mutation.',
});

// What a client meets before any field runs: the document's limits (graphql-armor, limits.ts),
// Yoga's and the endpoint's GraphQL-shaped refusals of the request (graphql-endpoint.ts,
// operation-name.ts), and the refusals of the HTTP request itself (graphql-endpoint.ts, http.ts,
// app.ts), which Apollo and urql report as network errors with a body they do not read. The
// README's error table is the full list, for every route; schema.test.ts checks that each of its
// codes and statuses is named here or on a field.
builder.mutationType({
  description: [
    'Predictions (mutations because each is a logged, metered act of scoring) and model administration.',
    '',
    `Limits on a document (defaults; the operator may change depth, aliases, tokens and cost; the directives and the character limit are fixed): depth ${GRAPHQL_MAX_DEPTH}, ${GRAPHQL_MAX_ALIASES} aliases, ` +
      `${grouped(GRAPHQL_MAX_TOKENS)} tokens (values written in the document count, variables do not: send customers as variables), cost ${grouped(GRAPHQL_MAX_COST)}, ${MAX_DIRECTIVES} directives (beyond: GRAPHQL_PARSE_FAILED, HTTP 400), ` +
      `and ${grouped(MAX_DOCUMENT_CHARS)} characters (beyond: a 400 problem, below).`,
    '',
    'Errors of the request, before any field runs, for every operation (each field lists its own), are GraphQL errors with extensions.code and no data:',
    '- GRAPHQL_PARSE_FAILED (HTTP 400): a document that does not parse, or is over a limit above; GRAPHQL_VALIDATION_FAILED (HTTP 400): one that does not validate against this schema;',
    '- OPERATION_RESOLUTION_FAILURE (HTTP 400): an operationName that names no operation of the document (one renamed in the document but not in ' +
      'the request, or any name sent with an operation that has none), a document of several operations without an operationName, an empty one, ' +
      'or a document of fragments only; the message names the operations it has;',
    '- BAD_REQUEST (HTTP 400): a body that is not JSON (a document pasted into a JSON string with its line breaks is not: encode it, as JSON.stringify or jq -Rs do), ' +
      'or empty, or JSON but not an object (an array: batching is not supported), or an object with a member other than query, operationName, variables and extensions that is not null;',
    '- BAD_REQUEST (HTTP 405, with Allow): a method other than GET, HEAD or POST, or a mutation by GET or HEAD (Allow: POST);',
    '- PERSISTED_QUERY_NOT_SUPPORTED (HTTP 400): a persisted-query hash (extensions.persistedQuery) without the query: send the document itself.',
    'Apollo Client 3 (which sends Accept: */*) reports these and every field\'s 400 (BAD_USER_INPUT) as a network error, the GraphQL errors then in ' +
      'error.networkError.result.errors; Apollo Client 4 and urql read them as GraphQL errors. Clients may ask for application/graphql-response+json, ' +
      'the GraphQL-over-HTTP type whose GraphQL errors come with a 4xx.',
    '',
    'Other refusals come before GraphQL runs and are answered as application/problem+json ' +
      '({ type, title, status, code, detail, requestId }, and errors [{ path, message }] when a field is at fault, its path one string such as "variables.c.customerId"), ' +
      'not as GraphQL responses (no data): tell them by that content-type, and read detail first (each message continues its path). ' +
      'A problem\'s code is the one detail starts with, else BAD_USER_INPUT for variables over their limits, else the status\'s: BAD_REQUEST (400), ' +
      'METHOD_NOT_ALLOWED (405), NOT_ACCEPTABLE (406), PAYLOAD_TOO_LARGE (413), UNSUPPORTED_MEDIA_TYPE (415), EXPECTATION_FAILED (417), ' +
      'REQUEST_HEADER_FIELDS_TOO_LARGE (431), NOT_IMPLEMENTED (501). ' +
      'With no field at fault, errors is [{ message: detail, extensions: { code, requestId } }] for GraphQL clients, with that code:',
    `- 400: a body that is not UTF-8, or a JSON object without a string query (a GET: no query parameter), or whose operationName is not a string, or whose variables or extensions is not an object; ` +
      `an object that sends a field twice; a number such as 1e-400, which would read as 0; a large body with more JSON objects and arrays than its customers need; ` +
      `a document over ${grouped(MAX_DOCUMENT_CHARS)} characters; a variable with a string or field name over ` +
      `${grouped(maxStringChars)} characters, an object over ${maxObjectKeys} keys, or more than ${maxDepth} levels of nesting;`,
    '- 406: an Accept header that allows neither application/json nor application/graphql-response+json (no streamed format is served);',
    `- 413: a body over BODY_LIMIT_BYTES (default ${grouped(BODY_LIMIT_BYTES)} bytes);`,
    '- 415: a content-type other than application/json in UTF-8, or a compressed body;',
    `- 503: too many request bodies at once (MAX_BODY_BYTES_IN_FLIGHT; detail starts OVERLOADED; with Retry-After), or no answer within REQUEST_TIMEOUT_MS ` +
      `(default ${grouped(REQUEST_TIMEOUT_MS)} ms; detail starts REQUEST_TIMEOUT), or none before the gateway stopped (detail starts SHUTTING_DOWN; with Retry-After); ` +
      '408 when the body itself did not arrive within REQUEST_TIMEOUT_MS;',
    '- as on every route, refusals of an HTTP request that cannot be served: 400 when it cannot be parsed, 417 for an Expect other than 100-continue, ' +
      '431 for a request line and headers over Node\'s --max-http-header-size, 501 for a transfer coding other than chunked.',
    '',
    'The README\'s error table (Operations, Error codes) lists every answer of the gateway, with the same codes.',
    '',
    'A failure no resolver expects is the GraphQL error "Unexpected error." (INTERNAL_SERVER_ERROR) with HTTP 200: quote its extensions.requestId (also the answer\'s x-request-id header), under which its cause is logged.',
  ].join('\n'),
});
