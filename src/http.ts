/**
 * Small node:http helpers: bounded body reading and JSON / problem+json replies.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { endCompressible } from './compression.js';
import { TRANSIENT_RETRY_AFTER_SECONDS } from './errors.js';
import { InFlightBudget } from './in-flight-budget.js';
import { problemCode } from './problem-code.js';

export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly errors: readonly { path: string; message: string }[] = [],
    /** Sent as Retry-After (a 503 the caller may simply repeat). */
    readonly retryAfterSeconds?: number,
    /** Answered with `connection: close`: a body refused while it arrives (413, 503 over the budget) is not read on. */
    readonly closesConnection = status === 413,
  ) {
    super(detail);
  }

  /**
   * What kind of problem it is, for programs: the problem's `code` member, the access line's code
   * and, on /graphql, its GraphQL error's extensions.code (problemAsGraphQLErrors). The code its
   * detail starts with (OVERLOADED, REQUEST_TIMEOUT, SHUTTING_DOWN, MODEL_NOT_READY, …), else its
   * title in capitals (BAD_REQUEST, NOT_FOUND, PAYLOAD_TOO_LARGE, …); InputProblem's is BAD_USER_INPUT.
   * Only a problem with no field at fault has a leading code: the detail of one that names a field
   * starts with the field's path, which the caller wrote (a key "AB:x" sent twice made the code "AB").
   */
  get code(): string {
    return (this.errors.length === 0 ? problemCode(this.detail) : null) ?? this.title.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
  }
}

/**
 * A 400 for values the request's fields do not accept (a REST customer's fields, a batch over
 * MAX_BATCH, GraphQL variables over VARIABLE_LIMITS), each in `errors`: BAD_USER_INPUT, the code
 * GraphQL answers a customer it refuses with, so one code means one kind of refusal on both routes.
 * A body that is no JSON, or a request GraphQL cannot read, stays BAD_REQUEST.
 */
export class InputProblem extends HttpProblem {
  constructor(detail: string, errors: readonly { path: string; message: string }[]) {
    super(400, 'Bad Request', detail, errors);
  }

  override get code(): string {
    return 'BAD_USER_INPUT';
  }
}

/**
 * A place in a request body as 400 problems name it, on both routes: `[3].tenure`,
 * `variables.cs[3].tenure`. `prefix` is where `segments` start (REST: the customer's index).
 */
export const problemPath = (segments: readonly PropertyKey[], prefix = ''): string =>
  segments.reduce<string>((acc, s) => (typeof s === 'number' ? `${acc}[${s}]` : acc ? `${acc}.${String(s)}` : String(s)), prefix);

/**
 * The first bytes of each request body that the budget never refuses (64 KiB): a single
 * prediction (~400 bytes) or a small batch is never answered 503 because large uploads fill the
 * budget, so a few slow or stalled large uploads cannot refuse every caller. These first bytes
 * are held apart from MAX_BODY_BYTES_IN_FLIGHT (BodyBudget): counted in it, 520 uploads stalled
 * after their first 64 KiB filled its 32 MiB, and every body over 64 KiB (a batch of more than
 * ~150 customers) was answered 503 for as long as they were held. They are bounded by the
 * connections instead (MAX_CONNECTIONS, one body read at a time on each): request bodies buffered
 * at once stay under MAX_BODY_BYTES_IN_FLIGHT + MAX_CONNECTIONS × SMALL_BODY_BYTES.
 */
export const SMALL_BODY_BYTES = 64 * 1024;

/**
 * Request-body bytes held at once, across requests, complete or still arriving: each chunk is
 * taken as it arrives (readBody), and a request gives back what it took when its answer is done
 * and its work has ended (app.ts), or at once when its body's reading stops short (413, 503, the
 * caller gone). Counting only complete bodies left bodies still arriving unbounded: 200
 * connections each holding a 4.4 MB body minus its last byte took a gateway to 1.09 GB RSS.
 * Two counts: the bytes past each body's first SMALL_BODY_BYTES (inUse), which a chunk that does
 * not fit in MAX_BODY_BYTES_IN_FLIGHT with them refuses with 503 and Retry-After (the figures
 * behind the limit are at MAX_BODY_BYTES_IN_FLIGHT in config.ts); and each body's first
 * SMALL_BODY_BYTES (firstBytesInUse), never refused and never deciding a refusal.
 */
