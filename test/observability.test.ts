/**
 * Health, request ids, access log and metrics, as the load balancer, CloudWatch and
 * Prometheus see them.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { Counter, Histogram, Registry, type RegistryContentType } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { ACCESS_LOG_FLUSH_MS, createLogger } from '../src/logger.js';
import { GatewayMetrics, MAX_OPERATION_LABELS, OTHER_OPERATIONS, OWN_OPERATIONS, REQUEST_DURATION_BUCKETS, RequestMetrics } from '../src/metrics.js';
import { ModelAdmin } from '../src/model/model-admin.js';
import { ModelSlot } from '../src/model/model-slot.js';
import { Predictor } from '../src/prediction.js';
import { newRequestState, noteScored, servedModels } from '../src/request-state.js';
import { PredictDocument, PredictBatchDocument, RetentionOffersDocument } from '../src/generated/graphql.js';
import { GRAPHQL_CUSTOMER, LEGACY_PAYLOAD, LOYAL_CUSTOMER, gql, metricValue, postJson, startTestGateway, type TestGateway } from './helpers/index.js';

let gw: TestGateway;
/** Access-log lines reach the log ACCESS_LOG_FLUSH_MS after the first of them. */
const accessLogFlushed = () => new Promise((r) => setTimeout(r, 2 * ACCESS_LOG_FLUSH_MS));

/** Runs `body` while reading the serving model throws a failure no code expects (not a GatewayError): answered "Unexpected error." or 500. */
async function whileModelThrows(gateway: TestGateway, body: () => Promise<void>): Promise<void> {
  Object.defineProperty(gateway.slot, 'current', {
    configurable: true,
    get: () => {
      throw new TypeError('injected: unexpected failure');
    },
  });
  try {
    await body();
  } finally {
    Reflect.deleteProperty(gateway.slot, 'current');
  }
}
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(() => gw.close());

describe('GET / (load balancer health check)', () => {
  it('is 200 with the model name and version once the model is warmed up', async () => {
    const res = await fetch(`${gw.url}/`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', model: 'telco-churn', version: gw.slot.current.modelVersion, runId: gw.slot.current.lineage.runId, source: 'BUNDLE' });
    // The ready line names the run and the ONNX file too: logs alone trace what was served.
    expect(gw.logs.find((l) => l['msg'] === 'ready')).toMatchObject({
      version: gw.slot.current.modelVersion,
      runId: gw.slot.current.lineage.runId,
      onnxSha256: gw.slot.current.manifest.onnx.sha256,
      // …and whether its predictions can be explained, by which explainer file.
      explainerSha256: gw.slot.current.manifest.explainer?.sha256,
    });
    expect(gw.logs.find((l) => l['msg'] === 'ready')?.['explainerSha256']).toMatch(/^[0-9a-f]{64}$/);
  });

  // A health answer is true only when it is written: a cache in front (a CDN keeps a 200 without
  // cache headers for a day by heuristic) would answer ok for a task long gone.
  it('is never kept by a cache: cache-control: no-store on GET and HEAD, ready or draining', async () => {
    for (const method of ['GET', 'HEAD']) {
      const res = await fetch(`${gw.url}/`, { method });
      expect([method, res.status, res.headers.get('cache-control')]).toEqual([method, 200, 'no-store']);
    }
    const draining = await startTestGateway({ LOG_LEVEL: 'warn' });
    try {
      draining.app.startDraining();
      const res = await fetch(`${draining.url}/`);
      expect([res.status, res.headers.get('cache-control')]).toEqual([503, 'no-store']);
    } finally {
      await draining.close();
    }
  });

  it('is 503 while no model is loaded', async () => {
    const config = loadConfig({});
    const log = createLogger('silent');
    const metrics = new GatewayMetrics();
    const slot = new ModelSlot();
    const app = createApp({ config, log, slot, metrics, predictor: new Predictor(slot, metrics), admin: new ModelAdmin(slot, null, log, metrics) });
    const server = createServer(app.handle).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const health = await fetch(`${url}/`);
      expect(health.status).toBe(503);
      expect(await health.json()).toEqual({ status: 'starting' });
      expect(health.headers.get('cache-control')).toBe('no-store');
      const predict = await postJson(url, '/predict', LEGACY_PAYLOAD);
      expect(predict.status).toBe(503);
      expect((predict.json as { detail: string }).detail).toMatch(/MODEL_NOT_READY/);
      // A 503 that repeating cures says when to repeat (clients' retry policies read it).
      expect(predict.headers.get('retry-after')).toBe('1');
      // modelInfo as well: the same 503 and code as predict, not a masked "Unexpected error."
      const info = await gql(url, '{ modelInfo { name } }', {}, { 'x-request-id': 'not-ready-info' });
      expect(info.status).toBe(503);
      expect(info.body.errors?.[0]?.extensions).toMatchObject({ code: 'MODEL_NOT_READY', requestId: 'not-ready-info' });
      expect(info.headers.get('retry-after')).toBe('1');
    } finally {
      server.close();
    }
  });
});

