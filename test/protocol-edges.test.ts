/**
 * Protocol edges a review found answered wrongly (a 500, a 200 error, a silent default, a
 * limit aliases could multiply), each pinned here on the real gateway: the answer is a 4xx
 * that names the parameter or field, and nothing reaches Yoga's "Unexpected error.".
 */
import { maxHeaderSize } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTRACT_ENUMS, CUSTOMER_ID_MAX_LENGTH, MAX_LISTED_ISSUES } from '../src/contract.js';
import { MAX_MESSAGE_CHARS } from '../src/schema/error-codes.js';
import { CONTAINERS_COUNTED_FROM } from '../src/json-body.js';
import { MAX_DOCUMENT_CHARS, VARIABLE_LIMITS } from '../src/schema/limits.js';
import { MAX_OPERATION_LABEL_CHARS } from '../src/schema/prepared-operations.js';
import { CONNECTIONS_CHECKING_INTERVAL_MS } from '../src/server.js';
import { GRAPHQL_CUSTOMER, LEGACY_PAYLOAD, customerLiteral, gql, metricValue, postJson, startTestGateway, waitFor, type TestGateway } from './helpers/index.js';
import { MAX_COUNTED_ISSUES } from '../src/rest/predict.js';

const MAX_BATCH = 5;
let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway({ MAX_BATCH: String(MAX_BATCH), NODE_ENV: 'production', CORS_ORIGINS: 'https://app.example' });
});
afterAll(() => gw.close());

type Problem = { status: number; code: string; detail: string; requestId: string; errors?: { path: string; message: string }[] };
type GqlIssue = { path: (string | number)[]; message: string };

const without = <T extends object>(o: T, key: keyof T): Partial<T> => Object.fromEntries(Object.entries(o).filter(([k]) => k !== key)) as Partial<T>;

const MODEL_INFO = '{ modelInfo { name } }';
const BATCH = 'mutation B($cs: [CustomerInput!]!) { predictBatch(customers: $cs) { churnProbability } }';
const SINGLE = 'mutation S($c: CustomerInput!) { predict(customer: $c) { churnProbability } }';