export class BodyBudget extends InFlightBudget {
  private firstBytes = 0;

  constructor(readonly max: number) {
    super();
  }

  /**
   * Takes a body's next `bytes`, of which it holds `heldBefore` already: its part within the body's
   * first SMALL_BODY_BYTES always, the rest if it fits in MAX_BODY_BYTES_IN_FLIGHT with the other
   * bodies' bytes past their own first SMALL_BODY_BYTES; false (nothing taken) if not.
   */
  takeBytes(bytes: number, heldBefore: number): boolean {
    const first = Math.min(bytes, Math.max(0, SMALL_BODY_BYTES - heldBefore));
    // A comparison and an addition for a body of one small chunk (a single prediction).
    if (first < bytes && !this.take(bytes - first, this.max, false)) return false;
    this.firstBytes += first;
    return true;
  }

  /** Gives back what one body holds (`bytes`, all it took): its first SMALL_BODY_BYTES, and the rest. */
  override give(bytes: number): void {
    const first = Math.min(bytes, SMALL_BODY_BYTES);
    this.firstBytes -= first;
    super.give(bytes - first);
  }

  /** Bytes held of bodies' first SMALL_BODY_BYTES (bounded by the connections, not MAX_BODY_BYTES_IN_FLIGHT). */
  get firstBytesInUse(): number {
    return this.firstBytes;
  }
}

/** What one request holds of a BodyBudget (given back when its answer is done and its work has ended). */
export interface BodyHold {
  readonly budget: BodyBudget;
  bytes: number;
  /**
   * Set by readBody while it reads the body: stops reading, drops what arrived and gives it back
   * (readBody's promise is rejected). For an answer done while the body still arrives (408, a
   * shutdown's 503): node then ends neither the body nor its reading, even once the connection
   * closes, and what it took was held for good.
   */
  stopReading: (() => void) | null;
}

/**
 * Its detail starts with a code, as the other 503s' do (MODEL_NOT_READY, SHUTTING_DOWN): OVERLOADED,
 * the code of the other budget of what is held at once (the risk drivers being explained), which a
 * caller cures the same way, by repeating the request after Retry-After. Without one, a client
 * could tell this passing refusal from the gateway's failures only by the wording of its detail.
 */
function overBudget(hold: BodyHold): HttpProblem {
  return new BodyBudgetRefusal(hold.budget.inUse, hold.budget.max);
}

/**
 * The body budget's 503 (overBudget), with what the budget held when it refused: app.ts logs it at
 * warn with the request id ('request body refused: MAX_BODY_BYTES_IN_FLIGHT full'), as the risk drivers' refusal is. Without a line,
 * it was the one 503 the failed-requests query could not show, told from the others only by the
 * caller's detail.
 */
export class BodyBudgetRefusal extends HttpProblem {
  constructor(
    readonly inUse: number,
    readonly max: number,
  ) {
    // The rest of the body is not read as the connection's next request: the connection closes, as after a 413.
    super(503, 'Service Unavailable', `OVERLOADED: the gateway already holds ${inUse} bytes of request bodies past their first ${SMALL_BODY_BYTES / 1024} KiB (MAX_BODY_BYTES_IN_FLIGHT ${max}); retry shortly`, [], TRANSIENT_RETRY_AFTER_SECONDS, true);
  }
}

/**
 * The 415 for a body in a content coding (checkJsonBodyHeaders): answered with `accept-encoding:
 * identity` (sendProblem), the codings read, as RFC 9110 §15.5.16 and RFC 7694 have it, so a client
 * that compresses its requests can tell to send them uncompressed; without it, only the detail's words said so.
 */
class ContentCodingRefusal extends HttpProblem {
  constructor(what: string, encoding: string) {
    super(415, 'Unsupported Media Type', `${what} takes an uncompressed body; got content-encoding: ${encoding}`);
  }
}

/** `application/json`, with parameters or none; not `application/json-patch+json` or `-seq`. */
const JSON_MEDIA_TYPE = /^application\/json[ \t]*(?:;|$)/i;
const CHARSET = /;[ \t]*charset[ \t]*=[ \t]*"?([^";]*)"?/i;

/** How a request body's bytes become text (json-body.ts bodyText): UTF-8, JSON's encoding, or windows-1252. */
export type BodyCharset = 'utf-8' | 'windows-1252';

