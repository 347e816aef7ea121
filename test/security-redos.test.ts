/**
 * Text a caller sends that reaches a regular expression must not cost more than linear time:
 * one request whose error message made a regex backtrack quadratically held the event loop,
 * and so every other caller, for as long as it ran (200 KB of variables: 70 s).
 *
 * The bound below is not a performance target: the linear check takes milliseconds, the
 * quadratic one it replaced took seconds on these bodies (of 64 to 260 KB).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRAPHQL_CUSTOMER } from './helpers/customers.js';
import { startTestGateway, type TestGateway } from './helpers/gateway.js';
import { VARIABLE_LIMITS } from '../src/schema/limits.js';

const PREDICT = 'mutation P($c: CustomerInput!) { predict(customer: $c) { churnProbability } }';
/** Far above what the linear checks take, far below what the quadratic ones took. */
const BOUND_MS = 3000;

const NON_STRING = 'Enum "Gender" cannot represent non-string value: . Did you mean ';

const repeatTo = (unit: string, size: number): string => unit.repeat(Math.ceil(size / unit.length)).slice(0, size);

/**
 * An object of unknown fields, each name `unit` repeated to the longest name accepted
 * (VARIABLE_LIMITS): graphql-js prints every name raw into each of its messages (~45 KB here).
 */
const unknownFields = (unit: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  ...extra,
  ...Object.fromEntries(Array.from({ length: VARIABLE_LIMITS.maxObjectKeys - Object.keys(extra).length }, (_, i) => [`${i}${repeatTo(unit, VARIABLE_LIMITS.maxStringChars - 3)}`, 1])),
});

async function timedPost(url: string, variables: unknown): Promise<{ status: number; ms: number; body: { errors?: { message: string; extensions?: Record<string, unknown> }[] } }> {
  const started = performance.now();
  const res = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: PREDICT, variables }) });
  const body = (await res.json()) as { errors?: { message: string; extensions?: Record<string, unknown> }[] };
  return { status: res.status, ms: performance.now() - started, body };
}

describe.each([['development'], ['production']])('GraphQL error messages built from caller text (NODE_ENV=%s)', (nodeEnv) => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ NODE_ENV: nodeEnv });
  }, 60_000);
  afterAll(async () => gw?.close());

  it.each([
    ['unknown fields whose names repeat `Value "` (the enum refusal lookup)', { c: unknownFields('Value "') }],
    ['unknown fields whose names repeat `Did you mean ` (the suggestion mask)', { c: unknownFields('Did you mean ') }],
    // Objects inside an object: graphql-js prints their names too (~260 KB).
    ['an enum field sent objects whose names repeat the non-string refusal', { c: { ...GRAPHQL_CUSTOMER, gender: { a: unknownFields(NON_STRING), b: unknownFields(NON_STRING), c: unknownFields(NON_STRING), d: unknownFields(NON_STRING) } } }],
  ])('%s is answered 400 at once', async (_what, variables) => {
    const { status, ms, body } = await timedPost(gw.url, variables);
    expect(status).toBe(400);
    expect(body.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    expect(ms).toBeLessThan(BOUND_MS);
  }, 120_000);

  it('a refused enum value still lists the allowed ones, after the value sent, whatever the value holds', async () => {
    const sent = 'x" does not exist in "Contract" enum. Did you mean y';
    const { status, body } = await timedPost(gw.url, { c: { ...GRAPHQL_CUSTOMER, gender: sent } });
    expect(status).toBe(400);
    const message = body.errors?.[0]?.message ?? '';
    // The value is quoted as sent; the refusal graphql-js wrote after it names Gender's values, not Contract's.
    expect(message.endsWith(`Value "${sent}" does not exist in "Gender" enum; allowed: FEMALE, MALE.`)).toBe(true);
  });
});
