/**
 * The GraphQL contract over a real port with the real ONNX model: predict, predictBatch,
 * modelInfo, and the shapes of bad-input errors.
 */
import { manifestSchema, type Manifest } from '../src/bundle/manifest.js';
import { createHash } from 'node:crypto';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelInfoDocument, PredictBatchDocument, PredictDocument } from '../src/generated/graphql.js';
import type { CustomerInput } from '../src/generated/graphql.js';
import { BUNDLE_DIR, GRAPHQL_CUSTOMER, LOYAL_CUSTOMER, customerLiteral, gql, startTestGateway, type TestGateway } from './helpers/index.js';

let gw: TestGateway;
let manifest: Manifest;

beforeAll(async () => {
  gw = await startTestGateway({ MAX_BATCH: '50' });
  manifest = manifestSchema.parse(JSON.parse(await readFile(`${BUNDLE_DIR}/manifest.json`, 'utf8')));
});
afterAll(() => gw.close());

describe('predict', () => {
  it('scores one customer with the bundle threshold, risk level and model version', async () => {
    const res = await gql(gw.url, PredictDocument, { customer: { ...GRAPHQL_CUSTOMER, customerId: 'c-1' } });
    expect(res.status).toBe(200);
    const p = res.body.data?.predict;
    expect(p).toBeDefined();
    expect(p?.customerId).toBe('c-1');
    expect(p?.churnProbability).toBeGreaterThanOrEqual(0);
    expect(p?.churnProbability).toBeLessThanOrEqual(1);
    expect(p?.threshold).toBe(manifest.threshold);
    expect(p?.willChurn).toBe((p?.churnProbability ?? 0) >= manifest.threshold);
    expect(p?.riskLevel).toBe(p?.willChurn ? 'HIGH' : (p?.churnProbability ?? 0) >= manifest.riskBands.mediumFrom ? 'MEDIUM' : 'LOW');
    expect(p?.modelVersion).toBe(manifest.registeredModel.version ?? `run-${manifest.run.runId}`);
  });

  it('tells an at-risk customer from a loyal one', async () => {
    const risky = await gql(gw.url, PredictDocument, { customer: { ...GRAPHQL_CUSTOMER, internetService: 'FIBER_OPTIC', monthlyCharges: 95 } });
    const loyal = await gql(gw.url, PredictDocument, { customer: LOYAL_CUSTOMER });
    expect(risky.body.data?.predict.riskLevel).toBe('HIGH');
    expect(loyal.body.data?.predict.riskLevel).toBe('LOW');
  });

  it('accepts a null totalCharges (not yet billed) at tenure 0', async () => {
    const res = await gql(gw.url, PredictDocument, { customer: { ...GRAPHQL_CUSTOMER, tenure: 0, totalCharges: null } });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.predict.churnProbability).toBeGreaterThan(0);
  });

  it('refuses a null totalCharges after the first month: the model would read it as nothing ever billed', async () => {
    const res = await gql(gw.url, PredictDocument, { customer: { ...GRAPHQL_CUSTOMER, tenure: 6, totalCharges: null } });
    expect(res.status).toBe(400);
    expect(res.body.data).toBeFalsy();
    const err = res.body.errors?.[0];
    expect(err?.extensions?.['code']).toBe('BAD_USER_INPUT');
    expect(err?.extensions?.['issues']).toEqual([
      { path: ['customer', 'totalCharges'], message: 'totalCharges may be null (not yet billed) only when tenure is 0; got tenure=6: send the total billed so far' },
    ]);
  });
});

