/**
 * The count of JSON objects and arrays a large body may hold (src/json-body.ts) reads brackets
 * inside strings as text, escaped quotes included, and allows exactly the number it names.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRAPHQL_CUSTOMER, LEGACY_PAYLOAD, startTestGateway, type TestGateway } from './helpers/index.js';
import { CHARS_PER_CONTAINER, CONTAINERS_COUNTED_FROM, EXTRA_CONTAINERS, MAX_OBJECT_MEMBERS, checkJsonCounts } from '../src/json-body.js';
import { VARIABLE_LIMITS } from '../src/schema/limits.js';
import { CONFIG_DEFAULTS } from '../src/schema/stated-values.js';

const BATCH = 'mutation B($cs: [CustomerInput!]!) { predictBatch(customers: $cs) { customerId } }';
/** The MAX_BATCH of a gateway started without it, as the gateway below is. */
const MAX_BATCH = CONFIG_DEFAULTS.MAX_BATCH;

describe('brackets in strings with escaped quotes are text', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ LOG_LEVEL: 'warn' });
  }, 60_000);
  afterAll(async () => {
    await gw?.close();
  });

  // A customer id quoting a caller's own notation: `"` is escaped as \" in JSON, and the brackets
  // after it are still inside the string. Reading \" as the string's end counted every bracket
  // of every other id, and refused the batch as "more than 10256 JSON objects and arrays".
  const id = `say "${'[{'.repeat(60)}" \\ ok`;
  const post = (path: string, body: unknown) => fetch(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('a batch of 5,000 such customers is answered on /graphql', async () => {
    const res = await post('/graphql', { query: BATCH, variables: { cs: Array.from({ length: 5000 }, () => ({ ...GRAPHQL_CUSTOMER, customerId: id })) } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: { predictBatch: { customerId: string }[] } };
    expect(body.data.predictBatch[4999]?.customerId).toBe(id);
  }, 60_000);

  it('and on /predict', async () => {
    const res = await post('/predict', Array.from({ length: 5000 }, () => ({ ...LEGACY_PAYLOAD, SeniorCitizen: 0, customerID: id })));
    expect(res.status).toBe(200);
  }, 60_000);
});

describe('checkJsonCounts', () => {
  /** A body of `containers` objects and arrays (an array of empty arrays), padded to `length` characters by a string of brackets, which are text. */
  const body = (containers: number, length: number): string => {
    const head = `[${'[],'.repeat(containers - 1)}"`;
    return `${head}${'[{'.repeat(length).slice(0, length - head.length - 2)}"]`;
  };

  it.each([
    [100_000, 'MAX_BATCH + EXTRA_CONTAINERS', MAX_BATCH + EXTRA_CONTAINERS],
    [1_000_000, 'one per CHARS_PER_CONTAINER characters', 1_000_000 / CHARS_PER_CONTAINER],
  ])('a body of %i characters may hold %s (%i) objects and arrays, and no more', (length, _rule, max) => {
    expect(length).toBeGreaterThan(CONTAINERS_COUNTED_FROM);
    expect(body(max, length)).toHaveLength(length);
    expect(() => checkJsonCounts(body(max, length), MAX_BATCH)).not.toThrow();
    expect(() => checkJsonCounts(body(max + 1, length), MAX_BATCH)).toThrow(`holds more than ${max} JSON objects and arrays`);
    // Arrays alone count as much (no `{` at all, and no bracket in the padding).
    const arrays = (n: number) => `[${'[],'.repeat(n - 1)}"${'x'.repeat(length - 3 * n - 1)}"]`;
    expect(arrays(max)).toHaveLength(length);
    expect(() => checkJsonCounts(arrays(max), MAX_BATCH)).not.toThrow();
    expect(() => checkJsonCounts(arrays(max + 1), MAX_BATCH)).toThrow(`holds more than ${max} JSON objects and arrays`);
  });
});