describe('GET /graphql', () => {
  const get = (search: string) => fetch(`${gw.url}/graphql?${search}`);

  it.each([
    ['variables', 'notjson'],
    ['variables', '{'],
    ['variables', '[1]'],
    ['extensions', 'notjson'],
  ])('refuses %s=%s with a 400 naming the parameter', async (name, value) => {
    const res = await get(`query=${encodeURIComponent(MODEL_INFO)}&${name}=${encodeURIComponent(value)}`);
    expect(res.status).toBe(400);
    const body = (await res.json()) as Problem;
    expect(body.errors).toEqual([{ path: name, message: 'must be a JSON object' }]);
    expect(body.requestId).toBe(res.headers.get('x-request-id'));
  });

  it.each([
    ['variables', []],
    ['variables', '{}'],
    ['variables', 5],
    ['extensions', 5],
    ['extensions', ['persistedQuery']],
  ])('refuses a POST whose %s is %j as a GET is refused, naming the member', async (name, value) => {
    const res = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: MODEL_INFO, [name]: value }) });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const body = (await res.json()) as Problem;
    expect([body.detail, body.errors]).toEqual([`the body's ${name} must be a JSON object`, [{ path: name, message: 'must be a JSON object' }]]);
  });

  it('refuses a GET without a query, pointing at GraphiQL', async () => {
    const res = await fetch(`${gw.url}/graphql`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as Problem).detail).toMatch(/query parameter.*\/ui\/graphiql/);
  });

  it('is never kept by a cache (cache-control: no-store), so modelInfo read through a CDN is the model served now; a POST answer carries none', async () => {
    const answers = {
      'GET modelInfo': [200, await get(`query=${encodeURIComponent('{ modelInfo { version runId } }')}`)],
      'HEAD modelInfo': [200, await fetch(`${gw.url}/graphql?query=${encodeURIComponent(MODEL_INFO)}`, { method: 'HEAD' })],
      'GET invalid document': [400, await get(`query=${encodeURIComponent('{ modelInfo { nope } }')}`)],
      'GET persisted query': [400, await get(`extensions=${encodeURIComponent('{"persistedQuery":{"version":1,"sha256Hash":"abc"}}')}`)],
    } as const;
    for (const [what, [status, res]] of Object.entries(answers)) {
      expect([res.status, res.headers.get('cache-control')], what).toEqual([status, 'no-store']);
      await res.arrayBuffer();
    }
    // POST, compiled or not: unchanged (not stored without explicit freshness).
    for (let i = 0; i < 3; i++) expect((await gql(gw.url, MODEL_INFO)).headers.get('cache-control')).toBeNull();
  });

  it('reads an empty variables or extensions parameter as left out', async () => {
    for (const name of ['variables', 'extensions']) {
      const res = await get(`query=${encodeURIComponent(MODEL_INFO)}&${name}=`);
      expect(res.status, name).toBe(200);
      expect(await res.json()).toEqual({ data: { modelInfo: { name: 'telco-churn' } } });
    }
  });

  it('still answers a well-formed GET query', async () => {
    const res = await get(`query=${encodeURIComponent(MODEL_INFO)}&variables=${encodeURIComponent('{}')}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: { modelInfo: { name: 'telco-churn' } } });
  });
});

describe('POST /graphql', () => {
  it.each([
    ['application/x-www-form-urlencoded', `query=${encodeURIComponent(MODEL_INFO)}&variables=nope`],
    ['application/graphql', MODEL_INFO],
    ['text/plain', JSON.stringify({ query: MODEL_INFO })],
  ])('refuses content-type %s with 415 (a form post is how another site would send a mutation)', async (type, body) => {
    const res = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': type }, body });
    expect(res.status).toBe(415);
    expect(((await res.json()) as Problem).detail).toContain('application/json');
  });

  it('refuses with 415 naming what was sent, on /graphql and /predict: a JSON-like type, another charset, a compressed body', async () => {
    const cases: [Record<string, string>, string][] = [
      [{ 'content-type': 'application/json-patch+json' }, 'takes content-type: application/json; got application/json-patch+json'],
      [{ 'content-type': 'application/json; charset=shift_jis' }, 'takes JSON in UTF-8; got charset=shift_jis'],
      [{ 'content-type': 'application/json', 'content-encoding': 'gzip' }, 'takes an uncompressed body; got content-encoding: gzip'],
      [{ 'content-type': '' }, 'takes content-type: application/json; got an empty content-type'],
    ];
    for (const [route, body] of [['/graphql', JSON.stringify({ query: MODEL_INFO })], ['/predict', JSON.stringify(LEGACY_PAYLOAD)]] as const) {
      for (const [headers, detail] of cases) {
        const res = await fetch(`${gw.url}${route}`, { method: 'POST', headers, body });
        expect(res.status, `${route} ${JSON.stringify(headers)}`).toBe(415);
        // The codings read (RFC 9110 §15.5.16), for a client that compresses its requests to fall back on.
        expect(res.headers.get('accept-encoding'), `${route} ${JSON.stringify(headers)}`).toBe(headers['content-encoding'] === undefined ? null : 'identity');
        // /predict reads windows-1252 as well (rest-wire.test.ts), and says so.
        const taken = route === '/predict' ? detail.replace('JSON in UTF-8;', 'JSON in UTF-8 (charset=utf-8, or none), or in windows-1252 (charset=us-ascii, iso-8859-1, latin1 or windows-1252);') : detail;
        expect(((await res.json()) as Problem).detail).toBe(`POST ${route} ${taken}`);
      }
      // UTF-8 in any spelling, and no coding, are read.
      const readable: Record<string, string>[] = [{ 'content-type': 'application/json; charset=UTF-8' }, { 'content-type': 'Application/JSON;charset="utf8"', 'content-encoding': 'identity' }];
      for (const headers of readable) {
        expect((await fetch(`${gw.url}${route}`, { method: 'POST', headers, body })).status, `${route} ${JSON.stringify(headers)}`).toBe(200);
      }
    }
  });

  it('refuses a JSON body without a query with a 400 naming it', async () => {
    const res = await postJson(gw.url, '/graphql', {});
    expect(res.status).toBe(400);
    expect((res.json as Problem).errors).toEqual([{ path: 'query', message: 'is required; must be a string' }]);
  });

  it('answers a compiled document only on POST with an acceptable Accept header', async () => {
    const body = JSON.stringify({ query: MODEL_INFO });
    for (let i = 0; i < 2; i++) expect((await postJson(gw.url, '/graphql', body)).status).toBe(200); // learned and compiled
    for (const method of ['PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      const res = await fetch(`${gw.url}/graphql`, { method, headers: { 'content-type': 'application/json' }, body });
      expect(res.status, method).toBe(405);
    }
    const xml = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/xml' }, body });
    expect(xml.status).toBe(406);
    // Yoga's 406 has no body: the problem says what to send.
    expect(xml.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(((await xml.json()) as Problem).detail).toBe('the accept header must allow application/json or application/graphql-response+json');
  });
});

describe('GraphQL customers', () => {
  it('requires totalCharges to be sent: null means not yet billed and is never assumed', async () => {
    const withoutTotal = without(GRAPHQL_CUSTOMER, 'totalCharges');
    const res = await gql(gw.url, BATCH, { cs: [GRAPHQL_CUSTOMER, withoutTotal] });
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.extensions?.['issues']).toEqual([{ path: ['customers', 1, 'totalCharges'], message: expect.stringMatching(/required.*null/) }]);
    const explicitNull = await gql(gw.url, BATCH, { cs: [{ ...GRAPHQL_CUSTOMER, tenure: 0, totalCharges: null }] });
    expect(explicitNull.status).toBe(200);
  });

  it('answers null for a defaulted list variable as bad input on the argument, not as a document error', async () => {
    const res = await gql(gw.url, 'mutation B($cs: [CustomerInput!] = []) { predictBatch(customers: $cs) { churnProbability } }', { cs: null });
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    expect(res.body.errors?.[0]?.extensions?.['issues']).toEqual([{ path: ['customers'], message: 'Argument "customers" of non-null type "[CustomerInput!]!" must not be null.' }]);
  });

  it('answers a defaulted variable sent null inside a value written in the document as bad input naming the field, before and after the document is compiled', async () => {
    const single = `mutation P($t: Int = 5) { predict(customer: ${customerLiteral({ tenure: '$t' })}) { churnProbability } }`;
    const batch = `mutation B($g: Gender = FEMALE) { predictBatch(customers: [${customerLiteral()}, ${customerLiteral({ gender: '$g' })}]) { churnProbability } }`;
    const cases = [
      [single, 't', ['customer', 'tenure'], 'Int!'],
      [batch, 'g', ['customers', 1, 'gender'], 'Gender!'],
    ] as const;
    for (const [query, name, path, type] of cases) {
      const message = `Variable "$${name}" is sent null where type "${type}" takes no null: send a value, or leave it out for its default.`;
      const first = await gql(gw.url, query, { [name]: null });
      expect(first.status, name).toBe(400);
      expect(first.body.errors?.map((e) => [e.extensions?.['code'], e.extensions?.['issues'], e.extensions?.['issueCount']])).toEqual([['BAD_USER_INPUT', [{ path, message }], 1]]);
      // Left out, its default answers; the document is then compiled, and null is answered alike.
      for (let i = 0; i < 2; i++) expect((await gql(gw.url, query, {})).status, name).toBe(200);
      const compiled = await gql(gw.url, query, { [name]: null });
      expect([compiled.status, compiled.body], name).toEqual([first.status, first.body]);
    }
  });

  it('names every variable sent null in a written value, and only those where null is not taken', async () => {
    const doc = `mutation P($t: Int = 5, $tc: Float = 1, $c: Contract = ONE_YEAR) { predict(customer: ${customerLiteral({ tenure: '$t', totalCharges: '$tc', contract: '$c' })}) { churnProbability } }`;
    const res = await gql(gw.url, doc, { t: null, tc: null, c: null });
    expect(res.status).toBe(400);
    // totalCharges takes null (not yet billed): $tc is not named.
    expect((res.body.errors?.[0]?.extensions?.['issues'] as GqlIssue[]).map((i) => i.path)).toEqual([
      ['customer', 'tenure'],
      ['customer', 'contract'],
    ]);
    // Counted as every BAD_USER_INPUT on a field's path is: a client that shows "N problems" read undefined here.
    expect(res.body.errors?.[0]?.extensions?.['issueCount']).toBe(2);
    const both = `mutation P($t: Int = 5, $m: Float = 3) { predict(customer: ${customerLiteral({ tenure: '$t', monthlyCharges: '$m' })}) { churnProbability } }`;
    const twice = await gql(gw.url, both, { t: null, m: null });
    expect(twice.status).toBe(400);
    expect(twice.body.errors?.map((e) => [e.path, e.extensions?.['code'], (e.extensions?.['issues'] as GqlIssue[]).length, e.extensions?.['issueCount']])).toEqual([
      [['predict'], 'BAD_USER_INPUT', 2, 2],
    ]);
  });

  it('names a missing or unknown field on the issue path, not only in the message', async () => {
    const withoutGender = without(GRAPHQL_CUSTOMER, 'gender');
    const res = await gql(gw.url, BATCH, { cs: [GRAPHQL_CUSTOMER, { ...withoutGender, colour: 'red' }] });
    expect(res.status).toBe(400);
    const paths = res.body.errors?.flatMap((e) => (e.extensions?.['issues'] as GqlIssue[]).map((i) => i.path));
    expect(paths).toEqual(expect.arrayContaining([['cs', 1, 'gender'], ['cs', 1, 'colour']]));
    // The same for a single customer, where the field belongs to the variable itself.
    for (const [c, path] of [[withoutGender, ['c', 'gender']], [{ ...GRAPHQL_CUSTOMER, colour: 'red' }, ['c', 'colour']]] as const) {
      const one = await gql(gw.url, SINGLE, { c });
      expect(one.status).toBe(400);
      expect(one.body.errors?.map((e) => (e.extensions?.['issues'] as GqlIssue[]).map((i) => i.path))).toEqual([[path]]);
    }
  });

  it('limits customerId to the length REST allows', async () => {
    const res = await gql(gw.url, BATCH, { cs: [{ ...GRAPHQL_CUSTOMER, customerId: 'x'.repeat(257) }] });
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.extensions?.['issues']).toEqual([{ path: ['customers', 0, 'customerId'], message: 'must be at most 256 characters' }]);
    const rest = await postJson(gw.url, '/predict', { ...LEGACY_PAYLOAD, customerID: 'x'.repeat(257) });
    expect((rest.json as Problem).errors).toEqual([{ path: 'customerID', message: 'must be at most 256 characters' }]);
  });

  it('counts customerId characters alike in REST and GraphQL: an emoji is one (two UTF-16 units)', async () => {
    for (const [count, accepted] of [[256, true], [257, false]] as const) {
      const id = '😀'.repeat(count);
      const graphql = await gql(gw.url, BATCH, { cs: [{ ...GRAPHQL_CUSTOMER, customerId: id }] });
      const rest = await postJson(gw.url, '/predict', { ...LEGACY_PAYLOAD, customerID: id });
      expect([graphql.status, rest.status], `${count} emoji`).toEqual(accepted ? [200, 200] : [400, 400]);
    }
  });

  it('refuses a customerId that is not well-formed Unicode on both routes, in the same words, and echoes a whole emoji', async () => {
    // Echoed, a lone surrogate came back as the escape "\ud83d", which strict JSON readers (serde_json) refuse.
    const ECHO = 'mutation E($cs: [CustomerInput!]!) { predictBatch(customers: $cs) { customerId } }';
    for (const [id, named] of [['\ud83d', 'd83d'], ['a\ude00b', 'de00'], ['😀x\ud83d', 'd83d'], [`${'x'.repeat(300)}\udbff`, 'dbff']] as const) {
      const graphql = await gql(gw.url, ECHO, { cs: [{ ...GRAPHQL_CUSTOMER, customerId: id }] });
      const rest = await postJson(gw.url, '/predict', [{ ...LEGACY_PAYLOAD, customerID: id }]);
      expect([graphql.status, rest.status], JSON.stringify(id)).toEqual([400, 400]);
      const issues = graphql.body.errors?.[0]?.extensions?.['issues'] as GqlIssue[];
      const message = `must be well-formed Unicode; it holds \\u${named}, half of a UTF-16 surrogate pair without the other half, which names no character (strict JSON readers refuse it echoed in the answer)`;
      // Too long as well: both problems, in one message.
      expect(issues).toEqual([{ path: ['customers', 0, 'customerId'], message: id.length > 256 ? `${message}; must be at most 256 characters` : message }]);
      expect((rest.json as Problem).errors).toEqual([{ path: '[0].customerID', message: issues[0]?.message }]);
    }
    const whole = 'é😀𝔘';
    const graphql = await gql<{ predictBatch: { customerId: string }[] }, unknown>(gw.url, ECHO, { cs: [{ ...GRAPHQL_CUSTOMER, customerId: whole }] });
    const rest = await postJson(gw.url, '/predict', { ...LEGACY_PAYLOAD, customerID: whole });
    expect([graphql.body.data?.predictBatch[0]?.customerId, (rest.json as Record<string, unknown>)['customerID']]).toEqual([whole, whole]);
  });

  it('counts MAX_BATCH over the whole request, so aliases cannot multiply it', async () => {
    const three = Array.from({ length: 3 }, () => GRAPHQL_CUSTOMER);
    const doc = 'mutation B($cs: [CustomerInput!]!) { a: predictBatch(customers: $cs) { churnProbability } b: predictBatch(customers: $cs) { churnProbability } }';
    const res = await gql(gw.url, doc, { cs: three });
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.message).toMatch(/has 3 rows \(with the 3 of this request's earlier fields, 6\); at most 5/);
    const two = Array.from({ length: 2 }, () => GRAPHQL_CUSTOMER);
    const aliases = `mutation B($cs: [CustomerInput!]!) { ${['a', 'b', 'c'].map((a) => `${a}: predictBatch(customers: $cs) { churnProbability }`).join(' ')} }`;
    const third = await gql(gw.url, aliases, { cs: two });
    expect(third.status).toBe(400);
    expect(third.body.errors?.[0]?.path).toEqual(['c']);
    expect(third.body.errors?.[0]?.message).toMatch(/has 2 rows \(with the 4 of this request's earlier fields, 6\)/);
    const within = await gql(gw.url, BATCH, { cs: Array.from({ length: MAX_BATCH }, () => GRAPHQL_CUSTOMER) });
    expect(within.status).toBe(200);
  });

  it('answers a compiled batch that breaks a rule with the rule, its rows counted once though Yoga runs it again', async () => {
    const doc = 'mutation RowsOnce($cs: [CustomerInput!]!) { predictBatch(customers: $cs) { churnProbability } }';
    const three = Array.from({ length: 3 }, () => GRAPHQL_CUSTOMER);
    for (let i = 0; i < 2; i++) expect((await gql(gw.url, doc, { cs: three })).status).toBe(200); // learned, then compiled
    // Well-typed, so it runs compiled; the rule refuses it there and Yoga answers it afresh.
    const res = await gql(gw.url, doc, { cs: [GRAPHQL_CUSTOMER, { ...GRAPHQL_CUSTOMER, tenure: -1 }, GRAPHQL_CUSTOMER] }, { 'x-request-id': 'rows-once' });
    expect(res.status).toBe(400);
    expect(res.body.errors).toHaveLength(1);
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', issues: [{ path: ['customers', 1, 'tenure'] }], issueCount: 1 });
    expect(res.body.errors?.[0]?.message).not.toMatch(/MAX_BATCH/);
    const line = () => gw.logs.find((l) => l['reqId'] === 'rows-once' && l['msg'] === 'request');
    await waitFor('the access line of the request', () => line() !== undefined, 30_000, 10);
    expect(line()).toMatchObject({ status: 400, rows: 3, operation: 'RowsOnce' });
  });
});

describe('400 answers for many bad rows', () => {
  const bad = (n: number) => Array.from({ length: n }, () => ({ ...GRAPHQL_CUSTOMER, tenure: -1, monthlyCharges: -1 }));

  it(`list the first ${MAX_LISTED_ISSUES} problems in GraphQL and say how many there were`, async () => {
    const big = await startTestGateway({ MAX_BATCH: '1000' });
    try {
      const res = await gql(big.url, BATCH, { cs: bad(300) });
      expect(res.status).toBe(400);
      const ext = res.body.errors?.[0]?.extensions as { issues: GqlIssue[]; issueCount: number };
      expect(ext.issueCount).toBe(600);
      expect(ext.issues).toHaveLength(MAX_LISTED_ISSUES);
      expect(ext.issues[0]).toEqual({ path: ['customers', 0, 'tenure'], message: expect.any(String) });
      expect(res.body.errors?.[0]?.message).toMatch(/600 problems, the first 100 listed/);
      expect(res.body.errors?.[0]?.message.length).toBeLessThan(1000);

      const legacy = Array.from({ length: 300 }, () => ({ ...LEGACY_PAYLOAD, tenure: -1, MonthlyCharges: -1 }));
      const rest = await postJson(big.url, '/predict', legacy);
      expect(rest.status).toBe(400);
      expect((rest.json as Problem).errors).toHaveLength(MAX_LISTED_ISSUES);
      expect((rest.json as Problem).detail).toMatch(/^600 invalid field\(s\); the first 100 are listed in errors/);

      // Past MAX_COUNTED_ISSUES, REST stops checking: 1,000 empty customers have 18,000 problems.
      const empty = await postJson(big.url, '/predict', Array.from({ length: 1000 }, () => ({})));
      expect(empty.status).toBe(400);
      const checked = Math.ceil(MAX_COUNTED_ISSUES / 18); // 18 required fields a customer
      expect((empty.json as Problem).detail).toMatch(
        new RegExp(`^at least ${MAX_COUNTED_ISSUES} invalid field\\(s\\) \\(checking stopped there, after ${checked} of 1000 customers\\); the first 100 are listed in errors: \\[0\\]\\.gender: is required`),
      );
      expect((empty.json as Problem).errors).toHaveLength(MAX_LISTED_ISSUES);
      expect((empty.json as Problem).errors?.at(-1)?.path).toMatch(/^\[5\]\./);
    } finally {
      await big.close();
    }
  });
});

describe('HTTP', () => {
  it('answers 405 with Allow for a method GET / or GET /metrics does not take', async () => {
    for (const path of ['/', '/metrics']) {
      for (const method of ['POST', 'OPTIONS', 'DELETE']) {
        const res = await fetch(`${gw.url}${path}`, { method });
        expect(res.status, `${method} ${path}`).toBe(405);
        expect(res.headers.get('allow')).toBe('GET, HEAD');
      }
      const head = await fetch(`${gw.url}${path}`, { method: 'HEAD' });
      expect([head.status, await head.text()]).toEqual([200, '']);
    }
  });

  it('answers 405 on /graphql with an Allow that names every method it serves, HEAD (answered as GET) included', async () => {
    const search = `?${new URLSearchParams({ query: MODEL_INFO }).toString()}`;
    let allow: string | null = null;
    for (const method of ['PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      const res = await fetch(`${gw.url}/graphql${search}`, { method });
      expect(res.status, method).toBe(405);
      allow = res.headers.get('allow');
      expect(allow, method).toBe('GET, HEAD, POST');
      await res.arrayBuffer();
    }
    // Each method it names is served.
    for (const method of allow?.split(', ') ?? []) {
      const res = await fetch(`${gw.url}/graphql${method === 'POST' ? '' : search}`, {
        method,
        ...(method === 'POST' ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: MODEL_INFO }) } : {}),
      });
      expect([res.status, res.headers.get('content-type'), await res.text()], method).toEqual([200, 'application/json; charset=utf-8', method === 'HEAD' ? '' : '{"data":{"modelInfo":{"name":"telco-churn"}}}']);
    }
    // A mutation is served by POST alone.
    for (const method of ['GET', 'HEAD']) {
      const res = await fetch(`${gw.url}/graphql?${new URLSearchParams({ query: 'mutation { reloadModel { changed } }' }).toString()}`, { method });
      expect([res.status, res.headers.get('allow')], method).toEqual([405, 'POST']);
      await res.arrayBuffer();
    }
  });

  it('serves /graphql/ as /graphql, by POST and by GET, as /predict/ is served as /predict', async () => {
    const post = (path: string) =>
      fetch(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': `slash${path.length}` }, body: JSON.stringify({ query: MODEL_INFO }) });
    const [direct, slash] = [await post('/graphql'), await post('/graphql/')];
    expect([slash.status, await slash.text()]).toEqual([direct.status, await direct.text()]);
    expect(slash.status).toBe(200);
    const search = new URLSearchParams({ query: MODEL_INFO }).toString();
    const [getDirect, getSlash] = [await fetch(`${gw.url}/graphql?${search}`), await fetch(`${gw.url}/graphql/?${search}`)];
    expect([getSlash.status, getSlash.headers.get('cache-control'), await getSlash.text()]).toEqual([200, 'no-store', await getDirect.text()]);
    // A refusal names what is wrong with the request, not the path.
    const bad = await fetch(`${gw.url}/graphql/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query": 1}' });
    expect([bad.status, ((await bad.json()) as Problem).errors]).toEqual([400, [{ path: 'query', message: 'is required; must be a string' }]]);
    await expect.poll(() => gw.logs.find((l) => l['reqId'] === 'slash9' && l['msg'] === 'request'), { timeout: 30_000 }).toMatchObject({ route: 'graphql', status: 200 });
    // Only the one slash: other paths under /graphql are not the endpoint.
    for (const path of ['/graphql//', '/graphql/x']) expect((await fetch(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: MODEL_INFO }) })).status, path).toBe(404);
  });

  it('answers every problem with cache-control: no-store, so no cache keeps a 404 or a 405 (RFC 9111 lets one guess a lifetime for them)', async () => {
    const answers = {
      '404 path': await fetch(`${gw.url}/nowhere`),
      '404 UI asset': await fetch(`${gw.url}/ui/assets/not-built-here.js`),
      '405 GET /predict': await fetch(`${gw.url}/predict`),
      '405 DELETE /': await fetch(`${gw.url}/`, { method: 'DELETE' }),
      '400 bad body': await fetch(`${gw.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' }),
      '415 content-type': await fetch(`${gw.url}/predict`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' }),
    };
    for (const [what, res] of Object.entries(answers)) {
      expect([res.status, res.headers.get('content-type'), res.headers.get('cache-control')], what).toEqual([Number(what.slice(0, 3)), 'application/problem+json; charset=utf-8', 'no-store']);
      await res.arrayBuffer();
    }
    // An answer that is no problem keeps its own: none on a prediction, no-cache on the OpenAPI document.
    expect((await postJson(gw.url, '/predict', LEGACY_PAYLOAD)).headers.get('cache-control')).toBeNull();
    expect((await fetch(`${gw.url}/openapi.json`)).headers.get('cache-control')).toBe('no-cache');
  });

  it('reads a JSON body that starts with a UTF-8 byte order mark, on /predict and /graphql', async () => {
    const bom = (text: string) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]);
    const rest = await fetch(`${gw.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: bom(JSON.stringify(LEGACY_PAYLOAD)) });
    expect(rest.status).toBe(200);
    expect(await rest.json()).toHaveProperty('churn_probability');
    const graphql = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: bom(JSON.stringify({ query: MODEL_INFO })) });
    expect(await graphql.json()).toEqual({ data: { modelInfo: { name: 'telco-churn' } } });
  });

  it('refuses a body that is not UTF-8 with a 400 naming the byte and what precedes it, on /predict and /graphql', async () => {
    // "RENÉ" in Latin-1: read as UTF-8, the É became U+FFFD, and "RENÈ" came back the same id.
    const latin1 = (text: string) => Buffer.from(text, 'latin1');
    const rest = await fetch(`${gw.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: latin1(JSON.stringify({ ...LEGACY_PAYLOAD, customerID: 'RENÉ' })) });
    expect(rest.status).toBe(400);
    const problem = (await rest.json()) as Problem;
    expect(problem.detail).toMatch(/^request body is not valid UTF-8: byte 0xC9 at offset \d+, after ".*\\"customerID\\":\\"REN"; send JSON in UTF-8/);
    expect(problem.errors).toEqual([{ path: '(body)', message: 'must be UTF-8 text' }]);
    const body = latin1(JSON.stringify({ query: SINGLE, variables: { c: { ...GRAPHQL_CUSTOMER, customerId: 'RENÉ' } } }));
    const graphql = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(graphql.status).toBe(400);
    expect(((await graphql.json()) as Problem).detail).toMatch(/not valid UTF-8: byte 0xC9 at offset \d+/);
    // The same id in UTF-8 is answered, and echoed as sent.
    const utf8 = await postJson(gw.url, '/predict', { ...LEGACY_PAYLOAD, customerID: 'RENÉ' });
    expect([utf8.status, (utf8.json as { customerID: string }).customerID]).toEqual([200, 'RENÉ']);
  });

  it('refuses a field sent twice (JSON.parse would keep the last) with a 400 naming it, on /predict and /graphql', async () => {
    const legacy = JSON.stringify(LEGACY_PAYLOAD);
    const post = (path: string, text: string) => fetch(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: text });
    const twice = await post('/predict', legacy.replace(/}$/, ',"tenure":40}'));
    expect(twice.status).toBe(400);
    expect(((await twice.json()) as Problem).errors?.[0]).toEqual({ path: 'tenure', message: 'is sent more than once; send each field once' });
    // In an array, by index; a name written with escapes is the same name.
    const batch = await post('/predict', `[${legacy},${legacy.replace('"tenure":1', '"tenure":1,"t\\u0065nure":40')}]`);
    expect(((await batch.json()) as Problem).errors?.[0]).toEqual({ path: '[1].tenure', message: 'is sent more than once; send each field once' });
    const variables = JSON.stringify({ c: { ...GRAPHQL_CUSTOMER, tenure: 1 } }).replace('"tenure":1', '"tenure":1,"tenure":40');
    const graphql = await post('/graphql', `{"query":${JSON.stringify(SINGLE)},"variables":${variables}}`);
    expect(graphql.status).toBe(400);
    expect(((await graphql.json()) as Problem).errors).toEqual([{ path: 'variables.c.tenure', message: 'is sent more than once; send each field once' }]);
    const twoQueries = await post('/graphql', `{"query":${JSON.stringify(MODEL_INFO)},"query":${JSON.stringify(MODEL_INFO)}}`);
    expect(((await twoQueries.json()) as Problem).detail).toBe('query is sent more than once; send each field once');
    // A detail that starts with the caller's key: its first word, in capitals before a colon, is no code.
    for (const body of [`{"AB:x":1,"AB:x":2,"query":${JSON.stringify(MODEL_INFO)}}`, `{"OK:x":1e-400,"query":${JSON.stringify(MODEL_INFO)}}`]) {
      const refused = (await (await post('/graphql', body)).json()) as Problem;
      expect(refused.detail, body).toMatch(/^(AB|OK):x /);
      expect(refused.code, body).toBe('BAD_REQUEST');
    }
  });

  it('refuses a number JSON.parse would read as 0 though it is not zero (1e-400) with a 400 naming it, on /predict and /graphql', async () => {
    // Before, tenure 1e-400 was scored as a new customer (tenure 0): a valid value the caller never sent.
    const legacy = JSON.stringify(LEGACY_PAYLOAD);
    const post = (path: string, text: string) => fetch(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: text });
    const reason = 'not zero, but too small for a 64-bit number, so it would be read as 0; send 0 if 0 is meant';
    const single = await post('/predict', legacy.replace('"tenure":1', '"tenure":1e-400'));
    expect(single.status).toBe(400);
    expect(((await single.json()) as Problem).errors).toEqual([{ path: 'tenure', message: `is 1e-400: ${reason}` }]);
    // In a batch, by index; a negative one, and one written with 400 zeros (quoted cut).
    const zeros = `0.${'0'.repeat(400)}1`;
    const batch = await post('/predict', `[${legacy},${legacy.replace('"MonthlyCharges":29.85', '"MonthlyCharges":-2.5E-330').replace('"TotalCharges":29.85', `"TotalCharges":${zeros}`)}]`);
    expect(batch.status).toBe(400);
    const found = ((await batch.json()) as Problem).errors ?? [];
    expect(found[0]).toEqual({ path: '[1].MonthlyCharges', message: `is -2.5E-330: ${reason}` });
    expect(found).not.toContainEqual(expect.objectContaining({ path: '[1].TotalCharges' })); // the first one is named
    const tail = await post('/predict', legacy.replace('"TotalCharges":29.85', `"TotalCharges":${zeros}`));
    expect(((await tail.json()) as Problem).errors).toEqual([{ path: 'TotalCharges', message: `is ${zeros.slice(0, 40)}… (a number of ${zeros.length} characters): ${reason}` }]);
    // The smallest double is not zero and is answered; so is an id that reads like such a number, and a zero written with an exponent.
    const smallest = await post('/predict', legacy.replace('"MonthlyCharges":29.85', '"MonthlyCharges":5e-324').replace(/}$/, ',"customerID":"1e-400"}'));
    expect(smallest.status).toBe(200);
    expect(((await post('/predict', legacy.replace('"tenure":1', '"tenure":0e-400'))).status)).toBe(200);
    // GraphQL variables, and a Float literal in the document (the variable's default too).
    const variables = JSON.stringify({ c: GRAPHQL_CUSTOMER }).replace('"monthlyCharges":29.85', '"monthlyCharges":1e-400');
    const graphql = await post('/graphql', `{"query":${JSON.stringify(SINGLE)},"variables":${variables}}`);
    expect(graphql.status).toBe(400);
    expect(((await graphql.json()) as Problem).errors).toEqual([{ path: 'variables.c.monthlyCharges', message: `is 1e-400: ${reason}` }]);
    // Enums bare, the rest as JSON: the README's customer written in the document.
    const fields = Object.entries(GRAPHQL_CUSTOMER).map(([k, v]) => `${k}: ${typeof v === 'string' ? v : k === 'monthlyCharges' ? '1e-400' : JSON.stringify(v)}`);
    const literal = await gql(gw.url, `mutation { predict(customer: { ${fields.join(', ')} }) { churnProbability } }`);
    expect(literal.status).toBe(400);
    expect(literal.body.errors?.map((e) => [e.message, e.extensions?.['code']])).toEqual([[`Float literal 1e-400 is ${reason}`, 'GRAPHQL_VALIDATION_FAILED']]);
    const withDefault = await gql(gw.url, 'query Q($m: Float = 1E-999) { modelInfo { name } }');
    expect([withDefault.status, withDefault.body.errors?.[0]?.message]).toEqual([400, `Float literal 1E-999 is ${reason}`]);
  });

  it('names a number beyond a 64-bit number (1e400, read as an infinity) as written or as too large on every route, never as the Infinity the caller did not send', async () => {
    const reason = "beyond a 64-bit number's range (±1.8e308), so it would be read as an infinity";
    const post = (path: string, text: string) => fetch(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: text });
    const rest = await post('/predict', JSON.stringify(LEGACY_PAYLOAD).replace('"tenure":1', '"tenure":1e400'));
    expect([rest.status, ((await rest.json()) as Problem).errors]).toEqual([400, [{ path: 'tenure', message: `must be an integer number of months; got a number ${reason}` }]]);
    // GraphQL variables: graphql-js's own message, and what was sent.
    const variables = JSON.stringify({ c: GRAPHQL_CUSTOMER }).replace('"monthlyCharges":29.85', '"monthlyCharges":-1e400');
    expect((await gql(gw.url, SINGLE, { c: GRAPHQL_CUSTOMER })).status).toBe(200); // the same document, with a number that is one
    const refused = await post('/graphql', `{"query":${JSON.stringify(SINGLE)},"variables":${variables}}`);
    const body = (await refused.json()) as { errors: { message: string; extensions: { code: string } }[] };
    expect([refused.status, body.errors.map((e) => [e.message, e.extensions.code])]).toEqual([
      400,
      [[`Variable "$c" got invalid value -Infinity at "c.monthlyCharges"; Float cannot represent non numeric value: -Infinity; the number sent is ${reason}`, 'BAD_USER_INPUT']],
    ]);
    // A Float literal in the document, quoted as written.
    const fields = Object.entries(GRAPHQL_CUSTOMER).map(([k, v]) => `${k}: ${typeof v === 'string' ? v : k === 'monthlyCharges' ? '1e400' : JSON.stringify(v)}`);
    const literal = await gql(gw.url, `mutation { predict(customer: { ${fields.join(', ')} }) { churnProbability } }`);
    expect([literal.status, literal.body.errors?.map((e) => [e.message, e.extensions?.['code']])]).toEqual([400, [[`Float literal 1e400 is ${reason}`, 'GRAPHQL_VALIDATION_FAILED']]]);
  });

  it('answers colons in ids and strings, escaped or not, without taking them for repeated fields', async () => {
    // As JSON text: a colon, an escaped colon (\u003a), an escaped backslash before u003a (no colon), two colons.
    const ids = ['a:b', 'a\\u003ab', 'a\\\\u003ab', '::'];
    for (const id of ids) {
      const text = JSON.stringify(LEGACY_PAYLOAD).replace(/}$/, `,"customerID":"${id}"}`);
      const rest = await fetch(`${gw.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: text });
      expect([rest.status, ((await rest.json()) as { customerID: string }).customerID], id).toEqual([200, JSON.parse(`"${id}"`)]);
      const variables = JSON.stringify({ c: GRAPHQL_CUSTOMER }).replace(/}}$/, `,"customerId":"${id}"}}`);
      const graphql = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"query":"mutation S($c: CustomerInput!) { predict(customer: $c) { customerId } }","variables":${variables}}` });
      expect(await graphql.json(), id).toEqual({ data: { predict: { customerId: JSON.parse(`"${id}"`) as string } } });
    }
  });

  it('answers a body nested thousands of levels deep with a 400, never a 500 (the checks walk it without recursion)', async () => {
    const deep = `${'['.repeat(6000)}${']'.repeat(6000)}`;
    const post = (path: string, text: string) => fetch(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: text });
    const rest = await post('/predict', `[${deep}]`);
    expect([rest.status, ((await rest.json()) as Problem).errors?.[0]]).toEqual([400, { path: '[0]', message: 'must be a JSON object of customer fields; got an array' }]);
    const variables = await post('/graphql', `{"query":${JSON.stringify(MODEL_INFO)},"variables":{"x":${deep}}}`);
    expect([variables.status, ((await variables.json()) as Problem).detail]).toEqual([400, 'variables.x[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0] is nested more than 16 levels deep']);
    const extensions = await post('/graphql', `{"query":${JSON.stringify(MODEL_INFO)},"extensions":{"x":${deep}}}`);
    expect(extensions.status).toBeLessThan(500);
  });

  it('counts the offset of a bad byte from the first byte sent, a byte order mark included, and quotes whole characters before it', async () => {
    // 39 bytes after É: the 40 bytes before the bad one would start inside É's two.
    const tail = 'y'.repeat(39);
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`{"customerID":"RENÉ${tail}`, 'utf8'), Buffer.from([0xff]), Buffer.from('"}')]);
    const res = await fetch(`${gw.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: bytes });
    expect(((await res.json()) as Problem).detail).toContain(`byte 0xFF at offset ${bytes.indexOf(0xff)}, after "${tail}";`);
  });

  it('answers HEAD /graphql as GET, without a body', async () => {
    const search = `query=${encodeURIComponent(MODEL_INFO)}`;
    const get = await fetch(`${gw.url}/graphql?${search}`);
    const head = await fetch(`${gw.url}/graphql?${search}`, { method: 'HEAD' });
    expect([head.status, await head.text(), head.headers.get('content-length')]).toEqual([200, '', String((await get.arrayBuffer()).byteLength)]);
  });

  it('lets allowed origins read x-request-id, and varies every answer on Origin', async () => {
    const allowed = await fetch(`${gw.url}/`, { headers: { origin: 'https://app.example' } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(allowed.headers.get('access-control-expose-headers')).toBe('x-request-id, retry-after, allow');
    expect(allowed.headers.get('vary')).toBe('Origin');
    const other = await fetch(`${gw.url}/`, { headers: { origin: 'https://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    expect(other.headers.get('vary')).toBe('Origin');
  });
});

describe('GraphQL document size', () => {
  it(`takes a document of ${MAX_DOCUMENT_CHARS} characters and refuses a longer one, by POST and by GET, before Yoga parses or caches it`, async () => {
    const atLimit = `{ modelInfo { name } } #`.padEnd(MAX_DOCUMENT_CHARS, 'x');
    expect(atLimit).toHaveLength(MAX_DOCUMENT_CHARS);
    expect((await postJson(gw.url, '/graphql', { query: atLimit })).status).toBe(200);
    const huge = `${atLimit}x`;
    const post = await postJson(gw.url, '/graphql', { query: huge });
    expect(post.status).toBe(400);
    expect((post.json as Problem).errors).toEqual([{ path: 'query', message: `must be at most ${MAX_DOCUMENT_CHARS} characters` }]);
    // By GET it cannot even arrive: Node refuses a request line that long (431) first.
    const get = await fetch(`${gw.url}/graphql?query=${encodeURIComponent(huge)}`);
    expect([400, 431]).toContain(get.status);
  });

  it(`cuts operation names to ${MAX_OPERATION_LABEL_CHARS} characters in metrics and the access log`, async () => {
    const name = `Op${'X'.repeat(500)}`;
    const res = await gql(gw.url, `query ${name} { modelInfo { name } }`, {}, { 'x-request-id': 'long-op-name' });
    expect(res.status).toBe(200);
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    expect(metrics).toContain(`operation="${name.slice(0, MAX_OPERATION_LABEL_CHARS - 1)}…"`);
    expect(metrics).not.toContain(name);
    // The access log is flushed every 10 ms: waited for, not slept on (a loaded machine may take longer).
    await waitFor('the access line of the request', () => gw.logs.some((l) => l['reqId'] === 'long-op-name'), 30_000, 10);
    expect(gw.logs.find((l) => l['reqId'] === 'long-op-name')?.['operation']).toBe(`${name.slice(0, MAX_OPERATION_LABEL_CHARS - 1)}…`);
  });
});

