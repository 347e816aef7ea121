/**
 * The budget of risk drivers being explained at once, across requests (schema/explanation.ts
 * DriverBudget), on the real gateway (real bundle, real ONNX session, real port): a request takes
 * what its fields' explanations write, as each field starts, and holds it until its answer is
 * written or its connection closed and its work has ended; a field that does not fit is refused
 * 503 OVERLOADED with Retry-After before it is scored; a request's first EXPLAIN_CHUNK_ROWS rows of
 * all drivers are never refused; and however a request ends, what it took comes back.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRANSIENT_RETRY_AFTER_SECONDS } from '../src/errors.js';
import type { CustomerInput } from '../src/generated/graphql.js';
import { EXPLAIN_CHUNK_ROWS } from '../src/schema/explanation.js';
import { CONFIG_DEFAULTS } from '../src/schema/stated-values.js';
import { GRAPHQL_CUSTOMER, holdRuns, metricValue, startTestGateway, waitFor, type TestGateway } from './helpers/index.js';

/** MAX_BATCH of the gateway most tests use. */
const MAX_BATCH = 1_000;
/** A request's first SMALL_ROWS rows of all drivers (one explanation chunk) are never refused. */
const SMALL_ROWS = EXPLAIN_CHUNK_ROWS;
/**
 * The served model's risk drivers per explanation (ModelInfo.explainer.drivers), read from each
 * gateway a test starts (startGateway): a fact about the model, which a retrained one may change.
 */
let DRIVERS: number;
/** What a gateway of MAX_BATCH holds at once: MAX_BATCH × DRIVERS. */
let CAPACITY: number;

const rows = (n: number): CustomerInput[] => Array.from({ length: n }, (_, i) => ({ ...GRAPHQL_CUSTOMER, tenure: i % 72 }));
const ALL = 'explanation { baseLogOdds drivers { name contribution fields inputFields } }';
const BATCH = `mutation B($cs: [CustomerInput!]!) { predictBatch(customers: $cs) { churnProbability\n  ${ALL} } }`;
/** A document Yoga's own executor runs (one with @include is never compiled). */
const BATCH_YOGA = `mutation B($cs: [CustomerInput!]!, $y: Boolean!) { predictBatch(customers: $cs) { churnProbability\n  ${ALL.replace('explanation', 'explanation @include(if: $y)')} } }`;
const PREDICT = `mutation P($c: CustomerInput!) { predict(customer: $c) { churnProbability ${ALL} } }`;

interface Answer {
  status: number;
  retryAfter: string | null;
  data: unknown;
  errors: { message: string; path?: (string | number)[]; locations?: unknown; extensions?: Record<string, unknown> }[] | undefined;
}

async function send(url: string, query: string, variables: Record<string, unknown>, signal?: AbortSignal): Promise<Answer> {
  const res = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }), ...(signal ? { signal } : {}) });
  const body = (await res.json()) as { data?: unknown; errors?: Answer['errors'] };
  return { status: res.status, retryAfter: res.headers.get('retry-after'), data: body.data, errors: body.errors };
}

/** A gateway for these tests; sets DRIVERS and CAPACITY from its model. */
async function startGateway(env: Record<string, string> = {}): Promise<TestGateway> {
  const gw = await startTestGateway({ LOG_LEVEL: 'warn', MAX_BATCH: String(MAX_BATCH), ...env });
  const info = await send(gw.url, '{ modelInfo { explainer { drivers } } }', {});
  const drivers = (info.data as { modelInfo?: { explainer?: { drivers?: unknown } | null } } | undefined)?.modelInfo?.explainer?.drivers;
  if (typeof drivers !== 'number' || !Number.isInteger(drivers) || drivers < 1) {
    await gw.close();
    throw new Error(`the gateway's model names no risk drivers: ${JSON.stringify(info)}`);
  }
  DRIVERS = drivers;
  CAPACITY = MAX_BATCH * drivers;
  return gw;
}

const overloaded = (inUse: number, asked: number, maxBatch = MAX_BATCH) =>
  `${inUse} risk drivers are being explained now, of at most ${maxBatch * DRIVERS} at once (MAX_BATCH ${maxBatch} × the model's ${DRIVERS} drivers: ` +
  `one full explanation of a full batch), and this field's ${asked} do not fit. Retry after ${TRANSIENT_RETRY_AFTER_SECONDS} s, or ask for ` +
  `drivers(top: n) or fewer rows: a request of at most ${SMALL_ROWS * DRIVERS} risk drivers (${SMALL_ROWS} rows of all drivers) is never refused`;

