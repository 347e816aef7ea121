/**
 * The speed-ups never trade correctness: a compiled (prepared) GraphQL document answers
 * exactly as Yoga does, errors keep Yoga's shape, and coalesced concurrent predictions
 * give each caller its own row.
 */
import type { ExecutionResult } from 'graphql';
import type * as Jit from 'graphql-jit';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PredictBatchDocument, PredictDocument } from '../src/generated/graphql.js';
import type { CustomerInput } from '../src/generated/graphql.js';
import { GRAPHQL_CUSTOMER, LEGACY_PAYLOAD, gql, postJson, spawnGateway, startTestGateway, type SpawnedGateway, type TestGateway } from './helpers/index.js';

type ObjMap = Record<string, unknown>;

// What the in-process gateway's compiled documents did: answers written by a compiled document's
// own serializer (only the compiled path writes one: Yoga writes its own), compiled runs that
// produced errors, and documents compiled. Without them, a test comparing "compiled" with Yoga
// could compare Yoga with itself.
const jit = vi.hoisted(() => ({ written: 0, errored: 0, compiled: 0 }));
vi.mock('graphql-jit', async (importOriginal) => {
  const original = await importOriginal<typeof Jit>();
  const compileQuery = (...args: Parameters<typeof original.compileQuery<ObjMap, ObjMap>>): ReturnType<typeof original.compileQuery<ObjMap, ObjMap>> => {
    const compiled = original.compileQuery<ObjMap, ObjMap>(...args);
    if (!original.isCompiledQuery(compiled)) return compiled;
    jit.compiled++;
    const { query, stringify } = compiled;
    const count = (result: ExecutionResult): ExecutionResult => {
      if (result.errors) jit.errored++;
      return result;
    };
    compiled.query = (root: unknown, context: unknown, variables: Parameters<typeof query>[2]) => {
      const result = query.call(compiled, root, context, variables);
      return result instanceof Promise ? result.then(count) : count(result);
    };
    compiled.stringify = (result) => {
      jit.written++;
      return stringify(result);
    };
    return compiled;
  };
  return { ...original, compileQuery };
});

/** What `send` made the in-process gateway's compiled documents do. */
async function jitDuring<T>(send: () => Promise<T>): Promise<{ result: T; written: number; errored: number; compiled: number }> {
  const before = { ...jit };
  const result = await send();
  return { result, written: jit.written - before.written, errored: jit.errored - before.errored, compiled: jit.compiled - before.compiled };
}

// Separate processes: requests from this process then arrive together, as from real clients.
let gw: SpawnedGateway;
let plain: SpawnedGateway;
// In this process, so its compiled documents are counted (above).
let local: TestGateway;
beforeAll(async () => {
  [gw, plain, local] = await Promise.all([spawnGateway({ LOG_LEVEL: 'warn' }), spawnGateway({ LOG_LEVEL: 'warn', COALESCE_PREDICTIONS: 'false' }), startTestGateway({ LOG_LEVEL: 'warn' })]);
});
afterAll(async () => {
  gw.child.kill('SIGTERM');
  plain.child.kill('SIGTERM');
  await local?.close();
});

const customer = (i: number): CustomerInput => ({ ...GRAPHQL_CUSTOMER, customerId: `c${i}`, tenure: i % 73, monthlyCharges: 18 + (i % 100), totalCharges: (18 + (i % 100)) * (i % 73) });

