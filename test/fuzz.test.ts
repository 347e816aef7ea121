/**
 * Property-based fuzzing over a real port: 10,000 generated malformed or edge inputs per
 * interface (REST bodies, GraphQL variables, GraphQL documents, GET query strings, headers). Bad input always
 * gets a 4xx naming the problem, never a 5xx, and the server stays healthy throughout.
 */
import fc from 'fast-check';
import { parse, validate } from 'graphql';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ADD_ON_COLUMNS, CONTRACT_ENUMS, CUSTOMER_FIELDS, MAX_CHARGE, MAX_TENURE_MONTHS, allowedColumnValues, type CustomerField } from '../src/contract.js';
import { schema } from '../src/schema/index.js';
import { GRAPHQL_CUSTOMER, LEGACY_PAYLOAD, spawnGateway, type SpawnedGateway } from './helpers/index.js';

const RUNS = 10_000;
// 10,000 requests per interface over HTTP: generous limits for a loaded 2-core CI machine.
vi.setConfig({ testTimeout: 240_000 });
const CONCURRENCY = 16;

// The gateway runs in its own process so generating and checking samples here does not
// stall its event loop (two cores: one each).
let gw: SpawnedGateway;
beforeAll(async () => {
  gw = await spawnGateway({ LOG_LEVEL: 'silent', MAX_BATCH: '20', NODE_ENV: 'production' });
});
afterAll(async () => {
  gw.child.kill('SIGTERM');
  expect(await gw.exited).toBe(0);
  expect(gw.stderr()).toBe('');
});

interface Sent {
  status: number;
  text: string;
}