describe('GraphQL variables of any size', () => {
  // graphql-js prints an invalid value into each of up to 50 messages: a 540 KB object of
  // unknown keys came back as a 54 MB answer before these bounds.
  it('refuses objects, strings and nesting beyond VARIABLE_LIMITS before graphql-js reads them, naming the place', async () => {
    const { maxObjectKeys, maxStringChars, maxDepth } = VARIABLE_LIMITS;
    // 4,000 keys: a body under CONTAINERS_COUNTED_FROM (json-body.ts refuses a larger one before it is parsed, below).
    const manyKeys = { ...GRAPHQL_CUSTOMER, ...Object.fromEntries(Array.from({ length: 4_000 }, (_, i) => [`k${i}`, i])) };
    expect(JSON.stringify({ query: SINGLE, variables: { c: manyKeys } }).length).toBeLessThanOrEqual(CONTAINERS_COUNTED_FROM);
    let nested: unknown = 1;
    for (let i = 0; i <= maxDepth; i++) nested = [nested];
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ c: manyKeys }, 'variables.c', new RegExp(`an object of ${Object.keys(manyKeys).length} keys, more than any object this gateway reads in variables has \\(${maxObjectKeys}\\)`)],
      [{ c: { ...GRAPHQL_CUSTOMER, customerId: 'x'.repeat(maxStringChars + 1) } }, 'variables.c.customerId', new RegExp(`a string of ${maxStringChars + 1} characters`)],
      [{ c: GRAPHQL_CUSTOMER, unused: nested }, `variables.unused${'[0]'.repeat(maxDepth)}`, new RegExp(`nested more than ${maxDepth} levels`)],
      // A field name is text too: one of 4 MB was printed into each of 20 messages and came back in full in the answer.
      [{ c: { ...GRAPHQL_CUSTOMER, ['k'.repeat(4_000_000)]: 1 } }, 'variables.c', new RegExp(`has a field name of 4000000 characters, longer than any name this gateway reads in variables \\(${maxStringChars}\\)`)],
      [{ c: GRAPHQL_CUSTOMER, unused: [{ ['k'.repeat(maxStringChars + 1)]: 1 }] }, 'variables.unused[0]', new RegExp(`has a field name of ${maxStringChars + 1} characters`)],
    ];
    for (const [variables, path, message] of cases) {
      const res = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: SINGLE, variables }) });
      const text = await res.text();
      expect(res.status).toBe(400);
      expect(text.length).toBeLessThan(2000);
      const problem = JSON.parse(text) as Problem;
      expect(problem.errors).toEqual([{ path, message: expect.stringMatching(message) }]);
      // A value the variables may not hold: GraphQL's code for a refused value, though answered before GraphQL runs.
      expect(problem.code).toBe('BAD_USER_INPUT');
    }
    // 50,000 keys (600 KB): refused before JSON.parse, at the same bound, naming the body.
    const huge = { ...GRAPHQL_CUSTOMER, ...Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`k${i}`, i])) };
    const refused = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: SINGLE, variables: { c: huge } }) });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as Problem).errors).toEqual([{ path: '(body)', message: `must hold at most ${maxObjectKeys} members in each JSON object` }]);
    // Whatever else the body holds (extensions send a request to Yoga), and whether or not the
    // document was compiled by an earlier success.
    const over = { c: GRAPHQL_CUSTOMER, unused: 'x'.repeat(maxStringChars + 1) };
    const post = (body: Record<string, unknown>) => fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: SINGLE, ...body }) });
    expect((await post({ variables: over, extensions: {} })).status).toBe(400);
    expect((await post({ variables: { c: GRAPHQL_CUSTOMER } })).status).toBe(200);
    const compiled = await post({ variables: over });
    expect(compiled.status).toBe(400);
    expect(((await compiled.json()) as Problem).errors).toEqual([{ path: 'variables.unused', message: expect.stringMatching(/a string of 1025 characters/) }]);
    // A GET's variables are checked as a POST body's are (graphql-js answered them 200, or with its own messages).
    const typeByName = 'query ($n: String!) { __type(name: $n) { name } }';
    const byGet = (variables: Record<string, unknown>) =>
      fetch(`${gw.url}/graphql?${new URLSearchParams({ query: typeByName, variables: JSON.stringify(variables) }).toString()}`);
    for (const [variables, path, message] of [
      [{ n: 'x'.repeat(maxStringChars + 1) }, 'variables.n', new RegExp(`a string of ${maxStringChars + 1} characters`)],
      [{ n: 'Query', ...Object.fromEntries(Array.from({ length: maxObjectKeys }, (_, i) => [`k${i}`, i])) }, 'variables', new RegExp(`an object of ${maxObjectKeys + 1} keys, more than any object this gateway reads in variables has \\(${maxObjectKeys}\\)`)],
    ] as const) {
      const res = await byGet(variables);
      expect(res.status).toBe(400);
      expect(((await res.json()) as Problem).errors).toEqual([{ path, message: expect.stringMatching(message) }]);
    }
    expect((await byGet({ n: 'x'.repeat(maxStringChars) })).status).toBe(200);
    // An object of exactly maxObjectKeys keys is read (the variables themselves, n and the rest).
    expect((await byGet({ n: 'Query', ...Object.fromEntries(Array.from({ length: maxObjectKeys - 1 }, (_, i) => [`k${i}`, i])) })).status).toBe(200);
    // At the bounds, the same request is only as wrong as its fields.
    const atBounds = { ...GRAPHQL_CUSTOMER, customerId: 'x'.repeat(maxStringChars) };
    const res = await gql(gw.url, SINGLE, { c: atBounds });
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.extensions?.['issues']).toEqual([{ path: ['customer', 'customerId'], message: 'must be at most 256 characters' }]);
  });

  // The limits bound what the gateway reads, not what a field takes: "at most 1024 are accepted" sent a
  // form that trimmed its id to 1,024 characters into a second refusal at 256.
  it('names the rule of the CustomerInput field a variable over VARIABLE_LIMITS points into, read from the contract and the schema', async () => {
    const { maxStringChars, maxObjectKeys } = VARIABLE_LIMITS;
    const inputFields = Object.keys(GRAPHQL_CUSTOMER).length + 1; // and customerId
    const unknownKeys = Object.fromEntries(Array.from({ length: maxObjectKeys + 6 - inputFields }, (_, i) => [`extra${i}`, i]));
    const long = 'x'.repeat(1_100);
    const refusal = async (query: string, variables: Record<string, unknown>) => {
      const res = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
      expect(res.status).toBe(400);
      const problem = (await res.json()) as Problem;
      expect(problem.errors).toHaveLength(1);
      expect(problem.detail).toBe(`${problem.errors?.[0]?.path} ${problem.errors?.[0]?.message}`);
      return problem.errors?.[0];
    };
    const readsAtMost = `longer than any string this gateway reads in variables (${maxStringChars})`;
    expect(await refusal(SINGLE, { c: { ...GRAPHQL_CUSTOMER, customerId: long } })).toEqual({
      path: 'variables.c.customerId',
      message: `is a string of 1100 characters, ${readsAtMost}; customerId takes at most ${CUSTOMER_ID_MAX_LENGTH} characters`,
    });
    const cs = [GRAPHQL_CUSTOMER, GRAPHQL_CUSTOMER, { ...GRAPHQL_CUSTOMER, contract: 'M'.repeat(maxStringChars + 1) }];
    const contracts = Object.keys(CONTRACT_ENUMS.Contract);
    expect(contracts.length).toBeGreaterThan(2);
    expect(await refusal(BATCH, { cs })).toEqual({
      path: 'variables.cs[2].contract',
      message: `is a string of ${maxStringChars + 1} characters, ${readsAtMost}; contract takes ${contracts.slice(0, -1).join(', ')} or ${contracts.at(-1)}`,
    });
    const wide = { ...GRAPHQL_CUSTOMER, customerId: 'c-1', ...unknownKeys };
    const keys = Object.keys(unknownKeys);
    expect(await refusal(SINGLE, { c: wide })).toEqual({
      path: 'variables.c',
      message:
        `is an object of ${Object.keys(wide).length} keys, more than any object this gateway reads in variables has (${maxObjectKeys}); ` +
        `a CustomerInput has ${inputFields} fields, and ${keys.length} of its keys are none of them: ${keys.slice(0, 5).map((k) => `"${k}"`).join(', ')}, …`,
    });
    // A variable the document declares as a string of no rule, or does not declare, gets the limit alone.
    expect(await refusal('query ($n: String!) { __type(name: $n) { name } }', { n: long })).toEqual({ path: 'variables.n', message: `is a string of 1100 characters, ${readsAtMost}` });
    expect(await refusal(SINGLE, { c: GRAPHQL_CUSTOMER, unused: long })).toEqual({ path: 'variables.unused', message: `is a string of 1100 characters, ${readsAtMost}` });
    // By GET as by POST.
    const byGet = await fetch(`${gw.url}/graphql?${new URLSearchParams({ query: 'query ($c: Contract) { __typename }', variables: JSON.stringify({ c: long }) }).toString()}`);
    expect(byGet.status).toBe(400);
    expect(((await byGet.json()) as Problem).errors?.[0]?.message).toMatch(/; \$c takes MONTH_TO_MONTH, /);
  });

  it("answers a body that is not JSON with the parser's message in its own, and no member the other errors lack", async () => {
    // In production (this gateway): extensions.originalError was answered here only.
    for (const [body, where] of [
      ['{"query": "{ modelInfo { name } }",}', /position 35/],
      ['{"query": "{ modelInfo {\n name } }"}', /Bad control character in string literal in JSON at position 24/],
    ] as const) {
      const res = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ errors: [{ message: expect.stringMatching(new RegExp(`^POST body sent invalid JSON: .*${where.source}`)), extensions: { code: 'BAD_REQUEST' } }] });
    }
  });

  it('cuts the parser message that quotes a body that is not JSON', async () => {
    const res = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"query": "${'x'.repeat(100_000)}` });
    const text = await res.text();
    expect(res.status).toBe(400);
    expect(text.length).toBeLessThan(3 * MAX_MESSAGE_CHARS);
    expect(JSON.parse(text)).toMatchObject({ errors: [{ extensions: { code: 'BAD_REQUEST' } }] });
  });

  it('cuts a message that prints a large invalid value, and keeps the field on the path', async () => {
    const wide = { ...GRAPHQL_CUSTOMER, ...Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`extra${i}`, 'v'.repeat(100)])) };
    const res = await gql(gw.url, SINGLE, { c: wide });
    expect(res.status).toBe(400);
    const errors = res.body.errors ?? [];
    expect(errors.length).toBe(40);
    for (const e of errors) {
      expect(e.message.length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
      expect(e.message).toMatch(/^Variable "\$c" got invalid value .* … .*; Field "extra\d+" is not defined by type "CustomerInput"\.$/s);
      const [issue] = e.extensions?.['issues'] as GqlIssue[];
      expect(issue?.path).toEqual(['c', expect.stringMatching(/^extra\d+$/)]);
      expect(issue?.message.length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
    }
  });
});

