/**
 * Large batches are checked a chunk at a time (src/chunked.ts), giving the event loop a turn
 * between chunks: over REST and GraphQL, the same answers and the same problems as checking
 * all rows at once.
 */
import { connect as connectTcp, createServer, type AddressInfo, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHUNK_ROWS, forEachInChunks, handledInChunks } from '../src/chunked.js';
import type { CustomerInput } from '../src/generated/graphql.js';
import { PredictBatchDocument } from '../src/generated/graphql.js';
import { HttpProblem } from '../src/http.js';
import { MAX_COUNTED_ISSUES, checkedInChunks, parseLegacyBody, parseLegacyBodyInChunks } from '../src/rest/predict.js';
import { GRAPHQL_CUSTOMER, LEGACY_PAYLOAD, gql, postJson, startTestGateway, type TestGateway } from './helpers/index.js';

const CHECK_CHUNK_CUSTOMERS = CHUNK_ROWS;

/** Counts the event loop's turns (setImmediate callbacks) until `work` settles. */
async function turnsDuring(work: () => Promise<unknown>): Promise<number> {
  let turns = 0;
  let done = false;
  const tick = () => {
    if (done) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  await work();
  done = true;
  return turns;
}

describe('forEachInChunks', () => {
  it('visits every row in order, with a turn of the event loop between chunks', async () => {
    const seen: number[] = [];
    const turns = await turnsDuring(() =>
      forEachInChunks(3 * CHUNK_ROWS + 1, (i) => {
        seen.push(i);
        return true;
      }),
    );
    expect(seen).toEqual(Array.from({ length: 3 * CHUNK_ROWS + 1 }, (_, i) => i));
    // Three chunk boundaries, the first taking two immediates: not one turn per row.
    expect(turns).toBeGreaterThanOrEqual(3);
    expect(turns).toBeLessThanOrEqual(6);
  });

  it('lets I/O that arrived during the first chunk in before the second', async () => {
    // The first chunk runs in a socket's data callback (the poll phase), as a request body's
    // 'end' does; a second socket's bytes arrive while it runs.
    const order: string[] = [];
    let finished!: () => void;
    const done = new Promise<void>((resolve) => (finished = resolve));
    const other: { socket?: Socket } = {};
    const server = createServer((sock) =>
      sock.on('data', (data) => {
        if (data.toString() !== 'big') return void order.push('other I/O');
        void forEachInChunks(2 * CHUNK_ROWS, (i) => {
          if (i === 0) {
            order.push('chunk 1');
            other.socket?.write('small');
            const until = performance.now() + 20;
            while (performance.now() < until); // the first chunk's work
          }
          if (i === CHUNK_ROWS) order.push('chunk 2');
          return true;
        }).then(finished);
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const connect = () => new Promise<Socket>((resolve) => { const s = connectTcp(port, '127.0.0.1', () => resolve(s)); });
    const [big, small] = [await connect(), await connect()];
    other.socket = small;
    await new Promise((resolve) => setTimeout(resolve, 20)); // both accepted
    big.write('big');
    await done;
    await new Promise((resolve) => setTimeout(resolve, 20));
    big.destroy();
    small.destroy();
    server.close();
    expect(order).toEqual(['chunk 1', 'other I/O', 'chunk 2']);
  });

  it('stops after the first step that returns false, without waiting for the rest', async () => {
    const seen: number[] = [];
    await forEachInChunks(10 * CHUNK_ROWS, (i) => {
      seen.push(i);
      return i < 7;
    });
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('is used only above one chunk', () => {
    expect(handledInChunks(CHUNK_ROWS)).toBe(false);
    expect(handledInChunks(CHUNK_ROWS + 1)).toBe(true);
  });
});

const CONTRACTS = ['Month-to-month', 'One year', 'Two year'] as const;
/** n valid customers, each a little different. */
const customers = (n: number): Record<string, unknown>[] =>
  Array.from({ length: n }, (_, i) => ({ ...LEGACY_PAYLOAD, customerID: `c${i}`, tenure: i % 72, Contract: CONTRACTS[i % 3], MonthlyCharges: 20 + (i % 90), TotalCharges: i % 72 === 0 ? null : (i % 72) * (20 + (i % 90)) }));

const N = 2 * CHECK_CHUNK_CUSTOMERS + 200;

/** The outcome of checking a body: its requests, or the problem's status, detail and errors. */
async function outcome(check: () => unknown): Promise<unknown> {
  try {
    return await check();
  } catch (err) {
    if (!(err instanceof HttpProblem)) throw err;
    return { status: err.status, detail: err.detail, errors: err.errors };
  }
}

describe('checking a large REST array in chunks', () => {
  const bodies: [string, unknown][] = [
    ['valid', customers(N)],
    ['one bad field in the last chunk', customers(N).map((c, i) => (i === N - 3 ? { ...c, tenure: -1 } : c))],
    ['a rule broken at a chunk boundary', customers(N).map((c, i) => (i === CHECK_CHUNK_CUSTOMERS ? { ...c, PhoneService: 'No', MultipleLines: 'Yes' } : c))],
    ['bad fields in every chunk', customers(N).map((c, i) => (i % 97 === 0 ? { ...c, Contract: 'Monthly', gender: 'X' } : c))],
    ['so many problems that checking stops', Array.from({ length: N }, () => ({}))],
    ['problems that stop checking in the second chunk', customers(N).map((c, i) => (i > CHECK_CHUNK_CUSTOMERS ? {} : c))],
    ['over MAX_BATCH', customers(N + 1)],
  ];

  it.each(bodies)('gives the same outcome as checking at once: %s', async (_name, body) => {
    expect(checkedInChunks(body)).toBe(true);
    const text = JSON.stringify(body);
    const atOnce = await outcome(() => parseLegacyBody(text, body, N));
    const inChunks = await outcome(() => parseLegacyBodyInChunks(text, body, N));
    expect(inChunks).toEqual(atOnce);
  });

  it('finds a field sent twice in a later chunk, as checking at once does', async () => {
    const rows = customers(N);
    const at = CHECK_CHUNK_CUSTOMERS + 3;
    // The second tenure is the one JSON.parse keeps: a valid customer, unless the repeat is seen.
    const text = JSON.stringify(rows.map((c, i) => (i === at ? { ...c, tenure: 'twice' } : c))).replace('"tenure":"twice"', '"tenure":"twice","tenure":5');
    const body: unknown = JSON.parse(text);
    const atOnce = (await outcome(() => parseLegacyBody(text, body, N))) as { detail: string };
    expect(atOnce.detail).toContain(`[${at}].tenure: is sent more than once`);
    expect(await outcome(() => parseLegacyBodyInChunks(text, body, N))).toEqual(atOnce);
  });

  it('gives an exact count when every customer was checked, a repeated field included', async () => {
    // 55 empty customers (18 problems each) and one missing 9 fields: 999, and its repeated tenure makes 1,000.
    const partial = Object.fromEntries(Object.entries(LEGACY_PAYLOAD).filter(([k]) => k !== 'tenure').slice(0, 8));
    const text = JSON.stringify([...Array.from({ length: 55 }, () => ({})), { ...partial, tenure: 1 }]).replace(/"tenure":1}]$/, '"tenure":1,"tenure":2}]');
    const result = (await outcome(() => parseLegacyBody(text, JSON.parse(text), N))) as { detail: string };
    expect(result.detail).toMatch(/^1000 invalid field\(s\); the first 100 are listed in errors: \[55\]\.tenure: is sent more than once/);
  });

  it('stops where checking at once stops, and says so', async () => {
    const body = Array.from({ length: N }, () => ({}));
    const result = (await outcome(() => parseLegacyBodyInChunks(JSON.stringify(body), body, N))) as { detail: string };
    expect(result.detail).toContain(`at least ${MAX_COUNTED_ISSUES} invalid field(s) (checking stopped there, after ${Math.ceil(MAX_COUNTED_ISSUES / 18)} of ${N} customers)`);
  });

  it('gives the event loop a turn between chunks', async () => {
    // One turn between each two of the 5 chunks (a check all at once would give none).
    const body = customers(5 * CHECK_CHUNK_CUSTOMERS);
    expect(await turnsDuring(() => parseLegacyBodyInChunks(JSON.stringify(body), body, 10_000))).toBeGreaterThanOrEqual(4);
  });

  it('checks small bodies at once', () => {
    expect(checkedInChunks(customers(CHECK_CHUNK_CUSTOMERS))).toBe(false);
    expect(checkedInChunks(LEGACY_PAYLOAD)).toBe(false);
  });
});

describe('POST /predict with a large array', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(() => gw.close());

  it('answers like the same customers sent in arrays small enough to be checked at once', async () => {
    const all = customers(N);
    const whole = await postJson(gw.url, '/predict', all);
    expect(whole.status).toBe(200);
    const parts: unknown[] = [];
    for (let i = 0; i < N; i += CHECK_CHUNK_CUSTOMERS) {
      const part = await postJson(gw.url, '/predict', all.slice(i, i + CHECK_CHUNK_CUSTOMERS));
      expect(part.status).toBe(200);
      parts.push(...(part.json as unknown[]));
    }
    expect(whole.json).toEqual(parts);
  });

  it('names a bad field in the last chunk', async () => {
    const res = await postJson(gw.url, '/predict', customers(N).map((c, i) => (i === N - 1 ? { ...c, tenure: 'ten' } : c)));
    expect(res.status).toBe(400);
    expect((res.json as { errors: { path: string }[] }).errors).toEqual([{ path: `[${N - 1}].tenure`, message: 'must be an integer number of months; got the string "ten"' }]);
  });
});

describe('predictBatch with a large batch', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(() => gw.close());

  const CONTRACT_INPUTS = ['MONTH_TO_MONTH', 'ONE_YEAR', 'TWO_YEAR'] as const;
  const inputs = (n: number): CustomerInput[] =>
    Array.from({ length: n }, (_, i) => ({ ...GRAPHQL_CUSTOMER, customerId: `c${i}`, tenure: i % 72, contract: CONTRACT_INPUTS[i % 3] as (typeof CONTRACT_INPUTS)[number], monthlyCharges: 20 + (i % 90), totalCharges: i % 72 === 0 ? null : (i % 72) * (20 + (i % 90)) }));

  it('answers like the same customers sent in batches small enough to be checked at once', async () => {
    const all = inputs(N);
    const whole = await gql(gw.url, PredictBatchDocument, { customers: all });
    expect(whole.body.errors).toBeUndefined();
    const parts: unknown[] = [];
    for (let i = 0; i < N; i += CHUNK_ROWS) {
      const part = await gql(gw.url, PredictBatchDocument, { customers: all.slice(i, i + CHUNK_ROWS) });
      expect(part.body.errors).toBeUndefined();
      parts.push(...(part.body.data?.predictBatch ?? []));
    }
    expect(whole.body.data?.predictBatch).toHaveLength(N);
    expect(whole.body.data?.predictBatch).toEqual(parts);
  });

  it('names broken rules in every chunk, in row order', async () => {
    const bad = new Set([0, CHUNK_ROWS - 1, CHUNK_ROWS, N - 1]);
    const all = inputs(N).map((c, i) => (bad.has(i) ? { ...c, phoneService: true, multipleLines: 'NO_PHONE_SERVICE' as const } : c));
    const res = await gql(gw.url, PredictBatchDocument, { customers: all });
    expect(res.status).toBe(400);
    const issues = (res.body.errors?.[0]?.extensions as { code: string; issues: { path: (string | number)[] }[] }).issues;
    expect(res.body.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    expect(issues.map((i) => i.path)).toEqual([...bad].map((i) => ['customers', i, 'multipleLines']));
  });
});
