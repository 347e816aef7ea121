/**
 * After start-up, a failing inference (fault injected into the live ONNX session) gives a
 * 503 / GraphQL error with a code and the request id, logs the cause, and leaves the
 * process serving once the fault clears.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CustomerRecord } from '../src/contract.js';
import { InferenceError } from '../src/errors.js';
import { PredictDocument } from '../src/generated/graphql.js';
import { GatewayMetrics } from '../src/metrics.js';
import { Predictor } from '../src/prediction.js';
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
    expect(res.headers.get('retry-after')).toBe('1');
  });

  it('GraphQL answers 503 with extensions.code and the request id', async () => {
    const res = await gql(gw.url, PredictDocument, { customer: GRAPHQL_CUSTOMER }, { 'x-request-id': 'fault-gql-1' });
    expect(res.status).toBe(503);
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: 'INFERENCE_FAILED', requestId: 'fault-gql-1' });
    expect(res.headers.get('retry-after')).toBe('1');
  });

  it('logs the cause with the request id, at warn (the outage itself is logged once at error)', () => {
    const line = gw.logs.find((l) => l['reqId'] === 'fault-gql-1' && l['level'] === 'warn');
    expect(JSON.stringify(line)).toMatch(/injected: ORT kernel failure/);
    expect(gw.logs.filter((l) => l['level'] === 'error')).toEqual([expect.objectContaining({ msg: expect.stringMatching(/^inference failing/) })]);
  });

  it('turns GET / 503 while the fault lasts, and serves again when it clears', async () => {
    expect((await fetch(`${gw.url}/`)).status).toBe(503);
    restore();
    expect((await fetch(`${gw.url}/`)).status).toBe(200);
    const res = await gql(gw.url, PredictDocument, { customer: GRAPHQL_CUSTOMER });
    expect(res.status).toBe(200);
    expect(res.body.data?.predict.churnProbability).toBeGreaterThan(0);
  });
});

describe('a row that cannot be scored, in a coalesced run', () => {
  it('fails only its own request; the callers that shared the run get their own answers', async () => {
    // No interface lets such a row through (the customer rules refuse it); the predictor
    // still must not let one caller's row fail everyone else's run.
    const predictor = new Predictor(gw.slot, new GatewayMetrics(), { coalesce: true });
    const record = { ...LEGACY_PAYLOAD, SeniorCitizen: 0 };
    const good = (tenure: number) => ({ customerId: `t${tenure}`, record: { ...record, tenure, TotalCharges: 29.85 * tenure } as CustomerRecord });
    const unscorable = { customerId: 'bad', record: { ...record, MonthlyCharges: null } as unknown as CustomerRecord };
    const alone = await Promise.all([1, 2, 3].map((t) => predictor.predict([good(t)])));
    const together = await Promise.allSettled([predictor.predict([good(1)]), predictor.predict([unscorable]), predictor.predict([good(2), good(3)])]);
    expect(together.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((together[1] as PromiseRejectedResult).reason).toBeInstanceOf(InferenceError);
    expect((together[0] as PromiseFulfilledResult<unknown>).value).toEqual(alone[0]);
    expect((together[2] as PromiseFulfilledResult<unknown>).value).toEqual([...(alone[1] ?? []), ...(alone[2] ?? [])]);
  });
});
