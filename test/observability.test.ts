/**
 * Health, request ids, access log and metrics, as the load balancer, CloudWatch and
 * Prometheus see them.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { GatewayMetrics } from '../src/metrics.js';
import { ModelAdmin } from '../src/model/model-admin.js';
import { ModelSlot } from '../src/model/model-slot.js';
import { Predictor } from '../src/prediction.js';
import { PredictDocument, PredictBatchDocument } from '../src/generated/graphql.js';
import { GRAPHQL_CUSTOMER, LEGACY_PAYLOAD, LOYAL_CUSTOMER, gql, postJson, startTestGateway, type TestGateway } from './helpers/index.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(() => gw.close());

describe('GET / (load balancer health check)', () => {
  it('is 200 with the model name and version once the model is warmed up', async () => {
    const res = await fetch(`${gw.url}/`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', model: 'telco-churn', version: gw.slot.current.modelVersion, source: 'BUNDLE' });
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
      const predict = await postJson(url, '/predict', LEGACY_PAYLOAD);
      expect(predict.status).toBe(503);
      expect((predict.json as { detail: string }).detail).toMatch(/MODEL_NOT_READY/);
    } finally {
      server.close();
    }
  });
});

describe('request ids and the access log', () => {
  it("honours the caller's x-request-id and logs one line per request without the customer's data", async () => {
    gw.logs.length = 0;
    const res = await gql(gw.url, PredictDocument, { customer: GRAPHQL_CUSTOMER }, { 'x-request-id': 'trace-abc-123' });
    expect(res.headers.get('x-request-id')).toBe('trace-abc-123');
    await new Promise((r) => setTimeout(r, 20));
    const lines = gw.logs.filter((l) => l['reqId'] === 'trace-abc-123');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'info', route: 'graphql', operation: 'Predict', status: 200, modelVersion: gw.slot.current.modelVersion, rows: 1 });
    expect(typeof lines[0]?.['latencyMs']).toBe('number');
    expect(JSON.stringify(gw.logs)).not.toMatch(/ELECTRONIC_CHECK|Electronic check|29\.85/);
  });

  it('generates a request id when the caller sends none or a malformed one', async () => {
    const none = await postJson(gw.url, '/predict', LEGACY_PAYLOAD);
    expect(none.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const bad = await postJson(gw.url, '/predict', LEGACY_PAYLOAD, { 'x-request-id': 'has spaces and "quotes"' });
    expect(bad.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('never logs the authorization header or the admin token', async () => {
    gw.logs.length = 0;
    await gql(gw.url, 'mutation { reloadModel { changed } }', {}, { authorization: 'Bearer super-secret-token-value' });
    await new Promise((r) => setTimeout(r, 20));
    expect(gw.logs.length).toBeGreaterThan(0);
    expect(JSON.stringify(gw.logs)).not.toMatch(/super-secret-token-value/);
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
    expect(text).toMatch(/gateway_predictions_total\{risk_level="HIGH"\} \d+/);
    expect(text).toMatch(/gateway_predictions_total\{risk_level="LOW"\} \d+/);
    expect(text).toMatch(/gateway_batch_size_bucket\{le="2"\} [1-9]/);
    expect(text).toMatch(new RegExp(`gateway_model_info\\{name="telco-churn",version="${gw.slot.current.modelVersion}",source="BUNDLE",run_id="\\w+"\\} 1`));
  });
});