describe('predictBatch', () => {
  it('answers in input order, each row as it would be alone', async () => {
    const customers: CustomerInput[] = Array.from({ length: 20 }, (_, i) => ({
      ...(i % 2 ? LOYAL_CUSTOMER : GRAPHQL_CUSTOMER),
      customerId: `row-${i}`,
      tenure: i * 3,
      monthlyCharges: 20 + i * 4.5,
      totalCharges: i === 0 ? null : (20 + i * 4.5) * i * 3,
    }));
    const batch = await gql(gw.url, PredictBatchDocument, { customers });
    expect(batch.body.errors).toBeUndefined();
    const rows = batch.body.data?.predictBatch ?? [];
    expect(rows.map((r) => r.customerId)).toEqual(customers.map((c) => c.customerId));
    for (const [i, c] of customers.entries()) {
      const alone = await gql(gw.url, PredictDocument, { customer: c });
      expect(alone.body.data?.predict.churnProbability).toBe(rows[i]?.churnProbability);
    }
  });

  it('rejects the whole batch, naming every bad row index and field', async () => {
    const customers: CustomerInput[] = [
      GRAPHQL_CUSTOMER,
      { ...GRAPHQL_CUSTOMER, tenure: 5000 },
      GRAPHQL_CUSTOMER,
      { ...GRAPHQL_CUSTOMER, monthlyCharges: -1, internetService: 'NO' },
    ];
    const res = await gql(gw.url, PredictBatchDocument, { customers });
    expect(res.status).toBe(400);
    expect(res.body.data ?? null).toBeNull();
    const error = res.body.errors?.[0];
    expect(error?.extensions?.['code']).toBe('BAD_USER_INPUT');
    const paths = (error?.extensions?.['issues'] as { path: (string | number)[] }[]).map((i) => i.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['customers.1.tenure', 'customers.3.monthlyCharges', 'customers.3.onlineSecurity', 'customers.3.streamingMovies']));
    expect(paths.some((p) => p.startsWith('customers.0') || p.startsWith('customers.2'))).toBe(false);
    expect(error?.message).toMatch(/customers\[1\]\.tenure/);
  });

  it('refuses more rows than MAX_BATCH with a clear error', async () => {
    const res = await gql(gw.url, PredictBatchDocument, { customers: Array.from({ length: 51 }, () => GRAPHQL_CUSTOMER) });
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    expect(res.body.errors?.[0]?.message).toMatch(/51 rows; at most 50/);
  });

  it('names the field that goes over MAX_BATCH when rows are counted over the request, a predict as one row', async () => {
    const query = 'mutation Over($cs: [CustomerInput!]!, $c: CustomerInput!) { all: predictBatch(customers: $cs) { churnProbability } one: predict(customer: $c) { churnProbability } }';
    const res = await gql(gw.url, query, { cs: Array.from({ length: 50 }, () => GRAPHQL_CUSTOMER), c: GRAPHQL_CUSTOMER });
    expect(res.status).toBe(400);
    expect(res.body.errors).toMatchObject([
      {
        path: ['one'],
        message: "Invalid input: customer: has 1 row (with the 50 of this request's earlier fields, 51); at most 50 are allowed per request (MAX_BATCH)",
        extensions: { code: 'BAD_USER_INPUT', issues: [{ path: ['customer'] }], issueCount: 1 },
      },
    ]);
  });

  it('scores rows that carry the same customerId each on its own, in input order (ids are echoed, not checked for uniqueness)', async () => {
    const customers: CustomerInput[] = [
      { ...GRAPHQL_CUSTOMER, customerId: 'same' },
      { ...LOYAL_CUSTOMER, customerId: 'same' },
    ];
    const res = await gql(gw.url, PredictBatchDocument, { customers });
    expect(res.body.errors).toBeUndefined();
    const rows = res.body.data?.predictBatch ?? [];
    expect(rows.map((r) => r.customerId)).toEqual(['same', 'same']);
    for (const [i, c] of customers.entries()) {
      const alone = await gql(gw.url, PredictDocument, { customer: c });
      expect(rows[i]?.churnProbability).toBe(alone.body.data?.predict.churnProbability);
    }
    expect(rows[0]?.churnProbability).not.toBe(rows[1]?.churnProbability);
  });

  it('returns an empty list for an empty batch', async () => {
    const res = await gql(gw.url, PredictBatchDocument, { customers: [] });
    expect(res.body.data?.predictBatch).toEqual([]);
  });
});