describe('prepared GraphQL documents', () => {
  it('answers byte-for-byte like the first (Yoga) execution of the same document', async () => {
    const query = `mutation Fresh${Date.now()}($customer: CustomerInput!) { predict(customer: $customer) { customerId churnProbability riskLevel modelVersion } }`;
    const post = () => fetch(`${local.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables: { customer: customer(5) } }) });
    const first = await jitDuring(post);
    const { result: second, written } = await jitDuring(post);
    expect({ first: first.written, second: written }).toEqual({ first: 0, second: 1 });
    expect(second.status).toBe(first.result.status);
    expect(second.headers.get('content-type')).toBe(first.result.headers.get('content-type'));
    expect(await second.text()).toBe(await first.result.text());
  });

  it.each([
    'application/json, application/graphql-response+json',
    'application/graphql-response+json, application/json',
    'application/json;q=0, application/graphql-response+json',
    'application/json;q=0.5, application/graphql-response+json',
    'multipart/mixed, application/json;q=0.9',
    'application/json; charset=iso-8859-1, application/graphql-response+json',
    'application/json; charset="utf-8"',
    'application/graphql-response+json;charset=UTF8',
    'text/html, */*;q=0.8',
    'application/*',
    'APPLICATION/GRAPHQL-RESPONSE+JSON',
    '*/graphql-response+json',
    '',
  ])('negotiates the answer type alike on the first (Yoga) run and compiled, for accept: %j', async (accept) => {
    const query = `query Accept${Math.random().toString(36).slice(2)} { modelInfo { modelVersion } }`;
    const post = () => fetch(`${local.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', accept }, body: JSON.stringify({ query }) });
    const first = await post();
    const { result: second, written } = await jitDuring(post);
    expect(written).toBe(1);
    expect(first.status).toBe(200);
    expect([second.status, second.headers.get('content-type'), await second.text()]).toEqual([first.status, first.headers.get('content-type'), await first.text()]);
  });

  it('keeps Yoga error shapes for bad input on a document it has compiled', async () => {
    await gql(local.url, PredictDocument, { customer: GRAPHQL_CUSTOMER });
    expect((await jitDuring(() => gql(local.url, PredictDocument, { customer: GRAPHQL_CUSTOMER }))).written).toBe(1); // compiled
    // Refused by the compiled run itself (the rule is the resolver's), then answered in Yoga's shape.
    const { result: bad, errored } = await jitDuring(() => gql(local.url, PredictDocument, { customer: { ...GRAPHQL_CUSTOMER, tenure: -3 } }));
    expect(errored).toBe(1);
    expect(bad.status).toBe(400);
    expect(bad.body.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    const badVariable = await gql(local.url, PredictDocument, { customer: { ...GRAPHQL_CUSTOMER, gender: 'X' } as unknown as CustomerInput });
    expect(badVariable.status).toBe(400);
    expect(badVariable.body.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
  });
});

describe('a mutation of two predict fields whose second customer is refused', () => {
  // graphql-js runs a mutation's fields in turn and stops at the first that fails (each is
  // non-null: data null, that field's error); graphql-jit ran the second field too, and Yoga's
  // executor then ran the whole request again: the first customer was scored twice.
  const document = (name: string) =>
    `mutation ${name}($c: CustomerInput!, $d: CustomerInput!) { a: predict(customer: $c) { riskLevel } b: predict(customer: $d) { riskLevel } }`;
  const rowsScored = async () => Number(/^gateway_inference_rows_per_run_sum (\S+)$/m.exec(await (await fetch(`${local.url}/metrics`)).text())?.[1]);
  const post = (query: string, variables: Record<string, unknown>, extensions?: object) =>
    fetch(`${local.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' },
      body: JSON.stringify({ query, variables, ...(extensions ? { extensions } : {}) }),
    });
  const refused = { c: customer(1), d: { ...customer(2), tenure: -1 } };

  it("scores the first customer once, whether the document is compiled or new, and answers as Yoga's executor does", async () => {
    const query = document(`Two${Date.now()}`);
    expect((await post(query, { c: customer(1), d: customer(2) })).status).toBe(200); // learned
    const answers: unknown[] = [];
    for (const [what, send] of [
      ['compiled', () => post(query, refused)],
      ['first run', () => post(`${query}\n# a text not seen before`, refused)],
      // `extensions` keeps a request off the compiled path: Yoga's executor (graphql-js) runs it.
      ['executor', () => post(query, refused, {})],
    ] as const) {
      const before = await rowsScored();
      const { result, errored } = await jitDuring(send);
      expect(await rowsScored(), what).toBe(before + 1);
      expect(errored, what).toBe(what === 'executor' ? 0 : 1);
      answers.push({ status: result.status, body: await result.text() });
    }
    const [compiled, firstRun, executor] = answers;
    expect(executor).toMatchObject({ status: 400, body: expect.stringMatching(/^\{"errors":\[\{"message":.*"path":\["b"\].*"data":null\}$/) });
    expect(compiled).toEqual(executor);
    expect(firstRun).toEqual(executor);
  });

  // It is learned from a first run whose refusal stood: it was compiled again on every request (5-8 ms against 1-3).
  it('is compiled once, though no request for it ever succeeds, and answered alike each time', async () => {
    const query = document(`Refused${Date.now()}`);
    const { result: answers, compiled, errored } = await jitDuring(async () => {
      const out: { status: number; body: string }[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await post(query, refused);
        out.push({ status: res.status, body: await res.text() });
      }
      return out;
    });
    expect({ compiled, errored }).toEqual({ compiled: 1, errored: 3 });
    expect(answers[0]?.status).toBe(400);
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(answers[0]);
  });
});

describe('prepared documents and explicit nulls', () => {
  // A variable declared nullable with a default may stand where a value is required; sent
  // as null it is an error (graphql-js), which graphql-jit alone would let through as null.
  const fields = (contract: string, partner: string, monthly: string) =>
    `gender: FEMALE, seniorCitizen: false, partner: ${partner}, dependents: false, tenure: 1, phoneService: false, multipleLines: NO_PHONE_SERVICE, ` +
    `internetService: DSL, onlineSecurity: NO, onlineBackup: YES, deviceProtection: NO, techSupport: NO, streamingTV: NO, streamingMovies: NO, ` +
    `contract: ${contract}, paperlessBilling: true, paymentMethod: ELECTRONIC_CHECK, monthlyCharges: ${monthly}, totalCharges: 29.85`;
  // The last element: whether the document is compiled once learned (one with @include never is:
  // prepared-operations.ts), so that its refusal comes from the compiled path.
  const cases: [string, string, string, boolean][] = [
    ['an enum', 'k', `mutation NullEnum${Date.now()}($k: Contract = MONTH_TO_MONTH) { predict(customer: {${fields('$k', 'true', '29.85')}}) { churnProbability } }`, true],
    ['a Boolean', 'p', `mutation NullBool${Date.now()}($p: Boolean = true) { predict(customer: {${fields('MONTH_TO_MONTH', '$p', '29.85')}}) { churnProbability } }`, true],
    ['a Float', 'm', `mutation NullFloat${Date.now()}($m: Float = 29.85) { predict(customer: {${fields('MONTH_TO_MONTH', 'true', '$m')}}) { churnProbability } }`, true],
    ['a directive argument', 'x', `query NullIf${Date.now()}($x: Boolean = true) { modelInfo { runId @include(if: $x) modelVersion } }`, false],
  ];

  it.each(cases)('for %s is refused once the document is learned (and compiled, where it can be) exactly as Yoga refused it before', async (_what, variable, query, compiled) => {
    const post = (variables: Record<string, unknown>) =>
      fetch(`${local.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
    const before = await post({ [variable]: null }); // Yoga: the document is new
    const beforeText = await before.text();
    expect(before.status).toBe(400);
    expect((await post({})).status).toBe(200); // now learned
    expect((await jitDuring(() => post({}))).written).toBe(compiled ? 1 : 0); // answered by the compiled path, or never compiled
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
