/**
 * The access log (one line per request) is written by its own serializer, not by pino's
 * generic path (src/logger.ts, accessLog). These tests hold it to what pino itself writes
 * for the same object: byte for byte with the clock frozen, key for key on real requests.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ACCESS_LOG_FLUSH_MS, accessLog, createLogger, type AccessLogEntry } from '../src/logger.js';
import { PredictDocument } from '../src/generated/graphql.js';
import { MAX_OPERATION_LABEL_CHARS } from '../src/schema/prepared-operations.js';
import { GRAPHQL_CUSTOMER, LEGACY_PAYLOAD, REPO_ROOT, gql, metricValue, postJson, startTestGateway, waitFor, type TestGateway } from './helpers/index.js';

/** A destination that keeps the raw text pino (or the fast path) wrote, and how many writes it took. */
function textSink(): { stream: Writable; text: () => string; lines: () => string[]; writes: () => number } {
  let text = '';
  let writes = 0;
  const stream = new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _enc, done) {
      text += chunk.toString();
      writes++;
      done();
    },
  });
  return { stream, text: () => text, lines: () => text.split('\n').filter(Boolean), writes: () => writes };
}

/** Access lines reach the stream ACCESS_LOG_FLUSH_MS after the first of them. */
const flushed = () => new Promise<void>((resolve) => setTimeout(resolve, ACCESS_LOG_FLUSH_MS + 5));
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * What pino writes for an access-log entry: accessLog's own fallback (`log.info`, taken for a
 * destination that wants pino's per-line metadata, as pino.multistream does), so the line the
 * fast path is held to is the one the real fallback writes, not a copy of it in this file.
 */
function pinoLine(entry: AccessLogEntry): string {
  const sink = textSink();
  Object.assign(sink.stream, { [pino.symbols.needsMetadataGsym]: true });
  accessLog(createLogger('info', sink.stream))(entry);
  // The fallback writes at once; the fast path would have written nothing yet.
  expect(sink.writes()).toBe(1);
  return sink.text();
}

async function fastLine(entry: AccessLogEntry): Promise<string> {
  const sink = textSink();
  accessLog(createLogger('info', sink.stream))(entry);
  await flushed();
  return sink.text();
}

const ENTRY: AccessLogEntry = {
  reqId: 'trace-abc-123',
  method: 'POST',
  route: 'rest_predict',
  operation: null,
  status: 200,
  latencyMs: 1.23,
  modelVersion: 'run-0123abcd',
  modelRunId: '0123abcd',
  rows: 1,
  client: '203.0.113.7',
  userAgent: 'curl/8.5.0',
};

/** User agents as callers send them: node reads header values as Latin-1, and a tab is allowed in one. */
const USER_AGENTS = [
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
  'python-requests/2.32.3',
  'say "hi"',
  'back\\slash',
  'tab\there',
  'caf\u00e9 \u00ff',
  '',
];

const WEIRD_OPERATIONS = [
  'say "hi"',
  'back\\slash',
  'line\nbreak\r\tand\u0000nul\u001f',
  'query …',
  'über 名前 🚀 \u2028\u2029',
  'ends with a backslash\\',
  '"',
  '',
  `long ${'x"'.repeat(80)}`,
];