describe('outsideTrainingRange', () => {
  type Note = { field: string; value: number; observedMin: number; observedMax: number };
  /** The training range of a column as the serving model's modelInfo reports it (never a copy of the numbers). */
  async function trainingRange(column: string): Promise<{ observedMin: number; observedMax: number }> {
    const features = (await gql(gw.url, ModelInfoDocument, {})).body.data?.modelInfo.features ?? [];
    const { observedMin, observedMax } = features.find((f) => f.name === column) ?? {};
    if (typeof observedMin !== 'number' || typeof observedMax !== 'number') throw new Error(`modelInfo gives no training range for ${column}`);
    return { observedMin, observedMax };
  }

  it('is empty for a customer inside every training range, its edges and a null totalCharges (not yet billed) included', async () => {
    const tenure = await trainingRange('tenure');
    const monthly = await trainingRange('MonthlyCharges');
    const total = await trainingRange('TotalCharges');
    const customers: CustomerInput[] = [
      GRAPHQL_CUSTOMER,
      { ...LOYAL_CUSTOMER, tenure: tenure.observedMax, monthlyCharges: monthly.observedMax, totalCharges: total.observedMax },
      { ...GRAPHQL_CUSTOMER, tenure: tenure.observedMin, monthlyCharges: monthly.observedMin, totalCharges: null },
    ];
    for (const customer of customers) {
      const res = await gql(gw.url, PredictDocument, { customer });
      expect(res.body.errors, JSON.stringify(customer)).toBeUndefined();
      expect(res.body.data?.predict.outsideTrainingRange, JSON.stringify(customer)).toEqual([]);
    }
  });

  it('names each numeric field outside its training range, with the value sent and the range from modelInfo', async () => {
    const res = await gql(gw.url, PredictDocument, { customer: { ...GRAPHQL_CUSTOMER, tenure: 1200, monthlyCharges: 5000 } });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.predict.outsideTrainingRange).toEqual([
      { field: 'tenure', value: 1200, ...(await trainingRange('tenure')) },
      { field: 'monthlyCharges', value: 5000, ...(await trainingRange('MonthlyCharges')) },
    ]);
  });

  it('checks each input alone, as its description says: a totalCharges far from tenure × monthlyCharges, every input inside, lists nothing', async () => {
    const monthly = await trainingRange('MonthlyCharges');
    const total = await trainingRange('TotalCharges');
    // The largest total training saw, at one month: TotalCharges/tenure, which the model reads, is far
    // above what any customer of training paid a month (a total is about tenure × monthly charges).
    const customer: CustomerInput = { ...GRAPHQL_CUSTOMER, tenure: 1, totalCharges: total.observedMax };
    expect(customer.totalCharges ?? 0).toBeGreaterThan(10 * monthly.observedMax);
    const res = await gql<{ predict: { outsideTrainingRange: Note[]; explanation: { drivers: { name: string }[] } } }, { c: CustomerInput }>(
      gw.url,
      'mutation P($c: CustomerInput!) { predict(customer: $c) { outsideTrainingRange { field } explanation { drivers { name } } } }',
      { c: customer },
    );
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.predict.outsideTrainingRange).toEqual([]);
    expect(res.body.data?.predict.explanation.drivers.map((d) => d.name)).toContain('TotalCharges/tenure');
    const schema = await gql<{ __type: { fields: { name: string; description: string }[] } }, Record<string, never>>(gw.url, '{ __type(name: "Prediction") { fields { name description } } }', {});
    const description = schema.body.data?.__type.fields.find((f) => f.name === 'outsideTrainingRange')?.description;
    expect(description).toContain('Inputs are checked one at a time, never in combination, so an empty list does not mean the customer is like those the model was trained on');
  });

  it('is answered per row by predictBatch', async () => {
    const query = `mutation RangeBatch($customers: [CustomerInput!]!) {
      predictBatch(customers: $customers) { customerId outsideTrainingRange { field value observedMin observedMax } }
    }`;
    const customers: CustomerInput[] = [
      { ...GRAPHQL_CUSTOMER, customerId: 'inside' },
      { ...LOYAL_CUSTOMER, customerId: 'long-tenure', tenure: 1200 },
      { ...GRAPHQL_CUSTOMER, customerId: 'expensive', monthlyCharges: 5000, totalCharges: 100_000 },
      { ...GRAPHQL_CUSTOMER, customerId: 'new', tenure: 0, totalCharges: null },
    ];
    const res = await gql<{ predictBatch: { customerId: string; outsideTrainingRange: Note[] }[] }, { customers: CustomerInput[] }>(gw.url, query, { customers });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.predictBatch).toEqual([
      { customerId: 'inside', outsideTrainingRange: [] },
      { customerId: 'long-tenure', outsideTrainingRange: [{ field: 'tenure', value: 1200, ...(await trainingRange('tenure')) }] },
      {
        customerId: 'expensive',
        outsideTrainingRange: [
          { field: 'monthlyCharges', value: 5000, ...(await trainingRange('MonthlyCharges')) },
          { field: 'totalCharges', value: 100_000, ...(await trainingRange('TotalCharges')) },
        ],
      },
      { customerId: 'new', outsideTrainingRange: [] },
    ]);
  });
});

describe('bad input', () => {
  const cases: [string, Partial<Record<keyof CustomerInput, unknown>>, RegExp, string][] = [
    ['tenure below 0', { tenure: -1 }, /tenure must be an integer number of months from 0 to 1200; got -?[0-9]+$/, 'customer.tenure'],
    ['tenure above 1200', { tenure: 1201 }, /tenure must be an integer number of months from 0 to 1200; got -?[0-9]+$/, 'customer.tenure'],
    ['negative monthly charges', { monthlyCharges: -0.01 }, /monthlyCharges must be a finite number ≥ 0/, 'customer.monthlyCharges'],
    ['negative total charges', { totalCharges: -5 }, /totalCharges must be a finite number ≥ 0/, 'customer.totalCharges'],
    ['phone lines without phone service', { phoneService: false, multipleLines: 'YES' }, /multipleLines must be NO_PHONE_SERVICE exactly when phoneService is false/, 'customer.multipleLines'],
    ['no phone service with phone', { phoneService: true, multipleLines: 'NO_PHONE_SERVICE' }, /multipleLines must be NO_PHONE_SERVICE/, 'customer.multipleLines'],
    ['add-on without internet', { internetService: 'NO' }, /onlineSecurity must be NO_INTERNET_SERVICE exactly when internetService is NO/, 'customer.onlineSecurity'],
    ['no-internet add-on with internet', { techSupport: 'NO_INTERNET_SERVICE' }, /techSupport must be NO_INTERNET_SERVICE exactly when internetService is NO/, 'customer.techSupport'],
  ];
  it.each(cases)('%s → 400 BAD_USER_INPUT naming the field', async (_name, patch, message, path) => {
    const res = await gql(gw.url, PredictDocument, { customer: { ...GRAPHQL_CUSTOMER, ...patch } as CustomerInput });
    expect(res.status).toBe(400);
    const error = res.body.errors?.[0];
    expect(error?.extensions?.['code']).toBe('BAD_USER_INPUT');
    expect(error?.message).toMatch(message);
    expect((error?.extensions?.['issues'] as { path: string[] }[]).map((i) => i.path.join('.'))).toContain(path);
  });

  it.each([
    ['an unknown enum value', { gender: 'OTHER' }, /gender/],
    ['a missing required field', { contract: undefined }, /contract/],
    ['a float tenure', { tenure: 1.5 }, /tenure/],
    ['a string for a boolean', { partner: 'Yes' }, /partner/],
  ])('rejects %s in variables with a 4xx naming the field', async (_name, patch, field) => {
    const res = await gql(gw.url, PredictDocument, { customer: { ...GRAPHQL_CUSTOMER, ...patch } as CustomerInput });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.body.errors?.[0]?.message).toMatch(field);
    expect(res.body.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
  });

  it('rejects an unknown field in the document with a 400', async () => {
    const res = await gql(gw.url, 'query { modelInfo { nope } }');
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.message).toMatch(/nope/);
    expect(res.body.errors?.[0]?.extensions?.['code']).toBe('GRAPHQL_VALIDATION_FAILED');
  });
});

