/**
 * POSTs the typed operations of schema/operations to /graphql. The documents (and their
 * result and variable types) come from src/generated; their query text is printed once at
 * build time (ui/src/build.ts) and injected as OPERATION_SOURCES, so the browser ships
 * neither graphql-js nor a printer.
 */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { problemCode } from '../../../src/problem-code.js';
import { REQUEST_TIMEOUT_META } from '../../../src/ui/page-meta.js';

declare const __OPERATION_SOURCES__: Readonly<Record<string, string>>;

export interface GraphQLIssue {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

export interface GraphQLErrorBody {
  readonly message: string;
  readonly extensions?: {
    readonly code?: string;
    readonly issues?: readonly GraphQLIssue[];
    /** How many problems there were in all: `issues` lists at most MAX_LISTED_ISSUES of them. */
    readonly issueCount?: number;
    readonly requestId?: string;
  };
}

/**
 * `requestId`: set when the gateway failed (a 5xx, or an error it masked as
 * INTERNAL_SERVER_ERROR, which it answers with 200), for the person to quote to support; it is
 * the id the gateway logged the request under (its x-request-id). Null for the caller's own
 * mistakes and when the gateway could not be reached.
 */
export type OperationResult<T> =
  | { ok: true; data: T }
  | {
      ok: false;
      errors: readonly GraphQLErrorBody[];
      requestId: string | null;
      /** The HTTP status answered; null when no answer came (unreachable, no answer in time, cancelled). */
      status: number | null;
      /** The seconds the gateway's Retry-After asks the caller to wait before repeating the request; null when it sent none. */
      retryAfterSeconds: number | null;
    };

/**
 * MODEL_NOT_READY: the gateway listens before its first model is loaded and warmed up (a model
 * from MLflow may take it half a minute), and answers that to everything meanwhile.
 */
export const notReady = (errors: readonly GraphQLErrorBody[]) => errors.some((e) => e.extensions?.code === 'MODEL_NOT_READY');
/** What the pages say of MODEL_NOT_READY: not a failure (no request id to quote), it passes by itself. */
export const STARTING = 'The gateway is still starting: its model is not loaded yet.';

function operationName(document: TypedDocumentNode<unknown, unknown>): string {
  // graphql's Kind.OPERATION_DEFINITION is this string; importing the enum would put graphql's
  // runtime into the browser bundle, which has none (the generated documents are plain objects).
  // eslint-disable-next-line @typescript-eslint/no-unsafe-enum-comparison -- the literal is the enum's value, see above
  const op = document.definitions.find((d) => d.kind === 'OperationDefinition');
  const name = op && 'name' in op ? op.name?.value : undefined;
  if (!name) throw new Error('operation without a name');
  return name;
}

/**
 * How long the page waits for an answer: the gateway answers every request within its
 * REQUEST_TIMEOUT_MS (503 REQUEST_TIMEOUT at the latest), which the page's HTML states; a little
 * longer covers what stands between. Past that the connection is taken as lost, so the form is
 * usable again instead of saying "Predicting…" for as long as the browser keeps a dead connection.
 */
const WAIT_BEYOND_GATEWAY_MS = 5_000;
/** Only for a page without the meta element (not one this gateway serves): an ALB's idle timeout. */
const WAIT_WITHOUT_META_MS = 60_000;

/** A positive whole number the page's HTML states in a meta element (from the gateway's configuration, src/ui/page-meta.ts); null when it states none. */
export function statedNumber(name: string): number | null {
  const stated = Number(document.querySelector<HTMLMetaElement>(`meta[name="${name}"]`)?.content);
  return Number.isInteger(stated) && stated > 0 ? stated : null;
}

function answerWaitMs(): number {
  const stated = statedNumber(REQUEST_TIMEOUT_META);
  return stated !== null ? stated + WAIT_BEYOND_GATEWAY_MS : WAIT_WITHOUT_META_MS;
}

const seconds = (ms: number) => `${Number((ms / 1000).toFixed(1))} s`;
const timedOut = (err: unknown) => err instanceof DOMException && err.name === 'TimeoutError';

/** Retry-After in delta-seconds, as the gateway sends it (src/errors.ts); null when absent or in another form. */
function retryAfterOf(headers: Headers): number | null {
  const value = headers.get('retry-after');
  return value !== null && /^\d+$/.test(value.trim()) ? Number(value) : null;
}

/** The gateway's own failures, as opposed to a request it refused. */
const gatewayFailed = (status: number, errors: readonly GraphQLErrorBody[]) =>
  status >= 500 || errors.some((e) => e.extensions?.code === 'INTERNAL_SERVER_ERROR' || e.extensions?.requestId !== undefined);

/** The body execute POSTs for an operation: what counts against the gateway's BODY_LIMIT_BYTES. */
export function requestBody<T, V>(document: TypedDocumentNode<T, V>, variables: V): string {
  const name = operationName(document as TypedDocumentNode<unknown, unknown>);
  const query = __OPERATION_SOURCES__[name];
  if (query === undefined) throw new Error(`operation ${name} was not printed at build time`);
  return JSON.stringify({ query, operationName: name, variables });
}

/**
 * An answer's body as text, `arriving` called at each piece of it: a large answer on a slow link
 * (the file page's 13.6 MB for the data set takes 27 s at 4 Mbit/s) is still arriving, not lost.
 */
async function bodyText(response: Response, arriving: () => void): Promise<string> {
  if (!response.body) return response.text();
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return text + decoder.decode();
    arriving();
    text += decoder.decode(value, { stream: true });
  }
}