describe('risk drivers being explained at once, across requests', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway();
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('refuses a second full explanation with 503 OVERLOADED and Retry-After while one is in flight, unscored; answers small ones meanwhile; and takes a full one again once the first is answered', async () => {
    const refusalsSeen = () => metricValue(gw.url, 'gateway_budget_refusals_total{budget="explanation_drivers"}');
    let refused = await refusalsSeen();
    // Yoga's run of a new document (compiled as it runs), then the compiled document, then Yoga's own executor.
    for (const [query, extra] of [
      [BATCH, {}],
      [BATCH, {}],
      [BATCH_YOGA, { y: true }],
    ] as const) {
      const held = holdRuns(gw, MAX_BATCH);
      try {
        const first = send(gw.url, query, { cs: rows(MAX_BATCH), ...extra });
        await waitFor('the first full explanation to take the budget and reach scoring', () => held.started() === 1 && gw.app.driversHeld() === CAPACITY);

        const second = await send(gw.url, query, { cs: rows(MAX_BATCH), ...extra });
        expect(second.status, query).toBe(503);
        expect(second.retryAfter).toBe(String(TRANSIENT_RETRY_AFTER_SECONDS));
        expect(second.data).toBeNull();
        expect(second.errors).toEqual([
          {
            message: overloaded(CAPACITY, CAPACITY),
            path: ['predictBatch'],
            locations: [{ line: 2, column: 3 }],
            extensions: { code: 'OVERLOADED', requestId: expect.any(String) },
          },
        ]);
        // Refused before it was scored: its run never started.
        expect(held.started()).toBe(1);
        // drivers(top: 3) of a full batch (3,000) does not fit either, and the message says what is in flight.
        const top = await send(gw.url, BATCH.replace('drivers {', 'drivers(top: 3) {'), { cs: rows(MAX_BATCH) });
        expect(top.status).toBe(503);
        expect(top.errors?.[0]?.message).toBe(overloaded(CAPACITY, 3 * MAX_BATCH));

        // A single customer's explanation, and a batch of up to SMALL_ROWS rows of all drivers, are never refused.
        const one = await send(gw.url, PREDICT, { c: GRAPHQL_CUSTOMER });
        expect(one.status).toBe(200);
        expect(one.errors).toBeUndefined();
        const small = await send(gw.url, BATCH, { cs: rows(SMALL_ROWS) });
        expect(small.status).toBe(200);
        expect((small.data as { predictBatch: unknown[] }).predictBatch).toHaveLength(SMALL_ROWS);
        // One row more is not small: refused.
        const notSmall = await send(gw.url, BATCH, { cs: rows(SMALL_ROWS + 1) });
        expect(notSmall.status).toBe(503);
        expect(notSmall.errors?.[0]?.extensions?.['code']).toBe('OVERLOADED');
        // What the small ones took came back with their answers.
        await waitFor('the small requests to give their drivers back', () => gw.app.driversHeld() === CAPACITY);
        // What an on-call engineer reads: the budget full, its capacity, and the three refusals (none of bodies).
        refused += 3;
        expect(await metricValue(gw.url, 'gateway_explanation_drivers_in_flight')).toBe(CAPACITY);
        expect(await metricValue(gw.url, 'gateway_explanation_drivers_capacity')).toBe(CAPACITY);
        expect(await refusalsSeen()).toBe(refused);
        expect(await metricValue(gw.url, 'gateway_budget_refusals_total{budget="body_bytes"}')).toBe(0);

        held.release();
        const answered = await first;
        expect(answered.status).toBe(200);
        expect((answered.data as { predictBatch: unknown[] }).predictBatch).toHaveLength(MAX_BATCH);
        await waitFor('the first request to give its drivers back', () => gw.app.driversHeld() === 0);
        expect(await metricValue(gw.url, 'gateway_explanation_drivers_in_flight')).toBe(0);
      } finally {
        held.restore();
      }
      const again = await send(gw.url, query, { cs: rows(MAX_BATCH), ...extra });
      expect(again.status).toBe(200);
      expect(again.errors).toBeUndefined();
      await waitFor('the budget given back', () => gw.app.driversHeld() === 0);
    }
    const refusals = gw.logs.filter((l) => l['msg'] === 'explanation refused: too many risk drivers being explained at once');
    expect(refusals.length).toBeGreaterThanOrEqual(3);
    expect(refusals[0]).toMatchObject({ level: 'warn', code: 'OVERLOADED', driversInFlight: CAPACITY, capacity: CAPACITY, asked: CAPACITY });
  }, 180_000);

  it("holds all of a request's fields' drivers at once, the later fields' taken as they start, and gives them all back", async () => {
    // Mutation fields run one after another: the second's run is held while the first's answer waits.
    const TWO = `mutation T($a: [CustomerInput!]!, $b: [CustomerInput!]!) { first: predictBatch(customers: $a) { ${ALL} } second: predictBatch(customers: $b) { ${ALL} } }`;
    const held = holdRuns(gw, 600);
    try {
      const both = send(gw.url, TWO, { a: rows(400), b: rows(600) });
      await waitFor("the second field to take its drivers beside the first's and reach scoring", () => held.started() === 1 && gw.app.driversHeld() === CAPACITY);
      const notSmall = await send(gw.url, BATCH, { cs: rows(SMALL_ROWS + 1) });
      expect(notSmall.errors?.[0]?.message).toBe(overloaded(CAPACITY, (SMALL_ROWS + 1) * DRIVERS));
      held.release();
      const answered = await both;
      expect(answered.status).toBe(200);
      expect(answered.errors).toBeUndefined();
      await waitFor('the request to give back what both fields took', () => gw.app.driversHeld() === 0);
    } finally {
      held.restore();
    }
  }, 120_000);

  it("gives a request's drivers back when its fields are refused for their customers, and when its caller goes away", async () => {
    // Taken as the field starts, then the field refused for a customer (BAD_USER_INPUT): given back.
    const bad = rows(MAX_BATCH);
    bad[7] = { ...GRAPHQL_CUSTOMER, tenure: -1 };
    const refused = await send(gw.url, BATCH, { cs: bad });
    expect(refused.status).toBe(400);
    await waitFor('the refused request to give its drivers back', () => gw.app.driversHeld() === 0);

    // The caller leaves while its batch is being scored: the drivers come back once the work stops.
    const held = holdRuns(gw, MAX_BATCH);
    try {
      const gone = new AbortController();
      const abandoned = send(gw.url, BATCH, { cs: rows(MAX_BATCH) }, gone.signal).catch((err: unknown) => err);
      await waitFor('the batch to take the budget and reach scoring', () => held.started() === 1 && gw.app.driversHeld() === CAPACITY);
      gone.abort();
      await abandoned;
      await waitFor('the gateway to see the caller gone', () => gw.app.inFlight() === 0);
      // Its work has not ended (scoring is held): the memory it uses is still counted.
      expect(gw.app.driversHeld()).toBe(CAPACITY);
      held.release();
      await waitFor('the abandoned request to give its drivers back', () => gw.app.driversHeld() === 0);
    } finally {
      held.restore();
    }
    const again = await send(gw.url, BATCH, { cs: rows(MAX_BATCH) });
    expect(again.status).toBe(200);
    await waitFor('the budget given back', () => gw.app.driversHeld() === 0);
  }, 120_000);
});