describe('modelInfo', () => {
  it('reports the bundle lineage, threshold, params, metrics and features', async () => {
    const res = await gql(gw.url, ModelInfoDocument, {});
    const info = res.body.data?.modelInfo;
    expect(info?.source).toBe('BUNDLE');
    expect(info?.name).toBe(manifest.registeredModel.name);
    expect(info?.runId).toBe(manifest.run.runId);
    expect(info?.onnxSha256).toBe(manifest.onnx.sha256);
    expect(info?.threshold).toBe(manifest.threshold);
    expect(Object.fromEntries((info?.metrics ?? []).map((m) => [m.key, m.value]))).toEqual(manifest.metrics);
    expect(Object.fromEntries((info?.params ?? []).map((m) => [m.key, m.value]))).toEqual(manifest.params);
    expect(info?.features.map((f) => f.name)).toContain('Contract');
    expect(info?.features.find((f) => f.name === 'Contract')?.allowedValues).toEqual(expect.arrayContaining(['Month-to-month', 'One year', 'Two year']));
    expect(info?.features.find((f) => f.name === 'TotalCharges')).toMatchObject({ kind: 'number', allowedValues: null, nullable: true });
    expect(info?.features.find((f) => f.name === 'SeniorCitizen')).toMatchObject({ allowedValues: ['0', '1'], nullable: false });
    // Everything an auditor needs from the manifest, under its names or plainly mapped ones.
    const spec = manifest.featureSpec;
    expect(info?.features.map(({ name, kind, allowedValues, nullable, observedMin, observedMax }) => ({ name, kind, allowedValues, nullable, observedMin, observedMax }))).toEqual(
      spec.columns.map((c) => ({ name: c.name, kind: c.kind, allowedValues: c.allowedValues ?? null, nullable: c.nullable ?? false, observedMin: c.observedMin ?? null, observedMax: c.observedMax ?? null })),
    );
    expect(info?.encodedFeatures.map((f) => f.name)).toEqual(spec.features.map((f) => f.name));
    expect(info?.encodedFeatures.find((f) => f.transform === 'RATIO')).toMatchObject({ name: 'TotalCharges/tenure', numerator: 'TotalCharges', denominator: 'tenure', column: null });
    expect(info?.encodedFeatures.find((f) => f.name === 'Contract=Two year')).toMatchObject({ transform: 'ONEHOT', column: 'Contract', value: 'Two year', nullAs: null });
    expect(Object.fromEntries((info?.libraryVersions ?? []).map((v) => [v.name, v.version]))).toEqual(manifest.libraryVersions);
    expect(info?.onnx).toEqual({ sha256: manifest.onnx.sha256, opset: manifest.onnx.opset ?? null, inputName: manifest.onnx.inputName, outputName: manifest.onnx.outputName, positiveClassIndex: manifest.onnx.positiveClassIndex });
    expect(info?.parity).toMatchObject({ cases: manifest.parity.count, tolerance: manifest.parity.tolerance, fileSha256: manifest.parity.sha256 });
    expect(info?.parity.maxAbsDiff).toBeLessThanOrEqual(manifest.parity.tolerance);
    expect(info?.bundleFormatVersion).toBe(manifest.formatVersion);
    expect(Date.parse(info?.trainedAt ?? '')).not.toBeNaN();
    expect(Date.parse(info?.loadedAt ?? '')).toBeGreaterThan(Date.parse(info?.trainedAt ?? ''));
  });
});