/**
 * The labels the WHATWG Encoding Standard maps to windows-1252 (what a browser's `new
 * TextDecoder(label)` decodes; json-body.ts bodyText decodes it), us-ascii and iso-8859-1 among them: the charsets a legacy client writes by default
 * (Spring's RestTemplate posts a String as `application/json;charset=ISO-8859-1`), which the
 * FastAPI prototype ignored. ASCII is the same in each, so such a body of ASCII reads as in UTF-8.
 */
const WINDOWS_1252_LABELS = new Set(['ansi_x3.4-1968', 'ascii', 'cp1252', 'cp819', 'csisolatin1', 'ibm819', 'iso-8859-1', 'iso-ir-100', 'iso8859-1', 'iso88591', 'iso_8859-1', 'iso_8859-1:1987', 'l1', 'latin1', 'us-ascii', 'windows-1252', 'x-cp1252']);

/** What a route that takes windows-1252 takes, as its 415 and the OpenAPI document say it: the common names of WINDOWS_1252_LABELS. */
export const WINDOWS_1252_TAKEN = 'JSON in UTF-8 (charset=utf-8, or none), or in windows-1252 (charset=us-ascii, iso-8859-1, latin1 or windows-1252)';

/**
 * A request body the gateway reads must be JSON as it reads it, or is refused with 415 naming
 * what was sent: `application/json` (the media type itself, nothing that merely starts with
 * it), in UTF-8, the only charset JSON has (RFC 8259 §8.1), or in the charset it declares where
 * `takesWindows1252` (a body declared ISO-8859-1 was once read as UTF-8, and a customer id's
 * accents came back as U+FFFD; any other charset is refused, naming those read), and not
 * compressed (a gzip body was answered "not valid JSON" with its bytes quoted; no content coding
 * is decoded here). `what` names the route in the message; `typeRequired`: whether a body with
 * no content-type is refused (GraphQL) or read as JSON (REST, as its legacy callers send it);
 * `takesWindows1252`: whether a charset WHATWG reads as windows-1252 (WINDOWS_1252_LABELS) is
 * read so (REST, whose prototype took any charset) or refused (GraphQL: GraphQL over HTTP takes
 * UTF-8 only). Returns how to read the body's bytes (bodyText).
 */
export function checkJsonBodyHeaders(req: IncomingMessage, what: string, typeRequired: boolean, takesWindows1252 = false): BodyCharset {
  const type = req.headers['content-type'];
  if (type === undefined ? typeRequired : !JSON_MEDIA_TYPE.test(type)) {
    throw new HttpProblem(415, 'Unsupported Media Type', `${what} takes content-type: application/json; got ${type === undefined ? 'none' : type.trim() === '' ? 'an empty content-type' : type}`);
  }
  const charset = type === undefined ? undefined : CHARSET.exec(type)?.[1]?.trim();
  let bodyCharset: BodyCharset = 'utf-8';
  if (charset !== undefined && !/^utf-?8$/i.test(charset)) {
    if (!takesWindows1252 || !WINDOWS_1252_LABELS.has(charset.toLowerCase())) {
      const taken = takesWindows1252 ? WINDOWS_1252_TAKEN : 'JSON in UTF-8';
      throw new HttpProblem(415, 'Unsupported Media Type', `${what} takes ${taken}; got charset=${charset}`);
    }
    bodyCharset = 'windows-1252';
  }
  const encoding = req.headers['content-encoding']?.trim();
  if (encoding !== undefined && encoding !== '' && encoding.toLowerCase() !== 'identity') {
    throw new ContentCodingRefusal(what, encoding);
  }
  // A transfer coding before `chunked` (`gzip, chunked`): node passes the body on still coded, and
  // it was answered "not valid UTF-8" with its compressed bytes quoted. 501, as RFC 9112 §6.1 has
  // a server answer a transfer coding it does not implement (node itself refuses one without
  // `chunked` last, with 400).
  const transfer = req.headers['transfer-encoding'];
  if (transfer !== undefined && transfer.toLowerCase() !== 'chunked' && transfer.split(',').some((c) => c.trim().toLowerCase() !== 'chunked')) {
    throw new HttpProblem(501, 'Not Implemented', `${what} takes a body in no transfer coding but chunked; got transfer-encoding: ${transfer}`);
  }
  return bodyCharset;
}

