/**
 * What a GraphQL caller sees of a failure the gateway does not expect: "Unexpected error." and
 * the request id, never the cause, whatever NODE_ENV says (the cause is logged under that id);
 * and of a refusal answered before GraphQL runs, the detail as a GraphQL error with its code.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SMALL_BODY_BYTES } from '../src/http.js';
import { GRAPHQL_CUSTOMER, gql, holdRuns, startTestGateway, waitFor, type TestGateway } from './helpers/index.js';

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

/**
 * Refusals before GraphQL runs are problem details (RFC 9457) on /graphql too; where no field is at
 * fault they carry their detail as GraphQL errors as well, with a code and the request id: GraphQL
 * clients read `errors`, and GraphiQL showed a 413 as 'Unexpected empty "data" and "errors"
 * fields', the detail escaped inside its own message and the whole request echoed after it.
 */
describe('a refusal answered as problem details on /graphql', () => {
  const LIMIT = 256 * 1024;
  let tight: TestGateway;
  beforeAll(async () => {
    tight = await startTestGateway({ LOG_LEVEL: 'warn', BODY_LIMIT_BYTES: String(LIMIT), MAX_BODY_BYTES_IN_FLIGHT: String(LIMIT), REQUEST_TIMEOUT_MS: '3000' });
  });
  afterAll(() => tight.close());

  const PREDICT = 'mutation P($c: CustomerInput!) { predict(customer: $c) { churnProbability } }';
  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(`${tight.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', ...headers }, body });

  /** The problem's detail as its one GraphQL error, with `code` and the answer's request id. */
  function expectDetailAsError(problem: Record<string, unknown>, requestId: string | null, status: number, code: string): void {
    expect(problem).toMatchObject({ type: 'about:blank', status, requestId });
    expect(problem['errors']).toEqual([{ message: problem['detail'], extensions: { code, requestId } }]);
  }

  async function expectRefused(res: Response, status: number, code: string): Promise<void> {
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
    expectDetailAsError((await res.json()) as Record<string, unknown>, res.headers.get('x-request-id'), status, code);
  }

  /** A raw connection that sends `sent` bytes of a /graphql body it says is `declared` bytes; its answer, once the gateway closes it. */
  function partialUpload(declared: number, sent: number): { socket: Socket; answer: Promise<string> } {
    const socket = connect(Number(new URL(tight.url).port), '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    const answer = new Promise<string>((resolve) => socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8'))));
    socket.write(`POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${declared}\r\n\r\n${' '.repeat(sent)}`);
    return { socket, answer };
  }

  it('413 over BODY_LIMIT_BYTES: PAYLOAD_TOO_LARGE', async () => {
    await expectRefused(await post(JSON.stringify({ query: PREDICT, variables: { pad: 'x'.repeat(LIMIT) } })), 413, 'PAYLOAD_TOO_LARGE');
  });

  it('415 for a body that is not JSON: UNSUPPORTED_MEDIA_TYPE; 406 for an Accept without JSON: NOT_ACCEPTABLE', async () => {
    await expectRefused(await post('{ modelInfo { version } }', { 'content-type': 'text/plain' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    await expectRefused(await post(JSON.stringify({ query: '{ modelInfo { version } }' }), { accept: 'text/event-stream' }), 406, 'NOT_ACCEPTABLE');
  });

  it('503 past REQUEST_TIMEOUT_MS: REQUEST_TIMEOUT, the code its detail starts with', async () => {
    const held = holdRuns(tight, 1);
    try {
      await expectRefused(await post(JSON.stringify({ query: PREDICT, variables: { c: GRAPHQL_CUSTOMER } })), 503, 'REQUEST_TIMEOUT');
    } finally {
      held.release();
      held.restore();
    }
  });

  it('503 with request bodies in flight over MAX_BODY_BYTES_IN_FLIGHT: OVERLOADED; 408 for a body that did not arrive in time: REQUEST_TIMEOUT', async () => {
    // An earlier request's body is given back only once its work has ended, which on a loaded machine
    // can be after this test starts: the budget would then refuse one of the uploads below.
    await waitFor('no request body held from earlier requests', () => tight.app.bodyBytesHeld() === 0);
    // Two uploads stopped short, each LIMIT / 2 past its first SMALL_BODY_BYTES (never refused, and
    // not counted in MAX_BODY_BYTES_IN_FLIGHT): the whole budget, held until their 408s.
    const sent = SMALL_BODY_BYTES + LIMIT / 2;
    const holders = [partialUpload(LIMIT * 0.875, sent), partialUpload(LIMIT * 0.875, sent)];
    try {
      await waitFor('the held uploads counted as they arrive', () => tight.app.bodyBytesHeld() >= 2 * sent);
      await expectRefused(await post(JSON.stringify({ query: PREDICT, variables: { c: GRAPHQL_CUSTOMER } }).padEnd(LIMIT / 2, ' ')), 503, 'OVERLOADED');
      const answer = await holders[0]?.answer;
      const [head = '', body = ''] = answer?.split('\r\n\r\n') ?? [];
      expect(head).toMatch(/^HTTP\/1\.1 408 /);
      expectDetailAsError(JSON.parse(body) as Record<string, unknown>, /^x-request-id: (.+)$/im.exec(head)?.[1]?.trim() ?? null, 408, 'REQUEST_TIMEOUT');
    } finally {
      for (const { socket } of holders) socket.destroy();
    }
  });

  it('keeps the errors of a problem that names the field at fault, and adds none on REST', async () => {
    const named = await post(JSON.stringify({ query: PREDICT, variables: [] }));
    expect(named.status).toBe(400);
    expect(((await named.json()) as { errors: unknown }).errors).toEqual([{ path: 'variables', message: 'must be a JSON object' }]);
    const rest = await fetch(`${tight.url}/predict`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' });
    expect(rest.status).toBe(415);
    expect(await rest.json()).not.toHaveProperty('errors');
  });
});
