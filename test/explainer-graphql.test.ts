/**
 * Prediction.explanation and ModelInfo.explainer on the real gateway (real bundle, real ONNX
 * session, real port): what a frontend team and an auditor read. Every document is sent twice:
 * the first run is Yoga's, the second the compiled (graphql-jit) one.
 */
import { createHash } from 'node:crypto';
import { copyFile, cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isObjectType, parse, type GraphQLResolveInfo, type OperationDefinitionNode } from 'graphql';
import { readBundleDir, verifyBundle } from '../src/bundle/load.js';
import type { CustomerInput } from '../src/generated/graphql.js';
import { ChurnModel } from '../src/model/churn-model.js';
import type { Prediction } from '../src/prediction.js';
import { explainAhead, explanationOf } from '../src/schema/explanation.js';
import { schema } from '../src/schema/index.js';
import type { GraphQLContext } from '../src/schema/builder.js';
import { BUNDLE_DIR, GRAPHQL_CUSTOMER, LOYAL_CUSTOMER, gql, metricValue, spawnGateway, startTestGateway, watchLoopHolds, type TestGateway } from './helpers/index.js';

interface Driver {
  name: string;
  fields: string[];
  contribution: number;
}
interface Explanation {
  baseLogOdds: number;
  logOdds: number;
  drivers: Driver[];
}
interface Scored {
  churnProbability: number;
  modelVersion: string;
  explanation: Explanation | null;
}

const EXPLANATION = 'explanation { baseLogOdds logOdds drivers { name fields contribution } }';
const PREDICT = `mutation P($c: CustomerInput!) { predict(customer: $c) { churnProbability modelVersion ${EXPLANATION} } }`;
const BATCH = `mutation B($cs: [CustomerInput!]!) { predictBatch(customers: $cs) { churnProbability modelVersion ${EXPLANATION} } }`;

/** A month-to-month fiber customer three months in: what retention teams call high risk. */
const FIBER_MONTHLY: CustomerInput = {
  ...GRAPHQL_CUSTOMER,
  tenure: 3,
  phoneService: true,
  multipleLines: 'YES',
  internetService: 'FIBER_OPTIC',
  streamingTV: 'YES',
  streamingMovies: 'YES',
  monthlyCharges: 99.65,
  totalCharges: 298.95,
};

const manifest = JSON.parse(await readFile(path.join(BUNDLE_DIR, 'manifest.json'), 'utf8')) as {
  explainer: { trees: number; referenceCount: number; tolerance: number; sha256: string };
  featureSpec: { columns: { name: string }[] };
};
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ MODEL_DIR: BUNDLE_DIR, LOG_LEVEL: 'warn' });
});
afterAll(async () => {
  await gw?.close();
});

/** The same document twice (Yoga, then compiled): both answers, which must be equal. */
async function twice<T>(query: string, variables: Record<string, unknown>): Promise<{ status: number; data: T | null | undefined; errors: unknown[] | undefined }> {
  const runs = [];
  for (let i = 0; i < 2; i++) {
    const res = await gql<T, Record<string, unknown>>(gw.url, query, variables);
    runs.push({ status: res.status, data: res.body.data, errors: res.body.errors });
  }
  expect(runs[1]).toEqual(runs[0]);
  return runs[0] as { status: number; data: T | null | undefined; errors: unknown[] | undefined };
}

function expectWhole(p: Scored): Explanation {
  const e = p.explanation;
  if (!e) throw new Error('no explanation');
  expect(e.drivers).toHaveLength(20);
  expect(e.drivers.map((d) => d.name).sort()).toEqual([...manifest.featureSpec.columns.map((c) => c.name), 'TotalCharges/tenure'].sort());
  expect(e.drivers.find((d) => d.name === 'TotalCharges/tenure')?.fields).toEqual(['TotalCharges', 'tenure']);
  expect(e.drivers.find((d) => d.name === 'PaymentMethod')?.fields).toEqual(['PaymentMethod']);
  const sum = e.drivers.reduce((s, d) => s + d.contribution, 0);
  expect(Math.abs(e.logOdds - e.baseLogOdds - sum)).toBeLessThan(1e-9);
  expect(Math.abs(sigmoid(e.logOdds) - p.churnProbability)).toBeLessThanOrEqual(1e-5);
  const order = [...e.drivers].sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  expect(e.drivers).toEqual(order);
  return e;
}