/** Set on a request sent with `Expect: 100-continue` (continueWhenRead); readBody calls it. */
const CONTINUE = Symbol('send 100 Continue once the body is read');
type AwaitingContinue = IncomingMessage & { [CONTINUE]?: () => void };

/**
 * For a request sent with `Expect: 100-continue` (node's 'checkContinue', server.ts): its caller
 * holds the body back until told `100 Continue`, which is sent when readBody starts reading it,
 * so every check made before a body is read (routing, method, checkJsonBodyHeaders, the 413 on
 * the content-length) answers the final status first, and the body is never sent. `refuse` runs
 * just before the 100 and throws to answer instead (the gateway starting or draining). A request
 * that is never read gets no 100 (node then closes its connection after the answer).
 */
export function continueWhenRead(req: IncomingMessage, res: ServerResponse, refuse: () => void): void {
  (req as AwaitingContinue)[CONTINUE] = () => {
    refuse();
    if (!res.headersSent) res.writeContinue();
  };
}

/**
 * Bytes one customer of the data set takes in a POST /predict body, the mean over its 7,043 rows
 * (measured with Python: every column but Churn, SeniorCitizen as 0/1, numbers as numbers, the
 * array's ", " included): as json.dumps writes them with their 10-character customerID, with a
 * uuid4 customerID (36 characters), and indented (indent=2). What a full MAX_BATCH needs of
 * BODY_LIMIT_BYTES (bodyLimitAdvice): 10,000 such rows are 5.03, 5.29 and 5.89 MB.
 */
export const DATASET_CUSTOMER_BYTES = { jsonDumps: 503, uuid4Id: 529, indented: 589 } as const;

/**
 * What a 413 for a body over BODY_LIMIT_BYTES advises: how many customers to send, a count of the
 * data set's customers at their largest usual size (indented) that fit in the limit, when that is
 * fewer than MAX_BATCH. Stating only that MAX_BATCH customers fit at up to limit / MAX_BATCH bytes
 * each left the caller to guess a count, and at a small limit named a size no customer has (30
 * bytes). When MAX_BATCH such customers fit, the body's customers are larger than those, or more
 * than MAX_BATCH: the advice says so. (BODY_LIMIT_BYTES is at least 1024: one always fits.)
 */
export function bodyLimitAdvice(limit: number, maxBatch: number): string {
  const { jsonDumps, indented } = DATASET_CUSTOMER_BYTES;
  const fit = Math.floor(limit / indented);
  if (fit >= maxBatch) {
    return `send fewer customers per request: MAX_BATCH (${maxBatch}) customers fit in it at up to ${Math.floor(limit / maxBatch)} bytes each, more than the data set's take on average (${indented} bytes indented), so these are larger, or more than MAX_BATCH`;
  }
  return `send at most ${fit} customer${fit === 1 ? '' : 's'} per request: that many customers of the data set's average size fit in it even indented (${indented} bytes each; ${jsonDumps} as json.dumps writes them), fewer than MAX_BATCH (${maxBatch})`;
}

/**
 * Reads the whole body, refusing (413) anything over `limit` bytes before buffering it (saying
 * how a batch fits: bodyLimitAdvice, for `maxBatch`), and
 * (503) a body past its first SMALL_BODY_BYTES that does not fit in the budget of bodies in
 * flight: each chunk is taken from `hold`'s budget as it arrives (BodyBudget.takeBytes). When reading stops short (413,
 * 503, the connection gone) what was taken is given back at once and the chunks dropped. A
 * caller waiting for `100 Continue` is told to send it here (continueWhenRead), once the
 * content-length is known to fit.
 */
