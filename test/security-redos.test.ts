/**
 * Text a caller sends that reaches a regular expression must not cost more than linear time:
 * one request whose error message made a regex backtrack quadratically held the event loop,
 * and so every other caller, for as long as it ran (200 KB of variables: 70 s).
 *
 * The bound below is not a performance target: the linear check takes milliseconds, the
 * quadratic one it replaced took tens of seconds on these bodies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRAPHQL_CUSTOMER } from './helpers/customers.js';
import { startTestGateway, type TestGateway } from './helpers/gateway.js';

const PREDICT = 'mutation P($c: CustomerInput!) { predict(customer: $c) { churnProbability } }';
/** Far above what the linear checks take, far below what the quadratic ones took. */
const BOUND_MS = 3000;
const SIZE = 120_000;

const repeatTo = (unit: string, size: number): string => unit.repeat(Math.ceil(size / unit.length)).slice(0, size);

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
    ['an unknown field whose name repeats `Value "` (the enum refusal lookup)', { c: { [repeatTo('Value "', SIZE)]: 1 } }],
    ['an unknown field whose name repeats `Did you mean ` (the suggestion mask)', { c: { [repeatTo('Did you mean ', SIZE)]: 1 } }],
    ['an enum field sent an object whose key repeats the non-string refusal', { c: { ...GRAPHQL_CUSTOMER, gender: { [repeatTo('Enum "Gender" cannot represent non-string value: . Did you mean ', 2.5 * SIZE)]: 1 } } }],
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