describe('the access-log line, with the clock frozen', () => {
  afterEach(() => vi.useRealTimers());

  it('is byte for byte what pino writes for the same object, whichever fields are present', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-03-04T05:06:07.089Z'));
    const entries: AccessLogEntry[] = [
      ENTRY,
      { ...ENTRY, route: 'graphql', operation: 'Predict', rows: 2 },
      { ...ENTRY, status: 400, latencyMs: 0.07, modelVersion: null, modelRunId: null, rows: null },
      { ...ENTRY, reqId: '6f1c2c47-8a94-4f0e-b7a8-0d9c1f1e2a3b', method: 'GET', route: 'not_found', status: 404, latencyMs: 12, modelVersion: null, modelRunId: null, rows: null },
      { ...ENTRY, rows: 0, latencyMs: 1234.5, modelVersion: '', modelRunId: '' },
      { ...ENTRY, route: 'graphql', operation: 'Mixed', rows: 2, modelVersion: '2,2', modelRunId: '5b2ac2847dc844a0be722b59c1a44b36,0af96aa7c0e94f6b9d0d5c1f2e3a4b5c' },
      { ...ENTRY, client: null, userAgent: null },
      { ...ENTRY, client: '2001:db8::1', userAgent: null },
      { ...ENTRY, client: '::ffff:127.0.0.1', userAgent: '' },
      { ...ENTRY, route: 'graphql', operation: 'R', status: 400, code: 'GRAPHQL_VALIDATION_FAILED', modelVersion: null, rows: null },
      { ...ENTRY, status: 503, code: 'OVERLOADED', modelVersion: null },
      { ...ENTRY, code: null },
    ];
    for (const entry of entries) {
      const line = await fastLine(entry);
      expect(line).toBe(pinoLine(entry));
      expect(line.startsWith('{"level":"info","time":"2026-03-04T05:06:07.089Z","service":"churn-gateway",')).toBe(true);
    }
  });

  it('escapes client-supplied operation names exactly as pino does', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-03-04T05:06:07.089Z'));
    for (const operation of WEIRD_OPERATIONS) {
      const entry = { ...ENTRY, route: 'graphql', operation };
      const line = await fastLine(entry);
      expect(line).toBe(pinoLine(entry));
      expect(line.split('\n')).toHaveLength(2); // one line, then the final newline
      expect((JSON.parse(line) as { operation: string }).operation).toBe(operation);
    }
  });

  it('escapes user agents and addresses exactly as pino does', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-03-04T05:06:07.089Z'));
    for (const text of [...USER_AGENTS, ...WEIRD_OPERATIONS]) {
      for (const entry of [{ ...ENTRY, userAgent: text }, { ...ENTRY, client: text }]) {
        const line = await fastLine(entry);
        expect(line).toBe(pinoLine(entry));
        expect(JSON.parse(line) as AccessLogEntry).toMatchObject({ userAgent: entry.userAgent, client: entry.client });
      }
    }
  });

  it('follows the clock: the time changes with the millisecond', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const sink = textSink();
    const write = accessLog(createLogger('info', sink.stream));
    vi.setSystemTime(new Date('2026-03-04T05:06:07.089Z'));
    write(ENTRY);
    write(ENTRY);
    vi.setSystemTime(new Date('2026-03-04T05:06:07.090Z'));
    write(ENTRY);
    vi.setSystemTime(new Date('2027-01-01T00:00:00.000Z'));
    write(ENTRY);
    await flushed();
    expect(sink.lines().map((l) => (JSON.parse(l) as { time: string }).time)).toEqual([
      '2026-03-04T05:06:07.089Z',
      '2026-03-04T05:06:07.089Z',
      '2026-03-04T05:06:07.090Z',
      '2027-01-01T00:00:00.000Z',
    ]);
  });
});

