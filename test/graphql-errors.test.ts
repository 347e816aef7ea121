/**
 * What a GraphQL caller sees of a failure the gateway does not expect: "Unexpected error." and
 * the request id, never the cause, whatever NODE_ENV says (the cause is logged under that id).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRAPHQL_CUSTOMER, gql, startTestGateway, type TestGateway } from './helpers/index.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ LOG_LEVEL: 'warn' });
});
afterAll(() => gw.close());

describe('a failure no resolver expects', () => {
  it.each(['development', 'production', 'test'])('is answered without its message or stack when NODE_ENV is %s', async (nodeEnv) => {
    // Yoga reads process.env.NODE_ENV when it masks an error: "development" added the cause, stack included.
    const before = process.env['NODE_ENV'];
    process.env['NODE_ENV'] = nodeEnv;
    Object.defineProperty(gw.slot, 'current', {
      configurable: true,
      get: () => {
        throw new TypeError('injected: secret internals at /srv/app/model-slot.ts:42');
      },
    });
    try {
      const res = await gql(gw.url, 'query Lineage { modelInfo { modelVersion } }', {}, { 'x-request-id': `masked-${nodeEnv}` });
      expect(res.headers.get('x-request-id')).toBe(`masked-${nodeEnv}`);
      expect(res.body.errors).toEqual([
        // The id to quote is in the answer itself, as a 503's: GraphiQL shows no response headers.
        { message: 'Unexpected error.', locations: [{ line: 1, column: 17 }], path: ['modelInfo'], extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: `masked-${nodeEnv}` } },
      ]);
      expect(JSON.stringify(res.body)).not.toMatch(/injected|stack|model-slot/);
    } finally {
      Reflect.deleteProperty(gw.slot, 'current');
      process.env['NODE_ENV'] = before;
    }
  });

  it('carries the request id when the document was already compiled (the fast path hands the failed run to Yoga)', async () => {
    const query = 'query Compiled { modelInfo { modelVersion } }';
    expect((await gql(gw.url, query)).body.errors).toBeUndefined();
    Object.defineProperty(gw.slot, 'current', {
      configurable: true,
      get: () => {
        throw new TypeError('injected: unexpected failure');
      },
    });
    try {
      const res = await gql(gw.url, query, {}, { 'x-request-id': 'masked-compiled' });
      expect(res.body.errors).toEqual([
        { message: 'Unexpected error.', locations: [{ line: 1, column: 18 }], path: ['modelInfo'], extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: 'masked-compiled' } },
      ]);
    } finally {
      Reflect.deleteProperty(gw.slot, 'current');
    }
  });
});

/** Half a character (a lone UTF-16 surrogate): strict JSON readers refuse its escape, so the answer could not be read. */
const HALF_CHARACTER = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** Every string in a parsed answer (JSON.parse turns a `\ud83d` escape into the half character itself). */
const stringsIn = (value: unknown): string[] =>
  typeof value === 'string' ? [value] : typeof value === 'object' && value !== null ? Object.values(value).flatMap(stringsIn) : [];

async function post(body: string): Promise<{ status: number; text: string; json: { errors?: { message: string; extensions?: Record<string, unknown> }[] } }> {
  const res = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const text = await res.text();
  return { status: res.status, text, json: JSON.parse(text) as { errors?: { message: string; extensions?: Record<string, unknown> }[] } };
}

describe('an error about text that holds emoji', () => {
  it('a body that is not JSON: its parse error names the character whole, once', async () => {
    const { status, json } = await post('[😀😀');
    expect(status).toBe(400);
    expect(json.errors).toHaveLength(1);
    const error = json.errors?.[0];
    expect(error?.extensions?.['code']).toBe('BAD_REQUEST');
    for (const text of stringsIn(error)) expect(text).not.toMatch(HALF_CHARACTER);
    const said = JSON.stringify(error);
    // V8's message quotes the body once; Yoga repeated it (`… is not valid JSON, "[😀😀" is not valid JSON`).
    expect(said.match(/is not valid JSON/g)).toHaveLength(1);
  });

  it('a long message cut in the middle keeps whole characters at both cuts', async () => {
    // An enum value of 1,000 UTF-16 units (the variable limit is 1,024): graphql-js prints it into a
    // message over MAX_MESSAGE_CHARS, which is cut after 300 units, inside an emoji here.
    for (const pad of ['', 'x']) {
      const value = pad + '😀'.repeat(500 - pad.length);
      const { status, json } = await post(JSON.stringify({ query: 'mutation P($c: CustomerInput!) { predict(customer: $c) { churnProbability } }', variables: { c: { gender: value } } }));
      expect(status).toBe(400);
      const messages = (json.errors ?? []).map((e) => e.message);
      expect(messages.some((m) => m.includes(' … ')), messages.join('\n')).toBe(true);
      for (const m of messages) expect(m).not.toMatch(HALF_CHARACTER);
    }
  });
});