describe('checkJsonCounts: members of one object', () => {
  const over = `more than ${MAX_OBJECT_MEMBERS} members`;
  /** `[{members}, padding]`: an object of `members` members, then a string padding the body to `length` characters. */
  const body = (members: number, length = 100_000, key = (i: number) => `k${i}`): string => {
    const head = `[{${Array.from({ length: members }, (_, i) => `${JSON.stringify(key(i))}:0`).join(',')}},"`;
    return `${head}${'x'.repeat(Math.max(0, length - head.length - 2))}"]`;
  };

  it("is GraphQL's bound on an object in variables", () => {
    expect(MAX_OBJECT_MEMBERS).toBe(VARIABLE_LIMITS.maxObjectKeys);
  });

  it('allows exactly MAX_OBJECT_MEMBERS, also in an object nested in another, and refuses one more', () => {
    expect(() => checkJsonCounts(body(MAX_OBJECT_MEMBERS), MAX_BATCH)).not.toThrow();
    expect(() => checkJsonCounts(body(MAX_OBJECT_MEMBERS + 1), MAX_BATCH)).toThrow(over);
    // The outer object's members around an inner one are its own: 64 in all is allowed.
    const nested = (outer: number) => `{"in":{${'"a":1,'.repeat(MAX_OBJECT_MEMBERS - 1)}"a":1},${Array.from({ length: outer - 1 }, (_, i) => `"o${i}":0`).join(',')},"pad":"${'x'.repeat(100_000)}"}`;
    expect(() => checkJsonCounts(nested(MAX_OBJECT_MEMBERS - 1), MAX_BATCH)).not.toThrow();
    expect(() => checkJsonCounts(nested(MAX_OBJECT_MEMBERS), MAX_BATCH)).toThrow(over);
    // An array among an object's members does not end the count of them: 40 before it and 30 after are 72.
    const around = (after: number) => `{${Array.from({ length: 40 }, (_, i) => `"a${i}":0`).join(',')},"list":[[1],{"b":1}],${Array.from({ length: after }, (_, i) => `"z${i}":0`).join(',')},"pad":"${'x'.repeat(100_000)}"}`;
    expect(() => checkJsonCounts(around(MAX_OBJECT_MEMBERS - 42), MAX_BATCH)).not.toThrow();
    expect(() => checkJsonCounts(around(MAX_OBJECT_MEMBERS - 41), MAX_BATCH)).toThrow(over);
  });

  it('counts no colon inside a string, escaped quotes and backslashes included', () => {
    const colons = (i: number) => `a:b:c ${'\\'.repeat(i % 3)}\":{":${':'.repeat(100)}${'\\'.repeat(i % 2)}`;
    expect(() => checkJsonCounts(body(MAX_OBJECT_MEMBERS, 100_000, colons), MAX_BATCH)).not.toThrow();
    expect(() => checkJsonCounts(`[${Array.from({ length: 300 }, () => JSON.stringify({ customerID: ':'.repeat(300) })).join(',')}]`, MAX_BATCH)).not.toThrow();
    // A quote escaped in a string does not end it: each of the 200 \": is text, its colon no member of the object.
    expect(() => checkJsonCounts(JSON.stringify([{ customerID: '":'.repeat(200) }, 'x'.repeat(100_000)]), MAX_BATCH)).not.toThrow();
  });

  it('leaves a body that is not JSON (a string never closed) to the parse, which names it', () => {
    const open = `[{"customerID":"${'a:'.repeat(100_000)}}]`;
    expect(() => checkJsonCounts(open, MAX_BATCH)).not.toThrow();
    expect(() => JSON.parse(open) as unknown).toThrow(SyntaxError);
  });

  it('leaves a body of at most CONTAINERS_COUNTED_FROM characters to the parse', () => {
    // 1,000 members, and a string padding the body to exactly CONTAINERS_COUNTED_FROM characters; one more is counted.
    const members = `{${Array.from({ length: 1000 }, (_, i) => `"k${i}":0`).join(',')},"pad":"`;
    const small = `${members}${'x'.repeat(CONTAINERS_COUNTED_FROM - members.length - 2)}"}`;
    expect(small).toHaveLength(CONTAINERS_COUNTED_FROM);
    expect(() => checkJsonCounts(small, MAX_BATCH)).not.toThrow();
    expect(() => checkJsonCounts(small.replace('"pad":"', '"pad":"x'), MAX_BATCH)).toThrow(`more than ${MAX_OBJECT_MEMBERS} members`);
  });
});