describe('Prediction.explanation', () => {
  const holds = watchLoopHolds();
  it('explains predict: 20 drivers by |contribution| that add up to logOdds − baseLogOdds, sigmoid(logOdds) = churnProbability', async () => {
    for (const c of [GRAPHQL_CUSTOMER, FIBER_MONTHLY, LOYAL_CUSTOMER]) {
      const res = await twice<{ predict: Scored }>(PREDICT, { c });
      expect(res.status).toBe(200);
      expectWhole(res.data?.predict as Scored);
    }
  });

  it('baseLogOdds is the same for every customer; Contract raises the risk of a month-to-month fiber customer and lowers a two-year one', async () => {
    const fiber = expectWhole((await twice<{ predict: Scored }>(PREDICT, { c: FIBER_MONTHLY })).data?.predict as Scored);
    const loyal = expectWhole((await twice<{ predict: Scored }>(PREDICT, { c: LOYAL_CUSTOMER })).data?.predict as Scored);
    expect(fiber.baseLogOdds).toBe(loyal.baseLogOdds);
    const contract = (e: Explanation) => e.drivers.find((d) => d.name === 'Contract')?.contribution ?? Number.NaN;
    expect(contract(fiber)).toBeGreaterThan(0);
    expect(contract(loyal)).toBeLessThan(0);
    expect(fiber.logOdds).toBeGreaterThan(fiber.baseLogOdds);
    expect(loyal.logOdds).toBeLessThan(loyal.baseLogOdds);
    // Contract is among the month-to-month fiber customer's three largest drivers.
    expect(fiber.drivers.slice(0, 3).map((d) => d.name)).toContain('Contract');
  });

  it('drivers(top: 3) are the three largest of all, in the same order', async () => {
    const all = expectWhole((await twice<{ predict: Scored }>(PREDICT, { c: FIBER_MONTHLY })).data?.predict as Scored);
    const top = await twice<{ predict: { explanation: { drivers: Driver[] } } }>(
      'mutation T($c: CustomerInput!, $n: Int) { predict(customer: $c) { explanation { drivers(top: $n) { name fields contribution } } } }',
      { c: FIBER_MONTHLY, n: 3 },
    );
    expect(top.data?.predict.explanation.drivers).toEqual(all.drivers.slice(0, 3));
    const literal = await twice<{ predict: { explanation: { drivers: Driver[] } } }>(
      'mutation T($c: CustomerInput!) { predict(customer: $c) { explanation { drivers(top: 20) { name } } } }',
      { c: FIBER_MONTHLY },
    );
    expect(literal.data?.predict.explanation.drivers.map((d) => d.name)).toEqual(all.drivers.map((d) => d.name));
    const none = await twice<{ predict: { explanation: { drivers: Driver[] } } }>(
      'mutation T($c: CustomerInput!, $n: Int) { predict(customer: $c) { explanation { drivers(top: $n) { name } } } }',
      { c: FIBER_MONTHLY, n: null },
    );
    expect(none.data?.predict.explanation.drivers).toHaveLength(20);
  });

  it('refuses top outside 1..20 with one BAD_USER_INPUT naming top and the range, before anything is scored', async () => {
    const refused = [
      ['mutation T($c: CustomerInput!, $n: Int) { predict(customer: $c) { explanation { drivers(top: $n) { name } } } }', { c: FIBER_MONTHLY, n: 0 }, 0],
      ['mutation T($c: CustomerInput!) { predict(customer: $c) { churnProbability explanation { drivers(top: 21) { name } } } }', { c: FIBER_MONTHLY }, 21],
      // Every row of a batch has the same top: one error, not one per row.
      ['mutation T($cs: [CustomerInput!]!) { predictBatch(customers: $cs) { e: explanation { ...D } } } fragment D on Explanation { drivers(top: -2) { name } }', { cs: [FIBER_MONTHLY, LOYAL_CUSTOMER, GRAPHQL_CUSTOMER] }, -2],
    ] as const;
    const runs = async () => Number(/^gateway_inference_rows_per_run_count(?:\{[^}]*\})? (\d+)$/m.exec(await (await fetch(`${gw.url}/metrics`)).text())?.[1]);
    const before = await runs();
    expect(before).toBeGreaterThanOrEqual(0);
    for (const [query, variables, top] of refused) {
      const res = await twice<unknown>(query, variables);
      expect(res.status).toBe(400);
      expect(res.data).toBeNull();
      expect(res.errors).toEqual([
        {
          message: `Invalid input: top: must be from 1 to 20 (the number of risk drivers); got ${top}`,
          path: [query.includes('predictBatch') ? 'predictBatch' : 'predict'],
          locations: expect.any(Array) as unknown,
          extensions: { code: 'BAD_USER_INPUT', issues: [{ path: ['top'], message: `must be from 1 to 20 (the number of risk drivers); got ${top}` }], issueCount: 1 },
        },
      ]);
    }
    // Two bad ones in one document: both named.
    const both = await twice<unknown>('mutation T($c: CustomerInput!) { predict(customer: $c) { explanation { a: drivers(top: 0) { name } b: drivers(top: 30) { name } } } }', { c: FIBER_MONTHLY });
    expect(both.status).toBe(400);
    expect((both.errors as { extensions: unknown }[])[0]?.extensions).toEqual({
      code: 'BAD_USER_INPUT',
      issues: [
        { path: ['top'], message: 'must be from 1 to 20 (the number of risk drivers); got 0' },
        { path: ['top'], message: 'must be from 1 to 20 (the number of risk drivers); got 30' },
      ],
      issueCount: 2,
    });
    // Nothing was scored for them: no inference run.
    expect(await runs()).toBe(before);
  });

  it("a bad top in a later predict or predictBatch field refuses the request before an earlier field is scored, and every field's bad top is named, each located at its drivers field, beside the customers' own problems", async () => {
    const runs = async () => Number(/^gateway_inference_rows_per_run_count(?:\{[^}]*\})? (\d+)$/m.exec(await (await fetch(`${gw.url}/metrics`)).text())?.[1]);
    const before = await runs();
    const message = (top: number) => `must be from 1 to 20 (the number of risk drivers); got ${top}`;
    const later = 'mutation T($c: CustomerInput!) { a: predict(customer: $c) { churnProbability }\n  b: predictBatch(customers: [$c, $c]) { explanation { drivers(top: 30) { name } } } }';
    const one = await twice<unknown>(later, { c: FIBER_MONTHLY });
    expect(one.status).toBe(400);
    expect(one.data).toBeNull();
    expect(one.errors).toEqual([
      { message: `Invalid input: top: ${message(30)}`, path: ['a'], locations: [{ line: 2, column: 56 }], extensions: { code: 'BAD_USER_INPUT', issues: [{ path: ['top'], message: message(30) }], issueCount: 1 } },
    ]);
    const both =
      'mutation T($c: CustomerInput!) { a: predict(customer: $c) { explanation { drivers(top: 0) { name } } }\n  b: predictBatch(customers: [$c]) { ...D } }\n' +
      'fragment D on Prediction { explanation { drivers(top: 21) { name } } }';
    const two = await twice<unknown>(both, { c: FIBER_MONTHLY });
    expect(two.status).toBe(400);
    expect(two.errors).toEqual([
      {
        message: `Invalid input (2 problems): top: ${message(0)}; top: ${message(21)}`,
        path: ['a'],
        locations: [
          { line: 1, column: 75 },
          { line: 3, column: 42 },
        ],
        extensions: { code: 'BAD_USER_INPUT', issues: [{ path: ['top'], message: message(0) }, { path: ['top'], message: message(21) }], issueCount: 2 },
      },
    ]);
    // Neither the earlier field nor the later one was scored (before, predict's row was, twice: compiled, then by Yoga).
    expect(await runs()).toBe(before);
    // A bad top does not hide the customers' own problems: both in one refusal, the top first, located at the field and at drivers.
    const withCustomer = await twice<unknown>(
      'mutation T($c: CustomerInput!) { predict(customer: $c) {\n  explanation { drivers(top: 0) { name } } } }',
      { c: { ...FIBER_MONTHLY, tenure: -1 } },
    );
    expect(withCustomer.status).toBe(400);
    expect(withCustomer.errors).toEqual([
      {
        message: `Invalid input (2 problems): top: ${message(0)}; customer.tenure: tenure must be an integer number of months from 0 to 1200; got -1`,
        path: ['predict'],
        locations: [
          { line: 1, column: 34 },
          { line: 2, column: 17 },
        ],
        extensions: {
          code: 'BAD_USER_INPUT',
          issues: [
            { path: ['top'], message: message(0) },
            { path: ['customer', 'tenure'], message: 'tenure must be an integer number of months from 0 to 1200; got -1' },
          ],
          issueCount: 2,
        },
      },
    ]);
    const batch = await twice<unknown>(
      'mutation T($cs: [CustomerInput!]!) { predictBatch(customers: $cs) { explanation { drivers(top: 21) { name } } } }',
      { cs: [FIBER_MONTHLY, { ...LOYAL_CUSTOMER, monthlyCharges: -5 }] },
    );
    expect((batch.errors as { extensions: { issues: unknown } }[])[0]?.extensions.issues).toEqual([
      { path: ['top'], message: message(21) },
      { path: ['customers', 1, 'monthlyCharges'], message: expect.stringMatching(/^monthlyCharges must be a finite number ≥ 0/) as unknown },
    ]);
    expect(await runs()).toBe(before);
    // One drivers(top:) written once, in a fragment spread in two fields: one problem.
    const shared = await twice<unknown>(
      'mutation T($c: CustomerInput!) { a: predict(customer: $c) { ...D } b: predictBatch(customers: [$c]) { ...D } } fragment D on Prediction { explanation { drivers(top: 0) { name } } }',
      { c: FIBER_MONTHLY },
    );
    expect((shared.errors as { extensions: unknown }[])[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', issues: [{ path: ['top'], message: message(0) }], issueCount: 1 });
    // A skipped field's top is not the request's.
    const skipped = await twice<{ a: unknown; b: unknown }>(
      'mutation T($c: CustomerInput!, $s: Boolean!) { a: predict(customer: $c) { churnProbability } b: predictBatch(customers: [$c]) @skip(if: $s) { explanation { drivers(top: 30) { name } } } }',
      { c: FIBER_MONTHLY, s: true },
    );
    expect(skipped.status).toBe(200);
    expect(skipped.data?.a).toEqual({ churnProbability: expect.any(Number) as unknown });
  });

  it('names the CustomerInput fields each driver reads (inputFields), as outsideTrainingRange.field names them, beside the data set names', async () => {
    const far = { ...FIBER_MONTHLY, tenure: 1200, totalCharges: 119_580 };
    const res = await twice<{ predict: { outsideTrainingRange: { field: string }[]; explanation: { drivers: (Driver & { inputFields: string[] })[] } } }>(
      'mutation P($c: CustomerInput!) { predict(customer: $c) { outsideTrainingRange { field } explanation { drivers { name fields inputFields } } } }',
      { c: far },
    );
    expect(res.status).toBe(200);
    const drivers = res.data?.predict.explanation.drivers ?? [];
    const byName = Object.fromEntries(drivers.map((d) => [d.name, d.inputFields]));
    expect(byName).toMatchObject({ Contract: ['contract'], tenure: ['tenure'], 'TotalCharges/tenure': ['totalCharges', 'tenure'], SeniorCitizen: ['seniorCitizen'], StreamingTV: ['streamingTV'], gender: ['gender'] });
    // Every name is a field the customer was sent with, one per data set column, in the same order.
    for (const d of drivers) {
      expect(d.inputFields).toHaveLength(d.fields.length);
      for (const f of d.inputFields) expect(Object.keys(far)).toContain(f);
    }
    // A frontend can join the two lists without a mapping of its own.
    const notes = res.data?.predict.outsideTrainingRange.map((n) => n.field) ?? [];
    expect(notes).toContain('tenure');
    for (const f of notes) expect(drivers.some((d) => d.inputFields.includes(f))).toBe(true);
  });

  it('explains each row of predictBatch as predicting it alone would, in input order', async () => {
    const customers = [FIBER_MONTHLY, LOYAL_CUSTOMER, GRAPHQL_CUSTOMER, FIBER_MONTHLY];
    const alone: (Scored | undefined)[] = [];
    for (const c of customers) alone.push((await twice<{ predict: Scored }>(PREDICT, { c })).data?.predict);
    const batch = await twice<{ predictBatch: Scored[] }>(BATCH, { cs: customers });
    expect(batch.status).toBe(200);
    expect(batch.data?.predictBatch).toEqual(alone);
    expect(new Set(batch.data?.predictBatch.map((p) => p.explanation?.logOdds)).size).toBe(3);
  });

  it('explains every row of a batch larger than one chunk of explanations (1,000 rows), each as alone', async () => {
    const customers = Array.from({ length: 1000 }, (_, i) => [FIBER_MONTHLY, LOYAL_CUSTOMER, GRAPHQL_CUSTOMER][i % 3] as CustomerInput);
    const alone: (Scored | undefined)[] = [];
    for (const c of customers.slice(0, 3)) alone.push((await twice<{ predict: Scored }>(PREDICT, { c })).data?.predict);
    // Each customer alone is explained (so "each as alone" cannot hold with no explanations at all).
    for (const a of alone) expect(a?.explanation?.drivers.length).toBeGreaterThan(0);
    const batch = await twice<{ predictBatch: Scored[] }>(BATCH, { cs: customers });
    expect(batch.status).toBe(200);
    expect(batch.errors).toBeUndefined();
    expect(batch.data?.predictBatch).toHaveLength(1000);
    batch.data?.predictBatch.forEach((p, i) => expect(p).toEqual(alone[i % 3]));
  });

  it('a full batch (10,000 rows) asking for explanations holds the event loop about as long as one that does not (they are computed a chunk at a time)', async () => {
    const cs = Array.from({ length: 10_000 }, (_, i) => ({ ...FIBER_MONTHLY, tenure: i % 72 }));
    const send = (selection: string) => async () => {
      const res = await fetch(`${gw.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: `mutation B($cs: [CustomerInput!]!) { predictBatch(customers: $cs) { churnProbability ${selection} } }`, variables: { cs } }),
      });
      const rows = ((await res.json()) as { data?: { predictBatch?: { explanation?: { drivers: unknown[] } }[] } }).data?.predictBatch;
      return { status: res.status, rows: rows?.length, explained: rows?.filter((r) => r.explanation?.drivers.length === 1).length };
    };
    // top: 1 keeps the answer small: what is compared is the explaining, not writing 18 MB of drivers.
    const { plain, explained } = await holds.leastOfEach({ plain: send(''), explained: send('explanation { drivers(top: 1) { name contribution } }') });
    expect(plain.answer).toEqual({ status: 200, rows: 10_000, explained: 0 });
    expect(explained.answer).toEqual({ status: 200, rows: 10_000, explained: 10_000 });
    // Computed as the rows were resolved, the explanations held it ~320 ms against ~60 ms.
    expect(explained.ms, `held ${explained.ms.toFixed(0)} ms; without explanations ${plain.ms.toFixed(0)} ms`).toBeLessThan(1.5 * plain.ms + 60);
  }, 120_000);

  it('a request that does not select explanation is answered as before: no explanation key, the same numbers', async () => {
    const plain = await twice<{ predict: Record<string, unknown> }>(
      'mutation P($c: CustomerInput!) { predict(customer: $c) { churnProbability willChurn riskLevel modelVersion } }',
      { c: FIBER_MONTHLY },
    );
    const explained = await twice<{ predict: Scored }>(PREDICT, { c: FIBER_MONTHLY });
    expect(Object.keys(plain.data?.predict ?? {})).toEqual(['churnProbability', 'willChurn', 'riskLevel', 'modelVersion']);
    expect(plain.data?.predict['churnProbability']).toBe(explained.data?.predict.churnProbability);
  });
});

describe('risk drivers per request: aliases cannot multiply explanations past one full explanation of a full batch', () => {
  // MAX_BATCH 50 and the model's 20 drivers: 1,000 risk drivers a request.
  const MAX_BATCH = 50;
  let small: TestGateway;
  beforeAll(async () => {
    small = await startTestGateway({ MODEL_DIR: BUNDLE_DIR, LOG_LEVEL: 'warn', MAX_BATCH: String(MAX_BATCH) });
  });
  afterAll(async () => {
    await small?.close();
  });
  const rows = (n: number) => Array.from({ length: n }, (_, i) => ({ ...FIBER_MONTHLY, tenure: i % 72 }));
  const inferenceRuns = async (url: string) => Number(/^gateway_inference_rows_per_run_count(?:\{[^}]*\})? (\d+)$/m.exec(await (await fetch(`${url}/metrics`)).text())?.[1]);
  /** The same document twice on `url` (Yoga's run, then the compiled one): both answers, which must be equal. */
  async function both(url: string, query: string, variables: Record<string, unknown>) {
    const runs = [];
    for (let i = 0; i < 2; i++) {
      const res = await gql<Record<string, Scored[]>, Record<string, unknown>>(url, query, variables);
      runs.push({ status: res.status, data: res.body.data, errors: res.body.errors });
    }
    expect(runs[1]).toEqual(runs[0]);
    return runs[0] as (typeof runs)[number];
  }
  const message = (n: number, perRow: number, selections: string, asked: number, earlier = '', maxBatch = MAX_BATCH) =>
    `${n} rows × ${perRow} risk drivers a row, from ${selections}, make ${asked}${earlier}; at most ${maxBatch * 20} are allowed per request ` +
    `(MAX_BATCH ${maxBatch} × the model's 20 drivers: all drivers of one explanation for a full batch). ` +
    'Select explanation once, not under several aliases; ask for drivers(top: n); or send fewer rows';
  const refusal = (path: string, text: string, locations: { line: number; column: number }[]) => ({
    message: `Invalid input: explanation: ${text}`,
    path: [path],
    locations,
    extensions: { code: 'BAD_USER_INPUT', issues: [{ path: ['explanation'], message: text }], issueCount: 1 },
  });

  it('allows one full explanation of a full batch, and aliases whose drivers stay within it', async () => {
    const allowed: [string, number][] = [
      ['explanation { baseLogOdds drivers { name } }', MAX_BATCH],
      // Two full explanations of half a batch; five of drivers(top: 4) of a full one: 1,000 each.
      ['explanation { drivers { name } } a: explanation { drivers { contribution } }', MAX_BATCH / 2],
      ['a: explanation { drivers(top: 4) { name } } b: explanation { drivers(top: 4) { name } } c: explanation { drivers(top: 4) { name } } d: explanation { drivers(top: 4) { name } } e: explanation { drivers(top: 4) { name } }', MAX_BATCH],
      // Fields of one response key are one explanation in the answer, counted once.
      ['explanation { drivers { name } } explanation { logOdds drivers { contribution } }', MAX_BATCH],
    ];
    for (const [selection, n] of allowed) {
      const res = await both(small.url, `mutation B($cs: [CustomerInput!]!) { predictBatch(customers: $cs) { churnProbability ${selection} } }`, { cs: rows(n) });
      expect(res.errors, selection).toBeUndefined();
      expect(res.status, selection).toBe(200);
      expect(res.data?.['predictBatch'], selection).toHaveLength(n);
    }
  });

  it('refuses aliased explanations over it with one BAD_USER_INPUT naming the count, the allowance and what to do, located at the explanation fields, before anything is scored', async () => {
    const before = await inferenceRuns(small.url);
    const twoFull = await both(
      small.url,
      'mutation B($cs: [CustomerInput!]!) { predictBatch(customers: $cs) {\n  churnProbability explanation { drivers { name } }\n  a: explanation { logOdds } } }',
      { cs: rows(MAX_BATCH) },
    );
    expect(twoFull.status).toBe(400);
    expect(twoFull.data).toBeNull();
    expect(twoFull.errors).toEqual([refusal('predictBatch', message(MAX_BATCH, 21, '2 explanations (aliases)', 1050), [{ line: 2, column: 20 }, { line: 3, column: 3 }])]);
    // drivers listed twice under one explanation write twice; a fragment's explanation counts as written.
    const twice2 = await both(
      small.url,
      'mutation B($cs: [CustomerInput!]!) { predictBatch(customers: $cs) { ...E } } fragment E on Prediction { explanation { a: drivers { name } b: drivers(top: 1) { name } } }',
      { cs: rows(MAX_BATCH) },
    );
    expect(twice2.errors).toEqual([refusal('predictBatch', message(MAX_BATCH, 21, 'one explanation', 1050), [{ line: 1, column: 105 }])]);
    // Over several fields: counted on, the field that goes over refused (data null), as MAX_BATCH is.
    const fields = await both(
      small.url,
      'mutation B($cs: [CustomerInput!]!) { a: predictBatch(customers: $cs) { explanation { drivers { name } } }\n  b: predictBatch(customers: $cs) { explanation { drivers { name } } x: explanation { baseLogOdds } } }',
      { cs: rows(MAX_BATCH / 2) },
    );
    expect(fields.status).toBe(400);
    expect(fields.data).toBeNull();
    expect(fields.errors).toEqual([
      refusal('b', message(MAX_BATCH / 2, 21, '2 explanations (aliases)', 525, " (with the 500 of this request's earlier fields, 1025)"), [
        { line: 2, column: 37 },
        { line: 2, column: 70 },
      ]),
    ]);
    // Nothing was scored for the first two; the third scored its first field (twice: Yoga's run, then the compiled one).
    expect(await inferenceRuns(small.url)).toBe(before + 2);
    // Yoga's own executor (a document with @include is never compiled) refuses the same way.
    const yoga = await both(
      small.url,
      'mutation B($cs: [CustomerInput!]!, $y: Boolean!) { predictBatch(customers: $cs) {\n  churnProbability explanation { drivers { name } }\n  a: explanation @include(if: $y) { logOdds } } }',
      { cs: rows(MAX_BATCH), y: true },
    );
    expect(yoga.errors).toEqual([refusal('predictBatch', message(MAX_BATCH, 21, '2 explanations (aliases)', 1050), [{ line: 2, column: 20 }, { line: 3, column: 3 }])]);
    const skipped = await both(
      small.url,
      'mutation B($cs: [CustomerInput!]!, $y: Boolean!) { predictBatch(customers: $cs) {\n  churnProbability explanation { drivers { name } }\n  a: explanation @include(if: $y) { logOdds } } }',
      { cs: rows(MAX_BATCH), y: false },
    );
    expect(skipped.status).toBe(200);
    expect(await inferenceRuns(small.url)).toBe(before + 4);
  });

  it("at the default MAX_BATCH, a full batch's one explanation of all drivers is answered, and the reviewer's six aliases of it are refused unscored", async () => {
    const cs = rows(10_000);
    const before = await inferenceRuns(gw.url);
    const all = 'explanation { drivers { name contribution fields inputFields } baseLogOdds logOdds }';
    const six = ['', 'a: ', 'b: ', 'c: ', 'd: ', 'e: '].map((alias) => `${alias}${all}`).join(' ');
    const refused = await both(gw.url, `mutation B($cs: [CustomerInput!]!) { predictBatch(customers: $cs) { customerId churnProbability ${six} } }`, { cs });
    expect(refused.status).toBe(400);
    expect(refused.data).toBeNull();
    expect(refused.errors?.[0]?.message).toBe(`Invalid input: explanation: ${message(10_000, 120, '6 explanations (aliases)', 1_200_000, '', 10_000)}`);
    expect(await inferenceRuns(gw.url)).toBe(before);
    const one = await both(gw.url, `mutation B($cs: [CustomerInput!]!) { predictBatch(customers: $cs) { customerId churnProbability ${all} } }`, { cs });
    expect(one.status).toBe(200);
    expect(one.errors).toBeUndefined();
    expect(one.data?.['predictBatch']?.every((p) => p.explanation?.drivers.length === 20)).toBe(true);
  }, 120_000);
});

describe('ModelInfo.explainer', () => {
  it("tells an auditor the method, the trees, the drivers, the reference check and the file's sha256", async () => {
    const res = await twice<{ modelInfo: { explainer: Record<string, unknown> } }>(
      '{ modelInfo { explainer { method trees drivers referenceCount tolerance maxAbsDiff fileSha256 } } }',
      {},
    );
    const info = res.data?.modelInfo.explainer;
    expect(info).toEqual({
      method: 'path-dependent TreeSHAP (xgboost pred_contribs)',
      trees: manifest.explainer.trees,
      drivers: 20,
      referenceCount: manifest.explainer.referenceCount,
      tolerance: manifest.explainer.tolerance,
      maxAbsDiff: expect.any(Number) as unknown,
      fileSha256: manifest.explainer.sha256,
    });
    expect(info?.['maxAbsDiff']).toBeLessThanOrEqual(manifest.explainer.tolerance);
  });
});

describe('a bundle without an explainer (a model version trained before explainers)', () => {
  let dir: string;
  let old: TestGateway;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'explainer-none-'));
    for (const file of ['model.onnx', 'parity.json']) await copyFile(path.join(BUNDLE_DIR, file), path.join(dir, file));
    const m = JSON.parse(await readFile(path.join(BUNDLE_DIR, 'manifest.json'), 'utf8')) as Record<string, unknown>;
    delete m['explainer'];
    await writeFile(path.join(dir, 'manifest.json'), JSON.stringify(m));
    old = await startTestGateway({ MODEL_DIR: dir, LOG_LEVEL: 'warn' });
  });
  afterAll(async () => {
    await old?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves predictions with explanation null and modelInfo.explainer null; a top below 1 is refused all the same', async () => {
    for (let i = 0; i < 2; i++) {
      const res = await gql<{ predict: Scored; predictBatch: Scored[] }, unknown>(
        old.url,
        `mutation P($c: CustomerInput!) { predict(customer: $c) { churnProbability modelVersion ${EXPLANATION} } predictBatch(customers: [$c]) { explanation { drivers(top: 25) { name } } } }`,
        { c: FIBER_MONTHLY },
      );
      expect(res.status).toBe(200);
      expect(res.body.data?.predict.explanation).toBeNull();
      expect(res.body.data?.predict.churnProbability).toBeGreaterThan(0);
      expect(res.body.data?.predictBatch).toEqual([{ explanation: null }]);
      const info = await gql<{ modelInfo: { explainer: unknown } }, unknown>(old.url, '{ modelInfo { explainer { trees } } }');
      expect(info.body.data?.modelInfo.explainer).toBeNull();
      const zero = await gql(old.url, 'mutation Z($c: CustomerInput!) { predict(customer: $c) { explanation { drivers(top: 0) { name } } } }', { c: FIBER_MONTHLY });
      expect(zero.status).toBe(400);
      expect(zero.body.errors?.[0]?.extensions?.['issues']).toEqual([{ path: ['top'], message: 'must be at least 1; got 0 (this model has no explainer: its explanations are null)' }]);
    }
    // Nothing to explain, so no drivers can be held: /metrics says the capacity is 0, not the bundled model's.
    expect(await metricValue(old.url, 'gateway_explanation_drivers_capacity')).toBe(0);
    expect(await metricValue(old.url, 'gateway_explanation_drivers_in_flight')).toBe(0);
  });
});

describe('a packaged bundle whose explainer is refused: the gateway does not start', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  async function startFails(edit: (dir: string) => Promise<void>, message: RegExp): Promise<void> {
    const dir = await mkdtemp(path.join(tmpdir(), 'explainer-bad-'));
    dirs.push(dir);
    await cp(BUNDLE_DIR, dir, { recursive: true });
    await edit(dir);
    const gw = await spawnGateway({ MODEL_DIR: dir, LOG_LEVEL: 'info' }, { waitReady: false });
    expect(await gw.exited).toBe(1);
    const lines = gw.stderr().trim().split('\n');
    expect(lines, gw.stderr()).toHaveLength(1);
    expect(lines[0]).toMatch(message);
  }

  it('names the file and the first contribution that does not match when a tree was changed (its sha256 updated)', async () => {
    await startFails(async (dir) => {
      const f = JSON.parse(await readFile(path.join(dir, 'explainer.json'), 'utf8')) as { trees: { left: number[]; leaf: number[] }[] };
      const t = f.trees[40] as { left: number[]; leaf: number[] };
      t.leaf[t.left.indexOf(-1)] = (t.leaf[t.left.indexOf(-1)] as number) * -1 + 0.01;
      const text = JSON.stringify(f);
      await writeFile(path.join(dir, 'explainer.json'), text);
      const m = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as { explainer: { sha256: string } };
      m.explainer.sha256 = createHash('sha256').update(text).digest('hex');
      await writeFile(path.join(dir, 'manifest.json'), JSON.stringify(m));
    }, /^churn-gateway: cannot start: MODEL_DIR "[^"]+": explainer check failed for explainer\.json in \S+: reference case \d+ \(parity case \d+\), (feature \d+ \(.+\)|the bias): recomputed from the trees \S+, xgboost's \S+ \(\|Δ\| \S+ > tolerance 0\.0001\)$/);
  });

  it('names the file the manifest names when it is missing', async () => {
    await startFails((dir) => rm(path.join(dir, 'explainer.json')), /^churn-gateway: cannot start: MODEL_DIR "[^"]+": cannot read \S+\/explainer\.json: no such file \(ENOENT\)$/);
  });
});

