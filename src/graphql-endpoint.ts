/**
 * /graphql over HTTP. Yoga parses, validates (with every limit and plugin) and runs each
 * new document, executing it compiled (PreparedOperations) when it qualifies and its variables
 * are admitted; once a document ran without errors (or with errors that stand: firstRuns) it is
 * kept compiled and later requests with the same text skip Yoga's per-request pipeline. A compiled
 * run that produces errors is answered by Yoga instead, so error shapes have one source.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { _createLRUCache, createYoga, maskError, type YogaServerInstance } from 'graphql-yoga';
import { Kind, OperationTypeNode, getOperationAST, locatedError, type DocumentNode, type ExecutionArgs, type ExecutionResult, type FieldNode, type OperationDefinitionNode } from 'graphql';
import { endCompressible } from './compression.js';
import type { Config } from './config.js';
import { describeError } from './errors.js';
import { HttpProblem, InputProblem, checkJsonBodyHeaders, problemPath, readBody, type BodyBudget } from './http.js';
import { EMPTY_BODY, SENT_TWICE, bodyText, checkJsonCounts, colonsInText, colonsInValue, findDuplicateKey, findUnderflowingNumber, isEmptyBody, underflowMessage } from './json-body.js';
import type { Logger } from './logger.js';
import type { GatewayMetrics } from './metrics.js';
import { WorkAbandoned, type RequestState } from './request-state.js';
import type { GraphQLContext } from './schema/builder.js';
import { useErrorCodes } from './schema/error-codes.js';
import { schema } from './schema/index.js';
import { useOperationNameCheck } from './schema/operation-name.js';
import { useRepresentableFloats } from './schema/float-literals.js';
import { MAX_DOCUMENT_CHARS, limitPlugins, variablesOverLimits } from './schema/limits.js';
import { PreparedOperations, cutOperationLabel, operationLabel, type PreparedOperation } from './schema/prepared-operations.js';
import { useShortPrintedValues } from './schema/printed-values.js';
import { inputRuleAt } from './schema/variable-rules.js';

interface ServerContext {
  requestState: RequestState;
}

export interface GraphQLEndpoint {
  readonly yoga: YogaServerInstance<ServerContext, GraphQLContext>;
  handle(req: IncomingMessage, res: ServerResponse, state: RequestState): Promise<void>;
}

interface GraphQLParams {
  query: string;
  operationName: string | null;
  variables: Record<string, unknown>;
}

/**
 * A well-formed GraphQL-over-HTTP JSON body, or null (Yoga then answers, errors included).
 * An object without a string `query` is refused here: Yoga would answer it 200; so is text that
 * is not JSON (GraphQLRefusal.invalidJson).
 */
function graphqlParams(text: string, maxBatch: number): GraphQLParams | null {
  checkJsonCounts(text, maxBatch);
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch (err) {
    throw isEmptyBody(text) ? GraphQLRefusal.EMPTY_BODY : GraphQLRefusal.invalidJson(err as Error);
  }
  // On either path: Yoga parses the same text again, and would keep a repeated field's last value too.
  if (colonsInText(text) !== colonsInValue(payload)) checkDuplicateKeys(text);
  checkUnderflow(text);
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return null;
  const { query, operationName, variables, extensions } = payload as Record<string, unknown>;
  if (typeof query !== 'string') {
    if (query === undefined && asksForPersistedQuery(extensions)) throw GraphQLRefusal.PERSISTED_QUERY;
    throw new HttpProblem(400, 'Bad Request', 'the body must be a JSON object with the GraphQL document as a string "query"', [{ path: 'query', message: 'is required; must be a string' }]);
  }
  checkDocumentLength(query);
  // Before anything reads them, on either path (and whatever else the body holds): graphql-js
  // prints a malformed value into each of up to 50 messages.
  if (typeof variables === 'object' && variables !== null) checkVariableLimits(variables, query, typeof operationName === 'string' ? operationName : null);
  // Else the operation-name check answered `operationName 5 names no operation of the document`.
  if (operationName !== undefined && operationName !== null && typeof operationName !== 'string') {
    throw new HttpProblem(400, 'Bad Request', 'operationName must be a string, the name of the operation to run, or null', [{ path: 'operationName', message: 'must be a string or null' }]);
  }
  // As a GET's parameters are refused (checkRequestShape); Yoga answered a POST's with BAD_REQUEST in another shape.
  if (!objectOrAbsent(variables)) throw notAnObject('variables');
  if (!objectOrAbsent(extensions)) throw notAnObject('extensions');
  if (extensions !== undefined) return null;
  // A member Yoga does not know (`documentId`, Relay's `id`) is refused by Yoga's parser ("Unexpected
  // parameter"), which reads only a new document's requests: the compiled path ignored it, so the
  // same body got 400 until its document was compiled and 200 after.
  if (hasOtherMembers(payload)) return null;
  // An empty operationName names no operation for Yoga (400); the compiled-document key would read it as none given.
  if (operationName === '') return null;
  return { query, operationName: operationName ?? null, variables: (variables ?? {}) as Record<string, unknown> };
}