/** One request over a raw socket (targets fetch cannot send); the whole answer as text. */
async function rawExchange(request: string): Promise<string> {
  const socket = connect(Number(new URL(gw.url).port), '127.0.0.1');
  let received = '';
  socket.on('data', (d: Buffer) => (received += d.toString('utf8')));
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.write(request);
  await closed;
  return received;
}

describe('transfer codings', () => {
  const chunked = (text: string) => `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n0\r\n\r\n`;
  const send = (route: string, coding: string, text: string) =>
    rawExchange(`POST ${route} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: ${coding}\r\nConnection: close\r\n\r\n${chunked(text)}`);

  it('refuses a coding before chunked with 501 naming it (node passes such a body on still coded), on /predict and /graphql', async () => {
    for (const [route, text] of [['/predict', JSON.stringify(LEGACY_PAYLOAD)], ['/graphql', JSON.stringify({ query: MODEL_INFO })]] as const) {
      const refused = await send(route, 'gzip, chunked', text);
      expect(refused, route).toMatch(/^HTTP\/1\.1 501 /);
      expect(JSON.parse(refused.slice(refused.indexOf('\r\n\r\n') + 4)) as Problem).toMatchObject({
        status: 501,
        detail: `POST ${route} takes a body in no transfer coding but chunked; got transfer-encoding: gzip, chunked`,
      });
      // chunked alone, in any case, is read.
      expect(await send(route, 'Chunked', text), route).toMatch(/^HTTP\/1\.1 200 /);
    }
  });
});

