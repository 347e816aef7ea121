/**
 * Replays every parity vector of the committed bundle through the running server, over
 * REST and GraphQL: the gateway's encoding + ONNX must give xgboost's probabilities.
 */
import { execFileSync } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphqlCustomer, type CustomerRecord } from '../src/contract.js';
import { PredictBatchDocument, type CustomerInput } from '../src/generated/graphql.js';
import { BUNDLE_DIR, gql, postJson, startTestGateway, type TestGateway } from './helpers/index.js';

type Case = { input: CustomerRecord; probability: number };
let gw: TestGateway;
let cases: Case[];
let tolerance: number;

beforeAll(async () => {
  gw = await startTestGateway();
  const parity = JSON.parse(await readFile(`${BUNDLE_DIR}/parity.json`, 'utf8')) as { tolerance: number; cases: Case[] };
  cases = parity.cases;
  tolerance = parity.tolerance;
});
afterAll(() => gw.close());

/** The worst difference; one answer per case, each a probability (a missing or renamed field is NaN, never 0). */
function maxDiff(got: unknown[]): { max: number; at: number } {
  expect(got).toHaveLength(cases.length);
  let max = 0;
  let at = -1;
  got.forEach((p, i) => {
    expect(typeof p === 'number' && p >= 0 && p <= 1, `answer ${i} is ${JSON.stringify(p)}, not a probability`).toBe(true);
    const d = Math.abs((p as number) - (cases[i] as Case).probability);
    if (d > max) [max, at] = [d, i];
  });
  return { max, at };
}

describe('parity vectors through the running server', () => {
  it('covers at least 2,000 cases with a tolerance of at most 1e-5', () => {
    expect(cases.length).toBeGreaterThanOrEqual(2000);
    expect(tolerance).toBeLessThanOrEqual(1e-5);
  });

  it('REST POST /predict (array) matches xgboost within 1e-5', async () => {
    const res = await postJson(gw.url, '/predict', cases.map((c) => c.input));
    expect(res.status).toBe(200);
    const { max, at } = maxDiff((res.json as { churn_probability?: unknown }[]).map((r) => r.churn_probability));
    expect(max, `worst case ${at}: ${JSON.stringify(cases[at])}`).toBeLessThanOrEqual(1e-5);
  });

  it('GraphQL predictBatch matches xgboost within 1e-5', async () => {
    const res = await gql(gw.url, PredictBatchDocument, { customers: cases.map((c) => graphqlCustomer(c.input) satisfies CustomerInput) });
    expect(res.body.errors).toBeUndefined();
    const { max, at } = maxDiff((res.body.data?.predictBatch ?? []).map((r) => r.churnProbability));
    expect(max, `worst case ${at}: ${JSON.stringify(cases[at])}`).toBeLessThanOrEqual(1e-5);
  });
});

describe('the committed bundle on any platform', () => {
  it('is checked out byte for byte: git converts no line endings in it (its files are verified by sha256)', async () => {
    const files = (await readdir(BUNDLE_DIR)).map((f) => `${BUNDLE_DIR}/${f}`);
    expect(files.length).toBeGreaterThanOrEqual(3);
    const attributes = execFileSync('git', ['check-attr', 'text', '--', ...files], { encoding: 'utf8' }).trim().split('\n');
    expect(attributes).toEqual(files.map((f) => `${f}: text: unset`));
  });
});