/** The members of a GraphQL-over-HTTP request; Yoga refuses a body with any other (not null), as the spec reserves them. */
const REQUEST_MEMBERS: ReadonlySet<string> = new Set(['query', 'operationName', 'variables', 'extensions']);

/** Whether the body has a member other than REQUEST_MEMBERS that is not null: what Yoga refuses (a null one it skips). */
function hasOtherMembers(payload: object): boolean {
  for (const key in payload) if (!REQUEST_MEMBERS.has(key) && (payload as Record<string, unknown>)[key] != null) return true;
  return false;
}

const objectOrAbsent = (value: unknown): boolean => value === undefined || value === null || (typeof value === 'object' && !Array.isArray(value));
const notAnObject = (name: 'variables' | 'extensions'): HttpProblem =>
  new HttpProblem(400, 'Bad Request', `the body's ${name} must be a JSON object`, [{ path: name, message: 'must be a JSON object' }]);

/** Whether Yoga's answer reports errors; an answer that is not a JSON object counts as one. */
function hasErrors(bytes: Buffer): boolean {
  let result: unknown;
  try {
    result = JSON.parse(bytes.toString('utf8'));
  } catch {
    return true;
  }
  return typeof result !== 'object' || result === null || Array.isArray(result) || 'errors' in result;
}

/** The path Yoga serves; app.ts routes /graphql/ here too, as this path. */
export const GRAPHQL_PATH = '/graphql';

const NOT_ACCEPTABLE = 'the accept header must allow application/json or application/graphql-response+json';

const ANSWER_TYPES = ['application/graphql-response+json', 'application/json'] as const;
type AnswerType = (typeof ANSWER_TYPES)[number];

/**
 * The media type /graphql answers with, for this Accept header, or null when it allows neither
 * JSON type (answered 406 before GraphQL runs: checkRequestShape). Each type weighs the q-value of
 * the most specific entry that matches it (wildcards included, non-utf-8 charsets skipped; none:
 * 0, not acceptable), and the heavier one is answered; of two equally weighted, the one the first
 * entry (q > 0) matches, and for an entry that matches both the later one (application/json for
 * * / *), as graphql-yoga 5's result processor picks (it reads no q-values). Yoga is then sent this
 * type as the request's Accept, so both paths answer alike.
 */
export function answerMediaType(accept: string | undefined): AnswerType | null {
  // A client sends the same header every time: the last one's answer is kept (hot path).
  if (accept === lastAccept.header) return lastAccept.type;
  const type = negotiate(accept);
  lastAccept = { header: accept, type };
  return type;
}

let lastAccept: { header: string | undefined; type: AnswerType | null } = { header: undefined, type: 'application/json' };

interface AcceptEntry {
  pre: string;
  suf: string;
  q: number;
}

/** How specifically an Accept entry names `type` (2: exactly, 1: by its `application/*`, 0: by * / *), or -1 when it does not match it. */
function specificity(entry: AcceptEntry, type: AnswerType): number {
  const [pre, suf] = type.split('/');
  if ((entry.pre !== '*' && entry.pre !== pre) || (entry.suf !== '*' && entry.suf !== suf)) return -1;
  return (entry.pre === '*' ? 0 : 1) + (entry.suf === '*' ? 0 : 1);
}

/** An entry's q-value (RFC 9110 §12.4.2); 1 when it has none or one that is not a weight from 0 to 1. */
function qValue(params: readonly string[]): number {
  const q = params.find((p) => p.startsWith('q='));
  const value = q === undefined ? Number.NaN : Number(q.slice(2));
  return value >= 0 && value <= 1 ? value : 1;
}

/** A charset parameter's value naming UTF-8, lower-cased: `utf-8`, `utf8`, quoted or not (RFC 9110 §5.6.6 allows a quoted-string). */
const UTF8_CHARSET = /^(?:utf-?8|"utf-?8")$/;

