/**
 * After start-up, a failing inference (fault injected into the live ONNX session) gives a
 * 503 / GraphQL error with a code and the request id, logs the cause, and leaves the
 * process serving once the fault clears.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PredictDocument } from '../src/generated/graphql.js';
import { GRAPHQL_CUSTOMER, LEGACY_PAYLOAD, gql, postJson, startTestGateway, type TestGateway } from './helpers/index.js';

let gw: TestGateway;
let restore: () => void;
beforeAll(async () => {
  gw = await startTestGateway({ COALESCE_PREDICTIONS: 'false' });
  // Fault injection: the model's own session starts failing, as a corrupted native state would.
  const session = (gw.slot.current as unknown as { session: { run: (...args: unknown[]) => Promise<unknown> } }).session;
  const run = session.run.bind(session);
  session.run = () => Promise.reject(new Error('injected: ORT kernel failure'));
  restore = () => (session.run = run);
});
afterAll(() => gw.close());

describe('inference failure after start-up', () => {
  it('REST answers 503 problem with the code and the request id', async () => {
    const res = await postJson(gw.url, '/predict', LEGACY_PAYLOAD, { 'x-request-id': 'fault-rest-1' });
    expect(res.status).toBe(503);
    expect(res.json).toMatchObject({ status: 503, requestId: 'fault-rest-1' });
    expect((res.json as { detail: string }).detail).toMatch(/^INFERENCE_FAILED: inference failed on model .*injected: ORT kernel failure/);
  });

  it('GraphQL answers 503 with extensions.code and the request id', async () => {
    const res = await gql(gw.url, PredictDocument, { customer: GRAPHQL_CUSTOMER }, { 'x-request-id': 'fault-gql-1' });
    expect(res.status).toBe(503);
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: 'INFERENCE_FAILED', requestId: 'fault-gql-1' });
  });

  it('logs the cause with the request id', () => {
    const line = gw.logs.find((l) => l['reqId'] === 'fault-gql-1' && l['level'] === 'error');
    expect(JSON.stringify(line)).toMatch(/injected: ORT kernel failure/);
  });

  it('keeps the process serving and recovers when the fault clears', async () => {
    expect((await fetch(`${gw.url}/`)).status).toBe(200);
    restore();
    const res = await gql(gw.url, PredictDocument, { customer: GRAPHQL_CUSTOMER });
    expect(res.status).toBe(200);
    expect(res.body.data?.predict.churnProbability).toBeGreaterThan(0);
  });
});