export function readBody(req: IncomingMessage, limit: number, maxBatch: number, hold: BodyHold): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    return Promise.reject(new HttpProblem(413, 'Payload Too Large', `request body is ${declared} bytes; the limit is ${limit} bytes (BODY_LIMIT_BYTES); ${bodyLimitAdvice(limit, maxBatch)}`));
  }
  // Only a request sent with Expect has it: for any other, one property found missing.
  const sendContinue = (req as AwaitingContinue)[CONTINUE];
  if (sendContinue !== undefined) {
    try {
      sendContinue();
    } catch (err) {
      return Promise.reject(err);
    }
  }
  return new Promise((resolve, reject) => {
    let chunks: Buffer[] = [];
    let size = 0;
    /** Set once the promise is settled: later events change nothing. */
    let settled = false;
    /** Stops reading: what was taken is given back and the chunks dropped. Without a problem, app.ts's call (hold.stopReading). */
    const stop = (problem?: HttpProblem) => {
      if (settled) return;
      settled = true;
      chunks = [];
      hold.budget.give(hold.bytes);
      hold.bytes = 0;
      reject(problem ?? new HttpProblem(400, 'Bad Request', 'the request was answered before its body arrived in full'));
    };
    hold.stopReading = stop;
    req.on('data', (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      if (size > limit) {
        stop(new HttpProblem(413, 'Payload Too Large', `request body exceeds the limit of ${limit} bytes (BODY_LIMIT_BYTES); ${bodyLimitAdvice(limit, maxBatch)}`));
        return;
      }
      if (!hold.budget.takeBytes(chunk.length, hold.bytes)) {
        stop(overBudget(hold));
        return;
      }
      hold.bytes += chunk.length;
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (settled) return;
      settled = true;
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    });
    req.on('error', (err) => stop(new HttpProblem(400, 'Bad Request', `could not read the request body: ${err.message}`)));
  });
}

/**
 * The headers every answer carries, as writeHead's flat name/value list: the request id
 * and nosniff. sendJson passes them to writeHead with its own (the cheap path: no
 * setHeader, no header map); answers written by other code get them from setStandardHeaders.
 */
function standardHeaders(requestId: string): string[] {
  return ['x-request-id', requestId, 'x-content-type-options', 'nosniff'];
}

export function setStandardHeaders(res: ServerResponse, requestId: string): void {
  const list = standardHeaders(requestId);
  for (let i = 0; i < list.length; i += 2) res.setHeader(list[i] as string, list[i + 1] as string);
}

/**
 * `cacheControl`: sent as cache-control when given (GET /: no-store). A large answer (a batch's) is
 * compressed when the caller accepts it (compression.ts): the promise settles once it is written.
 */
export function sendJson(res: ServerResponse, status: number, body: unknown, requestId: string, contentType = 'application/json; charset=utf-8', cacheControl?: string): Promise<void> | undefined {
  if (res.headersSent) return; // already answered (e.g. timed out): the late result is dropped
  const text = JSON.stringify(body);
  const headers = [...standardHeaders(requestId), 'content-type', contentType];
  if (cacheControl !== undefined) headers.push('cache-control', cacheControl);
  // Headers set earlier with setHeader (CORS, allow, connection) are kept: writeHead merges them.
  return endCompressible(res, status, headers, text);
}

/**
 * RFC 9457 problem details, never stored by a cache (`no-store`: RFC 9111 lets a cache keep a 404 or
 * a 405 without cache headers for as long as it guesses, and a CDN in front of a rolling deploy
 * would then answer a new asset's or route's URL 404 from an old task after every task had it);
 * their text is well-formed Unicode (`toWellFormed`: each half of a
 * character, a lone UTF-16 surrogate, becomes U+FFFD), whatever the body that caused them held.
 * JSON.stringify writes a lone surrogate as an escape (`\ud83d`) that names no character and
 * that strict JSON readers refuse (Rust's serde_json: "lone leading surrogate in hex escape"), so
 * a caller could not read the answer that told it what was wrong; V8's JSON.parse message quotes
 * one half of an emoji (`Unexpected token '\ud83d'`). `members` are the route's own (/graphql's `errors`).
 */
export function sendProblem(res: ServerResponse, problem: HttpProblem, requestId: string, members: Record<string, unknown> = {}): void {
  const body = { ...problemBody(problem, requestId), ...members };
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (problem.closesConnection) res.setHeader('connection', 'close');
  if (problem.retryAfterSeconds !== undefined) res.setHeader('retry-after', String(problem.retryAfterSeconds));
  if (problem instanceof ContentCodingRefusal) res.setHeader('accept-encoding', 'identity');
  if (!res.req.complete && res.socket) lingerIfClosing(res, res.socket);
  void sendJson(res, problem.status, body, requestId, PROBLEM_TYPE, 'no-store'); // its promise never rejects
}

const PROBLEM_TYPE = 'application/problem+json; charset=utf-8';

function problemBody(problem: HttpProblem, requestId: string): Record<string, unknown> {
  const body: Record<string, unknown> = { type: 'about:blank', title: problem.title, status: problem.status, code: problem.code, detail: problem.detail.toWellFormed(), requestId };
  if (problem.errors.length > 0) body['errors'] = problem.errors.map((e) => ({ path: e.path.toWellFormed(), message: e.message.toWellFormed() }));
  return body;
}