function negotiate(accept: string | undefined): AnswerType | null {
  const entries: AcceptEntry[] = [];
  for (const entry of (accept || '*/*').replace(/\s/g, '').toLowerCase().split(',')) {
    const [type = '', ...params] = entry.split(';');
    // As a content-type's charset is read (http.ts checkJsonBodyHeaders): quoted or not, utf-8 or utf8.
    const charset = params.find((p) => p.startsWith('charset='));
    if (charset !== undefined && !UTF8_CHARSET.test(charset.slice('charset='.length))) continue;
    const [pre = '', suf = ''] = type.split('/');
    entries.push({ pre, suf, q: qValue(params) });
  }
  const weights = ANSWER_TYPES.map((type) => {
    let best: AcceptEntry | undefined;
    for (const entry of entries) if (specificity(entry, type) > (best ? specificity(best, type) : -1)) best = entry;
    return best?.q ?? 0;
  });
  const [graphqlResponse = 0, json = 0] = weights;
  if (graphqlResponse !== json) return graphqlResponse > json ? 'application/graphql-response+json' : 'application/json';
  if (json === 0) return null;
  for (const entry of entries) {
    if (entry.q === 0) continue;
    const matching = ANSWER_TYPES.filter((type) => specificity(entry, type) >= 0);
    if (matching.length > 0) return matching[matching.length - 1] as AnswerType;
  }
  return null;
}

/**
 * What Yoga would take from a request but answers with a 500 or a 200 error (a GET's
 * `variables` that is not JSON; no query at all) or should never see (a POST that is not
 * JSON: form posts are how a cross-site page sends a mutation without a preflight). Refused
 * here with a 4xx problem that names the parameter.
 */
function checkRequestShape(req: IncomingMessage, method: string, graphiqlEnabled: boolean): void {
  if (method === 'POST') checkJsonBodyHeaders(req, 'POST /graphql', true);
  else if (method !== 'GET' && method !== 'HEAD') return; // Yoga answers 405
  // Yoga answered an Accept without a JSON type in a streamed format (text/event-stream, multipart/mixed).
  if (answerMediaType(req.headers.accept) === null) throw new HttpProblem(406, 'Not Acceptable', NOT_ACCEPTABLE);
  if (method === 'POST') return;
  const url = req.url ?? '';
  const params = new URLSearchParams(url.includes('?') ? url.slice(url.indexOf('?') + 1) : '');
  const query = params.get('query');
  if (query === null && asksForPersistedQuery(jsonOrNull(params.get('extensions')))) throw GraphQLRefusal.PERSISTED_QUERY;
  if (!query) {
    // Points at GraphiQL only while it is served (GRAPHIQL_ENABLED), as /openapi.json and the 404s do.
    const hint = graphiqlEnabled ? ' (GraphiQL is at /ui/graphiql)' : '';
    throw new HttpProblem(400, 'Bad Request', `GET /graphql needs a query parameter${hint}`, [{ path: 'query', message: 'is required' }]);
  }
  checkDocumentLength(query);
  for (const name of ['variables', 'extensions']) {
    const raw = params.get(name);
    if (raw === null || raw === '') continue;
    const value = jsonObjectOrUndefined(raw);
    if (value === undefined) {
      throw new HttpProblem(400, 'Bad Request', `the ${name} query parameter must be a JSON object`, [{ path: name, message: 'must be a JSON object' }]);
    }
    // As a POST body's (graphqlParams): a GET's variables went to graphql-js unchecked, so a 12,000-character
    // string was answered 200 by GET and 400 by POST, and a 700-key object got graphql-js's own error.
    if (name === 'variables' && value !== null) checkVariableLimits(value, query, params.get('operationName') || null);
  }
}

/** Refuses variables over VARIABLE_LIMITS, adding what the input field at the place takes when the document says which field that is. */
function checkVariableLimits(variables: object, query: string, operationName: string | null): void {
  const over = variablesOverLimits(variables);
  if (!over) return;
  const path = problemPath(['variables', ...over.path]);
  const rule = inputRuleAt(query, operationName, variables, over.path);
  const message = rule === null ? over.message : `${over.message}; ${rule}`;
  throw new InputProblem(`${path} is ${message}`, [{ path, message: `is ${message}` }]);
}

/** Refuses a body in which an object names a field twice (json-body.ts), naming the first such field. */
function checkDuplicateKeys(text: string): void {
  const duplicate = findDuplicateKey(text);
  if (!duplicate) return;
  const path = problemPath([...duplicate.path, duplicate.key]);
  throw new HttpProblem(400, 'Bad Request', `${path} ${SENT_TWICE}`, [{ path, message: SENT_TWICE }]);
}

/** Refuses a body holding a number that JSON.parse read as 0 though it is not zero (json-body.ts), naming where. */
function checkUnderflow(text: string): void {
  const tiny = findUnderflowingNumber(text);
  if (!tiny) return;
  const path = problemPath(tiny.path) || '(body)';
  const message = underflowMessage(tiny.literal);
  throw new HttpProblem(400, 'Bad Request', `${path} ${message}`, [{ path, message }]);
}

function checkDocumentLength(query: string): void {
  if (query.length > MAX_DOCUMENT_CHARS) {
    throw new HttpProblem(400, 'Bad Request', `the GraphQL document has ${query.length} characters; at most ${MAX_DOCUMENT_CHARS} are accepted`, [
      { path: 'query', message: `must be at most ${MAX_DOCUMENT_CHARS} characters` },
    ]);
  }
}