describe('bad values written in the document', () => {
  it('answers the same document alike the second time (Yoga keeps its validation errors)', async () => {
    const query = 'mutation Again { predict(customer: { paymentMethod: 3, onlineSecurity: Yes }) { riskLevel } }';
    const first = await gql(gw.url, query);
    expect(first.status).toBe(400);
    expect(first.body.errors?.map((e) => e.message)).toEqual(
      expect.arrayContaining([
        'Value "Yes" does not exist in "AddOn" enum; allowed: YES, NO, NO_INTERNET_SERVICE.',
        'Enum "PaymentMethod" cannot represent non-enum value: 3; allowed: ELECTRONIC_CHECK, MAILED_CHECK, BANK_TRANSFER_AUTOMATIC, CREDIT_CARD_AUTOMATIC.',
      ]),
    );
    const second = await gql(gw.url, query);
    expect(second.status).toBe(400);
    expect(second.body).toEqual(first.body);
  });
});

describe('bad values written in the document: by argument path', () => {
  type Issue = { path: (string | number)[]; message: string };
  const inline = customerLiteral;
  /** The errors of a document, each as its code and issues (the issue's message is the error's). */
  async function refused(query: string): Promise<{ code: unknown; issues: Issue[] | undefined; message: string }[]> {
    const res = await gql(gw.url, query);
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    return (res.body.errors ?? []).map((e) => {
      const issues = e.extensions?.['issues'] as Issue[] | undefined;
      for (const issue of issues ?? []) expect(issue.message).toBe(e.message);
      return { code: e.extensions?.['code'], issues, message: e.message };
    });
  }
  const pathsOf = (errors: { issues: Issue[] | undefined }[]) => errors.map((e) => e.issues?.map((i) => i.path));

  it("names the field of a refused enum value, which six fields' AddOn type alone does not", async () => {
    const errors = await refused(`mutation { predict(customer: ${inline({ onlineBackup: 'Yes' })}) { riskLevel } }`);
    expect(errors).toEqual([
      {
        code: 'GRAPHQL_VALIDATION_FAILED',
        message: 'Value "Yes" does not exist in "AddOn" enum; allowed: YES, NO, NO_INTERNET_SERVICE.',
        issues: [{ path: ['customer', 'onlineBackup'], message: 'Value "Yes" does not exist in "AddOn" enum; allowed: YES, NO, NO_INTERNET_SERVICE.' }],
      },
    ]);
  });

  it('names the field of a value of the wrong type, as the same value in a variable is named', async () => {
    const errors = await refused(`mutation { predict(customer: ${inline({ tenure: '"1"' })}) { riskLevel } }`);
    expect(errors).toEqual([{ code: 'GRAPHQL_VALIDATION_FAILED', message: 'Int cannot represent non-integer value: "1"', issues: [{ path: ['customer', 'tenure'], message: 'Int cannot represent non-integer value: "1"' }] }]);
    const variable = await gql(gw.url, 'mutation P($customer: CustomerInput!) { predict(customer: $customer) { riskLevel } }', { customer: { ...GRAPHQL_CUSTOMER, tenure: '1' } });
    expect((variable.body.errors?.[0]?.extensions?.['issues'] as Issue[]).map((i) => i.path)).toEqual([['customer', 'tenure']]);
  });

  it('names list indexes, a missing field, an unknown field and a null row', async () => {
    const batch = (...rows: string[]) => `mutation { predictBatch(customers: [${rows.join(', ')}]) { riskLevel } }`;
    expect(pathsOf(await refused(batch(inline(), inline({ streamingTV: 'Maybe', tenure: '1.5' }))))).toEqual([[['customers', 1, 'tenure']], [['customers', 1, 'streamingTV']]]);
    expect(pathsOf(await refused(batch(inline(), inline(), inline({ contract: undefined }))))).toEqual([[['customers', 2, 'contract']]]);
    expect(pathsOf(await refused(batch(inline({ tenur: '1' }))))).toEqual([[['customers', 0, 'tenur']]]);
    expect(pathsOf(await refused(batch(inline(), 'null')))).toEqual([[['customers', 1]]]);
  });

  it("tells aliased fields' arguments apart by where they are, and names a variable's default by the variable", async () => {
    const two = await refused(`mutation { a: predict(customer: ${inline()}) { riskLevel } b: predict(customer: ${inline({ gender: 'Female' })}) { riskLevel } }`);
    expect(two.map((e) => [e.issues?.[0]?.path, e.message])).toEqual([[['customer', 'gender'], 'Value "Female" does not exist in "Gender" enum; allowed: FEMALE, MALE.']]);
    const fallback = await refused(`mutation P($c: CustomerInput = ${inline({ techSupport: 'yes' })}) { predict(customer: $c) { riskLevel } }`);
    expect(pathsOf(fallback)).toEqual([[['c', 'techSupport']]]);
  });

  it('names them again when the same document comes back (Yoga keeps its validation errors)', async () => {
    const query = `mutation Again { predict(customer: ${inline({ paymentMethod: '3', onlineSecurity: 'Yes' })}) { riskLevel } }`;
    const first = await refused(query);
    expect(pathsOf(first)).toEqual([[['customer', 'onlineSecurity']], [['customer', 'paymentMethod']]]);
    expect(await refused(query)).toEqual(first);
  });

  it('leaves errors about anything but a value without issues', async () => {
    const errors = await refused(`mutation { predict(customer: ${inline()}) { riskLevel nope } }`);
    expect(errors).toEqual([{ code: 'GRAPHQL_VALIDATION_FAILED', message: expect.stringMatching(/nope/) as unknown, issues: undefined }]);
    // A variable of the wrong type where a value goes: about the variable, not a value written there.
    const wrongType = await refused('mutation M($c: String) { predict(customer: $c) { riskLevel } }');
    expect(wrongType).toEqual([{ code: 'GRAPHQL_VALIDATION_FAILED', message: expect.stringMatching(/Variable "\$c" of type "String"/) as unknown, issues: undefined }]);
  });
});

