/**
 * The root pino logger: JSON lines on stdout, ready for CloudWatch. Created once in main
 * and passed down; request handlers log through per-request children.
 *
 * The one line written for every request (the access log) has its own writer, `accessLog`.
 * Through pino's generic path it cost ~8 µs a request, ~15% of the main thread at full REST
 * load: walking the object with per-key serializer and redaction checks, a fresh Date per
 * line, and handing sonic-boom one small string at a time (sonic-boom appends each to its
 * pending buffer and measures the whole buffer's UTF-8 length again on every write). See
 * `accessLog` for what keeps its lines identical to pino's and in order with them.
 */
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/**
 * Secrets never reach the logs: the places they could ride on a log object. Explicit
 * paths only — wildcard paths cost a scan of every logged object, on every request.
 */
export const REDACT_PATHS = [
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  'headers["x-admin-token"]',
  'req.headers["x-admin-token"]',
  'adminToken',
  'ADMIN_TOKEN',
  'config.ADMIN_TOKEN',
  'MLFLOW_TRACKING_PASSWORD',
  'config.MLFLOW_TRACKING_PASSWORD',
  'MLFLOW_TRACKING_TOKEN',
  'config.MLFLOW_TRACKING_TOKEN',
  'token',
];

const BASE = { service: 'churn-gateway' };

/**
 * Access-log lines are gathered for this long and written to the stream together. stdout is
 * a pipe to the container's log driver, and every write to it wakes the reader: written
 * once per event-loop turn (about 1,000 writes a second at full REST load), those wake-ups
 * cost the event loop about 7% of its time (REST at 50 connections, output piped: 27.7k →
 * 30.7k req/s, 3 interleaved rounds). Lines still reach the stream in order with every other
 * line, and at exit; a SIGKILL loses at most this much of the access log.
 */
export const ACCESS_LOG_FLUSH_MS = 10;
/** Pending access-log text beyond this is written at once, whatever the interval. */
const ACCESS_LOG_MAX_PENDING_CHARS = 256 * 1024;
const levelLabel = (label: string) => ({ level: label });

/**
 * Strings JSON writes as they are, between quotes: printable ASCII but `"` and `\`. Request ids,
 * routes, methods, versions, operation names, addresses, and user agents ("Mozilla/5.0 (X11; …)"),
 * whose spaces, slashes and parentheses sent the usual one through JSON.stringify.
 */
const PLAIN_JSON_STRING = /^[ !#-[\]-~]*$/;
/** JSON.stringify for a string, without its call into the runtime for the usual plain ones (about 4× cheaper). */
const quote = (s: string): string => (PLAIN_JSON_STRING.test(s) ? `"${s}"` : JSON.stringify(s));

/** Access-log lines a logger's `accessLog` has built but not yet written to the logger's stream. */
interface PendingLines {
  text: string;
}

/** Loggers made by createLogger, whose line format the access-log writer knows. */
const pendingOf = new WeakMap<Logger, PendingLines>();

/**
 * Writes of pending access lines still to come. On exit they are written before pino's own
 * exit handler flushes the stream (this listener is registered first, at import).
 */
const scheduledWrites = new Set<() => void>();
process.on('exit', () => {
  for (const write of scheduledWrites) write();
});

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const pending: PendingLines = { text: '' };
  const log = pino(
    {
      level,
      base: BASE,
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { level: levelLabel },
      // Every other line of this logger and its children takes the pending access lines
      // with it, in front: the stream gets all lines in the order they were logged.
      hooks: {
        streamWrite: (line) => {
          if (pending.text === '') return line;
          const lines = pending.text + line;
          pending.text = '';
          return lines;
        },
      },
    },
    destination,
  );
  pendingOf.set(log, pending);
  return log;
}

/**
 * How long exitWhenLogged waits for stdout to take the last lines before it exits anyway (a
 * log reader that stopped reading must not keep a stopping task up). Inside the 10 s that
 * ECS's stopTimeout leaves beyond SHUTDOWN_TIMEOUT_MS.
 */