describe('where the access-log line goes', () => {
  it('is written in order with the other lines of the same logger, child loggers included', async () => {
    const sink = textSink();
    const log = createLogger('info', sink.stream);
    const write = accessLog(log);
    log.info('before');
    write(ENTRY);
    log.child({ reqId: 'x' }).warn('between');
    write({ ...ENTRY, status: 503 });
    log.error('after');
    write({ ...ENTRY, status: 504 });
    await flushed();
    log.info('later');
    expect(sink.lines().map((l) => JSON.parse(l) as { msg: string; status?: number })).toMatchObject([
      { msg: 'before' },
      { msg: 'request', status: 200 },
      { msg: 'between' },
      { msg: 'request', status: 503 },
      { msg: 'after' },
      { msg: 'request', status: 504 },
      { msg: 'later' },
    ]);
  });

  it('hands the stream the lines of one flush interval in one write, across event-loop turns', async () => {
    const sink = textSink();
    const write = accessLog(createLogger('info', sink.stream));
    for (let status = 200; status < 225; status++) write({ ...ENTRY, status });
    await nextTurn();
    for (let status = 225; status < 250; status++) write({ ...ENTRY, status });
    expect(sink.writes()).toBe(0);
    await flushed();
    expect(sink.lines().map((l) => (JSON.parse(l) as { status: number }).status)).toEqual(Array.from({ length: 50 }, (_, i) => 200 + i));
    expect(sink.writes()).toBe(1);
    write(ENTRY);
    await flushed();
    expect(sink.lines()).toHaveLength(51);
    expect(sink.writes()).toBe(2);
  });

  it('writes a large backlog at once instead of holding it for the interval', () => {
    const sink = textSink();
    const write = accessLog(createLogger('info', sink.stream));
    const oneLine = pinoLine(ENTRY).length;
    const count = Math.ceil((256 * 1024) / oneLine) + 1;
    for (let i = 0; i < count; i++) write(ENTRY);
    expect(sink.writes()).toBe(1);
    expect(sink.lines().length).toBeGreaterThan(count - 2);
  });

  it('is not lost when the process exits in the same turn', () => {
    const script = [
      "import { accessLog, createLogger } from './src/logger.ts';",
      'const log = createLogger("info");',
      `accessLog(log)(${JSON.stringify(ENTRY)});`,
      'process.exit(0);',
    ].join('\n');
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 30_000 });
    expect(child.stderr).toBe('');
    expect(child.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as unknown)).toMatchObject([{ msg: 'request', reqId: ENTRY.reqId }]);
  });

  it('reaches a file through pino.destination (sonic-boom, as on stdout)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'access-log-'));
    try {
      const file = join(dir, 'log.ndjson');
      const log = createLogger('info', pino.destination({ dest: file, sync: true }));
      const write = accessLog(log);
      log.info('first');
      write(ENTRY);
      log.info('last');
      write(ENTRY);
      await flushed();
      const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
      expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(['first', 'request', 'last', 'request']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes nothing below info, also when the level changes at run time', async () => {
    const sink = textSink();
    const log = createLogger('warn', sink.stream);
    const write = accessLog(log);
    write(ENTRY);
    log.warn('control');
    log.level = 'info';
    write({ ...ENTRY, status: 201 });
    log.level = 'silent';
    write({ ...ENTRY, status: 202 });
    await flushed();
    expect(sink.lines().map((l) => JSON.parse(l) as { msg: string; status?: number })).toMatchObject([{ msg: 'control' }, { msg: 'request', status: 201 }]);
    expect(sink.lines()).toHaveLength(2);
  });

  it("falls back to pino's own path for loggers it did not make and for destinations that need pino's metadata", () => {
    const multi = textSink();
    const viaMultistream = createLogger('info', pino.multistream([{ stream: multi.stream }]));
    accessLog(viaMultistream)(ENTRY);
    const plain = textSink();
    accessLog(pino({}, plain.stream))(ENTRY);
    expect(JSON.parse(multi.text())).toMatchObject({ level: 'info', service: 'churn-gateway', reqId: ENTRY.reqId, msg: 'request' });
    expect(JSON.parse(plain.text())).toMatchObject({ level: 30, reqId: ENTRY.reqId, modelVersion: ENTRY.modelVersion, msg: 'request' });
  });
});