describe('operationName that picks no operation', () => {
  const ask = async (query: string, operationName?: string) => {
    const res = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, operationName }) });
    const body = (await res.json()) as { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] };
    return { status: res.status, data: body.data, errors: body.errors?.map((e) => [e.extensions?.code, e.message]) };
  };
  const TWO = 'query A { modelInfo { name } } query B { modelInfo { version } }';

  it.each([
    ['several operations and none named', TWO, undefined, 'the document has 2 operations, so operationName must name the one to run; it has "A", "B"'],
    ['an operationName the document does not have', TWO, 'C', 'operationName "C" names no operation of the document; it has "A", "B"'],
    [
      'an operation without a name among others',
      'query A { modelInfo { name } } { modelInfo { version } }',
      undefined,
      'the document has 2 operations, so operationName must name the one to run; it has "A" and 1 without a name (an operation without a name cannot be chosen: name it)',
    ],
    ['fragments only', 'fragment F on ModelInfo { name }', undefined, 'the document has no operation to run, only fragments'],
    ['an empty operationName', 'query Q { modelInfo { name } }', '', 'operationName is empty: leave it out, or name the operation; it has "Q"'],
    ['an empty operationName where one must be named', TWO, '', 'operationName is empty: name the operation to run; it has "A", "B"'],
  ])('says what the document has: %s', async (_name, query, operationName, message) => {
    expect(await ask(query, operationName)).toEqual({ status: 400, data: undefined, errors: [['OPERATION_RESOLUTION_FAILURE', message]] });
  });

  it.each([[5], [['A']], [{ name: 'A' }], [true]])('refuses an operationName that is not a string (%j), naming the parameter', async (operationName: unknown) => {
    const res = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: 'query A { modelInfo { name } }', operationName }) });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ detail: 'operationName must be a string, the name of the operation to run, or null', errors: [{ path: 'operationName', message: 'must be a string or null' }] });
  });

  it('reads an empty operationName in a GET URL as left out, as the GraphQL-over-HTTP spec says (a POST body\'s is refused: above)', async () => {
    const get = async (query: string) => {
      const res = await fetch(`${gw.url}/graphql?${new URLSearchParams({ query, operationName: '' }).toString()}`);
      const body = (await res.json()) as { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] };
      return { status: res.status, data: body.data, errors: body.errors?.map((e) => [e.extensions?.code, e.message]) };
    };
    expect(await get('query Q { modelInfo { name } }')).toEqual({ status: 200, data: { modelInfo: { name: 'telco-churn' } }, errors: undefined });
    expect(await get(TWO)).toEqual({
      status: 400,
      data: undefined,
      errors: [['OPERATION_RESOLUTION_FAILURE', 'the document has 2 operations, so operationName must name the one to run; it has "A", "B"']],
    });
  });

  it('answers an empty operationName the same once the document is compiled', async () => {
    const query = 'query EmptyName { modelInfo { name } }';
    for (let i = 0; i < 2; i++) expect((await ask(query)).status).toBe(200); // learned, then run compiled
    expect(await ask(query, '')).toEqual({ status: 400, data: undefined, errors: [['OPERATION_RESOLUTION_FAILURE', 'operationName is empty: leave it out, or name the operation; it has "EmptyName"']] });
  });

  it('runs the operation named, or the only one', async () => {
    expect(await ask(TWO, 'B')).toMatchObject({ status: 200, errors: undefined, data: { modelInfo: { version: expect.any(String) as unknown } } });
    expect(await ask('{ modelInfo { name } }')).toEqual({ status: 200, errors: undefined, data: { modelInfo: { name: 'telco-churn' } } });
  });
});

