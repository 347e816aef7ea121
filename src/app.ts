/**
 * The gateway's request handler: routes, request ids, access log, metrics, CORS and
 * timeouts around the GraphQL endpoint (graphql-endpoint.ts) and the REST routes. Built here, listened on in
 * server.ts, so tests can run it on any port.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { ServerResponse, maxHeaderSize, type IncomingMessage, type OutgoingHttpHeader, type OutgoingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import { clientAddress, loggedHeader } from './client-address.js';
import type { Config } from './config.js';
import { GatewayError, TRANSIENT_RETRY_AFTER_SECONDS, describeError } from './errors.js';
import { BodyBudget, BodyBudgetRefusal, HttpProblem, checkJsonBodyHeaders, continueWhenRead, lingerIfClosing, problemPath, readBody, sendJson, sendProblem, setStandardHeaders, unreadBodyCloses, writeProblemToSocket } from './http.js';
import { EMPTY_BODY, bodyText, checkJsonCounts, findNonJsonNumber, isEmptyBody } from './json-body.js';
import { accessLog, type Logger } from './logger.js';
import type { GatewayMetrics } from './metrics.js';
import type { ModelAdmin } from './model/model-admin.js';
import type { ModelSlot } from './model/model-slot.js';
import type { Predictor } from './prediction.js';
import { WorkAbandoned, newRequestState, noteScored, requestIdFrom, servedModels, stopIfAbandoned, type AdminAccess, type RequestState } from './request-state.js';
import { OPENAPI_PATH, openApiText } from './rest/openapi.js';
import { checkedInChunks, legacyResponse, parseLegacyBody, parseLegacyBodyInChunks } from './rest/predict.js';
import type { GraphQLContext } from './schema/builder.js';
import { DriverBudget, driverCapacity } from './schema/explanation.js';
import { GRAPHQL_PATH, createGraphQLEndpoint, problemAsGraphQLErrors } from './graphql-endpoint.js';
import { ifNoneMatchHits } from './ui/etag.js';

/** What POST /predict takes, in its 400s. */
const LEGACY_BODY = 'a customer (or an array of customers)';

/** Status recorded for a request whose connection closed before its answer was complete. */
export const CLIENT_CLOSED = 499;

export interface AppDeps {
  readonly config: Config;
  readonly log: Logger;
  readonly slot: ModelSlot;
  readonly predictor: Predictor;
  readonly admin: ModelAdmin;
  readonly metrics: GatewayMetrics;
  /** Extra routes under a prefix (e.g. /ui); returns false when it did not handle the request. */
  readonly extraRoutes?: readonly { prefix: string; handle: (req: IncomingMessage, res: ServerResponse, state: RequestState) => Promise<boolean> | boolean }[];
}

export interface App {
  readonly handle: (req: IncomingMessage, res: ServerResponse) => void;
  /**
   * handle for the operations port (OPS_PORT): GET / and GET /metrics as on PORT, anything else
   * 404 naming PORT, where the gateway's routes (predictions, /graphql, /ui) are.
   */
  readonly handleOps: (req: IncomingMessage, res: ServerResponse) => void;
  /**
   * A connection the operations port accepted (server.ts): no proxy is in front of that port (the
   * ALB's health checker and a scraper connect to it directly), so its requests' `client` is the
   * socket's peer, whatever TRUSTED_PROXY_HOPS says, and an X-Forwarded-For sent to it is not read.
   */
  readonly opsConnection: (socket: Duplex) => void;
  /**
   * A connection PORT accepted (server.ts): counted while open, up to MAX_CONNECTIONS. One accepted
   * past that is refused at its first request, after its headers and before its body is read: 503
   * OVERLOADED with Retry-After and `connection: close`, logged and counted as a request refused
   * before routing. Each open connection may hold a body's first SMALL_BODY_BYTES, never refused
   * (http.ts): without a cap, 14,000 uploads stalled after them took a gateway to 1.2 GB of RSS.
   * (node's server.maxConnections destroys such a connection at once, unanswered.) OPS_PORT's
   * connections are neither counted nor refused: the health check must reach a full gateway.
   */
  readonly portConnection: (socket: Duplex) => void;
  /**
   * handle for a request sent with `Expect: 100-continue` (the server's 'checkContinue' event, which
   * node emits for those requests only): `100 Continue` is sent when its body is about to be read,
   * so a request refused before that (404, 405, 413 on the content-length, 415) is answered without
   * the caller uploading the body; while no model is loaded, or draining, it is answered 503 then.
   */
  readonly handleExpectingContinue: (req: IncomingMessage, res: ServerResponse) => void;
  /**
   * handle for a request sent with an `Expect` other than 100-continue (the server's
   * 'checkExpectation' event): 417 problem+json naming it, where node wrote a bare 417.
   */
  readonly handleUnmetExpectation: (req: IncomingMessage, res: ServerResponse) => void;
  /**
   * The server's 'clientError': a request node's HTTP parser refused, or whose headers did not
   * arrive in time, answered as a problem with a request id (node wrote a bare 400, 408, 413 or 431).
   */
  readonly handleClientError: (err: Error & { code?: string }, socket: Duplex) => void;
  /**
   * The server's 'connect': a CONNECT, which node hands over with its socket, and destroyed
   * unanswered while nothing listened (no bytes, no line, no count). The gateway is no proxy: 405
   * problem with Allow, logged and counted as a request refused before routing; the connection closes.
   */
  readonly handleConnect: (req: IncomingMessage, socket: Duplex) => void;
  /**
   * The response class to create the server with (`createServer({ ServerResponse })`): once
   * draining has begun, every answer it writes says `connection: close`, including answers to
   * requests that were already in flight, so callers do not send another request on a
   * connection that is about to end.
   */
  readonly Response: typeof ServerResponse<IncomingMessage>;
  /** Health turns 503 on connections still open, and they stop being kept alive (server.ts closes the listener). */
  startDraining(): void;
  /**
   * Shutdown's SHUTDOWN_TIMEOUT_MS passed with the request on `socket` not yet answered (its
   * headers not sent): it is answered 503 SHUTTING_DOWN with Retry-After and `connection: close`,
   * logged (warn, and its access line) as such, and its work stops. Closing the connection
   * instead gave the caller no bytes at all, and the access log blamed it (499, "the caller
   * closed the connection"). Returns whether it answered; the caller closes the rest.
   */
  answerUnanswered(socket: Duplex): boolean;
  readonly inFlight: () => number;
  /** Bytes of request bodies held now (http.ts BodyBudget), arrived or complete: past their first SMALL_BODY_BYTES, of MAX_BODY_BYTES_IN_FLIGHT, and those first bytes. */
  readonly bodyBytesHeld: () => number;
  /** Risk drivers being explained now, of MAX_BATCH × the model's drivers (schema/explanation.ts DriverBudget). */
  readonly driversHeld: () => number;
}

