/**
 * The speed-ups never trade correctness: a compiled (prepared) GraphQL document answers
 * exactly as Yoga does, errors keep Yoga's shape, and coalesced concurrent predictions
 * give each caller its own row.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PredictBatchDocument, PredictDocument } from '../src/generated/graphql.js';
import type { CustomerInput } from '../src/generated/graphql.js';
import { GRAPHQL_CUSTOMER, LEGACY_PAYLOAD, gql, postJson, spawnGateway, type SpawnedGateway } from './helpers/index.js';

// Separate processes: requests from this process then arrive together, as from real clients.
let gw: SpawnedGateway;
let plain: SpawnedGateway;
beforeAll(async () => {
  [gw, plain] = await Promise.all([spawnGateway({ LOG_LEVEL: 'warn' }), spawnGateway({ LOG_LEVEL: 'warn', COALESCE_PREDICTIONS: 'false' })]);
});
afterAll(() => {
  gw.child.kill('SIGTERM');
  plain.child.kill('SIGTERM');
});

const customer = (i: number): CustomerInput => ({ ...GRAPHQL_CUSTOMER, customerId: `c${i}`, tenure: i % 73, monthlyCharges: 18 + (i % 100), totalCharges: (18 + (i % 100)) * (i % 73) });

describe('prepared GraphQL documents', () => {
  it('answers byte-for-byte like the first (Yoga) execution of the same document', async () => {
    const query = `mutation Fresh${Date.now()}($customer: CustomerInput!) { predict(customer: $customer) { customerId churnProbability riskLevel modelVersion } }`;
    const first = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables: { customer: customer(5) } }) });
    const second = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables: { customer: customer(5) } }) });
    expect(second.status).toBe(first.status);
    expect(second.headers.get('content-type')).toBe(first.headers.get('content-type'));
    expect(await second.text()).toBe(await first.text());
  });

  it.each([
    'application/json, application/graphql-response+json',
    'application/graphql-response+json, application/json',
    'application/json;q=0, application/graphql-response+json',
    'application/json; charset=iso-8859-1, application/graphql-response+json',
    'text/html, */*;q=0.8',
    'application/*',
    'APPLICATION/GRAPHQL-RESPONSE+JSON',
    '*/graphql-response+json',
    '',
  ])('negotiates the answer type as Yoga does, for accept: %j', async (accept) => {
    const query = `query Accept${Math.random().toString(36).slice(2)} { modelInfo { modelVersion } }`;
    const post = () => fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', accept }, body: JSON.stringify({ query }) });
    const first = await post();
    const second = await post();
    expect(first.status).toBe(200);
    expect([second.status, second.headers.get('content-type'), await second.text()]).toEqual([first.status, first.headers.get('content-type'), await first.text()]);
  });

  it('keeps Yoga error shapes for bad input on a document it has compiled', async () => {
    await gql(gw.url, PredictDocument, { customer: GRAPHQL_CUSTOMER });
    const bad = await gql(gw.url, PredictDocument, { customer: { ...GRAPHQL_CUSTOMER, tenure: -3 } });
    expect(bad.status).toBe(400);
    expect(bad.body.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    const badVariable = await gql(gw.url, PredictDocument, { customer: { ...GRAPHQL_CUSTOMER, gender: 'X' } as unknown as CustomerInput });
    expect(badVariable.status).toBe(400);
    expect(badVariable.body.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
  });
});