async function send(path: string, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<Sent> {
  const res = await fetch(`${gw.url}${path}`, { method: 'POST', headers, body });
  return { status: res.status, text: await res.text() };
}

/** Runs every sample through `check`, CONCURRENCY at a time, then checks the server is healthy. */
async function fuzz<T>(arb: fc.Arbitrary<T>, seed: number, check: (sample: T) => Promise<void>): Promise<void> {
  const samples = fc.sample(arb, { numRuns: RUNS, seed });
  let next = 0;
  const worker = async () => {
    while (next < samples.length) {
      const sample = samples[next++] as T;
      try {
        await check(sample);
      } catch (err) {
        throw new Error(`failing sample: ${JSON.stringify(sample)?.slice(0, 2000)}\n${(err as Error).message}`, { cause: err });
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const health = await fetch(`${gw.url}/`);
  expect(health.status).toBe(200);
}

const junk = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(-1),
  fc.constant(1e309),
  fc.constant('Yes '),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.object({ maxDepth: 1 }),
);

const columns = CUSTOMER_FIELDS.map((f) => f.column);
const fields = CUSTOMER_FIELDS.map((f) => f.field);

/**
 * The test's own reading of the contract (README "Bad input"), to tell a sample that happens to be
 * valid from one the gateway wrongly accepted: each field's type and range, then the cross-field
 * rules. `value` of a field as it arrives (after JSON: Infinity and NaN are sent as null).
 */
const inRange = (value: unknown, max: number, integer: boolean): boolean =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= max && (!integer || Number.isInteger(value));
function restValueAllowed(f: CustomerField, value: unknown): boolean {
  // SeniorCitizen null is left out (README): defaulted, not refused.
  if (f.kind === 'flag01') return value === 0 || value === 1 || value === null;
  if (f.kind === 'months') return inRange(value, MAX_TENURE_MONTHS, true);
  if (f.kind === 'money') return inRange(value, MAX_CHARGE, false) || (f.nullable && value === null);
  return typeof value === 'string' && (allowedColumnValues(f) ?? []).includes(value);
}
function graphqlValueAllowed(f: CustomerField, value: unknown): boolean {
  if (f.kind === 'flag01' || f.kind === 'yesNo') return typeof value === 'boolean';
  if (f.kind === 'months') return inRange(value, MAX_TENURE_MONTHS, true);
  if (f.kind === 'money') return inRange(value, MAX_CHARGE, false) || (f.nullable && value === null);
  return typeof value === 'string' && Object.hasOwn(CONTRACT_ENUMS[f.enumName], value);
}
/** A REST customer (data set columns) the contract accepts; SeniorCitizen may be left out (or null). */
function restCustomerAllowed(sent: Record<string, unknown>): boolean {
  const c = JSON.parse(JSON.stringify(sent)) as Record<string, unknown>;
  if (Object.keys(c).some((k) => !columns.includes(k as never))) return false;
  if (!CUSTOMER_FIELDS.every((f) => (f.column === 'SeniorCitizen' && !Object.hasOwn(c, f.column)) || (Object.hasOwn(c, f.column) && restValueAllowed(f, c[f.column])))) return false;
  return (
    (c['PhoneService'] === 'No') === (c['MultipleLines'] === 'No phone service') &&
    ADD_ON_COLUMNS.every((a) => (c['InternetService'] === 'No') === (c[a] === 'No internet service')) &&
    (c['TotalCharges'] !== null || c['tenure'] === 0)
  );
}
/** A GraphQL CustomerInput the contract accepts. */
function graphqlCustomerAllowed(sent: Record<string, unknown>): boolean {
  const c = JSON.parse(JSON.stringify(sent)) as Record<string, unknown>;
  if (Object.keys(c).some((k) => !fields.includes(k as never))) return false;
  if (!CUSTOMER_FIELDS.every((f) => Object.hasOwn(c, f.field) && graphqlValueAllowed(f, c[f.field]))) return false;
  const addOns = CUSTOMER_FIELDS.filter((f) => (ADD_ON_COLUMNS as readonly string[]).includes(f.column)).map((f) => f.field);
  return (
    (c['phoneService'] === false) === (c['multipleLines'] === 'NO_PHONE_SERVICE') &&
    addOns.every((a) => (c['internetService'] === 'NO') === (c[a] === 'NO_INTERNET_SERVICE')) &&
    (c['totalCharges'] !== null || c['tenure'] === 0)
  );
}

describe('REST /predict bodies', () => {
  /** A legacy payload with one field broken; the answer must name that field. */
  const broken = fc.oneof(
    fc.record({ kind: fc.constant('missing' as const), column: fc.constantFrom(...columns.filter((c) => c !== 'SeniorCitizen')) }),
    fc.record({ kind: fc.constant('wrong' as const), column: fc.constantFrom(...columns), value: junk }),
    fc.record({ kind: fc.constant('unknown' as const), column: fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !columns.includes(k as never) && k !== 'customerID' && k !== '__proto__'), value: junk }),
    // Out of range whatever else holds: below 0, or above MAX_TENURE_MONTHS / MAX_CHARGE.
    fc.record({ kind: fc.constant('range' as const), column: fc.constant('tenure'), value: fc.oneof(fc.integer({ max: -1 }), fc.integer({ min: MAX_TENURE_MONTHS + 1, max: 1e9 }), fc.double({ max: -1e-9, noNaN: true })) }),
    fc.record({ kind: fc.constant('range' as const), column: fc.constantFrom('MonthlyCharges', 'TotalCharges'), value: fc.oneof(fc.integer({ max: -1 }), fc.double({ max: -1e-9, noNaN: true }), fc.constant(MAX_CHARGE * 2)) }),
  );

  it(`answers ${RUNS} broken bodies with a 400 problem naming the field`, async () => {
    await fuzz(fc.tuple(broken, fc.boolean()), 1, async ([b, asArray]) => {
      const body: Record<string, unknown> = { ...LEGACY_PAYLOAD };
      if (b.kind === 'missing') delete body[b.column];
      else body[b.column] = b.value;
      // Values that happen to be valid are not malformed: only check those that are.
      const res = await send('/predict', JSON.stringify(asArray ? [LEGACY_PAYLOAD, body] : body));
      expect(res.status, res.text).toBe(restCustomerAllowed(body) ? 200 : 400);
      if (res.status === 200) return;
      expect(res.status).toBe(400);
      const problem = JSON.parse(res.text) as { errors: { path: string; message: string }[] };
      const named = problem.errors.some((e) => e.path.includes(b.column) || e.message.includes(JSON.stringify(b.column)) || (b.column === 'tenure' && e.path.endsWith('tenure')));
      const crossField = problem.errors.some((e) => /exactly when/.test(e.message));
      expect(named || crossField, res.text).toBe(true);
    });
  });

  it(`answers ${RUNS} arbitrary JSON and non-JSON bodies with a 4xx, never a 5xx`, async () => {
    const body = fc.oneof(fc.json(), fc.string(), fc.jsonValue().map((v) => JSON.stringify([v])), fc.constant('{'), fc.constant(''));
    await fuzz(body, 2, async (text) => {
      const res = await send('/predict', text);
      if (text.trim() === '[]') return expect(res.status).toBe(200); // an empty batch is valid: it scores nobody
      expect(res.status, res.text).toBeGreaterThanOrEqual(400);
      expect(res.status, res.text).toBeLessThan(500);
      const problem = JSON.parse(res.text) as { detail: string };
      expect(problem.detail.length).toBeGreaterThan(5);
    });
  });
});

describe('GraphQL variables', () => {
  const PREDICT = 'mutation Predict($customer: CustomerInput!) { predict(customer: $customer) { churnProbability riskLevel } }';
  const broken = fc.oneof(
    fc.record({ kind: fc.constant('missing' as const), field: fc.constantFrom(...fields.filter((f) => f !== 'totalCharges')) }),
    fc.record({ kind: fc.constant('wrong' as const), field: fc.constantFrom(...fields), value: junk }),
    fc.record({ kind: fc.constant('unknown' as const), field: fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !fields.includes(k as never) && k !== 'customerId' && k !== '__proto__'), value: junk }),
  );

  it(`answers ${RUNS} broken customers with a 4xx BAD_USER_INPUT naming the field`, async () => {
    await fuzz(broken, 3, async (b) => {
      const customer: Record<string, unknown> = { ...GRAPHQL_CUSTOMER };
      if (b.kind === 'missing') delete customer[b.field];
      else customer[b.field] = b.value;
      const res = await send('/graphql', JSON.stringify({ query: PREDICT, variables: { customer } }));
      expect(res.status, res.text).toBe(graphqlCustomerAllowed(customer) ? 200 : 400);
      if (res.status === 200) {
        const answer: unknown = JSON.parse(res.text);
        expect(answer).not.toHaveProperty('errors');
        return;
      }
      expect(res.status, res.text).toBe(400);
      const { errors } = JSON.parse(res.text) as { errors: { message: string; extensions: { code: string; issues?: { path: (string | number)[] }[] } }[] };
      expect(errors.every((e) => e.extensions.code === 'BAD_USER_INPUT'), res.text).toBe(true);
      // By path, or in the message (a long one is cut in the middle, where graphql-js prints the value).
      const named = errors.some((e) => e.extensions.issues?.some((i) => i.path.includes(b.field)) || e.message.includes(b.field) || /exactly when/.test(e.message));
      expect(named, res.text).toBe(true);
    });
  });
});

describe('GraphQL documents', () => {
  const tokens = ['{', '}', '(', ')', ':', '$', '!', '...', '@', 'query', 'mutation', 'fragment', 'on', 'modelInfo', 'predict', 'predictBatch', 'customer', 'name', 'version', 'a:', 'b:', '__schema', '__typename', '"x"', '1', '[', ']', 'true', 'null', '#', '\n'];
  const document = fc.oneof(
    fc.array(fc.constantFrom(...tokens), { maxLength: 40 }).map((t) => t.join(' ')),
    fc.string({ maxLength: 200 }),
    fc.integer({ min: 1, max: 60 }).map((n) => `{ ${'modelInfo { params { '.repeat(n)}key${' } }'.repeat(n)} }`),
    fc.integer({ min: 1, max: 50 }).map((n) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: modelInfo { name }`).join(' ')} }`),
    fc.integer({ min: 200, max: 1200 }).map((n) => `{ modelInfo { ${'name '.repeat(n)}} }`),
  );

  it(`answers ${RUNS} generated documents: invalid ones with a 4xx and a message, never a 5xx`, async () => {
    await fuzz(document, 4, async (query) => {
      const res = await send('/graphql', JSON.stringify({ query }));
      expect(res.status, res.text).toBeLessThan(500);
      let locallyValid = false;
      try {
        locallyValid = validate(schema, parse(query)).length === 0;
      } catch {
        locallyValid = false;
      }
      if (!locallyValid) {
        expect(res.status, `${query} → ${res.text}`).toBeGreaterThanOrEqual(400);
        const { errors } = JSON.parse(res.text) as { errors: { message: string; extensions: { code: string } }[] };
        expect(errors[0]?.message.length).toBeGreaterThan(5);
        expect(errors[0]?.extensions.code).toMatch(/^(GRAPHQL_PARSE_FAILED|GRAPHQL_VALIDATION_FAILED|BAD_USER_INPUT)$/);
      }
    });
  });
});

describe('GET /graphql query strings', () => {
  const param = fc.oneof(
    fc.string(),
    fc.json(),
    fc.constantFrom('{', '[1]', 'null', '{}', '"x"', '{"c":{"tenure":"x"}}', '%', '%7B'),
  );
  const search = fc.record(
    {
      query: fc.oneof(fc.constant('{ modelInfo { name } }'), fc.constant('mutation { reloadModel { changed } }'), fc.string()),
      variables: param,
      extensions: param,
      operationName: fc.oneof(fc.string(), fc.constant('Q')),
    },
    { requiredKeys: [] },
  );

  it(`answers ${RUNS} GET query strings without a 5xx; 4xx answers explain themselves`, async () => {
    await fuzz(search, 6, async (params) => {
      const qs = new URLSearchParams(params).toString();
      const res = await fetch(`${gw.url}/graphql?${qs}`);
      const text = await res.text();
      expect(res.status, `${qs} → ${text}`).toBeLessThan(500);
      if (res.status >= 400) expect(text.length, `${res.status} with an empty body`).toBeGreaterThan(10);
    });
  });
});

describe('headers', () => {
  const header = fc.record({
    contentType: fc.oneof(fc.constant('application/json'), fc.constant('text/plain'), fc.constant('application/json; charset=latin1'), fc.stringMatching(/^[\x20-\x7e]{0,40}$/)),
    accept: fc.oneof(fc.constant('*/*'), fc.constant('application/graphql-response+json'), fc.constant('text/html'), fc.stringMatching(/^[\x20-\x7e]{0,40}$/)),
    requestId: fc.stringMatching(/^[\x20-\x7e]{0,200}$/),
    authorization: fc.stringMatching(/^[\x20-\x7e]{0,80}$/),
    path: fc.constantFrom('/predict', '/graphql'),
  });

  it(`answers ${RUNS} requests with odd headers without a 5xx; 4xx answers explain themselves`, async () => {
    const graphqlBody = JSON.stringify({ query: 'mutation P($customer: CustomerInput!) { predict(customer: $customer) { churnProbability } }', variables: { customer: GRAPHQL_CUSTOMER } });
    await fuzz(header, 5, async (h) => {
      const headers: Record<string, string> = { 'x-request-id': h.requestId, authorization: h.authorization, accept: h.accept };
      if (h.contentType.trim()) headers['content-type'] = h.contentType;
      const res = await send(h.path, h.path === '/predict' ? JSON.stringify(LEGACY_PAYLOAD) : graphqlBody, headers);
      expect(res.status, res.text).toBeLessThan(500);
      if (res.status >= 400) expect(res.text.length, `${res.status} with an empty body`).toBeGreaterThan(10);
    });
  });
});