describe('the model that computed the prediction explains it, and a large batch is explained a chunk at a time', () => {
  const raw = readBundleDir(BUNDLE_DIR);
  let explaining: ChurnModel;
  let silent: ChurnModel;
  let record: Prediction['record'];
  beforeAll(async () => {
    const bundle = await raw;
    const m = JSON.parse(bundle.manifestJson) as Record<string, unknown>;
    delete m['explainer'];
    explaining = await ChurnModel.create(verifyBundle(bundle));
    silent = await ChurnModel.create(verifyBundle({ ...bundle, manifestJson: JSON.stringify(m), explainerJson: null }));
    record = { ...(verifyBundle(bundle).parity.cases[0]?.input ?? {}) } as unknown as Prediction['record'];
  });
  afterAll(async () => {
    await Promise.all([explaining?.release(), silent?.release()]);
  });
  const scoredBy = (model: ChurnModel, r = record): Prediction => ({ customerId: null, churnProbability: 0.5, willChurn: true, riskLevel: 'HIGH', threshold: 0.5, modelVersion: model.modelVersion, record: r, model });
  const servingNow = (model: ChurnModel) => ({ predictor: { model }, request: { abandoned: null, stopped: null } }) as unknown as GraphQLContext;

  it('a prediction scored by a model with an explainer is explained by it after a model without one was swapped in, and the other way round', async () => {
    // The race a hot swap makes (the field resolves after the slot moved on), made deterministic: the
    // field is resolved with the context of a gateway whose serving model is the other one.
    const t = schema.getType('Prediction');
    if (!isObjectType(t)) throw new Error('Prediction missing');
    const resolve = (p: Prediction, ctx: GraphQLContext) => t.getFields()['explanation']?.resolve?.(p, {}, ctx, {} as GraphQLResolveInfo);
    const explained = (await resolve(scoredBy(explaining), servingNow(silent))) as { drivers: unknown[] } | null;
    expect(explained?.drivers).toHaveLength(20);
    expect(await resolve(scoredBy(silent), servingNow(explaining))).toBeNull();
  });

  const infoFor = (query: string) => {
    const op = parse(query).definitions[0] as OperationDefinitionNode;
    return { fieldNodes: op.selectionSet.selections, fragments: {}, variableValues: {} } as unknown as GraphQLResolveInfo;
  };

  it('explainAhead explains each row of a batch selecting explanation, giving the event loop a turn between chunks, and stops when the caller left', async () => {
    const rows = Array.from({ length: 200 }, (_, i) => scoredBy(explaining, { ...record, tenure: i % 72 }));
    const info = infoFor('mutation { predictBatch(customers: []) { explanation { logOdds } } }');
    let turns = 0;
    const count = () => {
      turns++;
      if (turns < 100) setImmediate(count);
    };
    setImmediate(count);
    await explainAhead(info, servingNow(explaining), rows);
    expect(turns).toBeGreaterThanOrEqual(3); // 200 rows: 4 chunks, a turn after each of the first 3
    rows.forEach((p) => {
      const e = explanationOf(p);
      expect(explanationOf(p)).toBe(e); // computed ahead: the same object each time it is read
      expect(e).toEqual(explaining.explainer?.explain(p.record));
    });
    // Not selected, or no explainer: nothing computed ahead.
    const plain = Array.from({ length: 200 }, () => scoredBy(explaining));
    await explainAhead(infoFor('mutation { predictBatch(customers: []) { churnProbability } }'), servingNow(explaining), plain);
    expect(explanationOf(plain[0] as Prediction)).not.toBe(explanationOf(plain[0] as Prediction));
    // A caller that left: the work stops at the first turn.
    const ctx = servingNow(explaining);
    (ctx.request as { abandoned: string | null }).abandoned = 'client_closed';
    await expect(explainAhead(info, ctx, rows)).rejects.toThrow('work stopped while explaining: the caller closed the connection');
  });
});