describe('prepared documents and explicit nulls', () => {
  // A variable declared nullable with a default may stand where a value is required; sent
  // as null it is an error (graphql-js), which graphql-jit alone would let through as null.
  const fields = (contract: string, partner: string, monthly: string) =>
    `gender: FEMALE, seniorCitizen: false, partner: ${partner}, dependents: false, tenure: 1, phoneService: false, multipleLines: NO_PHONE_SERVICE, ` +
    `internetService: DSL, onlineSecurity: NO, onlineBackup: YES, deviceProtection: NO, techSupport: NO, streamingTV: NO, streamingMovies: NO, ` +
    `contract: ${contract}, paperlessBilling: true, paymentMethod: ELECTRONIC_CHECK, monthlyCharges: ${monthly}, totalCharges: 29.85`;
  const cases: [string, string, string][] = [
    ['an enum', 'k', `mutation NullEnum${Date.now()}($k: Contract = MONTH_TO_MONTH) { predict(customer: {${fields('$k', 'true', '29.85')}}) { churnProbability } }`],
    ['a Boolean', 'p', `mutation NullBool${Date.now()}($p: Boolean = true) { predict(customer: {${fields('MONTH_TO_MONTH', '$p', '29.85')}}) { churnProbability } }`],
    ['a Float', 'm', `mutation NullFloat${Date.now()}($m: Float = 29.85) { predict(customer: {${fields('MONTH_TO_MONTH', 'true', '$m')}}) { churnProbability } }`],
    ['a directive argument', 'x', `query NullIf${Date.now()}($x: Boolean = true) { modelInfo { runId @include(if: $x) modelVersion } }`],
  ];

  it.each(cases)('for %s is refused on the compiled path exactly as by Yoga', async (_what, variable, query) => {
    const post = (variables: Record<string, unknown>) =>
      fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
    const before = await post({ [variable]: null }); // Yoga: the document is new
    const beforeText = await before.text();
    expect(before.status).toBe(400);
    expect((await post({})).status).toBe(200); // now compiled
    const after = await post({ [variable]: null });
    expect(after.status).toBe(400);
    expect(await after.text()).toBe(beforeText);
  });
});

describe('coalescing', () => {
  it('gives each of 200 concurrent callers its own prediction, as without coalescing', async () => {
    const n = 200;
    const [together, alone] = await Promise.all([
      Promise.all(Array.from({ length: n }, (_, i) => gql(gw.url, PredictDocument, { customer: customer(i) }))),
      Promise.all(Array.from({ length: n }, (_, i) => gql(plain.url, PredictDocument, { customer: customer(i) }))),
    ]);
    for (let i = 0; i < n; i++) {
      expect(together[i]?.body.data?.predict.customerId).toBe(`c${i}`);
      expect(together[i]?.body.data?.predict.churnProbability).toBe(alone[i]?.body.data?.predict.churnProbability);
    }
    expect(new Set(together.map((r) => r.body.data?.predict.churnProbability)).size).toBeGreaterThan(20);
    const runs = (text: string) => Number(/gateway_inference_rows_per_run_count (\d+)/.exec(text)?.[1]);
    const coalescedRuns = runs(await (await fetch(`${gw.url}/metrics`)).text());
    const plainRuns = runs(await (await fetch(`${plain.url}/metrics`)).text());
    expect(plainRuns).toBeGreaterThanOrEqual(n);
    expect(coalescedRuns).toBeLessThan(plainRuns);
  });

  it('makes no run for an empty batch, over REST or GraphQL', async () => {
    const runs = async () => Number(/gateway_inference_rows_per_run_count (\d+)/.exec(await (await fetch(`${plain.url}/metrics`)).text())?.[1]);
    const before = await runs();
    const rest = await postJson(plain.url, '/predict', []);
    const graph = await gql(plain.url, PredictBatchDocument, { customers: [] });
    expect([rest.status, rest.json, graph.status, graph.body.data?.predictBatch]).toEqual([200, [], 200, []]);
    expect(await runs()).toBe(before);
    await postJson(plain.url, '/predict', LEGACY_PAYLOAD);
    expect(await runs()).toBe(before + 1);
  });

  it('mixes REST singles and small batches in one run without crossing rows', async () => {
    const rows = Array.from({ length: 60 }, (_, i) => ({ ...LEGACY_PAYLOAD, customerID: `r${i}`, tenure: i, TotalCharges: 29.85 * i }));
    const bodies = rows.map((r, i) => (i % 3 === 0 ? [r, { ...r, customerID: `${r.customerID}-b`, Contract: 'Two year' }] : r));
    const answers = await Promise.all(bodies.map((body) => postJson(gw.url, '/predict', body)));
    // Every row of every request, the small batches' second rows included, against the same rows scored without coalescing.
    const sent = bodies.flat();
    const expected = (await postJson(plain.url, '/predict', sent)).json as { customerID: string; churn_probability: number }[];
    const got = answers.flatMap((a, i) => {
      expect(a.status).toBe(200);
      expect(Array.isArray(a.json)).toBe(Array.isArray(bodies[i]));
      return (Array.isArray(a.json) ? a.json : [a.json]) as { customerID: string; churn_probability: number }[];
    });
    expect(got.map((r) => r.customerID)).toEqual(sent.map((r) => r.customerID));
    expect(got.map((r) => r.churn_probability)).toEqual(expected.map((r) => r.churn_probability));
    expect(new Set(expected.map((r) => r.churn_probability)).size).toBeGreaterThan(40);
  });
});