export const EXIT_LOG_WAIT_MS = 3000;

type LogStream = DestinationStream & {
  sync?: unknown;
  once?: (event: string, listener: () => void) => unknown;
  destroy?: () => void;
  flushSync?: unknown;
};

const streamOf = (log: Logger): LogStream => (log as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] as LogStream;

/**
 * A `fatal` line, without the synchronous flush pino's own `fatal()` does after it. That flush
 * (sonic-boom's flushSync) retries a full pipe every 100 ms for as long as it stays full: with a
 * log reader that had stopped reading, the process hung inside the log call, answering nothing
 * and never exiting, until it was killed. Every fatal line is followed by exitWhenLogged, which
 * waits for the line to be written, for at most EXIT_LOG_WAIT_MS.
 */
export function logFatal(log: Logger, fields: Record<string, unknown>, msg: string): void {
  const stream = streamOf(log);
  const own = Object.getOwnPropertyDescriptor(stream, 'flushSync');
  // An own property shadows the stream's method for this one call (pino calls it only when it is a function).
  Object.defineProperty(stream, 'flushSync', { value: undefined, configurable: true, writable: true });
  try {
    log.fatal(fields, msg);
  } finally {
    if (own) Object.defineProperty(stream, 'flushSync', own);
    else delete stream.flushSync;
  }
}

/**
 * Ends the process with `code` once every line logged so far has reached stdout.
 *
 * pino's default stdout stream writes asynchronously, and at exit pino writes what it still
 * buffers synchronously, but not a chunk whose asynchronous write is under way (or waiting to
 * retry, when the pipe was full): that chunk was written after the lines behind it, or never,
 * since the process ended first. The shutdown's last lines (`stopped`, `drained: false`) and a
 * crash's `fatal` line are the ones that matter most. So the exit waits for the stream's
 * `drain` after an empty write (which is answered by a `drain` once everything before it is
 * written), for at most EXIT_LOG_WAIT_MS. A synchronous stream has nothing in flight.
 *
 * When the wait runs out, the lines stdout has still not taken are dropped (the stream is
 * destroyed) before the exit: pino's exit flush would retry them while the pipe stays full, so
 * a log reader that stopped reading kept the process up until ECS's SIGKILL (exit code 137).
 */
export function exitWhenLogged(log: Logger, code: number): void {
  const stream = streamOf(log);
  for (const write of scheduledWrites) write();
  if (stream.sync !== false || typeof stream.once !== 'function') process.exit(code);
  const exit = () => process.exit(code);
  stream.once('drain', exit);
  setTimeout(() => {
    // Dropped too: the exit handler would write them to the destroyed stream, which throws.
    scheduledWrites.clear();
    stream.destroy?.();
    exit();
  }, EXIT_LOG_WAIT_MS);
  stream.write('');
}

/** What the access log reports about one request; null fields are left out of the line. Numbers are finite. */
export interface AccessLogEntry {
  reqId: string;
  method: string;
  route: string;
  operation: string | null;
  status: number;
  /**
   * Why it was answered with an error: the GraphQL result's first `extensions.code`, or the code a
   * problem's detail starts with (`OVERLOADED: …`); absent when it has none (never the detail,
   * which quotes what the caller sent).
   */
  code?: string | null;
  latencyMs: number;
  modelVersion: string | null;
  /** The MLflow run of each model modelVersion names, in the same order: a version number can name two models. */
  modelRunId: string | null;
  rows: number | null;
  /** The address the request came from (src/client-address.ts). */
  client: string | null;
  /** Its User-Agent, cut to MAX_LOGGED_HEADER_CHARS (null when it sent none). */
  userAgent: string | null;
}

export type AccessLog = (entry: AccessLogEntry) => void;

