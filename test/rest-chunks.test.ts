/**
 * Large REST arrays are checked a chunk at a time (parseLegacyBodyInChunks), giving the event
 * loop back between chunks: the same answers and the same problems as checking at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpProblem } from '../src/http.js';
import { CHECK_CHUNK_CUSTOMERS, MAX_COUNTED_ISSUES, checkedInChunks, parseLegacyBody, parseLegacyBodyInChunks } from '../src/rest/predict.js';
import { LEGACY_PAYLOAD, postJson, startTestGateway, type TestGateway } from './helpers/index.js';

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
    const atOnce = await outcome(() => parseLegacyBody(body, N));
    const inChunks = await outcome(() => parseLegacyBodyInChunks(body, N));
    expect(inChunks).toEqual(atOnce);
  });

  it('stops where checking at once stops, and says so', async () => {
    const result = (await outcome(() => parseLegacyBodyInChunks(Array.from({ length: N }, () => ({})), N))) as { detail: string };
    expect(result.detail).toContain(`at least ${MAX_COUNTED_ISSUES} invalid field(s) (checking stopped there, after ${Math.ceil(MAX_COUNTED_ISSUES / 18)} of ${N} customers)`);
  });

  it('gives the event loop a turn between chunks', async () => {
    let turns = 0;
    let done = false;
    const tick = () => {
      if (done) return;
      turns++;
      setImmediate(tick);
    };
    setImmediate(tick);
    await parseLegacyBodyInChunks(customers(5 * CHECK_CHUNK_CUSTOMERS), 10_000);
    done = true;
    // One turn between each two of the 5 chunks (a check all at once would give none).
    expect(turns).toBeGreaterThanOrEqual(4);
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
    expect((res.json as { errors: { path: string }[] }).errors).toEqual([{ path: `[${N - 1}].tenure`, message: 'must be an integer number of months' }]);
  });
});