describe('a request member other than query, operationName, variables and extensions', () => {
  const post = async (body: Record<string, unknown>) => {
    const res = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
  };

  it('is refused by POST whether or not the document is compiled yet (400 "Unexpected parameter", as Yoga answers it)', async () => {
    const query = 'mutation Extra($c: CustomerInput!) { predict(customer: $c) { churnProbability } }';
    const variables = { c: GRAPHQL_CUSTOMER };
    const extras = [{ documentId: 'p1' }, { id: 'Extra' }, { foo: 1 }];
    const before = [];
    for (const extra of extras) before.push(await post({ query, variables, ...extra })); // a new document: Yoga's parser reads it
    for (let i = 0; i < 2; i++) expect((await post({ query, variables })).status).toBe(200); // learned, then run compiled
    for (const [i, extra] of extras.entries()) {
      const [name] = Object.keys(extra);
      expect(before[i]).toEqual({
        status: 400,
        type: 'application/json; charset=utf-8',
        body: JSON.stringify({ errors: [{ message: `Unexpected parameter "${name}" in the request body.`, extensions: { code: 'BAD_REQUEST' } }] }),
      });
      expect(await post({ query, variables, ...extra }), name).toEqual(before[i]);
    }
  });

  it('is read as left out when it is null, by POST, as Yoga reads it, before and after the document is compiled', async () => {
    const query = 'query ExtraNull { modelInfo { name } }';
    for (let i = 0; i < 3; i++) expect(await post({ query, documentId: null })).toEqual({ status: 200, type: 'application/json; charset=utf-8', body: '{"data":{"modelInfo":{"name":"telco-churn"}}}' });
  });

  it('is ignored in a GET URL (a cache-buster, a persisted-document id), before and after the document is compiled', async () => {
    const query = 'query ExtraGet { modelInfo { name } }';
    const get = async () => {
      const res = await fetch(`${gw.url}/graphql?${new URLSearchParams({ query, documentId: 'x', _: '1700000000' }).toString()}`);
      return { status: res.status, body: await res.text() };
    };
    const expected = { status: 200, body: '{"data":{"modelInfo":{"name":"telco-churn"}}}' };
    expect(await get()).toEqual(expected);
    for (let i = 0; i < 2; i++) expect((await post({ query })).status).toBe(200); // learned, then run compiled
    expect(await get()).toEqual(expected);
  });
});

describe('automatic persisted queries (a hash sent instead of the document)', () => {
  // What Apollo Client's and urql's persisted-query links send first, by POST or (useGETForHashedQueries) GET.
  const query = 'query Lineage { modelInfo { runId } }';
  const persistedQuery = { version: 1, sha256Hash: createHash('sha256').update(query).digest('hex') };
  const accept = 'application/graphql-response+json,application/json;q=0.9';
  const NOT_SUPPORTED = { errors: [{ message: 'PersistedQueryNotSupported', extensions: { code: 'PERSISTED_QUERY_NOT_SUPPORTED' } }] };

  it('is answered as a GraphQL error the links read as "send the document", by POST and by GET', async () => {
    const post = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept },
      body: JSON.stringify({ operationName: 'Lineage', variables: {}, extensions: { persistedQuery } }),
    });
    const get = await fetch(`${gw.url}/graphql?${new URLSearchParams({ operationName: 'Lineage', variables: '{}', extensions: JSON.stringify({ persistedQuery }) }).toString()}`, { headers: { accept } });
    for (const res of [post, get]) {
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toBe('application/graphql-response+json; charset=utf-8');
      expect(await res.json()).toEqual(NOT_SUPPORTED);
    }
  });

  it('runs the document the links send next, with the hash still in extensions', async () => {
    const res = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept },
      body: JSON.stringify({ query, operationName: 'Lineage', variables: {}, extensions: { persistedQuery } }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: { modelInfo: { runId: manifest.run.runId } } });
  });

  it('still names the missing query when nothing asks for a persisted one', async () => {
    const res = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ extensions: {} }) });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
    expect(((await res.json()) as { errors: unknown[] }).errors).toEqual([{ path: 'query', message: 'is required; must be a string' }]);
  });
});