/**
 * sendProblem for a connection node's HTTP parser gave up on ('clientError': no ServerResponse
 * exists): the same headers and body, written to the socket, and `connection: close`, since
 * the parser cannot read the connection's next request. The socket is ended, not destroyed,
 * and destroyed once the caller closes it or after LINGER_MS (lingerIfClosing says why).
 * `extraHeaders`: more, as a flat name/value list (a 405's allow).
 */
export function writeProblemToSocket(socket: Duplex, problem: HttpProblem, requestId: string, extraHeaders: readonly string[] = []): void {
  const text = JSON.stringify(problemBody(problem, requestId));
  const headers = [...standardHeaders(requestId), ...extraHeaders, 'content-type', PROBLEM_TYPE, 'content-length', String(Buffer.byteLength(text)), 'cache-control', 'no-store', 'connection', 'close', 'date', new Date().toUTCString()];
  let head = `HTTP/1.1 ${problem.status} ${problem.title}\r\n`;
  for (let i = 0; i < headers.length; i += 2) head += `${headers[i] as string}: ${headers[i + 1] as string}\r\n`;
  socket.end(`${head}\r\n${text}`);
  const timer = setTimeout(() => socket.destroy(), LINGER_MS).unref();
  socket.once('close', () => clearTimeout(timer));
}

/**
 * How long a connection answered before its request body was read (413 on the content-length,
 * 408) goes on reading, and dropping, what the caller still sends once the answer is written,
 * before it is closed (nginx's lingering_close).
 */
const LINGER_MS = 2000;

/**
 * The most of a request body left unread by its answer (a 404, 405 or 415 answered from the
 * headers) that the connection stays open for: node reads and drops the rest so that the caller's
 * next request can follow on it. Past this, or for a chunked body of unknown size, the answer
 * closes the connection instead (unreadBodyCloses). Reading on for the caller was unbounded but by
 * the request timeout: an endless chunked body to POST /nope had node read and drop 48 GB in the
 * 30 s of REQUEST_TIMEOUT_MS on loopback, the event loop busy with it throughout, and no body
 * budget counting it (nothing holds the bytes).
 */
export const DRAINED_BODY_BYTES = 64 * 1024;

/**
 * Whether an answer written now to `req` should close its connection: its body has not arrived in
 * full, and is chunked (of unknown size) or declared over DRAINED_BODY_BYTES. Once written, such an
 * answer lingers (lingerIfClosing), so the caller still sending gets it, then the connection closes.
 * (A request's `complete` is false while its route runs synchronously, even for a GET without a
 * body: the parser emits the request before it reads on, so the headers decide.)
 */
export function unreadBodyCloses(req: IncomingMessage): boolean {
  if (req.complete) return false;
  const { 'transfer-encoding': coding, 'content-length': length } = req.headers;
  return coding !== undefined || (length !== undefined && Number(length) > DRAINED_BODY_BYTES);
}

/**
 * Once `res` is written, if node is closing its connection (`connection: close`), the connection
 * is not destroyed at once but after the caller stops sending, or LINGER_MS: node destroys it as
 * soon as the answer is written (socket.destroySoon), and a connection closed with bytes unread is
 * reset (RST), which makes the caller's system drop the answer it has not read yet. A caller
 * still sending its body, as Node's fetch and curl do, then met `fetch failed: write EPIPE` or an
 * empty reply for about half of the bodies over BODY_LIMIT_BYTES, instead of the 413 saying why.
 * The bytes are read meanwhile by node, which drops a request body nobody reads.
 */
const lingering = new WeakSet<ServerResponse>();
export function lingerIfClosing(res: ServerResponse, socket: Socket): void {
  if (lingering.has(res)) return;
  lingering.add(res);
  res.once('finish', () => {
    // After node's own 'finish' listener: it has called destroySoon (ended the socket) if closing.
    if (!socket.writableEnded || socket.destroyed) return;
    // destroySoon destroys once the end is written: `once('finish', this.destroy)`.
    // eslint-disable-next-line @typescript-eslint/unbound-method -- the same function node registered, removed by reference
    socket.removeListener('finish', socket.destroy);
    const timer = setTimeout(() => socket.destroy(), LINGER_MS).unref();
    socket.once('close', () => clearTimeout(timer));
  });
}