/** A 400 answered as a GraphQL response (`{"errors":[…]}`), not as problem details: what its callers read. */
class GraphQLRefusal extends Error {
  private constructor(
    readonly body: string,
    /** Its error's extensions.code, for the access line. */
    readonly code: string,
  ) {
    super('refused before GraphQL ran');
  }

  /**
   * A request that sends a document's hash instead of the document (automatic persisted queries:
   * Apollo Client's and urql's persisted-query links, `extensions.persistedQuery`). This gateway
   * keeps no documents by hash; those links send the document itself only when the answer is a
   * GraphQL error that says so, by Apollo Server's message or code. A problem+json 400 ("query is
   * required") made Apollo Client 4 fail every operation, and Apollo Client 3 its first.
   */
  static readonly PERSISTED_QUERY = new GraphQLRefusal(
    JSON.stringify({ errors: [{ message: 'PersistedQueryNotSupported', extensions: { code: 'PERSISTED_QUERY_NOT_SUPPORTED' } }] }),
    'PERSISTED_QUERY_NOT_SUPPORTED',
  );

  /** A POST without a body (EMPTY_BODY), in the shape of invalidJson: Yoga's words were JSON.parse's "Unexpected end of JSON input". */
  static readonly EMPTY_BODY = new GraphQLRefusal(
    JSON.stringify({ errors: [{ message: `${EMPTY_BODY}; send the GraphQL request as JSON, such as {"query": "{ modelInfo { version } }"}`, extensions: { code: 'BAD_REQUEST' } }] }),
    'BAD_REQUEST',
  );

  /**
   * A body that is not JSON, with Yoga's message and the parser's after it, as REST's detail
   * continues "request body is not valid JSON: " (the position, a raw line break in a string), in
   * whole characters: V8 quotes half an emoji (`Unexpected token '\ud83d'`), whose escape strict
   * JSON readers refuse. Yoga put the parser's message in extensions.originalError, the one
   * member no other error has, answered in production too, where masking keeps every other
   * error to its message, code and documented extensions.
   */
  static invalidJson(err: Error): GraphQLRefusal {
    return new GraphQLRefusal(JSON.stringify({ errors: [{ message: `POST body sent invalid JSON: ${err.message.toWellFormed()}`, extensions: { code: 'BAD_REQUEST' } }] }), 'BAD_REQUEST');
  }
}

/**
 * What a problem answered on /graphql carries as `errors` when no field is at fault (413, 415, 406,
 * 408, the 503s): its detail as a GraphQL error, with the problem's code (HttpProblem.code: the one
 * the detail starts with, OVERLOADED, REQUEST_TIMEOUT, SHUTTING_DOWN; else its status's name in
 * capitals, BAD_REQUEST as the GraphQL 400s have, NOT_ACCEPTABLE, PAYLOAD_TOO_LARGE,
 * UNSUPPORTED_MEDIA_TYPE, NOT_IMPLEMENTED), and the request id. GraphQL clients read `errors`, not problem details: GraphiQL showed a 413 as
 * 'Unexpected empty "data" and "errors" fields', the detail escaped inside, then the whole request.
 * A problem with field errors keeps its own (`{ path, message }`), which they show as they are.
 */
export function problemAsGraphQLErrors(problem: HttpProblem, requestId: string): readonly GraphQLProblemError[] | null {
  if (problem.errors.length > 0) return null;
  return [{ message: problem.detail.toWellFormed(), extensions: { code: problem.code, requestId } }];
}

interface GraphQLProblemError {
  readonly message: string;
  readonly extensions: { readonly code: string; readonly requestId: string };
}

const asksForPersistedQuery = (extensions: unknown): boolean =>
  typeof extensions === 'object' && extensions !== null && !Array.isArray(extensions) && Object.hasOwn(extensions, 'persistedQuery');

