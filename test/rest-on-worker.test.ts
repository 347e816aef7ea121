/**
 * POST /predict bodies over REST_ON_WORKER_BYTES are answered by the inference worker
 * (rest/answer.ts), smaller ones on the event loop (app.ts). A caller cannot tell which: the
 * same customers give the same status and the same bytes either way. A small body is made
 * large by trailing whitespace, which JSON ignores. Also: a large body is metered like a
 * small one, and a gateway running from dist/ (no tsx) answers large bodies too (`npm test`
 * builds dist/ before vitest runs).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REST_ON_WORKER_BYTES } from '../src/app.js';
import { LEGACY_PAYLOAD, spawnGateway, startTestGateway, type SpawnedGateway, type TestGateway } from './helpers/index.js';

const MAX_BATCH = 20;
let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ MAX_BATCH: String(MAX_BATCH) });
});
afterAll(() => gw.close());

/** The same JSON, made larger than REST_ON_WORKER_BYTES with trailing whitespace. */
const padded = (text: string): string => text + ' '.repeat(Math.max(0, REST_ON_WORKER_BYTES + 1 - Buffer.byteLength(text)));

async function post(url: string, body: string): Promise<{ status: number; type: string | null; text: string }> {
  const res = await fetch(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'same-id' }, body });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

const customer = (i: number): Record<string, unknown> => ({ ...LEGACY_PAYLOAD, customerID: `c-${i}`, tenure: i % 72, MonthlyCharges: 20 + i, TotalCharges: i % 72 === 0 ? null : (20 + i) * (i % 72) });

const BODIES: Record<string, string> = {
  'one customer, SeniorCitizen left out (its default is named)': JSON.stringify(LEGACY_PAYLOAD),
  'one customer with an id and SeniorCitizen': JSON.stringify({ ...LEGACY_PAYLOAD, SeniorCitizen: 1, customerID: '7590-VHVEG' }),
  'a customer not yet billed': JSON.stringify({ ...LEGACY_PAYLOAD, tenure: 0, TotalCharges: null }),
  'a batch of 15': JSON.stringify(Array.from({ length: 15 }, (_, i) => customer(i))),
  'an empty batch': '[]',
  'not JSON': '{"gender":',
  'JSON null': 'null',
  'a string': '"customer"',
  'an unknown field': JSON.stringify({ ...LEGACY_PAYLOAD, Churn: 'Yes' }),
  'a value outside its domain': JSON.stringify({ ...LEGACY_PAYLOAD, Contract: 'Weekly' }),
  'fields that contradict each other': JSON.stringify({ ...LEGACY_PAYLOAD, PhoneService: 'No', MultipleLines: 'Yes' }),
  'a batch with bad rows': JSON.stringify([customer(1), {}, { ...customer(2), tenure: -1 }]),
  'more than MAX_BATCH customers': JSON.stringify(Array.from({ length: MAX_BATCH + 1 }, (_, i) => customer(i))),
};

describe('a large body and a small one with the same customers', () => {
  for (const [name, body] of Object.entries(BODIES)) {
    it(`get the same answer: ${name}`, async () => {
      expect(Buffer.byteLength(body)).toBeLessThanOrEqual(REST_ON_WORKER_BYTES);
      const small = await post(gw.url, body);
      const large = await post(gw.url, padded(body));
      expect(Buffer.byteLength(padded(body))).toBeGreaterThan(REST_ON_WORKER_BYTES);
      expect(large).toEqual(small);
      expect(small.status).toBeLessThan(500);
    });
  }

  it('include both a 200 and a 400 among the cases (the comparison is not vacuous)', async () => {
    const statuses = await Promise.all(Object.values(BODIES).map(async (b) => (await post(gw.url, b)).status));
    expect(new Set(statuses)).toEqual(new Set([200, 400]));
  });
});

describe('a large body', () => {
  it('is scored like the same customers sent one at a time', async () => {
    const rows = Array.from({ length: MAX_BATCH }, (_, i) => customer(i));
    const batch = JSON.parse((await post(gw.url, padded(JSON.stringify(rows)))).text) as { churn_probability: number; customerID: string }[];
    const alone = await Promise.all(rows.map(async (r) => JSON.parse((await post(gw.url, JSON.stringify(r))).text) as { churn_probability: number }));
    expect(batch.map((b) => b.customerID)).toEqual(rows.map((r) => r['customerID']));
    expect(batch.map((b) => b.churn_probability)).toEqual(alone.map((a) => a.churn_probability));
  });

  it('is metered: its predictions and its batch size are counted once it is answered', async () => {
    const counted = async () => {
      const text = await (await fetch(`${gw.url}/metrics`)).text();
      const sum = (re: RegExp) => [...text.matchAll(re)].reduce((a, m) => a + Number(m[1]), 0);
      return { predictions: sum(/^gateway_predictions_total\{[^}]*\} (\d+)$/gm), batches: sum(/^gateway_batch_size_count (\d+)$/gm) };
    };
    const before = await counted();
    const res = await post(gw.url, padded(JSON.stringify([customer(1), customer(2), customer(3)])));
    expect(res.status).toBe(200);
    const after = await counted();
    expect(after.predictions - before.predictions).toBe(3);
    expect(after.batches - before.batches).toBe(1);
  });
});

describe('the built gateway (dist/, no tsx)', () => {
  let built: SpawnedGateway;
  beforeAll(async () => {
    built = await spawnGateway({ MAX_BATCH: String(MAX_BATCH) }, { built: true });
  });
  afterAll(async () => {
    built.child.kill('SIGTERM');
    await built.exited;
  });

  it('answers a large body as the sources do', async () => {
    for (const body of [BODIES['a batch of 15'] as string, BODIES['a batch with bad rows'] as string]) {
      expect(await post(built.url, padded(body))).toEqual(await post(gw.url, body));
    }
  });
});