describe('headers on every answer', () => {
  // REST and health write them in one writeHead with their own headers; every other answer
  // gets them with setHeader. Each path is listed, so a new one that skips both shows here.
  it('carries x-request-id and nosniff on every route, status and method', async () => {
    const cors = await startTestGateway({ CORS_ORIGINS: 'https://retention.example.com' });
    try {
      const origin = { origin: 'https://retention.example.com' };
      const answers: [string, Promise<Response>][] = [
        ['GET / 200', fetch(`${gw.url}/`)],
        ['HEAD / 200', fetch(`${gw.url}/`, { method: 'HEAD' })],
        ['POST / 405', fetch(`${gw.url}/`, { method: 'POST' })],
        ['POST /predict 200', fetch(`${gw.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(LEGACY_PAYLOAD) })],
        ['POST /predict 400', fetch(`${gw.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"tenure":-1}' })],
        ['POST /predict 415', fetch(`${gw.url}/predict`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' })],
        ['GET /predict 405', fetch(`${gw.url}/predict`)],
        ['POST /graphql 200', fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ modelInfo { name } }' }) })],
        ['POST /graphql 400', fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ nope }' }) })],
        ['GET /metrics 200', fetch(`${gw.url}/metrics`)],
        ['GET /ui 200', fetch(`${gw.url}/ui`)],
        ['GET /openapi.json 200', fetch(`${gw.url}/openapi.json`)],
        ['HEAD /openapi.json 200', fetch(`${gw.url}/openapi.json`, { method: 'HEAD' })],
        ['POST /openapi.json 405', fetch(`${gw.url}/openapi.json`, { method: 'POST' })],
        ['CORS GET /openapi.json 200', fetch(`${cors.url}/openapi.json`, { headers: origin })],
        ['GET /nowhere 404', fetch(`${gw.url}/nowhere`)],
        ['CORS POST /predict 200', fetch(`${cors.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json', ...origin }, body: JSON.stringify(LEGACY_PAYLOAD) })],
        ['CORS OPTIONS /predict 204', fetch(`${cors.url}/predict`, { method: 'OPTIONS', headers: { ...origin, 'access-control-request-method': 'POST' } })],
        ['CORS OPTIONS /graphql 204', fetch(`${cors.url}/graphql`, { method: 'OPTIONS', headers: { ...origin, 'access-control-request-method': 'POST' } })],
      ];
      for (const [name, pending] of answers) {
        const res = await pending;
        await res.arrayBuffer();
        const expected = Number(name.split(' ').at(-1));
        expect({ name, status: res.status }).toEqual({ name, status: expected });
        expect({ name, id: res.headers.get('x-request-id') }).toEqual({ name, id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
        expect({ name, nosniff: res.headers.get('x-content-type-options') }).toEqual({ name, nosniff: 'nosniff' });
        // Exactly one of each, whichever path wrote them.
        expect({ name, id: res.headers.get('x-request-id')?.includes(',') }).toEqual({ name, id: false });
        expect({ name, cl: res.headers.get('content-length') === null || res.headers.get('content-length')?.includes(',') === false }).toEqual({ name, cl: true });
        if (name.startsWith('CORS')) expect({ name, origin: res.headers.get('access-control-allow-origin') }).toEqual({ name, origin: origin.origin });
      }
    } finally {
      await cors.close();
    }
  });
});

describe('request ids and the access log', () => {
  it("honours the caller's x-request-id and logs one line per request without the customer's data", async () => {
    gw.logs.length = 0;
    const res = await gql(gw.url, PredictDocument, { customer: GRAPHQL_CUSTOMER }, { 'x-request-id': 'trace-abc-123' });
    expect(res.headers.get('x-request-id')).toBe('trace-abc-123');
    await accessLogFlushed();
    const lines = gw.logs.filter((l) => l['reqId'] === 'trace-abc-123');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'info', route: 'graphql', operation: 'Predict', status: 200, modelVersion: gw.slot.current.modelVersion, rows: 1 });
    expect(typeof lines[0]?.['latencyMs']).toBe('number');
    expect(JSON.stringify(gw.logs)).not.toMatch(/ELECTRONIC_CHECK|Electronic check|29\.85/);
  });

  it('logs no line for the polls of GET / and GET /metrics, and one for each refused request to those paths', async () => {
    gw.logs.length = 0;
    const send = (method: string, path: string, id: string) => fetch(`${gw.url}${path}`, { method, headers: { 'x-request-id': id } });
    const polls = [await send('GET', '/', 'poll-health'), await send('HEAD', '/', 'poll-health-head'), await send('GET', '/metrics', 'poll-metrics')];
    const refused = [await send('POST', '/', 'post-root'), await send('DELETE', '/metrics', 'delete-metrics')];
    expect([...polls, ...refused].map((r) => r.status)).toEqual([200, 200, 200, 405, 405]);
    await accessLogFlushed();
    const lines = (id: string) => gw.logs.filter((l) => l['reqId'] === id && l['route'] !== undefined);
    expect(['poll-health', 'poll-health-head', 'poll-metrics'].map((id) => lines(id).length)).toEqual([0, 0, 0]);
    expect(lines('post-root')).toEqual([expect.objectContaining({ method: 'POST', route: 'health', status: 405 })]);
    expect(lines('delete-metrics')).toEqual([expect.objectContaining({ method: 'DELETE', route: 'metrics', status: 405 })]);
  });

  it("keeps the customer's id and values out of the logs on refused and failed requests too", async () => {
    gw.logs.length = 0;
    const id = 'cust-7731-private';
    const graphql = { ...GRAPHQL_CUSTOMER, customerId: id, monthlyCharges: 41.37 };
    const rest = { ...LEGACY_PAYLOAD, customerID: id, MonthlyCharges: 41.37 };
    const answers = [
      (await gql(gw.url, PredictDocument, { customer: graphql })).status,
      (await gql(gw.url, PredictDocument, { customer: { ...graphql, tenure: -3 } })).status,
      (await gql(gw.url, PredictBatchDocument, { customers: [graphql, { ...graphql, totalCharges: -1 }] })).status,
      (await postJson(gw.url, '/predict', rest)).status,
      (await postJson(gw.url, '/predict', [rest, rest])).status,
      (await postJson(gw.url, '/predict', [rest, { ...rest, tenure: -1 }])).status,
      (await postJson(gw.url, '/predict', { ...rest, Contract: 'Forever' })).status,
    ];
    expect(answers).toEqual([200, 400, 400, 200, 200, 400, 400]);
    await accessLogFlushed();
    expect(gw.logs.filter((l) => l['msg'] === 'request')).toHaveLength(answers.length);
    expect(JSON.stringify(gw.logs)).not.toMatch(/cust-7731-private|41\.37|Forever/);
  });

  it('generates a request id when the caller sends none or a malformed one', async () => {
    const none = await postJson(gw.url, '/predict', LEGACY_PAYLOAD);
    expect(none.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const bad = await postJson(gw.url, '/predict', LEGACY_PAYLOAD, { 'x-request-id': 'has spaces and "quotes"' });
    expect(bad.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    // Up to 128 characters of letters, digits and _ . : - are the caller's; one more is not.
    const longest = `trace:${'a'.repeat(120)}.-`;
    expect(longest).toHaveLength(128);
    expect((await postJson(gw.url, '/predict', LEGACY_PAYLOAD, { 'x-request-id': longest })).headers.get('x-request-id')).toBe(longest);
    expect((await postJson(gw.url, '/predict', LEGACY_PAYLOAD, { 'x-request-id': `${longest}x` })).headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('logs the cause of a masked "Unexpected error." once, with the request id the caller was given', async () => {
    // A failure no resolver expects (not a GatewayError): the caller gets "Unexpected error."
    // and the x-request-id to quote; support must find the cause under that id.
    gw.logs.length = 0;
    await whileModelThrows(gw, async () => {
      const res = await gql(gw.url, 'query ModelInfo { modelInfo { modelVersion } }', {}, { 'x-request-id': 'masked-cause-1' });
      expect(res.body).toMatchObject({ errors: [{ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
    });
    await accessLogFlushed();
    const errors = gw.logs.filter((l) => l['level'] === 'error');
    expect(errors).toEqual([expect.objectContaining({ reqId: 'masked-cause-1', msg: 'graphql resolver failed', path: 'modelInfo', err: 'injected: unexpected failure' })]);
  });

  it('counts each failure no code expects by route: a GraphQL field answered "Unexpected error." with HTTP 200, and a REST 500', async () => {
    // Answered 200, the GraphQL one was a success in gateway_requests_total and to the ALB's 5xx alarm.
    const unexpected = (route: string) => metricValue(gw.url, `gateway_unexpected_errors_total{route="${route}"}`);
    const before = { graphql: await unexpected('graphql'), rest: await unexpected('rest_predict') };
    gw.logs.length = 0;
    await whileModelThrows(gw, async () => {
      const graphql = await gql(gw.url, 'query Fmt { modelInfo { modelVersion } }', {}, { 'x-request-id': 'unexpected-graphql' });
      expect([graphql.status, graphql.body.errors?.map((e) => e.extensions?.['code'])]).toEqual([200, ['INTERNAL_SERVER_ERROR']]);
      const rest = await postJson(gw.url, '/predict', LEGACY_PAYLOAD, { 'x-request-id': 'unexpected-rest' });
      expect(rest.status).toBe(500);
    });
    // One per line logged.
    expect({ graphql: await unexpected('graphql'), rest: await unexpected('rest_predict') }).toEqual({ graphql: before.graphql + 1, rest: before.rest + 1 });
    await accessLogFlushed();
    expect(gw.logs.filter((l) => l['level'] === 'error').map((l) => [l['reqId'], l['msg']])).toEqual([
      ['unexpected-graphql', 'graphql resolver failed'],
      ['unexpected-rest', 'unexpected error'],
    ]);
  });

  it('writes no line of Yoga\'s own at LOG_LEVEL=debug: they named no request, so concurrent requests\' could not be told apart', async () => {
    const debug = await startTestGateway({ LOG_LEVEL: 'debug' });
    try {
      // A document Yoga parses and runs (not yet compiled), as GraphiQL's first request is.
      const res = await gql(debug.url, 'query YogaLines { modelInfo { name } }', {}, { 'x-request-id': 'yoga-debug' });
      expect(res.status).toBe(200);
      await accessLogFlushed();
      expect(debug.logs.some((l) => l['reqId'] === 'yoga-debug' && l['msg'] === 'request')).toBe(true);
      expect(debug.logs.filter((l) => l['msg'] === 'yoga')).toEqual([]);
    } finally {
      await debug.close();
    }
  });

  it('takes the admin token only as it is: one character more or less is FORBIDDEN', async () => {
    const adminToken = 'configured-admin-token-4242';
    const admin = await startTestGateway({ ADMIN_TOKEN: adminToken });
    try {
      const code = async (authorization: string) => (await gql(admin.url, 'mutation { reloadModel { changed } }', {}, { authorization })).body.errors?.[0]?.extensions?.['code'];
      for (const sent of [`${adminToken}x`, adminToken.slice(0, -1), `${adminToken}${adminToken}`]) expect(await code(`Bearer ${sent}`), sent.length.toString()).toBe('FORBIDDEN');
      expect(await code(`Bearer ${adminToken}`)).toBeUndefined();
    } finally {
      await admin.close();
    }
  });

  it('says what is wrong with the admin token, still 403 FORBIDDEN, and logs a wrong one at warn with the request id', async () => {
    // Typed by hand into GraphiQL's headers: one message for every case left a caller who sent
    // "Bearer x" told to send a token, and a typo looked the same as a gateway where admin is off.
    const adminToken = 'configured-admin-token-4242';
    const admin = await startTestGateway({ ADMIN_TOKEN: adminToken });
    try {
      const refusal = async (url: string, headers: Record<string, string>) => {
        const res = await gql(url, 'mutation { reloadModel { changed } }', {}, headers);
        expect(res.status).toBe(403);
        expect(res.body.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
        return res.body.errors?.[0]?.message;
      };
      const none = await refusal(admin.url, {});
      const malformed = [await refusal(admin.url, { authorization: adminToken }), await refusal(admin.url, { authorization: 'Bearer ' })];
      const wrong = await refusal(admin.url, { authorization: 'Bearer not-the-admin-token-at-all', 'x-request-id': 'wrong-admin-token-1' });
      // The suite's gateway has no ADMIN_TOKEN: whatever is sent, admin is off there.
      const disabled = [await refusal(gw.url, { authorization: `Bearer ${adminToken}` }), await refusal(gw.url, {})];
      expect(none).toBe('reloadModel needs the admin token: send Authorization: Bearer <ADMIN_TOKEN>');
      for (const m of malformed) expect(m).toBe('reloadModel needs the admin token as Authorization: Bearer <ADMIN_TOKEN>; the Authorization header sent is not "Bearer" followed by a token');
      expect(wrong).toBe("the bearer token sent is not the admin token: send this gateway's ADMIN_TOKEN as Authorization: Bearer <ADMIN_TOKEN>");
      for (const m of disabled) expect(m).toBe('reloadModel is off on this gateway: it has no admin token (its operator enables reloadModel by setting ADMIN_TOKEN)');
      await accessLogFlushed();
      const warned = admin.logs.filter((l) => l['level'] === 'warn' && String(l['msg']).includes('admin token'));
      expect(warned).toEqual([expect.objectContaining({ reqId: 'wrong-admin-token-1', msg: 'reloadModel refused: the bearer token sent is not the admin token' })]);
      expect(JSON.stringify(admin.logs)).not.toMatch(/not-the-admin-token-at-all|configured-admin-token-4242/);
    } finally {
      await admin.close();
    }
  });

  it('never logs the authorization header or the admin token', async () => {
    // A gateway that has an admin token: a wrong token and the right one are both sent.
    const adminToken = 'configured-admin-token-4242';
    const admin = await startTestGateway({ ADMIN_TOKEN: adminToken });
    try {
      const reload = (token: string) => gql(admin.url, 'mutation { reloadModel { changed } }', {}, { authorization: `Bearer ${token}` });
      expect((await reload('super-secret-token-value')).body.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
      expect((await reload(adminToken)).body).toEqual({ data: { reloadModel: { changed: false } } });
      await new Promise((r) => setTimeout(r, 2 * ACCESS_LOG_FLUSH_MS));
      expect(admin.logs.filter((l) => l['msg'] === 'request')).toHaveLength(2);
      expect(JSON.stringify(admin.logs)).not.toMatch(/super-secret-token-value|configured-admin-token-4242/);
    } finally {
      await admin.close();
    }
  });
});

describe('GET /metrics', () => {
  it('exposes requests and latency by route and operation, predictions by risk, batch sizes and the model', async () => {
    await gql(gw.url, PredictBatchDocument, { customers: [GRAPHQL_CUSTOMER, LOYAL_CUSTOMER] });
    await postJson(gw.url, '/predict', LEGACY_PAYLOAD);
    const res = await fetch(`${gw.url}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/gateway_requests_total\{route="graphql",operation="PredictBatch",status="200"\} \d+/);
    expect(text).toMatch(/gateway_requests_total\{route="rest_predict",operation="",status="200"\} \d+/);
    expect(text).toMatch(/gateway_request_duration_seconds_bucket\{le="0.01",route="graphql",operation="PredictBatch"\}/);
    const model = `version="${gw.slot.current.modelVersion}",run_id="${gw.slot.current.lineage.runId}"`;
    expect(text).toMatch(new RegExp(`gateway_predictions_total\\{risk_level="HIGH",${model}\\} \\d+`));
    expect(text).toMatch(new RegExp(`gateway_predictions_total\\{risk_level="LOW",${model}\\} \\d+`));
    expect(text).toMatch(/gateway_batch_size_bucket\{le="2"\} [1-9]/);
    expect(text).toMatch(new RegExp(`gateway_model_info\\{name="telco-churn",version="${gw.slot.current.modelVersion}",source="BUNDLE",run_id="\\w+"\\} 1`));
  });

  it('names only the model now serving in gateway_model_info once another is swapped in', async () => {
    const metrics = new GatewayMetrics();
    const first = gw.slot.current;
    // The same model under another version and run, as a promotion brings it (setModel reads only these).
    const second = Object.create(first, {
      modelVersion: { value: '99' },
      lineage: { value: { ...first.lineage, runId: 'f00d', source: 'MLFLOW' } },
    }) as typeof first;
    metrics.setModel(first);
    metrics.setModel(second);
    const text = await metrics.registry.metrics();
    expect(parseExposition(text).filter((s) => s.name === 'gateway_model_info')).toEqual([
      { name: 'gateway_model_info', labels: { name: first.lineage.name, version: '99', source: 'MLFLOW', run_id: 'f00d' }, value: 1 },
    ]);
  });

  it('counts predictions by the model that served them: two models of one version number (the bundle\'s 2, MLflow\'s 2) apart', async () => {
    const metrics = new GatewayMetrics();
    const bundle = gw.slot.current;
    const mlflow = Object.create(bundle, { lineage: { value: { ...bundle.lineage, runId: 'f00d', source: 'MLFLOW' } } }) as typeof bundle;
    metrics.setModel(bundle);
    metrics.setModel(mlflow);
    // A request whose fields were scored on either side of the swap: the bundle, then MLflow's, then the bundle again.
    const state = newRequestState(createLogger('silent'), 'r', 'graphql', null);
    const scored = (model: typeof bundle, riskLevels: ('LOW' | 'MEDIUM' | 'HIGH')[]) => noteScored(state, riskLevels.map((riskLevel) => ({ riskLevel, modelVersion: model.modelVersion, model })));
    scored(bundle, ['LOW', 'HIGH']);
    scored(mlflow, ['HIGH']);
    scored(bundle, ['HIGH']);
    expect(servedModels(state.scored)).toEqual({ versions: `${bundle.modelVersion},${bundle.modelVersion}`, runIds: `${bundle.lineage.runId},f00d` });
    metrics.recordServed(state.scored as NonNullable<typeof state.scored>);
    const samples = parseExposition(await metrics.registry.metrics()).filter((s) => s.name === 'gateway_predictions_total');
    const version = bundle.modelVersion;
    expect(samples.map((s) => ({ ...s.labels, value: s.value }))).toEqual([
      { risk_level: 'LOW', version, run_id: bundle.lineage.runId, value: 1 },
      { risk_level: 'MEDIUM', version, run_id: bundle.lineage.runId, value: 0 },
      { risk_level: 'HIGH', version, run_id: bundle.lineage.runId, value: 2 },
      { risk_level: 'LOW', version, run_id: 'f00d', value: 0 },
      { risk_level: 'MEDIUM', version, run_id: 'f00d', value: 0 },
      { risk_level: 'HIGH', version, run_id: 'f00d', value: 1 },
    ]);
  });

  it('has a series at 0 for every risk level of the serving model and every abandon reason from the start, so rate() and increase() have one to read', async () => {
    const fresh = await startTestGateway();
    try {
      const text = await (await fetch(`${fresh.url}/metrics`)).text();
      const samples = (name: string) => parseExposition(text).filter((s) => s.name === name).map((s): Record<string, string | number> => ({ ...s.labels, value: s.value }));
      const model = { version: fresh.slot.current.modelVersion, run_id: fresh.slot.current.lineage.runId };
      expect(samples('gateway_predictions_total')).toEqual([
        { risk_level: 'LOW', ...model, value: 0 },
        { risk_level: 'MEDIUM', ...model, value: 0 },
        { risk_level: 'HIGH', ...model, value: 0 },
      ]);
      expect(samples('gateway_unexpected_errors_total')).toEqual([
        { route: 'graphql', value: 0 },
        { route: 'rest_predict', value: 0 },
      ]);
      expect(samples('gateway_abandoned_requests_total')).toEqual([
        { reason: 'client_closed', value: 0 },
        { reason: 'timed_out', value: 0 },
        { reason: 'shutting_down', value: 0 },
      ]);
      // Open label sets still start empty: a series per route and operation appears with its first request.
      expect(samples('gateway_requests_total').every((s) => s.route === 'health')).toBe(true);
    } finally {
      await fresh.close();
    }
  });

  it('counts predictions served: once per answered row, none for a request that failed after scoring some of its fields', async () => {
    const served = async () => {
      const samples = parseExposition(await (await fetch(`${gw.url}/metrics`)).text());
      const model = { version: gw.slot.current.modelVersion, run_id: gw.slot.current.lineage.runId };
      const risk = (level: string) => sampleValue(samples, 'gateway_predictions_total', { risk_level: level, ...model });
      return {
        byRisk: { LOW: risk('LOW'), MEDIUM: risk('MEDIUM'), HIGH: risk('HIGH') },
        batches: sampleValue(samples, 'gateway_batch_size_count', {}),
        rows: sampleValue(samples, 'gateway_batch_size_sum', {}),
      };
    };
    const plus = (base: Awaited<ReturnType<typeof served>>, levels: string[], batches: number) => ({
      byRisk: Object.fromEntries(Object.entries(base.byRisk).map(([level, n]) => [level, n + levels.filter((l) => l === level).length])),
      batches: base.batches + batches,
      rows: base.rows + levels.length,
    });
    // Field a scores two rows, then field b is refused (tenure out of range): the answer has no data.
    const two = 'mutation Two($cs: [CustomerInput!]!, $c: CustomerInput!) { a: predictBatch(customers: $cs) { riskLevel } b: predict(customer: $c) { riskLevel } }';
    const before = await served();
    const first = await gql<{ a: { riskLevel: string }[]; b: { riskLevel: string } }, unknown>(gw.url, two, { cs: [GRAPHQL_CUSTOMER, LOYAL_CUSTOMER], c: GRAPHQL_CUSTOMER }); // also compiles it
    expect(first.status).toBe(200);
    const levels = [...(first.body.data?.a ?? []).map((p) => p.riskLevel), first.body.data?.b.riskLevel ?? 'none'];
    // Two risk levels at least, so a prediction counted under the wrong one shows.
    expect(new Set(levels).size).toBeGreaterThan(1);
    expect(await served()).toEqual(plus(before, levels, 2));
    const afterFirst = await served();
    for (let i = 0; i < 2; i++) {
      // The second time the compiled run fails and Yoga answers the request again.
      expect((await gql(gw.url, two, { cs: [GRAPHQL_CUSTOMER, LOYAL_CUSTOMER], c: { ...GRAPHQL_CUSTOMER, tenure: 5000 } })).status).toBe(400);
    }
    expect((await postJson(gw.url, '/predict', [LEGACY_PAYLOAD, { ...LEGACY_PAYLOAD, tenure: -1 }])).status).toBe(400);
    const rest = await postJson(gw.url, '/predict', [LEGACY_PAYLOAD, LEGACY_PAYLOAD]);
    expect(rest.status).toBe(200);
    expect(await served()).toEqual(plus(afterFirst, (rest.json as { risk_level: string }[]).map((p) => p.risk_level), 1));
  });
});

/** One sample line of the Prometheus text format, label values unescaped. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, name, raw] of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      labels[name as string] = (raw as string).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    samples.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return samples;
}

function sampleValue(samples: Sample[], name: string, labels: Record<string, string>): number {
  const found = samples.filter((s) => s.name === name && Object.keys(labels).length === Object.keys(s.labels).length && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} appears ${found.length} times`);
  return found[0]?.value ?? 0;
}

describe('gateway_requests_total and gateway_request_duration_seconds', () => {
  /** The two metrics as prom-client's own Counter and Histogram declared them before RequestMetrics. */
  function promClientReference(registry: Registry<RegistryContentType>): (route: string, operation: string, status: number, seconds: number) => void {
    const requests = new Counter({
      name: 'gateway_requests_total',
      help: 'HTTP requests by route, GraphQL operation and status',
      labelNames: ['route', 'operation', 'status'] as const,
      registers: [registry],
    });
    const latency = new Histogram({
      name: 'gateway_request_duration_seconds',
      help: 'HTTP request latency by route and GraphQL operation',
      labelNames: ['route', 'operation'] as const,
      buckets: [...REQUEST_DURATION_BUCKETS],
      registers: [registry],
    });
    return (route, operation, status, seconds) => {
      requests.inc({ route, operation, status: String(status) });
      latency.observe({ route, operation }, seconds);
    };
  }

  // Mostly a few labels, so that series repeat; sometimes anything.
  const label = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom('', 'Predict', 'query …', 'say "hi"', 'back\\slash', 'two\nlines', 'über 🚀', '\\"\\n') },
    { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  );
  const request = fc.record({
    route: fc.constantFrom('rest_predict', 'graphql', 'not_found'),
    operation: label,
    status: fc.constantFrom(200, 400, 404, 500, 503),
    // Exactly on a bucket bound, just above one, anywhere, and beyond the last bound.
    seconds: fc.oneof(
      fc.constantFrom(...REQUEST_DURATION_BUCKETS, 0),
      fc.constantFrom(...REQUEST_DURATION_BUCKETS).map((b) => b + Number.EPSILON * 16),
      fc.double({ min: 0, max: (REQUEST_DURATION_BUCKETS.at(-1) as number) * 1.2, noNaN: true }),
    ),
  });

  it('expose exactly what prom-client would, escaping included, for any sequence of requests', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(request, { maxLength: 80, size: 'max' }), async (requests) => {
        const ours = new Registry<RegistryContentType>();
        const fast = new RequestMetrics([ours], Infinity); // prom-client has no operation bound
        const theirs = new Registry<RegistryContentType>();
        const reference = promClientReference(theirs);
        for (const r of requests) {
          fast.record(r.route, r.operation, r.status, r.seconds);
          reference(r.route, r.operation, r.status, r.seconds);
        }
        expect(await ours.metrics()).toBe(await theirs.metrics());
        ours.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
        theirs.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
        expect(await ours.metrics()).toBe(await theirs.metrics());
        ours.resetMetrics();
        theirs.resetMetrics();
        expect(await ours.metrics()).toBe(await theirs.metrics());
      }),
      { numRuns: 200 },
    );
  });

  it('count real requests by route, operation and status, with their latencies in the right buckets', async () => {
    const before = parseExposition(await (await fetch(`${gw.url}/metrics`)).text());
    gw.logs.length = 0;
    const probe = 'query MetricsProbe { modelInfo { name } }';
    for (let i = 0; i < 3; i++) expect((await gql(gw.url, probe)).status).toBe(200);
    for (let i = 0; i < 4; i++) expect((await postJson(gw.url, '/predict', LEGACY_PAYLOAD)).status).toBe(200);
    expect((await postJson(gw.url, '/predict', '{not json')).status).toBe(400);
    await accessLogFlushed();
    const after = parseExposition(await (await fetch(`${gw.url}/metrics`)).text());
    const delta = (name: string, labels: Record<string, string>) => sampleValue(after, name, labels) - sampleValue(before, name, labels);

    const probeLabels = { route: 'graphql', operation: 'MetricsProbe' };
    const restLabels = { route: 'rest_predict', operation: '' };
    expect(sampleValue(after, 'gateway_requests_total', { ...probeLabels, status: '200' })).toBe(3);
    expect(delta('gateway_requests_total', { ...restLabels, status: '200' })).toBe(4);
    expect(delta('gateway_requests_total', { ...restLabels, status: '400' })).toBe(1);
    expect(sampleValue(after, 'gateway_request_duration_seconds_count', probeLabels)).toBe(3);
    expect(delta('gateway_request_duration_seconds_count', restLabels)).toBe(5);
    expect(sampleValue(after, 'gateway_request_duration_seconds_bucket', { le: '+Inf', ...probeLabels })).toBe(3);

    // The access log has each latency (rounded to 10 µs): the sum and the buckets must agree with it.
    const latencies = gw.logs.filter((l) => l['operation'] === 'MetricsProbe').map((l) => (l['latencyMs'] as number) / 1000);
    expect(latencies).toHaveLength(3);
    const sum = sampleValue(after, 'gateway_request_duration_seconds_sum', probeLabels);
    expect(Math.abs(sum - latencies.reduce((a, b) => a + b, 0))).toBeLessThan(3 * 5e-6 + 1e-12);
    let previous = 0;
    for (const le of REQUEST_DURATION_BUCKETS) {
      const bucket = sampleValue(after, 'gateway_request_duration_seconds_bucket', { le: String(le), ...probeLabels });
      expect(bucket).toBeGreaterThanOrEqual(previous);
      previous = bucket;
      const surelyIn = latencies.filter((s) => s <= le - 5e-6).length;
      const perhapsIn = latencies.filter((s) => s <= le + 5e-6).length;
      expect(bucket).toBeGreaterThanOrEqual(surelyIn);
      expect(bucket).toBeLessThanOrEqual(perhapsIn);
    }
  });

  it('keep their names, help and types', async () => {
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    expect(text).toContain('# HELP gateway_requests_total HTTP requests by route, GraphQL operation and status\n# TYPE gateway_requests_total counter\n');
    expect(text).toContain('# HELP gateway_request_duration_seconds HTTP request latency by route and GraphQL operation\n# TYPE gateway_request_duration_seconds histogram\n');
    expect(text).toMatch(/^gateway_requests_total\{route="health",operation="",status="200"\} [1-9]/m);
  });

  it('keep the first MAX_OPERATION_LABELS operation names of a route and count later new ones as (other)', async () => {
    const fresh = await startTestGateway();
    try {
      const names = Array.from({ length: MAX_OPERATION_LABELS + 10 }, (_, i) => `Op${i}`);
      for (const name of [...names, 'Op0']) expect((await gql(fresh.url, `query ${name} { __typename }`)).status).toBe(200);
      const text = await (await fetch(`${fresh.url}/metrics`)).text();
      const counted = new Map([...text.matchAll(/^gateway_requests_total\{route="graphql",operation="([^"]*)",status="200"\} (\d+)$/gm)].map((m) => [m[1], Number(m[2])]));
      expect(counted.size).toBe(MAX_OPERATION_LABELS + 1);
      expect(counted.get('Op0')).toBe(2); // a name already seen keeps its series
      expect(counted.get(`Op${MAX_OPERATION_LABELS - 1}`)).toBe(1);
      expect(counted.has(`Op${MAX_OPERATION_LABELS}`)).toBe(false);
      expect(counted.get(OTHER_OPERATIONS)).toBe(10);
      // The project's own operations (schema/operations: the UI's, GraphiQL's tabs) keep their series past the cap.
      expect([...OWN_OPERATIONS]).toEqual(expect.arrayContaining(['RetentionOffers', 'ScoreFile', 'Predict', 'ModelInfo']));
      const offers = await gql(fresh.url, RetentionOffersDocument, { customers: [GRAPHQL_CUSTOMER] });
      expect(offers.status).toBe(200);
      const after = await (await fetch(`${fresh.url}/metrics`)).text();
      expect(after).toMatch(/^gateway_requests_total\{route="graphql",operation="RetentionOffers",status="200"\} 1$/m);
      expect(after).toMatch(new RegExp(`^gateway_requests_total\\{route="graphql",operation="\\(other\\)",status="200"\\} 10$`, 'm'));
      // The access log keeps the real name.
      await accessLogFlushed();
      expect(fresh.logs.some((l) => l['msg'] === 'request' && l['operation'] === `Op${MAX_OPERATION_LABELS + 9}`)).toBe(true);
    } finally {
      await fresh.close();
    }
  });
});