describe('risk drivers of a request answered by its timeout', () => {
  it('are held until its work ends, then given back', async () => {
    const timeoutMs = 2_000;
    const gw = await startGateway({ REQUEST_TIMEOUT_MS: String(timeoutMs) });
    const held = holdRuns(gw, MAX_BATCH);
    try {
      const answer = send(gw.url, BATCH, { cs: rows(MAX_BATCH) });
      await waitFor('the batch to take the budget and reach scoring', () => held.started() === 1 && gw.app.driversHeld() === CAPACITY);
      const timedOut = await answer;
      expect(timedOut.status).toBe(503);
      // Answered, but its work has not ended (scoring is held): the memory it uses is still counted.
      expect(gw.app.driversHeld()).toBe(CAPACITY);
      held.release();
      await waitFor('the timed-out request to give its drivers back', () => gw.app.driversHeld() === 0);
    } finally {
      held.restore();
      await gw.close();
    }
  }, 60_000);
});

describe('a full explanation of a full batch whose caller does not read the answer', () => {
  it('holds its drivers while its answer waits to be read (a second one is refused), and gives them back when the connection closes', async () => {
    const maxBatch = CONFIG_DEFAULTS.MAX_BATCH;
    const gw = await startGateway({ MAX_BATCH: String(maxBatch) });
    const capacity = maxBatch * DRIVERS;
    const body = JSON.stringify({ query: BATCH, variables: { cs: rows(maxBatch) } });
    const reader = connect(Number(new URL(gw.url).port), '127.0.0.1');
    reader.on('error', () => undefined);
    let answerStarted = false;
    // Reads the first bytes of the answer (its headers: its ~25 MB are being written), then no more.
    reader.once('data', () => {
      answerStarted = true;
      reader.pause();
    });
    try {
      reader.write(`POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      await waitFor('the answer to be written', () => answerStarted, 120_000, 20);
      expect(gw.app.driversHeld()).toBe(capacity);
      const second = await send(gw.url, BATCH, { cs: rows(maxBatch) });
      expect(second.status).toBe(503);
      expect(second.errors?.[0]?.message).toBe(overloaded(capacity, capacity, maxBatch));
      // Still held: the answer is not read.
      expect(gw.app.driversHeld()).toBe(capacity);
      reader.destroy();
      await waitFor('the unread answer to give its drivers back', () => gw.app.driversHeld() === 0);
      const one = await send(gw.url, PREDICT, { c: GRAPHQL_CUSTOMER });
      expect(one.status).toBe(200);
      await waitFor('the budget given back', () => gw.app.driversHeld() === 0);
    } finally {
      reader.destroy();
      await gw.close();
    }
  }, 180_000);
});