/**
 * The wait (answerWaitMs) runs until the answer begins, and starts again at each piece of its body:
 * a connection is taken as lost when nothing arrives for that long, not when a large answer takes
 * longer than that to come down a slow link, which the page would throw away and blame the
 * connection for, every time. `cancel`: aborting it stops the request where it is (sending,
 * waiting, or reading the answer); the result is then a failure with no status, which the
 * caller, knowing it cancelled, drops.
 */
export async function execute<T, V>(document: TypedDocumentNode<T, V>, variables: V, cancel?: AbortSignal): Promise<OperationResult<T>> {
  const sent = requestBody(document, variables);
  const waitMs = answerWaitMs();
  const noAnswer = `The gateway did not answer within ${seconds(waitMs)}: the connection may have been lost. Try again.`;
  const waiting = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const waitAgain = () => {
    clearTimeout(timer);
    timer = setTimeout(() => waiting.abort(new DOMException(noAnswer, 'TimeoutError')), waitMs);
  };
  waitAgain();
  try {
    return await answerOf<T>(sent, cancel ? AbortSignal.any([cancel, waiting.signal]) : waiting.signal, waitAgain, noAnswer);
  } finally {
    clearTimeout(timer);
  }
}

async function answerOf<T>(sent: string, signal: AbortSignal, arriving: () => void, noAnswer: string): Promise<OperationResult<T>> {
  let response: Response;
  try {
    response = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' },
      body: sent,
      signal,
    });
  } catch (err) {
    const message = timedOut(err) ? noAnswer : `The gateway could not be reached (${(err as Error).message}).`;
    return { ok: false, errors: [{ message }], requestId: null, status: null, retryAfterSeconds: null };
  }
  arriving();
  // Every answer of the gateway carries it, errors and problem details included.
  const failure = (errors: readonly GraphQLErrorBody[]) => ({
    ok: false as const,
    errors,
    requestId: gatewayFailed(response.status, errors) ? (errors.find((e) => e.extensions?.requestId)?.extensions?.requestId ?? response.headers.get('x-request-id')) : null,
    status: response.status,
    retryAfterSeconds: retryAfterOf(response.headers),
  });
  // A GraphQL result, or RFC 9457 problem details when the gateway refused the request
  // before GraphQL saw it (413 when the body is over BODY_LIMIT_BYTES).
  const noResult = () => failure([{ message: `The gateway answered ${response.status} without a GraphQL result.` }]);
  let parsed: unknown;
  try {
    parsed = JSON.parse(await bodyText(response, arriving));
  } catch (err) {
    if (err instanceof SyntaxError) return noResult();
    // The answer stopped arriving (nothing for as long as the wait).
    const message = timedOut(err) ? noAnswer : `The connection was lost while the gateway's answer (${response.status}) was arriving; try again.`;
    return { ...failure([{ message }]), status: null };
  }
  // JSON that is no object (a proxy's `null`, a bare string) is no GraphQL result either.
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return noResult();
  const body = parsed as { data?: T | null; errors?: unknown; title?: unknown; detail?: unknown };
  const errors = Array.isArray(body.errors) ? (body.errors as GraphQLErrorBody[]) : [];
  // A problem with no field at fault carries its detail again as a GraphQL error, for GraphQL
  // clients (src/graphql-endpoint.ts, problemAsGraphQLErrors): the page words the problem itself.
  const detailAgain = errors.length === 1 && typeof body.detail === 'string' && errors[0]?.message === body.detail;
  if (errors.length > 0 && !detailAgain) return failure(errors);
  if (!body.data) {
    const status = typeof body.title === 'string' ? `${response.status} ${body.title}` : String(response.status);
    const message = typeof body.detail === 'string' && body.detail !== '' ? `The gateway answered ${status}: ${body.detail}` : `The gateway answered ${status} without data.`;
    // A problem's detail starts with its code when it has one (OVERLOADED, SHUTTING_DOWN, REQUEST_TIMEOUT),
    // read here as a GraphQL error's code, so that the pages tell a busy gateway from a failed one alike.
    const code = typeof body.detail === 'string' ? problemCode(body.detail) : null;
    return failure([code === null ? { message } : { message, extensions: { code } }]);
  }
  return { ok: true, data: body.data };
}