function jsonOrNull(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** The JSON object (or null) `text` holds; undefined when it is not JSON or holds anything else. */
function jsonObjectOrUndefined(text: string): object | null | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value === null || (typeof value === 'object' && !Array.isArray(value)) ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Documents kept parsed (Yoga) and compiled (PreparedOperations), each. At most ~350 KB each
 * (MAX_DOCUMENT_CHARS, GRAPHQL_MAX_TOKENS), so the two caches stay under ~90 MB whatever
 * clients send; the UI's and known clients' documents are a handful.
 */
export const CACHED_DOCUMENTS = 128;

/**
 * A WorkAbandoned, as thrown or as the original error of the GraphQLError wrapping it (read by
 * shape: graphql may be loaded twice, ESM and CJS, so `instanceof GraphQLError` could miss).
 */
const isWorkAbandoned = (value: unknown): boolean =>
  value instanceof WorkAbandoned || (typeof value === 'object' && value !== null && (value as { originalError?: unknown }).originalError instanceof WorkAbandoned);

/** The methods Yoga's answers name in Allow (a 405 for another method, some 400s), and those /graphql serves. */
const YOGA_ALLOW = 'GET, POST';
const GRAPHQL_ALLOW = 'GET, HEAD, POST';

/** Yoga answers some protocol errors with an empty body: say what was wrong. */
const EMPTY_ERROR_DETAIL: Record<number, string> = {
  405: 'use POST (or GET for queries) on /graphql',
  406: NOT_ACCEPTABLE,
  415: 'content-type must be application/json',
};

/**
 * The result of a compiled run whose errors stand (answeredAsRun: the caller's input refused, or
 * no model could score) as graphql-js would give it (asJsRun), and what it counted, by request:
 * Yoga's run then answers it instead of executing again.
 * Its variables were admitted as well-formed (fast-path-admission.ts), so graphql-js's run would
 * reach the same resolvers with the same values: a refusal throws the same errors, and executing
 * again cost a 10,000-row batch of rule-breaking customers the executor's coercion of every row in
 * one synchronous piece (~250-500 ms held, 3-4 times a valid batch's compiled run), every other
 * caller waiting; a failing model was asked to score again (see answeredAsRun). Yoga still shapes
 * the answer (codes, masking, status, Retry-After): one source.
 */
const compiledFailures = new WeakMap<RequestState, { result: ExecutionResult; rows: RequestState['rows']; scored: RequestState['scored'] }>();

/**
 * A request the compiled path could answer (a JSON POST that accepts JSON) whose document is not
 * compiled yet, by request: Yoga's run compiles it once Yoga validated it and runs it compiled
 * when its variables are admitted (onExecute), and `prepared` is then what answer() learns.
 * Yoga's executor coerced a valid 10,000-row batch's variables in one synchronous piece
 * (300-600 ms held against ~60-110 ms compiled), every other caller waiting, on every new text.
 * `answeredAsRun`: the compiled run's errors stood (runCompiled), so the document is learned though
 * the answer has errors: a document no request of which succeeds (a client sending the same
 * refused customer, a model failing) was compiled again on every request (5-8 ms against 1-3).
 */
const firstRuns = new WeakMap<RequestState, { prepared?: PreparedOperation; answeredAsRun?: boolean }>();

/**
 * Codes of the errors a compiled run is answered with as it ran: the caller's input refused
 * (BAD_USER_INPUT: a business rule, MAX_BATCH), and the gateway's 503s when no model could score
 * (schema/errors.ts gatewayFailure), or when the risk drivers being explained at once are too many
 * (OVERLOADED: run again, it is refused again). Running the request again scored it again on a failing
 * model: two runs on the failing worker, two inference failures counted and "prediction failed"
 * logged twice per request, and on a hung worker two run deadlines, so the caller got 503
 * REQUEST_TIMEOUT instead of INFERENCE_FAILED with its Retry-After.
 */
const ANSWERED_AS_RUN = new Set(['BAD_USER_INPUT', 'INFERENCE_FAILED', 'MODEL_NOT_READY', 'OVERLOADED']);

/** Every error has a code of ANSWERED_AS_RUN and was thrown by a root field's resolver (a compiled document's fields are all root fields). */
const answeredAsRun = (result: ExecutionResult): boolean =>
  (result.errors?.length ?? 0) > 0 &&
  (result.errors ?? []).every((e) => ANSWERED_AS_RUN.has(e.extensions?.['code'] as string) && e.originalError && e.path?.length === 1 && typeof e.path[0] === 'string');

/**
 * The compiled run's result as graphql-js's execute gives it: graphql-jit wraps a resolver's error
 * in an object of its own, without locations (and with a read-only message: useErrorCodes could not
 * tidy it), and puts data first; graphql-js locates the thrown error at the fields of its response
 * key. (A compiled document has no fragments or conditions at its root: prepared-operations.ts.)
 */
function asExecuted(result: ExecutionResult, op: OperationDefinitionNode | null | undefined): ExecutionResult {
  const fieldsAt = (key: unknown): FieldNode[] =>
    (op?.selectionSet.selections ?? []).filter((s): s is FieldNode => s.kind === Kind.FIELD && (s.alias ?? s.name).value === key);
  const errors = (result.errors ?? []).map((e) => locatedError(e.originalError ?? e, fieldsAt(e.path?.[0]), e.path));
  return { errors, data: result.data };
}

/**
 * What graphql-js's execute answers after the root fields a compiled run ran, or null when the run
 * does not tell (Yoga's executor then runs the request). graphql-js 16 (execution/execute.js):
 * - runs a mutation's root fields one after another, by response key in the order of each key's
 *   first field (fields of one key merged, run once), and stops at the first that fails: its error
 *   is thrown on (handleFieldError: every compiled root field is non-null), so the answer is data
 *   null and the errors collected before it (a nullable field's deeper down) and that field's.
 *   graphql-jit runs the later fields too (they do nothing: GraphQLContext.rootFieldFailed): their
 *   errors are dropped here.
 * - runs a query's root fields at once and answers the first to fail in time (promiseForObject),
 *   not the first in document order: told here only for a query of one response key.
 */
function asJsRun(result: ExecutionResult, op: OperationDefinitionNode): ExecutionResult | null {
  const errors = result.errors ?? [];
  if (errors.some((e) => e.path === undefined)) return null;
  const keys = op.selectionSet.selections.map((s) => (s.kind === Kind.FIELD ? (s.alias ?? s.name).value : null));
  if (op.operation !== OperationTypeNode.MUTATION && new Set(keys).size !== 1) return null;
  for (const key of keys) {
    const failed = errors.filter((e) => e.path?.[0] === key);
    if (failed.length === 0) continue;
    // Only errors of the root field itself: a deeper one may be a nullable field's, after which graphql-js runs on.
    return failed.every((e) => e.path?.length === 1) ? { errors: failed, data: null } : null;
  }
  return null;
}

/** asJsRun's result when its errors stand (answeredAsRun), else null. */
function standingRun(result: ExecutionResult, op: OperationDefinitionNode): ExecutionResult | null {
  const run = asJsRun(result, op);
  return run && answeredAsRun(run) ? run : null;
}

/**
 * A first run, compiled (see firstRuns), in the shape graphql-js's execute gives: its result when
 * it has no errors, or the errors that stand (standingRun, as compiledFailures); else Yoga's
 * executor runs the request afresh (`execute`), as it did before. The compiled run gets a context
 * of its own (`context`): what it noted there (rootFieldFailed) must not reach the executor's run.
 */
async function runCompiled(
  operation: PreparedOperation,
  op: OperationDefinitionNode,
  request: RequestState,
  context: GraphQLContext,
  firstRun: { answeredAsRun?: boolean },
  args: ExecutionArgs,
  execute: (args: ExecutionArgs) => unknown,
): Promise<unknown> {
  const result = await operation.compiled.query(args.rootValue, context, args.variableValues ?? {});
  if (!result.errors) return { data: result.data };
  // Nobody waits for the answer (graphql-endpoint throws state.stopped after Yoga's run): no second run.
  if (request.stopped) return asExecuted(asJsRun(result, op) ?? result, op);
  const standing = standingRun(result, op);
  if (standing) {
    firstRun.answeredAsRun = true;
    return asExecuted(standing, op);
  }
  // The compiled run may have counted rows and scored fields: the executor's run counts afresh.
  request.rows = null;
  request.scored = null;
  return execute(args);
}

export function createGraphQLEndpoint(deps: {
  config: Config;
  log: Logger;
  contextFor: (request: RequestState) => GraphQLContext;
  bodies: BodyBudget;
  metrics: GatewayMetrics;
}): GraphQLEndpoint {
  const { config, log, contextFor, bodies, metrics } = deps;
  const prepared = new PreparedOperations(schema, CACHED_DOCUMENTS);
  // Errors Yoga will mask ("Unexpected error."), already logged with their request id by the
  // plugin below: Yoga logs each again when it masks it, with no request id, so those copies
  // are left out.
  const loggedWithRequestId = new WeakSet<object>();
  const yoga = createYoga<ServerContext, GraphQLContext>({
    schema,
    // Parsed documents kept by text (Yoga's default is 1,024): a document of ~1,000 tokens holds
    // ~350 KB, so unique documents filled 1,024 entries up to ~2 GB of RSS.
    parserAndValidationCache: { documentCache: _createLRUCache({ max: CACHED_DOCUMENTS }), errorCache: _createLRUCache({ max: CACHED_DOCUMENTS }) },
    graphqlEndpoint: GRAPHQL_PATH,
    graphiql: false,
    landingPage: false,
    cors: false,
    multipart: false,
    // isDev false: Yoga otherwise reads NODE_ENV=development (the config's default name) as leave
    // to answer the cause, stack and file paths included; the cause is logged under the request id.
    maskedErrors: { isDev: false },
    logging: {
      // Dropped: Yoga's debug lines ("Parsing request to extract GraphQL parameters", "Processing
      // GraphQL Parameters") and info lines name no request (its logger is given no context), so with
      // requests in flight at once they could not be told apart, and they say nothing the request's
      // own lines do not.
      debug: () => undefined,
      info: () => undefined,
      warn: (...args) => log.warn({ args: args.map(String) }, 'yoga'),
      // Work stopped because nobody waits for the answer is no error: app.ts logs it once, at
      // info, with the request id ('work stopped: nobody waits for the answer').
      error: (...args: unknown[]) => {
        if (args.some(isWorkAbandoned) || args.some((a) => typeof a === 'object' && a !== null && loggedWithRequestId.has(a))) return;
        log.error({ args: args.map((a) => describeError(a)) }, 'yoga error');
      },
    },
    context: ({ requestState }) => contextFor(requestState),
    plugins: [
      ...limitPlugins(config),
      useRepresentableFloats(),
      useOperationNameCheck(),
      useErrorCodes({ hideSuggestions: config.NODE_ENV === 'production' }),
      useShortPrintedValues(),
      {
        // A masked error ("Unexpected error.") carries the id its cause is logged under, as every
        // 503 does (requestId): GraphiQL, like many clients, shows no response headers, so the
        // x-request-id alone could not be quoted. Yoga marks each error it masks `unexpected`
        // (left out of the answer), here and wherever else it masks one.
        // The first error's code is the access line's `code` (what was refused, or failed), as a problem's is (app.ts).
        onResultProcess({ result, serverContext }: { result: unknown; serverContext: ServerContext }) {
          const request = serverContext.requestState;
          for (const one of Array.isArray(result) ? result : [result]) {
            if (typeof one !== 'object' || one === null || Symbol.asyncIterator in one) continue;
            for (const error of (one as ExecutionResult).errors ?? []) {
              if (error.extensions['unexpected'] === true) (error.extensions as Record<string, unknown>)['requestId'] = request.id;
              const code = error.extensions['code'];
              if (request.code === null && typeof code === 'string') request.code = code;
            }
          }
        },
      },
      {
        // The operation's label before Yoga parses and validates the document: a named operation
        // refused there (a field a deploy renamed, a syntax error) kept no name in its access line
        // and in gateway_requests_total, so which client broke could not be told. From the
        // request's operationName, then from the parsed document; onExecute sets it again from the
        // operation it runs.
        onParse({ context }: { context: { requestState?: RequestState; params?: { operationName?: unknown } } }) {
          const request = context.requestState;
          if (!request) return;
          const named = context.params?.operationName;
          if (typeof named === 'string' && named !== '') request.operation = cutOperationLabel(named);
          return ({ result }: { result: unknown }) => {
            if (typeof result !== 'object' || result === null || (result as { kind?: unknown }).kind !== Kind.DOCUMENT) return;
            const op = getOperationAST(result as DocumentNode, typeof named === 'string' ? named : undefined);
            if (op) request.operation = operationLabel(op);
          };
        },
      },
      {
        onExecute({
          args,
          executeFn,
          setExecuteFn,
        }: {
          args: { contextValue: unknown; document: DocumentNode; operationName?: string | null; variableValues?: Readonly<Record<string, unknown>> | null };
          executeFn: (args: ExecutionArgs) => unknown;
          setExecuteFn: (fn: (args: ExecutionArgs) => unknown) => void;
        }) {
          const op = getOperationAST(args.document, args.operationName);
          const request = (args.contextValue as GraphQLContext).request;
          request.operation = op ? operationLabel(op) : null;
          const failed = compiledFailures.get(request);
          const firstRun = firstRuns.get(request);
          if (failed && op) {
            request.rows = failed.rows;
            request.scored = failed.scored;
            setExecuteFn(() => asExecuted(failed.result, op));
          } else if (firstRun && op) {
            // The document as Yoga parsed and validated it, under the same admission as a compiled one's requests.
            const operation = (firstRun.prepared = prepared.prepare(args.document, args.operationName, args.variableValues ?? {}));
            if (operation) setExecuteFn((execArgs) => runCompiled(operation, op, request, contextFor(request), firstRun, execArgs, executeFn));
          }
          return {
            // A resolver's unexpected failure is answered "Unexpected error." (masked): its cause
            // is logged here, with the request id the caller is given to quote (extensions.requestId, x-request-id).
            // Runs before Yoga's masking (its plugin comes after these).
            onExecuteDone({ result }: { result: ExecutionResult | AsyncIterable<ExecutionResult> }) {
              if (Symbol.asyncIterator in result) return;
              for (const error of result.errors ?? []) {
                if (maskError(error, '') === error || isWorkAbandoned(error)) continue;
                loggedWithRequestId.add(error);
                // Counted as well: answered 200, it is a success in gateway_requests_total and to the ALB's 5xx alarm.
                metrics.unexpectedErrors.inc({ route: request.route });
                request.log.error({ path: error.path?.join('.'), err: describeError(error.originalError ?? error) }, 'graphql resolver failed');
              }
            },
          };
        },
      },
    ],
  });

  async function handle(req: IncomingMessage, res: ServerResponse, state: RequestState): Promise<void> {
    try {
      await answer(req, res, state);
    } catch (err) {
      if (!(err instanceof GraphQLRefusal)) throw err;
      if (res.headersSent) return;
      state.code = err.code;
      const text = err.body;
      const type = `${answerMediaType(req.headers.accept) ?? 'application/json'}; charset=utf-8`;
      res.writeHead(400, { 'content-type': type, 'content-length': Buffer.byteLength(text), ...(req.method === 'POST' ? {} : { 'cache-control': 'no-store' }) });
      res.end(text);
    }
  }

  async function answer(req: IncomingMessage, res: ServerResponse, state: RequestState): Promise<void> {
    const method = req.method ?? 'GET';
    checkRequestShape(req, method, config.GRAPHIQL_ENABLED);
    // Only a POST's body is read: Yoga answers any other method without one (405, or a GET's query).
    const body = method === 'POST' ? bodyText(await readBody(req, config.BODY_LIMIT_BYTES, config.MAX_BATCH, (state.bodyHold = { budget: bodies, bytes: 0, stopReading: null }))) : undefined;
    const params = body === undefined ? null : graphqlParams(body, config.MAX_BATCH);
    // The compiled path answers a JSON POST (an Accept without a JSON type was refused 406:
    // checkRequestShape); everything else (other methods) goes through Yoga, which refuses what it must.
    const answerType = answerMediaType(req.headers.accept);
    let compiled = params && answerType ? prepared.get(params.query, params.operationName) : undefined;
    if (params && compiled && !compiled.admits(params.variables)) compiled = undefined;
    if (params && compiled) {
      state.operation = compiled.label;
      const result = await compiled.compiled.query(undefined, contextFor(state), params.variables);
      if (!result.errors) {
        if (res.headersSent) return;
        return endCompressible(res, 200, ['content-type', `${answerType}; charset=utf-8`], compiled.compiled.stringify(result));
      }
      const standing = standingRun(result, compiled.operation);
      if (standing) compiledFailures.set(state, { result: standing, rows: state.rows, scored: state.scored });
    }
    // A resolver stopped because nobody waits for the answer: no second run.
    if (state.stopped) throw state.stopped;
    // A compiled run that failed may have counted rows and scored fields, and noted the models that
    // scored them (the access line's modelVersion and modelRunId): Yoga's run counts afresh
    // (compiledFailures restores them when it answers from the compiled run).
    state.rows = null;
    state.scored = null;
    if (params && answerType && !prepared.get(params.query, params.operationName)) firstRuns.set(state, {});
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
    // The type negotiated here (q-values read), which Yoga would pick otherwise; a method Yoga refuses gets its 405 in JSON.
    headers.set('accept', answerType ?? 'application/json');
    // HEAD is answered as GET (node:http sends no body for it): Yoga itself refuses HEAD with 405.
    const response = await yoga.fetch(new URL(req.url ?? '/graphql', 'http://localhost'), { method: method === 'HEAD' ? 'GET' : method, headers, ...(body === undefined ? {} : { body }) }, { requestState: state });
    const bytes = Buffer.from(await response.arrayBuffer());
    // TypeScript still narrows state.stopped to null from the check before Yoga's run, but the
    // resolvers Yoga ran may have set it since (stopIfAbandoned): a WorkAbandoned, an Error.
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- the narrowing to null (so never here) is stale
    if (state.stopped) throw state.stopped;
    if (response.status >= 400 && bytes.length === 0) {
      throw new HttpProblem(response.status, response.statusText || 'Bad Request', EMPTY_ERROR_DETAIL[response.status] ?? `GraphQL request refused with status ${response.status}`);
    }
    const firstRun = firstRuns.get(state);
    if (params && !compiled && (firstRun?.answeredAsRun || (response.status === 200 && !hasErrors(bytes)))) prepared.learn(params.query, params.operationName, firstRun?.prepared);
    if (res.headersSent) return;
    const outHeaders: string[] = [];
    // Sent whole, with its length. Yoga, sent a JSON Accept only, does not stream; its streamed
    // answers (multipart/mixed) named a chunked transfer coding too, and a message with both is one
    // Node's and undici's parsers refuse. (Yoga's Headers keep the case it wrote them in: `Transfer-Encoding`.)
    response.headers.forEach((v, k) => {
      const name = k.toLowerCase();
      // Yoga's Allow names GET and POST; HEAD is served too (as GET, above).
      if (name === 'allow') outHeaders.push(k, v === YOGA_ALLOW ? GRAPHQL_ALLOW : v);
      else if (name !== 'transfer-encoding' && name !== 'content-length') outHeaders.push(k, v);
    });
    // A GET's answer (modelInfo) holds no freshness of its own, so a cache may keep a 200 for as long
    // as it guesses (a CDN: a day), and an auditor read the model before a swap. (A POST's answer is
    // not stored without explicit freshness.)
    if (method !== 'POST') outHeaders.push('cache-control', 'no-store');
    return endCompressible(res, response.status, outHeaders, bytes);
  }

  return { yoga, handle };
}
