/**
 * The legacy REST contract, over a real port with the real model: today's payload keeps
 * working, answers keep "prediction" first, and bad input is a 4xx problem naming fields.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PredictDocument } from '../src/generated/graphql.js';
import { CUSTOMER_FIELDS } from '../src/contract.js';
import { DATASET_CUSTOMER_BYTES, bodyLimitAdvice } from '../src/http.js';
import { EMPTY_BODY } from '../src/json-body.js';
import { GRAPHQL_CUSTOMER, LEGACY_PAYLOAD, gql, postJson, startTestGateway, type TestGateway } from './helpers/index.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ MAX_BATCH: '10', BODY_LIMIT_BYTES: '20000' });
});
afterAll(() => gw.close());

type Answer = Record<string, unknown>;
type Problem = { status: number; title: string; code: string; detail: string; errors: { path: string; message: string }[]; requestId: string };

describe('POST /predict', () => {
  it("answers today's 18-field payload with prediction first, and names the SeniorCitizen default", async () => {
    const res = await postJson(gw.url, '/predict', LEGACY_PAYLOAD);
    expect(res.status).toBe(200);
    const body = res.json as Answer;
    expect(Object.keys(body)[0]).toBe('prediction');
    expect(['Likely to churn', 'Not likely to churn']).toContain(body['prediction']);
    expect(body['defaults_applied']).toEqual({ SeniorCitizen: 0 });
    expect(body['prediction']).toBe((body['churn_probability'] as number) >= (body['threshold'] as number) ? 'Likely to churn' : 'Not likely to churn');
  });

  it('takes SeniorCitizen null as left out (a generated pydantic client sends null for a field not set): the same default, named', async () => {
    const leftOut = (await postJson(gw.url, '/predict', LEGACY_PAYLOAD)).json as Answer;
    const sentNull = await postJson(gw.url, '/predict', { ...LEGACY_PAYLOAD, SeniorCitizen: null, customerID: null });
    expect(sentNull.status, JSON.stringify(sentNull.json)).toBe(200);
    expect(sentNull.json).toEqual(leftOut);
    expect((sentNull.json as Answer)['defaults_applied']).toEqual({ SeniorCitizen: 0 });
    // In a batch, beside a customer that sends it: the default is named only where it was applied.
    const batch = await postJson(gw.url, '/predict', [{ ...LEGACY_PAYLOAD, SeniorCitizen: null }, { ...LEGACY_PAYLOAD, SeniorCitizen: 1 }]);
    expect(batch.status, JSON.stringify(batch.json)).toBe(200);
    expect((batch.json as Answer[]).map((a) => a['defaults_applied'])).toEqual([{ SeniorCitizen: 0 }, undefined]);
  });

  it('gives the same probability as GraphQL for the same customer, naming the same model by version and run', async () => {
    const rest = (await postJson(gw.url, '/predict', { ...LEGACY_PAYLOAD, SeniorCitizen: 0 })).json as Answer;
    const graph = await gql(gw.url, 'mutation P($c: CustomerInput!) { predict(customer: $c) { churnProbability modelVersion modelRunId } }', { c: GRAPHQL_CUSTOMER });
    const predict = (graph.body.data as { predict: { churnProbability: number; modelVersion: string; modelRunId: string } }).predict;
    expect(rest['churn_probability']).toBe(predict.churnProbability);
    expect(rest['model_version']).toBe(predict.modelVersion);
    expect(rest['model_run_id']).toBe(predict.modelRunId);
    expect(rest['model_run_id']).toBe(gw.slot.current.lineage.runId);
    expect(rest['defaults_applied']).toBeUndefined();
  });

  it('answers an array with an array in the same order, echoing customerID', async () => {
    const rows = [
      { ...LEGACY_PAYLOAD, customerID: 'a' },
      { ...LEGACY_PAYLOAD, customerID: 'b', Contract: 'Two year', tenure: 60, TotalCharges: 1800 },
    ];
    const res = await postJson(gw.url, '/predict', rows);
    expect(res.status).toBe(200);
    const body = res.json as Answer[];
    expect(body.map((r) => r['customerID'])).toEqual(['a', 'b']);
    // null is no id (as GraphQL's customerId: null): nothing to echo.
    const noId = await postJson(gw.url, '/predict', { ...LEGACY_PAYLOAD, customerID: null });
    expect(noId.status).toBe(200);
    expect(Object.keys(noId.json as object)).not.toContain('customerID');
    expect(body[1]?.['churn_probability']).toBeLessThan(body[0]?.['churn_probability'] as number);
    // An id is not checked for uniqueness: the same id on both answers, each its own customer's, in order.
    const sameId = await postJson(gw.url, '/predict', rows.map((r) => ({ ...r, customerID: 'same' })));
    expect(sameId.status).toBe(200);
    expect((sameId.json as Answer[]).map((r) => [r['customerID'], r['churn_probability']])).toEqual(body.map((r) => ['same', r['churn_probability']]));
  });

  it('answers a customer far outside the training ranges with the legacy keys only, as GraphQL scores it', async () => {
    const res = await postJson(gw.url, '/predict', { ...LEGACY_PAYLOAD, SeniorCitizen: 0, tenure: 1200, MonthlyCharges: 5000 });
    expect(res.status).toBe(200);
    const body = res.json as Answer;
    // Old callers' answer: outsideTrainingRange is GraphQL's only.
    expect(Object.keys(body)).toEqual(['prediction', 'churn_probability', 'threshold', 'model_version', 'risk_level', 'model_run_id']);
    const graph = await gql(gw.url, PredictDocument, { customer: { ...GRAPHQL_CUSTOMER, tenure: 1200, monthlyCharges: 5000 } });
    expect(body['churn_probability']).toBe(graph.body.data?.predict.churnProbability);
    expect(graph.body.data?.predict.outsideTrainingRange.map((n) => n.field)).toEqual(['tenure', 'monthlyCharges']);
  });

  it('treats TotalCharges null as not yet billed', async () => {
    const res = await postJson(gw.url, '/predict', { ...LEGACY_PAYLOAD, tenure: 0, TotalCharges: null });
    expect(res.status).toBe(200);
  });
});

describe('bad REST input → 400 application/problem+json naming each field', () => {
  const cases: [string, unknown, string, RegExp][] = [
    ['a bad enum value', { ...LEGACY_PAYLOAD, gender: 'F' }, 'gender', /must be one of "Female", "Male"/],
    ['a missing field', (({ Contract: _c, ...rest }) => rest)(LEGACY_PAYLOAD), 'Contract', /is required/],
    ['an unknown field', { ...LEGACY_PAYLOAD, Tenure: 3 }, '(body)', /unknown field\(s\) "Tenure"/],
    [
      'many unknown fields, some long (the first 10 named, each cut at 64 characters)',
      { ...LEGACY_PAYLOAD, ...Object.fromEntries(Array.from({ length: 2_000 }, (_, i) => [`${i === 0 ? 'k'.repeat(500) : 'x'}${i}`, 1])) },
      '(body)',
      new RegExp(`^unknown field\\(s\\) "${'k'.repeat(63)}…", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9" and 1990 more; allowed: customerID, gender`),
    ],
    ['a string number', { ...LEGACY_PAYLOAD, MonthlyCharges: '29.85' }, 'MonthlyCharges', /must be a number/],
    ['tenure out of range', { ...LEGACY_PAYLOAD, tenure: 1201 }, 'tenure', /from 0 to 1200/],
    ['a fractional tenure', { ...LEGACY_PAYLOAD, tenure: 1.5 }, 'tenure', /integer/],
    ['negative charges', { ...LEGACY_PAYLOAD, TotalCharges: -1 }, 'TotalCharges', /≥ 0/],
    ['a null total after the first month', { ...LEGACY_PAYLOAD, tenure: 6, TotalCharges: null }, 'TotalCharges', /^TotalCharges may be null \(not yet billed\) only when tenure is 0; got tenure=6/],
    ['SeniorCitizen 2', { ...LEGACY_PAYLOAD, SeniorCitizen: 2 }, 'SeniorCitizen', /must be 0 or 1/],
    ['phone rule', { ...LEGACY_PAYLOAD, PhoneService: 'Yes' }, 'MultipleLines', /"No phone service" exactly when PhoneService is "No"/],
    ['internet rule', { ...LEGACY_PAYLOAD, InternetService: 'No' }, 'OnlineSecurity', /"No internet service" exactly when InternetService is "No"/],
    ['a bad row in an array', [LEGACY_PAYLOAD, { ...LEGACY_PAYLOAD, Contract: 'Monthly' }], '[1].Contract', /must be one of/],
    ['a JSON string', '"hello"', '(body)', /JSON object/],
    ['null', 'null', '(body)', /JSON object/],
  ];
  it.each(cases)('%s', async (_name, body, path, message) => {
    const res = await postJson(gw.url, '/predict', typeof body === 'string' ? body : body);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const problem = res.json as Problem;
    const issue = problem.errors.find((e) => e.path === path);
    expect(issue, JSON.stringify(problem.errors)).toBeDefined();
    expect(issue?.message).toMatch(message);
    // A value the fields do not take: the code GraphQL answers a refused customer with.
    expect(problem.code).toBe('BAD_USER_INPUT');
    expect(problem.requestId).toBe(res.headers.get('x-request-id'));
  });

  it('names the field a key differing only in case or spaces means, beside the field it left missing', async () => {
    const { gender, ...withoutGender } = LEGACY_PAYLOAD;
    const res = await postJson(gw.url, '/predict', [{ ...withoutGender, Gender: gender, customerid: 'x', ' Tenure ': 3, Churn: 'No' }]);
    expect(res.status).toBe(400);
    expect((res.json as Problem).errors).toEqual([
      { path: '[0].gender', message: 'is required (sent as "Gender"); must be one of "Female", "Male"' },
      {
        path: '[0]',
        message: `unknown field(s) "Gender" (spelled "gender" here), "customerid" (spelled "customerID" here), " Tenure " (spelled "tenure" here), "Churn"; allowed: customerID, ${CUSTOMER_FIELDS.map((f) => f.column).join(', ')}`,
      },
    ]);
  });

  it('names every problem of a customer: a bad field does not hide the rules the other fields break', async () => {
    const withoutTotal = (({ TotalCharges: _t, ...rest }) => rest)(LEGACY_PAYLOAD);
    const customer = { ...withoutTotal, customerID: 'x'.repeat(300), Tenure: 3, tenure: 5000, PhoneService: 'Yes', InternetService: 'Cable' };
    const res = await postJson(gw.url, '/predict', customer);
    expect(res.status).toBe(400);
    const problem = res.json as Problem;
    expect(problem.errors.map((e) => e.path).sort()).toEqual(['(body)', 'MultipleLines', 'TotalCharges', 'customerID', 'InternetService', 'tenure'].sort());
    expect(problem.errors.find((e) => e.path === 'tenure')?.message).toMatch(/^tenure must be an integer number of months from 0 to 1200; got 5000$/);
    expect(problem.errors.find((e) => e.path === 'MultipleLines')?.message).toMatch(/exactly when PhoneService is "No"/);
    expect(problem.detail).toMatch(/^6 invalid field\(s\)/);
    // A rule that reads a field which failed its own check is not run on it: no add-on is
    // judged against the unknown InternetService, no null-total rule against a missing total.
    expect(problem.errors.filter((e) => e.path === 'TotalCharges')).toHaveLength(1);
  });

  it.each(['instances', 'customers', 'dataframe_records', 'Data'])(
    'says to POST the array itself when it comes wrapped in an object under %j (MLflow, TF Serving and hand-written clients), not that every field is missing',
    async (key) => {
      for (const extra of [{}, { params: { threshold: 0.5 } }]) {
        const res = await postJson(gw.url, '/predict', { ...extra, [key]: [LEGACY_PAYLOAD, LEGACY_PAYLOAD] });
        expect(res.status).toBe(400);
        const message = `"${key}" holds an array: POST the array of customers itself as the body ([{…}, …]), not wrapped in an object`;
        expect(res.json).toMatchObject({ detail: `1 invalid field(s): (body): ${message}`, errors: [{ path: '(body)', message }] });
      }
      // An object that names a customer field is a customer with a stray key, and says so.
      const customer = await postJson(gw.url, '/predict', { ...LEGACY_PAYLOAD, [key]: [] });
      expect((customer.json as Problem).errors).toEqual([{ path: '(body)', message: expect.stringMatching(new RegExp(`^unknown field\\(s\\) "${key}"`)) as unknown }]);
    },
  );

  it('rejects invalid JSON', async () => {
    const res = await postJson(gw.url, '/predict', '{"gender":');
    expect(res.status).toBe(400);
    expect((res.json as Problem).detail).toMatch(/not valid JSON/);
    // No customer to judge: the request itself is unreadable, as on /graphql.
    expect((res.json as Problem).code).toBe('BAD_REQUEST');
  });

  it('scores exactly MAX_BATCH rows and rejects one more', async () => {
    const full = await postJson(gw.url, '/predict', Array.from({ length: 10 }, () => LEGACY_PAYLOAD));
    expect(full.status).toBe(200);
    expect(full.json).toHaveLength(10);
    const res = await postJson(gw.url, '/predict', Array.from({ length: 11 }, () => LEGACY_PAYLOAD));
    expect(res.status).toBe(400);
    expect((res.json as Problem).detail).toMatch(/11 customers; at most 10/);
    expect((res.json as Problem).code).toBe('BAD_USER_INPUT');
  });

  it('answers 413 above the body limit', async () => {
    const res = await postJson(gw.url, '/predict', { ...LEGACY_PAYLOAD, customerID: 'x'.repeat(30_000) });
    expect(res.status).toBe(413);
    expect((res.json as Problem).detail).toMatch(/limit of 20000 bytes|limit is 20000 bytes/);
    expect((res.json as Problem).code).toBe('PAYLOAD_TOO_LARGE');
  });

  // MAX_BATCH 10 in 20,000 bytes: 2,000 bytes a customer. A full batch of larger customers (long
  // ids) was told only the byte limit, as a default gateway told 10,000 customers with uuid4 ids.
  it('says in a 413 that a full batch fits only at up to BODY_LIMIT_BYTES / MAX_BATCH bytes a customer, content-length or chunked', async () => {
    const advice = "send fewer customers per request: MAX_BATCH (10) customers fit in it at up to 2000 bytes each, more than the data set's take on average (589 bytes indented), so these are larger, or more than MAX_BATCH";
    expect(advice).toBe(bodyLimitAdvice(20_000, 10));
    const body = JSON.stringify(Array.from({ length: 10 }, (_, i) => ({ ...LEGACY_PAYLOAD, customerID: `${i}`.padEnd(1700, 'x') })));
    const declared = await fetch(`${gw.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(declared.status).toBe(413);
    expect(((await declared.json()) as Problem).detail).toBe(`request body is ${body.length} bytes; the limit is 20000 bytes (BODY_LIMIT_BYTES); ${advice}`);
    const chunked = await fetch(`${gw.url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new Blob([body]).stream(),
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
    expect(((await chunked.json()) as Problem).detail).toBe(`request body exceeds the limit of 20000 bytes (BODY_LIMIT_BYTES); ${advice}`);
  });

  // At 300,000 bytes, MAX_BATCH (10,000) customers fit only at 30 bytes each, which no customer is:
  // the 413 said so, and left the caller to guess how many to send.
  it('says in a 413 how many customers to send when the body limit holds fewer than MAX_BATCH, and that many fit', async () => {
    const small = await startTestGateway({ BODY_LIMIT_BYTES: '300000' });
    try {
      // README's customer with its id, indented as the data set's customers take the most room.
      const batch = (n: number) => JSON.stringify(Array.from({ length: n }, () => ({ customerID: '7590-VHVEG', ...LEGACY_PAYLOAD })), null, 2);
      const send = (body: string) => fetch(`${small.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const over = await send(batch(1100));
      expect(over.status).toBe(413);
      const { detail } = (await over.json()) as Problem;
      const count = Number(/; send at most (\d+) customers per request: /.exec(detail)?.[1]);
      expect(count).toBe(Math.floor(300_000 / DATASET_CUSTOMER_BYTES.indented));
      const fits = await send(batch(count));
      expect(fits.status).toBe(200);
      expect(await fits.json()).toHaveLength(count);
    } finally {
      await small.close();
    }
  });

  it('gives the range for an amount JSON can only carry as Infinity (1e400), and names it as too large rather than as the Infinity it was read as', async () => {
    const body = JSON.stringify(LEGACY_PAYLOAD).replace(/"MonthlyCharges":[^,}]+/, '"MonthlyCharges":1e400');
    const res = await fetch(`${gw.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(res.status).toBe(400);
    expect(((await res.json()) as Problem).errors).toEqual([
      { path: 'MonthlyCharges', message: "must be a number from 0 to 3.4e+38; got a number beyond a 64-bit number's range (±1.8e308), so it would be read as an infinity" },
    ]);
  });

  // JSON.parse's "Unexpected end of JSON input" read as if the JSON had been cut off.
  it('says a body that is empty or only whitespace is empty, on /predict and (in GraphQL shape) on /graphql', async () => {
    for (const body of ['', ' \r\n']) {
      const rest = await fetch(`${gw.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(rest.status).toBe(400);
      expect(await rest.json()).toMatchObject({
        detail: `${EMPTY_BODY}; send a customer (or an array of customers) as JSON`,
        errors: [{ path: '(body)', message: 'must be a customer (or an array of customers) as JSON' }],
      });
      const graphql = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(graphql.status).toBe(400);
      expect(await graphql.json()).toEqual({
        errors: [{ message: `${EMPTY_BODY}; send the GraphQL request as JSON, such as {"query": "{ modelInfo { version } }"}`, extensions: { code: 'BAD_REQUEST' } }],
      });
    }
  });

  // README's list of what a caller of the FastAPI prototype meets (pydantic converted, ignored or read these).
  it("refuses what the prototype took, as README's list for its callers says", async () => {
    const refused = async (body: unknown, contentType = 'application/json') => {
      const res = await fetch(`${gw.url}/predict`, { method: 'POST', headers: { 'content-type': contentType }, body: JSON.stringify(body) });
      return [res.status, ((await res.json()) as Problem).detail];
    };
    expect(await refused({ ...LEGACY_PAYLOAD, MonthlyCharges: '29.85' })).toEqual([400, expect.stringContaining('got the string "29.85"')]);
    expect(await refused({ ...LEGACY_PAYLOAD, SeniorCitizen: true })).toEqual([400, expect.stringContaining('must be 0 or 1; got true')]);
    expect(await refused({ ...LEGACY_PAYLOAD, Churn: 'No' })).toEqual([400, expect.stringContaining('unknown field(s) "Churn"')]);
    for (const type of ['application/vnd.api+json', 'application/merge-patch+json']) expect(await refused(LEGACY_PAYLOAD, type)).toEqual([415, expect.stringContaining(type)]);
  });

  it('answers 415 for a non-JSON content type and 405 for GET', async () => {
    const form = await fetch(`${gw.url}/predict`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' });
    expect(form.status).toBe(415);
    expect(((await form.json()) as Problem).code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const get = await fetch(`${gw.url}/predict`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect(((await get.json()) as Problem).code).toBe('METHOD_NOT_ALLOWED');
  });

  it('answers 404 problem for unknown routes', async () => {
    const res = await fetch(`${gw.url}/nope`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/problem\+json/);
    expect(((await res.json()) as Problem).code).toBe('NOT_FOUND');
  });
});