describe('the access log of real requests', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(() => gw.close());

  /**
   * The access line of a request, once the response has closed (finish() runs on 'close') and the
   * line was flushed: polled for up to 10 s (it was 1 s, which a loaded machine could hold this
   * process for).
   */
  async function lineFor(reqId: string): Promise<Record<string, unknown>> {
    const line = () => gw.logs.find((l) => l['reqId'] === reqId && l['msg'] === 'request');
    await waitFor(`the access line of ${reqId}`, () => line() !== undefined, 10_000, 10);
    return line() as Record<string, unknown>;
  }

  /** Same keys in the same order with the same values as pino's line for `expected`; the time is only checked for its format. */
  function expectPinoEquivalent(line: Record<string, unknown>, expected: Omit<AccessLogEntry, 'latencyMs'>, startedAt: number): void {
    expect(typeof line['latencyMs']).toBe('number');
    const reference = JSON.parse(pinoLine({ ...expected, latencyMs: line['latencyMs'] as number })) as Record<string, unknown>;
    const withoutTime = (o: Record<string, unknown>) => Object.entries(o).map(([k, v]) => (k === 'time' ? [k, 'T'] : [k, v]));
    expect(withoutTime(line)).toEqual(withoutTime(reference));
    const time = line['time'] as string;
    expect(time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Date.parse(time)).toBeGreaterThanOrEqual(startedAt);
    expect(Date.parse(time)).toBeLessThanOrEqual(Date.now());
  }

  it('matches pino key for key on REST, GraphQL, error and unknown-route requests', async () => {
    const version = gw.slot.current.modelVersion;
    const runId = gw.slot.current.lineage.runId;
    const startedAt = Date.now();
    await postJson(gw.url, '/predict', LEGACY_PAYLOAD, { 'x-request-id': 'al-rest' });
    await postJson(gw.url, '/predict', [LEGACY_PAYLOAD, LEGACY_PAYLOAD], { 'x-request-id': 'al-batch' });
    await postJson(gw.url, '/predict', '{not json', { 'x-request-id': 'al-bad' });
    await postJson(gw.url, '/predict', [LEGACY_PAYLOAD, { ...LEGACY_PAYLOAD, tenure: -1 }], { 'x-request-id': 'al-invalid' });
    await gql(gw.url, PredictDocument, { customer: GRAPHQL_CUSTOMER }, { 'x-request-id': 'al-gql' });
    await fetch(`${gw.url}/nowhere`, { headers: { 'x-request-id': 'al-404' } });
    // fetch's own user agent; the test's socket is the client (no proxy is trusted by default).
    const caller = { client: '127.0.0.1', userAgent: 'node' };
    const cases: [string, Omit<AccessLogEntry, 'latencyMs' | 'reqId'>][] = [
      ['al-rest', { method: 'POST', route: 'rest_predict', operation: null, status: 200, modelVersion: version, modelRunId: runId, rows: 1, ...caller }],
      ['al-batch', { method: 'POST', route: 'rest_predict', operation: null, status: 200, modelVersion: version, modelRunId: runId, rows: 2, ...caller }],
      ['al-bad', { method: 'POST', route: 'rest_predict', operation: null, status: 400, code: 'BAD_REQUEST', modelVersion: null, modelRunId: null, rows: null, ...caller }],
      // Customers sent are counted whether or not they are valid, as GraphQL counts them.
      ['al-invalid', { method: 'POST', route: 'rest_predict', operation: null, status: 400, code: 'BAD_USER_INPUT', modelVersion: null, modelRunId: null, rows: 2, ...caller }],
      ['al-gql', { method: 'POST', route: 'graphql', operation: 'Predict', status: 200, modelVersion: version, modelRunId: runId, rows: 1, ...caller }],
      ['al-404', { method: 'GET', route: 'not_found', operation: null, status: 404, code: 'NOT_FOUND', modelVersion: null, modelRunId: null, rows: null, ...caller }],
    ];
    for (const [reqId, expected] of cases) expectPinoEquivalent(await lineFor(reqId), { reqId, ...expected }, startedAt);
    // Beside the version, which two models can share, the run that names one (pino's line above writes only the fields it knows).
    expect(await lineFor('al-rest')).toMatchObject({ modelVersion: version, modelRunId: runId });
    expect(await lineFor('al-gql')).toMatchObject({ modelVersion: version, modelRunId: runId });
  });

  it('carries a non-ASCII operation label through unharmed', async () => {
    const startedAt = Date.now();
    // An anonymous operation is labelled by its fields; an inline fragment shows as "…".
    const res = await gql(gw.url, '{ ... on Query { modelInfo { name } } }', {}, { 'x-request-id': 'al-unicode' });
    expect(res.status).toBe(200);
    expectPinoEquivalent(
      await lineFor('al-unicode'),
      { reqId: 'al-unicode', method: 'POST', route: 'graphql', operation: 'query …', status: 200, modelVersion: null, modelRunId: null, rows: null, client: '127.0.0.1', userAgent: 'node' },
      startedAt,
    );
  });

  it('names the code an error answer carries, never its detail, and the operation a named request asked for even when it was refused before it ran', async () => {
    const send = (reqId: string, body: unknown) => postJson(gw.url, '/graphql', body, { 'x-request-id': reqId });
    const longName = `Op${'x'.repeat(100)}`;
    const answers = [
      // The customer's own value is in the error's message: only the code is logged.
      await gql(gw.url, PredictDocument, { customer: { ...GRAPHQL_CUSTOMER, tenure: -1 } }, { 'x-request-id': 'al-code-input' }),
      // A field a deploy renamed, in a named operation sent without operationName: refused by validation.
      await send('al-code-renamed', { query: 'mutation Renamed { reloadModel { modelVersion } }' }),
      // A syntax error: nothing parsed, so the name is the operationName sent (cut as every label is).
      await send('al-code-syntax', { query: `query ${longName} { modelInfo {`, operationName: longName }),
      await send('al-code-json', '{"query": '),
    ];
    expect(answers.slice(1).map((a) => a.status)).toEqual([400, 400, 400]);
    // A problem answered on /graphql with no field at fault carries its code as a GraphQL error: the line names the same.
    const unsupported = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'text/plain', 'x-request-id': 'al-code-415' }, body: '{ modelInfo { name } }' });
    const unsupportedCode = ((await unsupported.json()) as { errors: { extensions: { code: string } }[] }).errors[0]?.extensions.code;
    expect({ status: unsupported.status, code: unsupportedCode }).toEqual({ status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' });
    const rest = await postJson(gw.url, '/predict', LEGACY_PAYLOAD, { 'x-request-id': 'al-code-rest-ok' });
    expect(rest.status).toBe(200);
    const fields = async (reqId: string) => {
      const line = await lineFor(reqId);
      return { status: line['status'], operation: line['operation'], code: line['code'] };
    };
    expect(await fields('al-code-input')).toEqual({ status: answers[0]?.status, operation: 'Predict', code: 'BAD_USER_INPUT' });
    expect(await fields('al-code-renamed')).toEqual({ status: 400, operation: 'Renamed', code: 'GRAPHQL_VALIDATION_FAILED' });
    expect(await fields('al-code-syntax')).toEqual({ status: 400, operation: `${longName.slice(0, MAX_OPERATION_LABEL_CHARS - 1)}…`, code: 'GRAPHQL_PARSE_FAILED' });
    expect(await fields('al-code-json')).toEqual({ status: 400, operation: undefined, code: 'BAD_REQUEST' });
    expect(await fields('al-code-415')).toEqual({ status: 415, operation: undefined, code: 'UNSUPPORTED_MEDIA_TYPE' });
    // An answer without an error has no code.
    expect(await fields('al-code-rest-ok')).toEqual({ status: 200, operation: undefined, code: undefined });
    expect(JSON.stringify(gw.logs)).not.toContain('got -1');
    // /metrics counts the refused operations under their names too.
    expect(await metricValue(gw.url, 'gateway_requests_total{route="graphql",operation="Renamed",status="400"}')).toBe(1);
  });

  it('is not written for the health check (GET /) or the Prometheus scrape (/metrics), as README says', async () => {
    for (const [path, reqId] of [['/', 'al-health'], ['/metrics', 'al-metrics']] as const) {
      const res = await fetch(`${gw.url}${path}`, { headers: { 'x-request-id': reqId } });
      expect(res.status).toBe(200);
      await res.text();
    }
    // A request after them whose line is written: theirs would have been written before it.
    await postJson(gw.url, '/predict', LEGACY_PAYLOAD, { 'x-request-id': 'al-after-scrape' });
    await lineFor('al-after-scrape');
    expect(gw.logs.filter((l) => l['msg'] === 'request' && (l['reqId'] === 'al-health' || l['reqId'] === 'al-metrics'))).toEqual([]);
  });

  it('is not written at LOG_LEVEL=warn', async () => {
    const quiet = await startTestGateway({ LOG_LEVEL: 'warn' });
    try {
      await postJson(quiet.url, '/predict', LEGACY_PAYLOAD, { 'x-request-id': 'quiet-rest' });
      await gql(quiet.url, PredictDocument, { customer: GRAPHQL_CUSTOMER }, { 'x-request-id': 'quiet-gql' });
      await new Promise((r) => setTimeout(r, 50));
      expect(quiet.logs.filter((l) => l['msg'] === 'request')).toEqual([]);
    } finally {
      await quiet.close();
    }
    // The same requests at info do log (the sink works): see the tests above.
  });
});