describe('request targets', () => {
  const body = JSON.stringify(LEGACY_PAYLOAD);
  it('routes the absolute form (a client that takes the gateway for a proxy) by its path', async () => {
    const predicted = await rawExchange(`POST http://gateway.example/predict?x=1 HTTP/1.1\r\nHost: gateway.example\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    expect(predicted).toMatch(/^HTTP\/1\.1 200 /);
    expect(predicted).toContain('"churn_probability":');
    const query = encodeURIComponent(MODEL_INFO);
    const graphql = await rawExchange(`GET HTTP://gateway.example/graphql?query=${query} HTTP/1.1\r\nHost: gateway.example\r\nAccept: application/json\r\nConnection: close\r\n\r\n`);
    expect(graphql).toMatch(/^HTTP\/1\.1 200 /);
    expect(graphql).toContain('{"data":{"modelInfo":{"name":"telco-churn"}}}');
  });

  it('routes the absolute form by its path as sent: dot segments are not resolved, an empty path is /', async () => {
    const dotted = await rawExchange('GET http://gateway.example/ui/../ HTTP/1.1\r\nHost: gateway.example\r\nConnection: close\r\n\r\n');
    const originForm = await rawExchange('GET /ui/../ HTTP/1.1\r\nHost: gateway.example\r\nConnection: close\r\n\r\n');
    expect(dotted.slice(0, 12)).toBe(originForm.slice(0, 12));
    expect(dotted).not.toMatch(/^HTTP\/1\.1 200 /);
    const bare = await rawExchange('GET http://gateway.example?probe=1 HTTP/1.1\r\nHost: gateway.example\r\nConnection: close\r\n\r\n');
    expect(bare).toMatch(/^HTTP\/1\.1 200 /);
    expect(bare).toContain('"status":"ok"');
  });

  it('does not answer /metrics to the absolute form, which the load balancer\'s path rule may not see', async () => {
    const absolute = await rawExchange('GET http://gateway.example/metrics HTTP/1.1\r\nHost: gateway.example\r\nConnection: close\r\n\r\n');
    expect(absolute).toMatch(/^HTTP\/1\.1 404 /);
    expect(absolute).toContain('GET /metrics is answered to the path form only');
    expect(absolute).not.toContain('gateway_requests_total');
    const pathForm = await rawExchange('GET /metrics HTTP/1.1\r\nHost: gateway.example\r\nConnection: close\r\n\r\n');
    expect(pathForm).toMatch(/^HTTP\/1\.1 200 /);
    expect(pathForm).toContain('gateway_requests_total');
  });

  it('refuses a target that is neither a path nor an http(s) URL with a 400 naming it', async () => {
    const refused = await rawExchange('GET ftp://gateway.example/ HTTP/1.1\r\nHost: gateway.example\r\nConnection: close\r\n\r\n');
    expect(refused).toMatch(/^HTTP\/1\.1 400 /);
    expect(refused).toContain('request target \\"ftp://gateway.example/\\" is neither a path starting with / nor an http(s) URL');
  });
});

describe('a caller that goes away', () => {
  it('is logged and counted as 499, not as the 200 its unsent answer would have had', async () => {
    const { port } = new URL(gw.url);
    const socket = connect(Number(port), '127.0.0.1');
    socket.write('POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nx-request-id: gone-away\r\nContent-Length: 400\r\n\r\n{"gender":');
    // Gone once the gateway is answering the request, not after a fixed 100 ms: on a loaded
    // machine the timer could fire before the socket had even connected, and destroy() then
    // dropped the request unsent (nothing logged). No other request of this file is in flight.
    await waitFor('the gateway to be answering the request', () => gw.app.inFlight() > 0, 30_000, 5);
    socket.destroy();
    await waitFor('the access line of the request', () => gw.logs.some((l) => l['reqId'] === 'gone-away'), 30_000, 20);
    expect(gw.logs.find((l) => l['reqId'] === 'gone-away')).toMatchObject({ status: 499, route: 'rest_predict' });
  });
});

describe('a caller that ends the connection in the middle of its body (FIN, not a reset)', () => {
  it('is logged once, as its own request at 499: no second line under a new id saying the request was refused before routing', async () => {
    const refusedLines = () => gw.logs.filter((l) => l['msg'] === 'request refused before routing').length;
    const before = refusedLines();
    const { port } = new URL(gw.url);
    const socket = connect(Number(port), '127.0.0.1');
    socket.on('error', () => undefined);
    socket.write('POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nx-request-id: ended-mid-body\r\nContent-Length: 400\r\n\r\n{"gender":');
    await waitFor('the gateway to be answering the request', () => gw.app.inFlight() > 0, 30_000, 5);
    socket.end(); // node's parser then sees the end of the stream mid-body (HPE_INVALID_EOF_STATE)
    await waitFor('the access line of the request', () => gw.logs.some((l) => l['reqId'] === 'ended-mid-body' && l['msg'] === 'request'), 30_000, 20);
    expect(gw.logs.find((l) => l['reqId'] === 'ended-mid-body' && l['msg'] === 'request')).toMatchObject({ status: 499, route: 'rest_predict' });
    // The parser's error comes before the connection closes, which writes the access line: any line it caused is already here.
    expect(refusedLines()).toBe(before);
    socket.destroy();
  });
});

describe('a caller that ends the connection in the middle of a body the gateway refused without reading', () => {
  it('is logged once, by the refusal: no second line or count as a request refused before routing', async () => {
    const refusedLines = () => gw.logs.filter((l) => l['msg'] === 'request refused before routing').length;
    const counted = () => metricValue(gw.url, 'gateway_refused_before_routing_total{status="400"}');
    const [linesBefore, countedBefore] = [refusedLines(), await counted()];
    const { port } = new URL(gw.url);
    const socket = connect(Number(port), '127.0.0.1');
    socket.on('error', () => undefined);
    const answered = new Promise<string>((resolve) => socket.once('data', (chunk: Buffer) => resolve(chunk.toString('latin1'))));
    socket.write('POST /nowhere HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nx-request-id: refused-then-ended\r\nContent-Length: 1000000\r\n\r\n{"gender":');
    expect(await answered).toMatch(/^HTTP\/1\.1 404 /);
    socket.end(); // the parser, dropping the rest of the body, sees the end of the stream mid-body
    await new Promise((resolve) => socket.once('close', resolve));
    await waitFor('the access line of the request', () => gw.logs.some((l) => l['reqId'] === 'refused-then-ended' && l['msg'] === 'request'), 30_000, 20);
    expect(gw.logs.find((l) => l['reqId'] === 'refused-then-ended' && l['msg'] === 'request')).toMatchObject({ status: 404, route: 'not_found' });
    expect(refusedLines()).toBe(linesBefore);
    expect(await counted()).toBe(countedBefore);
  });

  it('answers the next request on the connection as before once that body has arrived: a bad one gets its 400', async () => {
    const { port } = new URL(gw.url);
    const socket = connect(Number(port), '127.0.0.1');
    socket.on('error', () => undefined);
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    const statuses = () => text.match(/HTTP\/1\.1 \d{3}/g) ?? [];
    socket.write('POST /nowhere HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{"gender"');
    await waitFor('the 404', () => statuses().length === 1, 30_000, 5);
    socket.write(':""}'); // the rest of the body: the request is complete
    socket.write('GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n');
    await waitFor('a second answer', () => statuses().length === 2, 30_000, 5);
    expect(statuses()).toEqual(['HTTP/1.1 404', 'HTTP/1.1 400']);
    socket.destroy();
  });
});

/** An answer read off a socket: its head (header names in lower case) and its JSON body, if any. */
function splitAnswer(text: string): { headers: string; body: Record<string, unknown> | null } {
  const end = text.indexOf('\r\n\r\n');
  const body = text.slice(end + 4);
  return { headers: text.slice(0, end).replace(/\r\n([^:]+):/g, (_m, name: string) => `\r\n${name.toLowerCase()}:`), body: body ? (JSON.parse(body) as Record<string, unknown>) : null };
}

describe("requests node's HTTP parser refuses", () => {
  const cases: [string, string, number, string, string, RegExp][] = [
    [`headers over node's ${maxHeaderSize} bytes`, `GET / HTTP/1.1\r\nHost: x\r\nx-big: ${'a'.repeat(maxHeaderSize)}\r\n\r\n`, 431, 'HPE_HEADER_OVERFLOW', 'REQUEST_HEADER_FIELDS_TOO_LARGE', new RegExp(`^the request line and headers are over ${maxHeaderSize} bytes`)],
    ['a header line without a colon', 'GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n', 400, 'HPE_INVALID_HEADER_TOKEN', 'BAD_REQUEST', /^the request is not valid HTTP\/1\.1 \(HPE_INVALID_HEADER_TOKEN\): Parse Error: /],
  ];
  it.each(cases)("%s: a problem with a new request id (node's own answer was bare), logged at warn with node's code; the connection closes", async (_name, bytes, status, code, problemCode, detail) => {
    const counted = () => metricValue(gw.url, `gateway_refused_before_routing_total{status="${status}"}`);
    const countedBefore = await counted();
    // Read until the gateway closes the connection.
    const answer = await rawExchange(bytes);
    expect(answer.match(/HTTP\/1\.1 \d{3} /g)).toHaveLength(1);
    const { headers, body } = splitAnswer(answer);
    expect(headers).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    expect(headers).toContain('\r\ncontent-type: application/problem+json; charset=utf-8\r\n');
    expect(headers).toContain('\r\ncache-control: no-store\r\n');
    expect(headers).toContain('\r\nconnection: close\r\n');
    // The problem's own code beside node's (the log line's), as every problem answer has one.
    expect(body).toMatchObject({ type: 'about:blank', status, code: problemCode, detail: expect.stringMatching(detail), requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(headers).toContain(`\r\nx-request-id: ${String(body?.['requestId'])}\r\n`);
    const line = gw.logs.find((l) => l['reqId'] === body?.['requestId']);
    expect(line).toMatchObject({ level: 'warn', code, status, msg: 'request refused before routing' });
    // Node's code and nothing of the request's bytes.
    expect(JSON.stringify(line)).not.toContain('aaaa');
    // Counted on /metrics by its status: no route saw it, so no other series has it.
    expect(await counted()).toBe(countedBefore + 1);
  });

  it.each([
    ['the authority form a CONNECT sends', 'CONNECT 127.0.0.1:443 HTTP/1.1', 'GET, HEAD, POST, OPTIONS'],
    ['a path', 'CONNECT /predict HTTP/1.1', 'POST'],
  ])('a CONNECT to %s: a 405 problem with Allow and its x-request-id (node destroyed the connection unanswered), logged at warn and counted; the connection closes', async (_name, line, allow) => {
    const counted = () => metricValue(gw.url, 'gateway_refused_before_routing_total{status="405"}');
    const countedBefore = await counted();
    const id = `connect-probe-${allow.length}`;
    const { headers, body } = splitAnswer(await rawExchange(`${line}\r\nHost: 127.0.0.1:443\r\nx-request-id: ${id}\r\n\r\n`));
    expect(headers).toMatch(/^HTTP\/1\.1 405 /);
    expect(headers).toContain(`\r\nallow: ${allow}\r\n`);
    expect(headers).toContain(`\r\nx-request-id: ${id}\r\n`);
    expect(headers).toContain('\r\nconnection: close\r\n');
    expect(headers).toContain('\r\ncache-control: no-store\r\n');
    expect(body).toMatchObject({ status: 405, detail: expect.stringMatching(/^CONNECT is not served: the gateway is no proxy; its routes are GET \/, POST \/predict/), requestId: id });
    expect(gw.logs.find((l) => l['reqId'] === id)).toMatchObject({ level: 'warn', method: 'CONNECT', status: 405, msg: 'request refused before routing' });
    expect(await counted()).toBe(countedBefore + 1);
  });

  it.each([
    ['/predict', 'rest_predict', '{"gender"'],
    ['/graphql', 'graphql', '{"query"'],
  ])('a chunked body on %s that breaks off with a bad chunk size is answered as its request: its id, its access line at 400 (not 499, as if the caller left)', async (path, route, start) => {
    const id = `bad-chunk-${route}`;
    const answer = await rawExchange(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nx-request-id: ${id}\r\nTransfer-Encoding: chunked\r\n\r\n${start.length.toString(16)}\r\n${start}\r\nzz\r\n`);
    expect(answer.match(/HTTP\/1\.1 \d{3} /g)).toHaveLength(1);
    const { headers, body } = splitAnswer(answer);
    expect(headers).toMatch(/^HTTP\/1\.1 400 /);
    expect(headers).toContain(`\r\nx-request-id: ${id}\r\n`);
    expect(headers).toContain('\r\nconnection: close\r\n');
    expect(body).toMatchObject({ status: 400, requestId: id, detail: expect.stringMatching(/^the request is not valid HTTP\/1\.1 \(HPE_INVALID_CHUNK_SIZE\)/) as unknown });
    // The access line follows the answer by up to ACCESS_LOG_FLUSH_MS; a loaded machine may take seconds more.
    await waitFor('the access line of the request', () => gw.logs.some((l) => l['reqId'] === id && l['route'] !== undefined), 30_000, 20);
    expect(gw.logs.filter((l) => l['reqId'] === id).map((l) => [l['level'], l['msg'], l['status']])).toEqual([
      ['warn', 'request refused: its body is not valid HTTP/1.1', 400],
      ['info', 'request', 400],
    ]);
    expect(gw.logs.find((l) => l['reqId'] === id && l['route'] !== undefined)).toMatchObject({ route, status: 400 });
  });

  it('a bad request pipelined after a good one is answered after it, in order, under a new id; the good one gets its own answer', async () => {
    const good = JSON.stringify(LEGACY_PAYLOAD);
    const answer = await rawExchange(
      `POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nx-request-id: first-of-two\r\nContent-Length: ${Buffer.byteLength(good)}\r\n\r\n${good}` + 'BAD\r\n\r\n',
    );
    const heads = [...answer.matchAll(/HTTP\/1\.1 (\d{3}) [^]*?\r\nx-request-id: ([^\r]+)\r\n/gi)].map((m) => [m[1], m[2]]);
    expect(heads).toEqual([
      ['200', 'first-of-two'],
      ['400', expect.stringMatching(/^[0-9a-f-]{36}$/) as unknown],
    ]);
    await waitFor('the access line of the first request', () => gw.logs.some((l) => l['reqId'] === 'first-of-two' && l['route'] !== undefined), 30_000, 20);
    expect(gw.logs.filter((l) => l['reqId'] === 'first-of-two').map((l) => [l['msg'], l['status']])).toEqual([['request', 200]]);
  });

  it('an HTTP/1.1 request without Host is refused with a problem carrying its request id, and the connection closes', async () => {
    const answer = await rawExchange('GET / HTTP/1.1\r\nx-request-id: no-host-1\r\n\r\n');
    const { headers, body } = splitAnswer(answer);
    expect(headers).toMatch(/^HTTP\/1\.1 400 /);
    expect(headers).toContain('\r\nx-request-id: no-host-1\r\n');
    expect(headers).toContain('\r\nconnection: close\r\n');
    expect(body).toMatchObject({ status: 400, requestId: 'no-host-1', detail: 'an HTTP/1.1 request must send a Host header (RFC 9112 §3.2)' });
    // HTTP/1.0 has no Host requirement.
    expect(await rawExchange('GET / HTTP/1.0\r\n\r\n')).toMatch(/^HTTP\/1\.1 200 /);
  });
});

describe('request timeout', () => {
  it('answers a body that stops arriving with 408 and closes the connection, with nothing after it', async () => {
    const slow = await startTestGateway({ REQUEST_TIMEOUT_MS: '1000', HEADERS_TIMEOUT_MS: '1000' });
    try {
      const { port } = new URL(slow.url);
      const socket = connect(Number(port), '127.0.0.1');
      let received = '';
      socket.on('data', (d: Buffer) => (received += d.toString('utf8')));
      const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      socket.write('POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n{"gender":');
      await closed;
      expect(received).toMatch(/^HTTP\/1\.1 408 /);
      expect(received.toLowerCase()).toContain('connection: close');
      expect(received.match(/HTTP\/1\.1 /g)).toHaveLength(1);
      expect(received).toContain('REQUEST_TIMEOUT');
    } finally {
      await slow.close();
    }
  });

  it('closes connections that trickle headers, or never send a byte, near HEADERS_TIMEOUT_MS', async () => {
    const slow = await startTestGateway({ REQUEST_TIMEOUT_MS: '1500', HEADERS_TIMEOUT_MS: '1000' });
    try {
      const { port } = new URL(slow.url);
      const started = Date.now();
      const open = (firstBytes: string | null) =>
        new Promise<{ ms: number; answer: string }>((resolve) => {
          const socket = connect(Number(port), '127.0.0.1');
          let answer = '';
          const trickle = firstBytes === null ? undefined : setInterval(() => !socket.destroyed && socket.write('x'), 200);
          socket.on('connect', () => firstBytes !== null && socket.write(firstBytes));
          socket.on('data', (d: Buffer) => (answer += d.toString('utf8')));
          socket.on('error', () => undefined);
          socket.on('close', () => {
            clearInterval(trickle);
            resolve({ ms: Date.now() - started, answer });
          });
        });
      const closed = await Promise.all([open('GET / HTTP/1.1\r\nX-Slow: '), open(null)]);
      for (const { ms, answer } of closed) {
        expect(answer).toMatch(/^HTTP\/1\.1 408 /);
        // A problem with a request id (node's own 408 had neither), the one the warn line logs.
        const { headers, body } = splitAnswer(answer);
        expect(headers).toMatch(/\r\ncontent-type: application\/problem\+json/);
        expect(body).toMatchObject({ status: 408, detail: 'REQUEST_TIMEOUT: the request headers did not arrive in full within 1000 ms (HEADERS_TIMEOUT_MS)' });
        expect(headers).toContain(`\r\nx-request-id: ${String(body?.['requestId'])}\r\n`);
        expect(slow.logs.find((l) => l['reqId'] === body?.['requestId'])).toMatchObject({ level: 'warn', code: 'ERR_HTTP_REQUEST_TIMEOUT', status: 408 });
        // Node checks every CONNECTIONS_CHECKING_INTERVAL_MS (its default checked every 30 s, so
        // both closed at 30-31 s). Normally 1-2 s: the slack is for a loaded machine, whose timers
        // run late (the 1.5 s it had was little more than one slow turn), and the bound stays far
        // below the 30 s it catches.
        expect(ms).toBeLessThan(1000 + 2 * CONNECTIONS_CHECKING_INTERVAL_MS + 12_000);
      }
    } finally {
      await slow.close();
    }
  });
});