const SLASH = 0x2f;
const GRAPHQL_WITH_SLASH = `${GRAPHQL_PATH}/`;

/** What browser code of an allowed origin may read beyond the safelisted headers (README: CORS_ORIGINS). */
export const CORS_EXPOSED_HEADERS = 'x-request-id, retry-after, allow';
/** The request headers a preflight allows when it names none (or names them in no valid form). */
const CORS_ALLOWED_HEADERS = 'content-type, authorization, x-request-id';
/** A comma-separated list of header names, as a browser sends Access-Control-Request-Headers. */
const HEADER_NAMES = /^[!#$%&'*+.^_`|~0-9a-z-]+(?:[ \t]*,[ \t]*[!#$%&'*+.^_`|~0-9a-z-]+)*$/i;

/**
 * The request target as a path. A client that takes the gateway for a proxy sends the
 * absolute form (`POST http://host/predict`), which servers must accept (RFC 9112 §3.2.2):
 * it is routed by its path, and `req.url` rewritten so Yoga and the UI routes see the same.
 * `OPTIONS *` keeps its target (no route has it); anything else is refused, naming it.
 */
function originForm(req: IncomingMessage): string {
  const target = req.url ?? '/';
  if (target === '*') return target;
  if (!/^https?:\/\//i.test(target) || !URL.canParse(target)) throw new HttpProblem(400, 'Bad Request', `request target ${JSON.stringify(target.slice(0, 100))} is neither a path starting with / nor an http(s) URL`);
  // The path and query as sent, after the authority: not a parsed URL's pathname, which resolves dot
  // segments (http://h/ui/../metrics would reach /metrics where /ui/../metrics does not).
  const afterAuthority = target.slice(target.indexOf('//') + 2);
  const cut = afterAuthority.search(/[/?]/);
  const rest = cut < 0 ? '' : afterAuthority.slice(cut);
  req.url = rest.startsWith('/') ? rest : `/${rest}`;
  return req.url;
}

/** Whether `Authorization: Bearer <token>` carries the admin token, or why not; the scheme is case-insensitive (RFC 9110 §11.1). */
function adminAccess(header: string | undefined, token: string | undefined): AdminAccess {
  if (!token) return 'disabled';
  if (header === undefined) return 'none';
  const credentials = /^bearer +(.+)$/i.exec(header);
  if (!credentials) return 'malformed';
  const given = Buffer.from(credentials[1] as string);
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected) ? 'admin' : 'mismatch';
}


export function createApp(deps: AppDeps): App {
  const { config, log, slot, predictor, admin, metrics } = deps;
  let draining = false;
  let inFlight = 0;
  // A check at the moment headers are written, not a set of open responses: keeping every
  // in-flight response in a long-lived Set doubled the garbage collector's work (its helper
  // threads went from ~3% to ~6% of a core each at full REST load, throughput -10%).
  class Response extends ServerResponse {
    /** The request this answers, once routed: read from the connection's response by handleClientError (a request node's parser gave up on mid-body) and answerUnanswered (one still unanswered at the shutdown timeout). */
    requestState: RequestState | null = null;
    override writeHead(statusCode: number, statusMessage?: string | OutgoingHttpHeaders | OutgoingHttpHeader[], headers?: OutgoingHttpHeaders | OutgoingHttpHeader[]): this {
      if (!this.headersSent) {
        // A body the answer leaves unread past DRAINED_BODY_BYTES is not read on as the next request's
        // prelude: the connection closes once the caller has the answer (lingerIfClosing).
        if (unreadBodyCloses(this.req)) {
          this.setHeader('connection', 'close');
          if (this.socket) lingerIfClosing(this, this.socket);
        } else if (draining) this.setHeader('connection', 'close');
      }
      return typeof statusMessage === 'string' ? super.writeHead(statusCode, statusMessage, headers) : super.writeHead(statusCode, statusMessage);
    }
  }
  const writeAccessLog = accessLog(log);
  const bodies = new BodyBudget(config.MAX_BODY_BYTES_IN_FLIGHT);
  const drivers = new DriverBudget();
  /** Connections PORT accepted and has not closed, of MAX_CONNECTIONS (portConnection). */
  let openConnections = 0;
  metrics.watchBudgets({
    bodyBytes: bodies,
    bodyFirstBytes: () => bodies.firstBytesInUse,
    bodyBytesMax: config.MAX_BODY_BYTES_IN_FLIGHT,
    drivers,
    driversCapacity: () => driverCapacity(config.MAX_BATCH, slot.loaded?.explainer?.driverCount ?? 0),
    connections: () => openConnections,
    connectionsMax: config.MAX_CONNECTIONS,
  });

  const contextFor = (request: RequestState): GraphQLContext => ({ predictor, admin, maxBatch: config.MAX_BATCH, request, drivers });

  const graphql = createGraphQLEndpoint({ config, log, contextFor, bodies, metrics });
  // The OpenAPI description of the REST routes, for this gateway's MAX_BATCH and BODY_LIMIT_BYTES: built once.
  const openapi = Buffer.from(openApiText(config));
  // Revalidated before every use (no-cache), as the UI's pages are: the document states this
  // gateway's settings and version, which a deploy or a configuration change moves, and a cache
  // (a CDN keeps an answer without cache headers for a day) would otherwise serve the old limits.
  const openapiHeaders = {
    'cache-control': 'no-cache',
    etag: `"${createHash('sha256').update(openapi).digest('base64url').slice(0, 22)}"`,
  };
  // What a 404 points to: /docs only while it is served (DOCS_ENABLED).
  const routesServed = `GET /, POST /predict, /graphql, /ui, ${config.DOCS_ENABLED ? '/docs, ' : ''}GET ${OPENAPI_PATH}`;

  async function restPredict(req: IncomingMessage, res: ServerResponse, state: RequestState): Promise<void> {
    const charset = checkJsonBodyHeaders(req, 'POST /predict', false, true);
    const text = bodyText(await readBody(req, config.BODY_LIMIT_BYTES, config.MAX_BATCH, (state.bodyHold = { budget: bodies, bytes: 0, stopReading: null })), charset);
    // A large body of many tiny objects and arrays costs JSON.parse 10-25 times a batch's time (json-body.ts).
    checkJsonCounts(text, config.MAX_BATCH);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (err) {
      if (isEmptyBody(text)) throw new HttpProblem(400, 'Bad Request', `${EMPTY_BODY}; send ${LEGACY_BODY} as JSON`, [{ path: '(body)', message: `must be ${LEGACY_BODY} as JSON` }]);
      const nonJson = findNonJsonNumber(text);
      if (nonJson) {
        const path = problemPath(nonJson.path) || '(body)';
        throw new HttpProblem(400, 'Bad Request', `request body is not valid JSON: ${path} ${nonJson.message}`, [{ path, message: nonJson.message }]);
      }
      throw new HttpProblem(400, 'Bad Request', `request body is not valid JSON: ${(err as Error).message}`, [{ path: '(body)', message: 'must be valid JSON' }]);
    }
    // The customers sent, valid or not: known before checking, so a request that times out or
    // loses its caller while a large batch is checked still logs them. (GraphQL counts a field's
    // rows as its resolver starts, valid or not; a request graphql-js refuses while it reads the
    // variables, before any resolver, logs none.)
    state.rows = Array.isArray(body) ? body.length : typeof body === 'object' && body !== null ? 1 : null;
    // A large array is checked a chunk at a time, so other callers are not held behind it.
    // Work on a request nobody waits for any more stops between chunks and before scoring.
    const { batch, requests } = checkedInChunks(body)
      ? await parseLegacyBodyInChunks(text, body, config.MAX_BATCH, () => stopIfAbandoned(state, 'checking'))
      : parseLegacyBody(text, body, config.MAX_BATCH);
    stopIfAbandoned(state, 'scoring');
    const predictions = await predictor.predict(requests);
    noteScored(state, predictions);
    const answers = predictions.map((p, i) => legacyResponse(p, requests[i] as (typeof requests)[number]));
    return sendJson(res, 200, batch ? answers : answers[0], state.id);
  }

  /**
   * A health answer is true only at the moment it is written: never stored by a cache (a CDN
   * keeps a 200 without cache headers for a day, and would answer 'ok' for a task long gone).
   */
  const sendHealth = (res: ServerResponse, status: number, body: unknown, requestId: string): void => void sendJson(res, status, body, requestId, undefined, 'no-store');

  /**
   * `notice` is a notice's summary; on OPS_PORT, which the load balancer does not route callers to,
   * `noticeDetail` beside it is its detail (MLflow's address and answers, what to do next).
   */
  function health(req: IncomingMessage, res: ServerResponse, state: RequestState): Promise<void> | void {
    const model = slot.loaded;
    if (draining) return sendHealth(res, 503, { status: 'draining' }, state.id);
    if (!model) return sendHealth(res, 503, { status: 'starting' }, state.id);
    const body: Record<string, unknown> = { status: 'ok', model: model.lineage.name, version: model.modelVersion, runId: model.lineage.runId, source: model.lineage.source };
    const notice = admin.noticeFor(model);
    if (notice) {
      body['notice'] = notice.summary;
      if (opsSockets.has(req.socket)) body['noticeDetail'] = notice.detail;
    }
    // The latest run failed: healthy only if a test run succeeds now, so the load balancer stops
    // sending requests to a task that cannot score them, and sends them again once it can.
    if (model.inferenceFailing === null) return sendHealth(res, 200, body, state.id);
    return model.probe().then((ok) => {
      const failing = model.inferenceFailing;
      if (ok || failing === null) return sendHealth(res, 200, body, state.id);
      sendHealth(res, 503, { ...body, status: 'inference_failing', failingSince: failing.since.toISOString(), failedRuns: failing.failedRuns, cause: failing.cause }, state.id);
    });
  }

  const isAllowedOrigin = (origin: string | undefined): origin is string => origin !== undefined && config.CORS_ORIGINS.includes(origin);

  /**
   * Lets the script of an origin in CORS_ORIGINS read this answer (and the headers it is told to
   * use); whether `req` came from one. Every answer of a route does it (cors), and so does the 503
   * on a connection past MAX_CONNECTIONS (refuseOverCap): without it a web app under overload saw a
   * network error ("Failed to fetch") instead of OVERLOADED and when to retry.
   */
  function allowOrigin(req: IncomingMessage, res: ServerResponse): boolean {
    if (config.CORS_ORIGINS.length === 0) return false;
    // Answers differ by Origin once any origin is allowed: caches must keep them apart.
    res.setHeader('vary', 'Origin');
    const origin = req.headers.origin;
    if (!isAllowedOrigin(origin)) return false;
    res.setHeader('access-control-allow-origin', origin);
    // Browser code may read the headers it is told to use: the request id to quote, when to
    // retry a 503 (Retry-After), the methods a 405 names (Allow). Others it cannot read.
    res.setHeader('access-control-expose-headers', CORS_EXPOSED_HEADERS);
    return true;
  }

  /**
   * CORS for the origins in CORS_ORIGINS (allowOrigin), and their preflights (OPTIONS) answered:
   * true when it answered `req`. Never `access-control-allow-credentials`: the gateway
   * reads no cookies (the admin token is a bearer header), so a script that sends credentials
   * (`credentials: 'include'`) is refused by its browser, as README says.
   */
  function cors(req: IncomingMessage, res: ServerResponse, state: RequestState): boolean {
    if (!allowOrigin(req, res)) return false;
    if (req.method === 'OPTIONS') {
      setStandardHeaders(res, state.id);
      // The request headers the page asks to send, whatever they are (as Yoga's own CORS allows): the
      // gateway ignores those it does not read, and a fixed list made the browser refuse the whole
      // request over a header a client library or browser tracing adds (Apollo's
      // apollographql-client-name, traceparent), with nothing in the answer saying why.
      const requested = req.headers['access-control-request-headers'];
      const allowHeaders = requested !== undefined && HEADER_NAMES.test(requested) ? requested : CORS_ALLOWED_HEADERS;
      res.writeHead(204, {
        vary: 'Origin, Access-Control-Request-Headers',
        'access-control-allow-methods': 'GET, POST, OPTIONS',
        'access-control-allow-headers': allowHeaders,
        'access-control-max-age': '600',
      });
      res.end();
      return true;
    }
    return false;
  }

  /**
   * Not async: the handlers' own promises pass straight through. (An async route returning
   * restPredict's promise adopted it through an extra thenable job, two more microtasks per
   * request.) A synchronous throw is caught by handle like a rejection.
   */
  function route(req: IncomingMessage, res: ServerResponse, state: RequestState): Promise<void> | void {
    if (req.headers.host === undefined && req.httpVersionMajor === 1 && req.httpVersionMinor === 1) refuseWithoutHost(res);
    const target = req.url;
    const url = target?.charCodeAt(0) === SLASH ? target : originForm(req);
    const query = url.indexOf('?');
    const path = query < 0 ? url : url.slice(0, query);
    const method = req.method ?? 'GET';
    // POST /predict and GET / answer through sendJson, which writes the standard headers
    // with its own in one writeHead (the hot path); every other answer gets them here.
    if (path !== '/predict' && path !== '/') setStandardHeaders(res, state.id);
    if (cors(req, res, state)) return;
    // /graphql/ too, as /predict/ is (below): a client whose endpoint setting ends in a slash got a 404.
    if (path === GRAPHQL_PATH || path === GRAPHQL_WITH_SLASH) {
      state.route = 'graphql';
      // Yoga serves its endpoint's own path: handed the request as /graphql, with its query.
      if (path.length > GRAPHQL_PATH.length) req.url = GRAPHQL_PATH + url.slice(path.length);
      return graphql.handle(req, res, state);
    }
    // /predict/ too: the prototype (FastAPI) redirected it to /predict, method and body kept, and
    // its callers' clients followed. Compared only once the path is not /predict.
    if (path === '/predict' || path === '/predict/') {
      state.route = 'rest_predict';
      if (method !== 'POST') {
        res.setHeader('allow', 'POST');
        throw new HttpProblem(405, 'Method Not Allowed', 'POST /predict with a JSON customer or array of customers');
      }
      return restPredict(req, res, state);
    }
    if (path === '/') {
      state.route = 'health';
      if (method !== 'GET' && method !== 'HEAD') {
        res.setHeader('allow', 'GET, HEAD');
        throw new HttpProblem(405, 'Method Not Allowed', 'GET / is the health check');
      }
      return health(req, res, state);
    }
    if (path === '/metrics') {
      state.route = 'metrics';
      // The load balancer refuses /metrics by a path rule, which an absolute-form target
      // (GET http://host/metrics) might not meet; a scraper in the VPC sends the path form.
      if (url !== target) throw new HttpProblem(404, 'Not Found', 'GET /metrics is answered to the path form only (GET /metrics), not to an absolute URL');
      if (method !== 'GET' && method !== 'HEAD') {
        res.setHeader('allow', 'GET, HEAD');
        throw new HttpProblem(405, 'Method Not Allowed', 'GET /metrics is the Prometheus scrape');
      }
      return sendMetrics(res);
    }
    return otherRoutes(req, res, state, path, method);
  }

  /**
   * The operations port's routes: GET / and GET /metrics, answered by route as on PORT; any other
   * target is 404 naming PORT, where the rest is. (An absolute-form GET http://host/metrics is
   * answered here: its refusal on PORT is for the load balancer's path rule, which is not in front
   * of this port.)
   */
  function opsRoute(req: IncomingMessage, res: ServerResponse, state: RequestState): Promise<void> | void {
    const target = req.url;
    const url = target?.charCodeAt(0) === SLASH ? target : originForm(req);
    const query = url.indexOf('?');
    const path = query < 0 ? url : url.slice(0, query);
    if (path === '/' || path === '/metrics') return route(req, res, state);
    setStandardHeaders(res, state.id);
    state.route = 'not_found';
    throw new HttpProblem(404, 'Not Found', `the operations port (OPS_PORT) answers GET / and GET /metrics only, not ${req.method ?? 'GET'} ${path}; the gateway's routes are on PORT`);
  }

  /**
   * An HTTP/1.1 request without Host is refused (RFC 9112 §3.2), as node's own check
   * (requireHostHeader, off in server.ts) refused it, but with a problem and a request id where
   * node's answer was bare; the connection closes after it, as node closed it.
   */
  function refuseWithoutHost(res: ServerResponse): never {
    res.setHeader('connection', 'close');
    throw new HttpProblem(400, 'Bad Request', 'an HTTP/1.1 request must send a Host header (RFC 9112 §3.2)');
  }

  async function sendMetrics(res: ServerResponse): Promise<void> {
    const text = await metrics.registry.metrics();
    res.writeHead(200, { 'content-type': metrics.registry.contentType });
    res.end(text);
  }

  async function otherRoutes(req: IncomingMessage, res: ServerResponse, state: RequestState, path: string, method: string): Promise<void> {
    // Here, not in route(): no comparison is added ahead of /predict and /.
    if (path === OPENAPI_PATH) {
      state.route = 'openapi';
      if (method !== 'GET' && method !== 'HEAD') {
        res.setHeader('allow', 'GET, HEAD');
        throw new HttpProblem(405, 'Method Not Allowed', `GET ${OPENAPI_PATH} is the OpenAPI description of the REST routes`);
      }
      if (ifNoneMatchHits(req.headers['if-none-match'], openapiHeaders.etag)) {
        res.writeHead(304, openapiHeaders);
        res.end();
        return;
      }
      res.writeHead(200, { ...openapiHeaders, 'content-type': 'application/json; charset=utf-8', 'content-length': openapi.length });
      res.end(openapi); // nothing is sent for HEAD
      return;
    }
    for (const extra of deps.extraRoutes ?? []) {
      if (path === extra.prefix || path.startsWith(`${extra.prefix}/`)) {
        state.route = extra.prefix.slice(1) || 'root';
        if (await extra.handle(req, res, state)) return;
      }
    }
    state.route = 'not_found';
    throw new HttpProblem(404, 'Not Found', `no route for ${method} ${path}; see ${routesServed}`);
  }

  /**
   * sendProblem, on /graphql with its detail as GraphQL errors too; the access line notes the code
   * the answer carries (HttpProblem.code).
   */
  function answerProblem(res: ServerResponse, state: RequestState, problem: HttpProblem): void {
    const errors = state.route === 'graphql' ? problemAsGraphQLErrors(problem, state.id) : null;
    if (!res.headersSent) state.code = problem.code;
    sendProblem(res, problem, state.id, errors ? { errors } : {});
  }

  function answerError(res: ServerResponse, state: RequestState, err: unknown): void {
    // Nobody to answer: the connection is gone, or the timeout already answered.
    if (err instanceof WorkAbandoned) {
      metrics.abandoned.inc({ reason: err.reason });
      state.log.info({ reason: err.reason, stage: err.stage, rows: state.rows }, 'work stopped: nobody waits for the answer');
      return;
    }
    if (err instanceof BodyBudgetRefusal) state.log.warn({ code: 'OVERLOADED', inUse: err.inUse, max: err.max }, 'request body refused: MAX_BODY_BYTES_IN_FLIGHT full');
    if (err instanceof HttpProblem) return answerProblem(res, state, err);
    if (err instanceof GatewayError) {
      // At warn: an outage is logged once at error where it starts (the model's failing
      // inference, ModelAdmin), not once per request while it lasts.
      state.log.warn({ err: describeError(err), code: err.code }, 'request failed');
      return answerProblem(res, state, new HttpProblem(503, 'Service Unavailable', `${err.code}: ${err.message}`, [], err.retryAfterSeconds));
    }
    metrics.unexpectedErrors.inc({ route: state.route });
    state.log.error({ err: describeError(err) }, 'unexpected error');
    answerProblem(res, state, new HttpProblem(500, 'Internal Server Error', 'unexpected error; quote the request id when reporting it'));
  }

  function finish(req: IncomingMessage, res: ServerResponse, state: RequestState): void {
    inFlight--;
    const method = req.method ?? 'GET';
    const seconds = Number(process.hrtime.bigint() - state.startedAt) / 1e9;
    // A connection that closed before the whole answer was sent: 499 (as nginx logs a client
    // that went away), not the 200 statusCode still holds by default.
    const status = res.writableFinished && state.abandoned !== 'client_closed' ? res.statusCode : CLIENT_CLOSED;
    metrics.requests.record(state.route, state.operation ?? '', status, seconds);
    // Predictions reached the caller only in a 2xx: a request refused after scoring (a later field's
    // 400 or 403, data null), timed out or whose caller left was served by no model.
    const served = status >= 200 && status < 300 ? state.scored : null;
    if (served) metrics.recordServed(served);
    // The load balancer's and a scraper's polls, answered: a line each would drown the others. A
    // refused one (another method, an absolute-form /metrics) is logged as any refusal is.
    if ((state.route === 'health' || state.route === 'metrics') && (method === 'GET' || method === 'HEAD') && (status < 400 || status === 503)) return;
    const userAgent = req.headers['user-agent'];
    const models = servedModels(served);
    writeAccessLog({
      reqId: state.id,
      method,
      route: state.route,
      operation: state.operation,
      status,
      code: state.code,
      latencyMs: Math.round(seconds * 1e5) / 100,
      modelVersion: models?.versions ?? null,
      modelRunId: models?.runIds ?? null,
      rows: state.rows,
      client: state.client,
      userAgent: userAgent === undefined ? null : loggedHeader(userAgent),
    });
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    if (overCap.has(req.socket)) {
      // An allowed origin's preflight holds no body: it is answered, and its connection closed, so the
      // browser sends the request itself, on a new connection, and its script can read the answer
      // (the 503 below while the cap is full). Refused, the preflight failed the request unread.
      if (req.method !== 'OPTIONS' || !isAllowedOrigin(req.headers.origin)) return refuseOverCap(req, res);
      res.setHeader('connection', 'close');
    }
    handleRouted(req, res, route);
  }

  /** Connections PORT accepted past MAX_CONNECTIONS: each request on them is refused (refuseOverCap). */
  const overCap = new WeakSet<Duplex>();

  function portConnection(socket: Duplex): void {
    if (openConnections >= config.MAX_CONNECTIONS) {
      overCap.add(socket);
      return;
    }
    openConnections++;
    socket.once('close', () => openConnections--);
  }

  /**
   * The 503 for a request on a connection accepted past MAX_CONNECTIONS (portConnection), as the
   * other refusals before routing are answered: under its x-request-id if sane, logged at warn and
   * counted by status, in no other series. Its body is not read (its bytes are dropped as they
   * come, for LINGER_MS at most, so the answer reaches a caller still sending), and a caller
   * waiting for `100 Continue` never sends it.
   */
  function refuseOverCap(req: IncomingMessage, res: ServerResponse): void {
    const id = requestIdFrom(req.headers['x-request-id']);
    const problem = new HttpProblem(503, 'Service Unavailable', `OVERLOADED: the gateway has MAX_CONNECTIONS (${config.MAX_CONNECTIONS}) connections open; retry shortly`, [], TRANSIENT_RETRY_AFTER_SECONDS, true);
    log.warn({ reqId: id, ...refusedFrom(req.socket), code: 'OVERLOADED', status: problem.status, maxConnections: config.MAX_CONNECTIONS }, 'request refused before routing');
    metrics.refusedBeforeRouting.inc({ status: String(problem.status) });
    allowOrigin(req, res);
    sendProblem(res, problem, id);
  }

  /** Connections accepted on the operations port (opsConnection). */
  const opsSockets = new WeakSet<Duplex>();
  /** The proxies in front of `socket`'s connection: TRUSTED_PROXY_HOPS, but none on the operations port. */
  const proxyHops = (socket: Duplex): number => (config.TRUSTED_PROXY_HOPS === 0 || opsSockets.has(socket) ? 0 : config.TRUSTED_PROXY_HOPS);

  function handleOps(req: IncomingMessage, res: ServerResponse): void {
    handleRouted(req, res, opsRoute);
  }

  /** handle, with `routeWith` answering the request (route, or refuseExpectation). */
  function handleRouted(req: IncomingMessage, res: ServerResponse, routeWith: typeof route): void {
    inFlight++;
    // The peer is read now: node keeps it once read, but a socket closed before that has none.
    // (node joins several X-Forwarded-For headers into one string; its types allow an array.)
    const forwardedFor = req.headers['x-forwarded-for'];
    const client = clientAddress(Array.isArray(forwardedFor) ? forwardedFor.join(', ') : forwardedFor, req.socket.remoteAddress, proxyHops(req.socket));
    const state = newRequestState(log, requestIdFrom(req.headers['x-request-id']), 'unknown', client);
    if (res instanceof Response) res.requestState = state;
    state.admin = adminAccess(req.headers.authorization, config.ADMIN_TOKEN);
    // A request that takes longer than REQUEST_TIMEOUT_MS gets an answer instead of hanging
    // the caller: 503 when the gateway was too slow, 408 when the request itself never
    // arrived in full. Either way the connection closes after it: the bytes still coming,
    // if any, belong to no request. An answer already being sent (a large one to a slow
    // reader) is the answer: it gets REQUEST_TIMEOUT_MS more, then its connection is closed
    // (logged 499). A caller that never reads its answers kept them, and their bodies' share of
    // MAX_BODY_BYTES_IN_FLIGHT, for as long as it kept the connection open: seven such callers
    // held the whole budget, and every other prediction got 503, while GET / still answered 200.
    let timer = setTimeout(() => {
      if (res.headersSent) {
        timer = setTimeout(() => {
          if (res.writableFinished) return;
          state.log.warn({ timeoutMs: config.REQUEST_TIMEOUT_MS, bytesUnsent: res.writableLength }, 'answer not read in time: connection closed');
          // Logged and counted as a caller that went away (499): the answer was not taken. (Once
          // destroyed, node reports the response finished: it has no socket left to wait for.)
          state.abandoned ??= 'client_closed';
          res.destroy();
        }, config.REQUEST_TIMEOUT_MS);
        return;
      }
      const arrived = req.complete;
      state.abandoned ??= 'timed_out';
      state.log.warn({ timeoutMs: config.REQUEST_TIMEOUT_MS, requestComplete: arrived }, 'request timed out');
      res.setHeader('connection', 'close');
      // A body not in full is not always the caller's fault: a gateway busy with other large
      // bodies reads this one late too, so the 408 says both.
      answerProblem(
        res,
        state,
        arrived
          ? new HttpProblem(503, 'Service Unavailable', `REQUEST_TIMEOUT: no answer within ${config.REQUEST_TIMEOUT_MS} ms`)
          : new HttpProblem(408, 'Request Timeout', `REQUEST_TIMEOUT: the request body did not arrive in full within ${config.REQUEST_TIMEOUT_MS} ms (a slow or stalled upload, or a gateway too busy to read it: retry, or send smaller batches)`),
      );
    }, config.REQUEST_TIMEOUT_MS);
    // The body budget and the risk drivers come back once the answer is done (written, or its
    // connection closed) and the work on the request has ended, whichever is later: a caller that
    // goes away does not free the memory its request still uses. Once: holders reaches 0 once.
    let holders = 2;
    const releaseBody = () => {
      if (--holders !== 0) return;
      if (state.bodyHold) bodies.give(state.bodyHold.bytes);
      drivers.give(state.driversHeld);
    };
    res.once('close', () => {
      clearTimeout(timer);
      if (!res.writableFinished) state.abandoned ??= 'client_closed';
      // Answered before its body arrived (a 404 or 405 on a POST): node reads and drops the rest.
      // Until it has, anything wrong with the connection is this request's, which is logged.
      else if (!req.complete) answeredBeforeBody.set(req.socket, req);
      // Answered (or cut off) while its body still arrives: the rest is read by no one.
      state.bodyHold?.stopReading?.();
      releaseBody();
      finish(req, res, state);
      // A keep-alive connection whose request was in flight at SIGTERM closes after its
      // answer; otherwise the caller's next request on it would still be accepted.
      if (draining) req.socket.end();
    });
    let answered: Promise<void> | void;
    try {
      answered = routeWith(req, res, state);
    } catch (err) {
      answerError(res, state, err);
      releaseBody();
      return;
    }
    if (!answered) return releaseBody();
    answered.then(releaseBody, (err: unknown) => {
      answerError(res, state, err);
      releaseBody();
    });
  }

  /**
   * What a caller waiting for `100 Continue` is answered instead, when its body would be read
   * (continueWhenRead): 503 while no model is loaded (slot.current's MODEL_NOT_READY, which the
   * request would meet once read; GraphQL's introspection, which needs no model, too) or while
   * draining, so it is sent to another task rather than uploaded to one that is stopping.
   */
  function refuseUnreadBody(): void {
    if (draining) throw new HttpProblem(503, 'Service Unavailable', 'SHUTTING_DOWN: the gateway is shutting down; send the request again (its body was not read)', [], 1);
    void slot.current;
  }

  function handleExpectingContinue(req: IncomingMessage, res: ServerResponse): void {
    continueWhenRead(req, res, refuseUnreadBody);
    handle(req, res);
  }

  /**
   * 417 for an Expect the gateway cannot meet, before any route (RFC 9110 §10.1.1 lets a server
   * answer so). The connection closes after it: the caller may be holding its body back, which
   * the connection would otherwise wait for (node drops an unread body before the next request).
   */
  function refuseExpectation(req: IncomingMessage, res: ServerResponse, state: RequestState): void {
    state.route = 'expectation_failed';
    res.setHeader('connection', 'close');
    const expect = String(req.headers.expect).slice(0, 100);
    throw new HttpProblem(417, 'Expectation Failed', `Expect: ${JSON.stringify(expect)} cannot be met; the only expectation served is Expect: 100-continue (or send no Expect)`);
  }

  function handleUnmetExpectation(req: IncomingMessage, res: ServerResponse): void {
    handleRouted(req, res, refuseExpectation);
  }

  /** What handleClientError answers node's error `err` with; `inFlight`: a request on the connection was being answered. */
  const clientErrorProblem = (err: Error & { code?: string }, inFlight: boolean): HttpProblem => {
    switch (err.code) {
      case 'HPE_HEADER_OVERFLOW':
        return new HttpProblem(431, 'Request Header Fields Too Large', `the request line and headers are over ${maxHeaderSize} bytes, the most node reads (--max-http-header-size); send fewer or shorter headers, or a long query as a POST body`);
      case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
        return new HttpProblem(413, 'Payload Too Large', 'the chunk extensions of the chunked body are over 16 KB, the most node reads');
      case 'ERR_HTTP_REQUEST_TIMEOUT':
        // A request whose headers were read is answered by handle's own timer, normally first.
        return inFlight
          ? new HttpProblem(408, 'Request Timeout', `REQUEST_TIMEOUT: the request did not arrive in full within ${config.REQUEST_TIMEOUT_MS} ms`)
          : new HttpProblem(408, 'Request Timeout', `REQUEST_TIMEOUT: the request headers did not arrive in full within ${config.HEADERS_TIMEOUT_MS} ms (HEADERS_TIMEOUT_MS)`);
      default:
        // node's message names what its parser found ("Parse Error: Invalid header value char"), never the bytes.
        return new HttpProblem(400, 'Bad Request', `the request is not valid HTTP/1.1 (${err.code ?? ''}): ${err.message}`);
    }
  };

  /** node's parser errors (HPE_*) and its timeout; any other error is the connection's (a reset, a broken pipe), not the request's. */
  const answerable = (code: string | undefined): boolean => code !== undefined && (code.startsWith('HPE_') || code === 'ERR_HTTP_REQUEST_TIMEOUT');

  /**
   * Who sent a request refused before routing: its headers were not read, so neither its
   * X-Forwarded-For nor its user agent is known. Without trusted proxies the socket's peer is the
   * client; behind them, the peer is the nearest proxy, logged as `proxy`, never as the client.
   */
  const refusedFrom = (socket: Duplex): { client?: string; proxy?: string } => {
    const peer = (socket as Duplex & { remoteAddress?: string }).remoteAddress;
    if (peer === undefined) return {};
    return proxyHops(socket) === 0 ? { client: peer } : { proxy: peer };
  };

  /** Sockets already answered by handleClientError: a parser that failed fails again on each later chunk. */
  const answeredSockets = new WeakSet<Duplex>();
  /** The last request on a socket that was answered before its body arrived in full: node reads and drops the rest of it, until it is complete (handleRouted). */
  const answeredBeforeBody = new WeakMap<Duplex, IncomingMessage>();

  /**
   * As node answers a client error (_http_server.js socketOnError), but as a problem with a request
   * id, logged at warn with node's code, never the request's bytes. A request already routed whose
   * body broke off is answered as itself (its id, its access line); bytes after a whole request are
   * the next request's, answered under a new id after the current answer; anything else under a new
   * id at once, when no answer has started on the connection. Otherwise, for a routed request whose
   * caller ended the connection mid-body, and for an error of the connection itself (ECONNRESET,
   * EPIPE), the socket is destroyed.
   */
  function handleClientError(err: Error & { code?: string }, socket: Duplex): void {
    if (answeredSockets.has(socket)) return; // its answer is written; writeProblemToSocket ends it
    // The body of a request already answered and logged broke off (the caller ended the connection,
    // or it still trickled at node's request timeout): no new request, so no new id, line or count.
    if (answeredBeforeBody.get(socket)?.complete === false) {
      socket.destroy();
      return;
    }
    // node's own field: the response being written on this connection, if any.
    const current = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (!answerable(err.code) || !socket.writable) {
      socket.destroy();
      return;
    }
    /** The problem of a request node refused before it was routed, logged under a new id; the write, to run when its turn comes. */
    const refusedUnrouted = (inFlight: boolean): (() => void) => {
      const problem = clientErrorProblem(err, inFlight);
      const id = requestIdFrom(undefined); // its headers, if any, were not read
      log.warn({ reqId: id, ...refusedFrom(socket), code: err.code, status: problem.status }, 'request refused before routing');
      metrics.refusedBeforeRouting.inc({ status: String(problem.status) });
      return () => writeProblemToSocket(socket, problem, id);
    };
    // Bytes after a whole request (a pipelined one, or past a short content-length) are the next
    // request's: its problem follows the current answer, in order. Answered at once, it was taken
    // for the current request's answer (or that answer was cut off).
    if (current?.req.complete === true) {
      answeredSockets.add(socket);
      const write = refusedUnrouted(false);
      current.once('finish', () => socket.writable && write());
      return;
    }
    const state = current instanceof Response ? current.requestState : null;
    // A routed request whose caller ended the connection mid-body (HPE_INVALID_EOF_STATE): that caller
    // left, and the request's own access line says so (499) when the connection closes. Answered
    // under a new id, it was logged a second time, as a request refused before routing.
    if (current?.headersSent === true || (state && err.code === 'HPE_INVALID_EOF_STATE')) {
      socket.destroy();
      return;
    }
    answeredSockets.add(socket);
    // A request routed before its body broke off (a bad chunk size, node's request timeout): answered
    // as that request, under its id, and logged and counted with the status it got, where a new id's
    // answer on the socket left its own access line at 499 (the caller closed), blaming the caller.
    if (current && state) {
      const problem = clientErrorProblem(err, true);
      if (problem.status === 408) state.log.warn({ timeoutMs: config.REQUEST_TIMEOUT_MS, requestComplete: false, code: err.code }, 'request timed out');
      else state.log.warn({ code: err.code, status: problem.status }, 'request refused: its body is not valid HTTP/1.1');
      current.setHeader('connection', 'close');
      answerProblem(current, state, problem);
      return;
    }
    refusedUnrouted(current !== undefined && current !== null)();
  }

  /**
   * The methods a CONNECT's target is served with, for its 405's Allow: a path's, as its route's
   * own 405 names them, or, for the authority form a CONNECT sends (`host:port`, no path) and
   * any other path, the methods the gateway serves.
   */
  const connectAllow = (target: string): string => {
    const query = target.indexOf('?');
    const path = query < 0 ? target : target.slice(0, query);
    if (path === '/predict' || path === '/predict/') return 'POST';
    return path === '/' || path === '/metrics' || path === OPENAPI_PATH ? 'GET, HEAD' : 'GET, HEAD, POST, OPTIONS';
  };

  function handleConnect(req: IncomingMessage, socket: Duplex): void {
    // node took its own error listener off the socket with it: a reset would be an uncaught error.
    socket.on('error', () => socket.destroy());
    // Its headers were read: a sane x-request-id is kept, as on every routed request.
    const id = requestIdFrom(req.headers['x-request-id']);
    const problem = new HttpProblem(405, 'Method Not Allowed', `CONNECT is not served: the gateway is no proxy; its routes are ${routesServed}`);
    log.warn({ reqId: id, ...refusedFrom(socket), method: 'CONNECT', status: problem.status }, 'request refused before routing');
    metrics.refusedBeforeRouting.inc({ status: String(problem.status) });
    writeProblemToSocket(socket, problem, id, ['allow', connectAllow(req.url ?? '')]);
  }

  return {
    handle,
    handleOps,
    handleConnect,
    opsConnection: (socket) => {
      opsSockets.add(socket);
    },
    portConnection,
    handleExpectingContinue,
    handleUnmetExpectation,
    handleClientError,
    Response,
    startDraining: () => {
      draining = true;
    },
    answerUnanswered: (socket) => {
      // node's own field, as handleClientError reads it: the response being written on this connection.
      const res = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
      const state = res instanceof Response ? res.requestState : null;
      if (!res || !state || res.headersSent || res.writableEnded) return false;
      state.abandoned ??= 'shutting_down';
      state.log.warn({ timeoutMs: config.SHUTDOWN_TIMEOUT_MS, requestComplete: res.req.complete }, 'shutdown timeout: request answered 503 before its work ended');
      res.setHeader('connection', 'close');
      answerProblem(
        res,
        state,
        new HttpProblem(503, 'Service Unavailable', `SHUTTING_DOWN: the gateway stopped (SHUTDOWN_TIMEOUT_MS, ${config.SHUTDOWN_TIMEOUT_MS} ms) before it could answer; send the request again`, [], TRANSIENT_RETRY_AFTER_SECONDS),
      );
      return true;
    },
    inFlight: () => inFlight,
    bodyBytesHeld: () => bodies.inUse + bodies.firstBytesInUse,
    driversHeld: () => drivers.inUse,
  };
}