describe('the Accept header', () => {
  const send = async (method: 'POST' | 'GET', query: string, accept: string) => {
    const res =
      method === 'POST'
        ? await fetch(`${gw.url}/graphql`, { method, headers: { 'content-type': 'application/json', accept }, body: JSON.stringify({ query }) })
        : await fetch(`${gw.url}/graphql?${new URLSearchParams({ query }).toString()}`, { headers: { accept } });
    return { status: res.status, type: res.headers.get('content-type'), encoding: res.headers.get('content-encoding'), body: await res.text() };
  };
  const unique = (name: string) => `query ${name}${Math.random().toString(36).slice(2)} { modelInfo { version } }`;

  // Yoga answered the first two 200 in its streamed formats (with `Content-Encoding: none`), and read q=0 as acceptable.
  // A JSON type in a charset other than UTF-8 is not one the gateway writes.
  it.each(['text/event-stream', 'multipart/mixed', 'application/json;q=0, text/html', 'application/graphql-response+json;q=0, application/json;q=0.000, */*', 'application/json;charset=iso-8859-1', 'application/json; charset="latin1"'])(
    'is refused 406 with a problem naming the JSON types when it allows neither (%j), by POST and GET, for a new or a compiled document',
    async (accept) => {
      const query = unique('NotAcceptable');
      for (const when of ['new', 'compiled']) {
        for (const method of ['POST', 'GET'] as const) {
          const res = await send(method, query, accept);
          expect({ status: res.status, type: res.type, encoding: res.encoding }, `${when} ${method}`).toEqual({ status: 406, type: 'application/problem+json; charset=utf-8', encoding: null });
          expect(JSON.parse(res.body), `${when} ${method}`).toMatchObject({
            type: 'about:blank',
            title: 'Not Acceptable',
            status: 406,
            detail: 'the accept header must allow application/json or application/graphql-response+json',
          });
        }
        for (let i = 0; i < 2; i++) expect((await send('POST', query, 'application/json')).status).toBe(200); // learned, then run compiled
      }
    },
  );

  it.each([
    ['application/json;q=0.5, application/graphql-response+json', 'application/graphql-response+json'],
    ['application/graphql-response+json;q=0.5, application/json', 'application/json'],
    ['application/graphql-response+json, application/json;q=0.9', 'application/graphql-response+json'], // Apollo Client's
    ['multipart/mixed;deferSpec=20220824, application/json;q=0.9', 'application/json'], // Apollo Client's for @defer
    ['*/*;q=0.1, application/graphql-response+json;q=0.2', 'application/graphql-response+json'],
    ['application/json;q=0, */*', 'application/graphql-response+json'],
    ['*/*, application/json', 'application/json'], // equal weights: the first entry, and application/json of the two it matches, as Yoga picks
    ['application/graphql-response+json, */*', 'application/graphql-response+json'],
    // A q-value out of 0..1 is read as 1: equal weights, the first entry.
    ['application/graphql-response+json, application/json;q=2', 'application/graphql-response+json'],
    // An entry of q=0 matching both is skipped when weights are equal.
    ['application/*;q=0, application/graphql-response+json, application/json', 'application/graphql-response+json'],
    // The most specific entry weighs a type: application/json's own, not application/*'s.
    ['application/*;q=0.9, application/json;q=0.5', 'application/graphql-response+json'],
    ['', 'application/json'], // an empty Accept allows anything, as none does
  ])('answers the JSON type of the highest q-value (%j → %s), on the first run, compiled and by GET', async (accept, type) => {
    const query = unique('Weighed');
    const expected = { status: 200, type: `${type}; charset=utf-8`, encoding: null, body: JSON.stringify({ data: { modelInfo: { version: manifest.registeredModel.version } } }) };
    for (let i = 0; i < 3; i++) expect(await send('POST', query, accept), `POST ${i}`).toEqual(expected); // Yoga's run, then compiled
    expect(await send('GET', query, accept), 'GET').toEqual(expected);
  });
});

describe('Prediction.modelRunId', () => {
  // Two models under one version number: the committed bundle (version 5 of the registry training
  // used) and, as an MLflow registry's version 5 would be, the same files credited to another run.
  const OTHER_RUN = 'b'.repeat(32);
  let dir: string;
  let other: TestGateway;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'graphql-model-run-'));
    for (const file of [manifest.onnx.file, manifest.parity.file, ...(manifest.explainer ? [manifest.explainer.file] : [])]) await copyFile(path.join(BUNDLE_DIR, file), path.join(dir, file));
    await writeFile(path.join(dir, 'manifest.json'), JSON.stringify({ ...manifest, run: { ...manifest.run, runId: OTHER_RUN } }));
    other = await startTestGateway({ MODEL_DIR: dir, LOG_LEVEL: 'warn' });
  });
  afterAll(async () => {
    await other?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("names the run of the model that computed each answer, where the version number alone names two models", async () => {
    const query = 'mutation Run($c: CustomerInput!, $cs: [CustomerInput!]!) { predict(customer: $c) { modelVersion modelRunId } predictBatch(customers: $cs) { modelVersion modelRunId } }';
    const answers = [];
    for (const g of [gw, other]) {
      const info = (await gql(g.url, ModelInfoDocument, {})).body.data?.modelInfo;
      for (let i = 0; i < 2; i++) {
        // The second run of the document is the compiled one.
        const res = await gql<{ predict: { modelVersion: string; modelRunId: string }; predictBatch: { modelVersion: string; modelRunId: string }[] }, unknown>(g.url, query, { c: GRAPHQL_CUSTOMER, cs: [GRAPHQL_CUSTOMER, LOYAL_CUSTOMER] });
        expect(res.status).toBe(200);
        const expected = { modelVersion: info?.modelVersion, modelRunId: info?.runId };
        expect(res.body.data).toEqual({ predict: expected, predictBatch: [expected, expected] });
      }
      answers.push(info);
    }
    expect(answers.map((i) => i?.modelVersion)).toEqual([manifest.registeredModel.version, manifest.registeredModel.version]);
    expect(answers.map((i) => i?.runId)).toEqual([manifest.run.runId, OTHER_RUN]);
  });
});