/**
 * The access-log writer for `log`: writes what `log.info({...entry}, 'request')` would
 * (null fields left out like pino leaves out undefined ones), at info level.
 *
 * For a logger made by createLogger it builds the line itself, in pino's key order — level,
 * time, the base bindings, the entry's fields, msg. Strings go through JSON.stringify, as in
 * pino (whose hand-rolled fast path for short strings differs only for lone UTF-16
 * surrogates: pino leaves them raw, JSON.stringify escapes them). The ISO time is formatted
 * once per millisecond. test/access-log.test.ts compares the lines with pino's own.
 *
 * The lines go to pino's stream together, ACCESS_LOG_FLUSH_MS after the first of them (or
 * as soon as ACCESS_LOG_MAX_PENDING_CHARS are pending), or sooner, in front of the next line
 * the logger writes (see the streamWrite hook above), or at exit. So they keep their order
 * with every other line, and reach the stream at most ACCESS_LOG_FLUSH_MS later than pino
 * would have written them (`log.flush()` does not see them before).
 *
 * Any other logger (or a destination that wants pino's per-line metadata, like
 * pino.multistream) gets the generic `log.info`.
 */
export function accessLog(log: Logger): AccessLog {
  const stream = (log as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] as DestinationStream & Partial<Record<symbol, unknown>>;
  const pending = pendingOf.get(log);
  if (pending === undefined || stream[pino.symbols.needsMetadataGsym] === true) {
    return (e) =>
      log.info(
        {
          reqId: e.reqId,
          method: e.method,
          route: e.route,
          operation: e.operation ?? undefined,
          status: e.status,
          code: e.code ?? undefined,
          latencyMs: e.latencyMs,
          modelVersion: e.modelVersion ?? undefined,
          modelRunId: e.modelRunId ?? undefined,
          rows: e.rows ?? undefined,
          client: e.client ?? undefined,
          userAgent: e.userAgent ?? undefined,
        },
        'request',
      );
  }
  // `{"level":"info"` and `,"service":"churn-gateway"`, from the same options pino got.
  const levelPrefix = JSON.stringify(levelLabel('info')).slice(0, -1);
  const bindings = `,${JSON.stringify(BASE).slice(1, -1)}`;
  const writePending = () => {
    if (pending.text === '') return; // already taken along by another line
    const lines = pending.text;
    pending.text = '';
    stream.write(lines);
  };
  let scheduled = false;
  const scheduledWrite = () => {
    scheduled = false;
    scheduledWrites.delete(scheduledWrite);
    writePending();
  };
  let lastMs = NaN;
  let lastTime = '';
  return (e) => {
    if (!log.isLevelEnabled('info')) return;
    const now = Date.now();
    if (now !== lastMs) {
      lastMs = now;
      lastTime = `,"time":"${new Date(now).toISOString()}"`;
    }
    let line = `${levelPrefix}${lastTime}${bindings},"reqId":${quote(e.reqId)},"method":${quote(e.method)},"route":${quote(e.route)}`;
    if (e.operation !== null) line += `,"operation":${quote(e.operation)}`;
    line += `,"status":${e.status}`;
    if (e.code != null) line += `,"code":${quote(e.code)}`;
    line += `,"latencyMs":${e.latencyMs}`;
    if (e.modelVersion !== null) line += `,"modelVersion":${quote(e.modelVersion)}`;
    if (e.modelRunId !== null) line += `,"modelRunId":${quote(e.modelRunId)}`;
    if (e.rows !== null) line += `,"rows":${e.rows}`;
    if (e.client !== null) line += `,"client":${quote(e.client)}`;
    if (e.userAgent !== null) line += `,"userAgent":${quote(e.userAgent)}`;
    pending.text += `${line},"msg":"request"}\n`;
    if (pending.text.length > ACCESS_LOG_MAX_PENDING_CHARS) {
      writePending();
    } else if (!scheduled) {
      scheduled = true;
      scheduledWrites.add(scheduledWrite);
      // unref: a pending flush does not keep the process up; the exit handler writes it.
      setTimeout(scheduledWrite, ACCESS_LOG_FLUSH_MS).unref();
    }
  };
}