describe('more variable problems than the executor reports', () => {
  it('the error after the 50th is BAD_USER_INPUT too, with an empty issues list, and the answer is a 400', async () => {
    // 60 numbers where customers go: one problem each; the executor reports 50, then says there are more.
    const { status, json } = await post(JSON.stringify({ query: 'mutation B($cs: [CustomerInput!]!) { predictBatch(customers: $cs) { churnProbability } }', variables: { cs: Array.from({ length: 60 }, () => 1) } }));
    expect(status).toBe(400);
    const errors = json.errors ?? [];
    expect(errors).toHaveLength(51);
    for (const e of errors) expect(e.extensions?.['code'], e.message).toBe('BAD_USER_INPUT');
    expect(errors[49]?.extensions?.['issues']).toEqual([{ path: ['cs', 49], message: errors[49]?.message }]);
    expect(errors[50]).toEqual({ message: 'Too many errors processing variables, error limit reached. Execution aborted.', extensions: { code: 'BAD_USER_INPUT', issues: [] } });
  });
});

describe('the path of a variable problem, whatever the keys sent', () => {
  const SINGLE = 'mutation P($c: CustomerInput!) { predict(customer: $c) { churnProbability } }';
  const BATCH = 'mutation B($cs: [CustomerInput!]!) { predictBatch(customers: $cs) { churnProbability } }';
  const withoutContract = Object.fromEntries(Object.entries(GRAPHQL_CUSTOMER).filter(([key]) => key !== 'contract'));
  const pathsOf = async (query: string, variables: Record<string, unknown>) => {
    const { status, json } = await post(JSON.stringify({ query, variables }));
    expect(status).toBe(400);
    return (json.errors ?? []).map((e) => (e.extensions?.['issues'] as { path: unknown[] }[] | undefined)?.[0]?.path);
  };

  it('an unknown field is named as sent, not only when it is a GraphQL name', async () => {
    expect(await pathsOf(SINGLE, { c: { ...GRAPHQL_CUSTOMER, 'customer-id': 'A-1' } })).toEqual([['c', 'customer-id']]);
    expect(await pathsOf(BATCH, { cs: [GRAPHQL_CUSTOMER, { ...GRAPHQL_CUSTOMER, 'e mail': 'x' }] })).toEqual([['cs', 1, 'e mail']]);
  });

  it("a key holding graphql-js's own wording does not move the path", async () => {
    // The value is printed with its keys unquoted before the real ` at "…"` (or none), and the key again in the reason.
    expect(await pathsOf(SINGLE, { c: { ...withoutContract, 'x at "c.tenure"': 1 } })).toEqual([['c', 'contract'], ['c', 'x at "c.tenure"']]);
    expect(await pathsOf(BATCH, { cs: [GRAPHQL_CUSTOMER, { ...withoutContract, 'x at "cs[0].gender"': 1 }] })).toEqual([
      ['cs', 1, 'contract'],
      ['cs', 1, 'x at "cs[0].gender"'],
    ]);
    expect(await pathsOf(SINGLE, { c: { ...GRAPHQL_CUSTOMER, 'y; Field "tenure" is not defined': 1 } })).toEqual([['c', 'y; Field "tenure" is not defined']]);
    // An enum value is printed quoted in the value, as sent in the reason.
    expect(await pathsOf(BATCH, { cs: [GRAPHQL_CUSTOMER, { ...GRAPHQL_CUSTOMER, gender: 'x at "cs[0].tenure"' }] })).toEqual([['cs', 1, 'gender']]);
  });
});
