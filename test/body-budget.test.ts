/**
 * The budget of request bodies (MAX_BODY_BYTES_IN_FLIGHT), on a real server and real sockets:
 * bytes are taken as they arrive and held until the answer is done, a body past its first
 * SMALL_BODY_BYTES that does not fit gets 503 with Retry-After, a request's first
 * SMALL_BODY_BYTES are never refused (a few large uploads must not lock everyone else out) nor
 * counted in what decides a refusal (stalled small uploads must not lock batches out), and
 * what a request took comes back however it ends.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HttpProblem } from '../src/http.js';
import { BodyBudget, SMALL_BODY_BYTES, readBody, sendJson, sendProblem, type BodyHold } from '../src/http.js';
import { GRAPHQL_CUSTOMER, LEGACY_PAYLOAD, holdRuns, metricValue, postJson, sessionOf, startTestGateway, waitFor } from './helpers/index.js';

/** Room for one body of 1.75 × SMALL_BODY_BYTES, not two: each counts 0.75 × past its first SMALL_BODY_BYTES. */
const budget = new BodyBudget(SMALL_BODY_BYTES);
const LARGE = 1.75 * SMALL_BODY_BYTES;
/** All the budget holds: bytes past each body's first SMALL_BODY_BYTES (inUse), and those first bytes. */
const heldBytes = () => budget.inUse + budget.firstBytesInUse;
/** Answers held back until released: a complete body keeps its share until its answer is done. */
const held = new Map<string, () => void>();
let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const hold: BodyHold = { budget, bytes: 0, stopReading: null };
    // As app.ts gives it back: once the answer is done and the body's reading has ended.
    let holders = 2;
    const release = () => --holders === 0 && budget.give(hold.bytes);
    res.once('close', release);
    readBody(req, 4 * SMALL_BODY_BYTES, 10_000, hold).then(
      (body) => {
        release();
        const id = req.headers['x-id'] as string;
        held.set(id, () => void sendJson(res, 200, { id, bytes: body.length }, id));
      },
      (err: unknown) => {
        release();
        sendProblem(res, err as HttpProblem, 'x');
      },
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const post = (id: string, bytes: number) => fetch(url, { method: 'POST', headers: { 'x-id': id }, body: 'x'.repeat(bytes) });
/** Polls `check` every 10 ms; fails after 10 s (it held 2 s, then let the test go on to a misleading failure). */
const until = (what: string, check: () => boolean) => waitFor(what, check, 10_000, 10);

/** A raw connection that sends `header` and `sent` bytes of a body it says is `declared` bytes, then waits. */
function partialUpload(port: string | number, header: string, declared: number, sent: number, filler = 'x'): Socket {
  const socket = connect(Number(port), '127.0.0.1');
  socket.on('error', () => undefined);
  socket.write(`${header}Content-Length: ${declared}\r\n\r\n${filler.repeat(sent)}`);
  return socket;
}

describe('request bodies in flight', () => {
  it('holds complete bodies until answered, refuses one that does not fit with 503 and Retry-After, and takes it later', async () => {
    const a = post('a', LARGE);
    await until("a's body read", () => held.has('a'));
    expect(budget.inUse).toBe(LARGE - SMALL_BODY_BYTES);
    expect(budget.firstBytesInUse).toBe(SMALL_BODY_BYTES);
    const refused = await post('b', LARGE);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    // The rest of its body is not read as the connection's next request.
    expect(refused.headers.get('connection')).toBe('close');
    expect(((await refused.json()) as { detail: string }).detail).toMatch(new RegExp(`^OVERLOADED: the gateway already holds \\d+ bytes of request bodies past their first 64 KiB \\(MAX_BODY_BYTES_IN_FLIGHT ${budget.max}\\); retry shortly`));
    // What b took before it was refused is given back with it.
    await until("b's share given back", () => heldBytes() === LARGE);
    held.get('a')?.();
    expect((await a).status).toBe(200);
    await until('the budget given back', () => heldBytes() === 0);
    const again = post('c', LARGE);
    await until("c's body read", () => held.has('c'));
    held.get('c')?.();
    expect(await (await again).json()).toEqual({ id: 'c', bytes: LARGE });
    await until('the budget given back', () => heldBytes() === 0);
  });

  it('counts a body while it arrives, yet never refuses a body of SMALL_BODY_BYTES, and gets it all back when its caller leaves', async () => {
    const { port } = new URL(url);
    const slow = partialUpload(port, 'POST / HTTP/1.1\r\nHost: x\r\nx-id: slow\r\n', 3 * SMALL_BODY_BYTES, LARGE);
    try {
      await until('the slow body counted as it arrives', () => heldBytes() === LARGE);
      const refused = await post('d', LARGE);
      expect(refused.status).toBe(503);
      await until("d's share given back", () => heldBytes() === LARGE);
      // Held beside the max (LARGE + SMALL_BODY_BYTES > SMALL_BODY_BYTES), and still read.
      const small = post('e', SMALL_BODY_BYTES);
      await until("e's body read", () => held.has('e'));
      expect(heldBytes()).toBe(LARGE + SMALL_BODY_BYTES);
      // Held apart: what decides a larger body's refusal is the slow body's bytes past its first SMALL_BODY_BYTES alone.
      expect(budget.inUse).toBe(LARGE - SMALL_BODY_BYTES);
      held.get('e')?.();
      expect(await (await small).json()).toEqual({ id: 'e', bytes: SMALL_BODY_BYTES });
    } finally {
      slow.destroy();
    }
    await until('the slow body given back once its caller left', () => heldBytes() === 0);
  });

  it('takes a body of exactly the budget past its first SMALL_BODY_BYTES when nothing else is held, and refuses one byte more with 503', async () => {
    const whole = post('g', SMALL_BODY_BYTES + budget.max);
    await until("g's body read", () => held.has('g'));
    expect(budget.inUse).toBe(budget.max);
    held.get('g')?.();
    expect(await (await whole).json()).toEqual({ id: 'g', bytes: SMALL_BODY_BYTES + budget.max });
    await until('the budget given back', () => heldBytes() === 0);
    let status: number | undefined;
    const over = post('h', SMALL_BODY_BYTES + budget.max + 1).then((res) => (status = res.status));
    await until('h refused or read', () => status !== undefined || held.has('h'));
    held.get('h')?.(); // read in full, which the test refuses: answered, so nothing hangs
    await over;
    expect(status).toBe(503);
    await until('the budget given back', () => heldBytes() === 0);
  });

  it('never counts the first SMALL_BODY_BYTES of stalled uploads against a larger body: more of them than the budget holds, and a body past SMALL_BODY_BYTES is still read', async () => {
    const { port } = new URL(url);
    // Three uploads stalled after their first SMALL_BODY_BYTES: three times the budget, held.
    const stalled = ['s0', 's1', 's2'].map((id) => partialUpload(port, `POST / HTTP/1.1\r\nHost: x\r\nx-id: ${id}\r\n`, 3 * SMALL_BODY_BYTES, SMALL_BODY_BYTES));
    try {
      await until('the stalled bodies held', () => budget.firstBytesInUse === 3 * SMALL_BODY_BYTES);
      expect(budget.inUse).toBe(0);
      // Counted in the same budget, they refused it (503): every body over SMALL_BODY_BYTES was, while they were held.
      const large = post('l', LARGE);
      await until("l's body read", () => held.has('l'));
      held.get('l')?.();
      expect(await (await large).json()).toEqual({ id: 'l', bytes: LARGE });
    } finally {
      for (const s of stalled) s.destroy();
    }
    await until('the budget given back', () => heldBytes() === 0);
  });

  it('gives back what a body over the limit took (413)', async () => {
    const over = await post('f', 4 * SMALL_BODY_BYTES + 1);
    expect(over.status).toBe(413);
    await until('the budget given back', () => heldBytes() === 0);
  });
});

describe('in the gateway', () => {
  it('is released after each answer, REST and GraphQL alike', async () => {
    const gw = await startTestGateway({ BODY_LIMIT_BYTES: '2048', MAX_BODY_BYTES_IN_FLIGHT: '2048' });
    try {
      for (let i = 0; i < 20; i++) expect((await postJson(gw.url, '/predict', LEGACY_PAYLOAD)).status).toBe(200);
      const graphql = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ modelInfo { name } }' }) });
      expect(graphql.status).toBe(200);
    } finally {
      await gw.close();
    }
  });

  it('reads a body of exactly BODY_LIMIT_BYTES, sized or chunked, with a budget of just that, and refuses one byte more with 413', async () => {
    const limit = 2048;
    const gw = await startTestGateway({ BODY_LIMIT_BYTES: String(limit), MAX_BODY_BYTES_IN_FLIGHT: String(limit) });
    const body = (bytes: number) => JSON.stringify(LEGACY_PAYLOAD).padEnd(bytes, ' ');
    const sized = (text: string) => fetch(`${gw.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: text });
    // A stream body: sent with transfer-encoding: chunked, no content-length to check up front.
    const chunked = (text: string) =>
      fetch(`${gw.url}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: new ReadableStream({
          start(c) {
            c.enqueue(new TextEncoder().encode(text.slice(0, 1000)));
            c.enqueue(new TextEncoder().encode(text.slice(1000)));
            c.close();
          },
        }),
        duplex: 'half',
      } as RequestInit);
    try {
      for (const send of [sized, chunked]) {
        const atLimit = await send(body(limit));
        expect(atLimit.status, await atLimit.clone().text()).toBe(200);
        expect(((await atLimit.json()) as { churn_probability: unknown }).churn_probability).toEqual(expect.any(Number));
        const over = await send(body(limit + 1));
        expect(over.status).toBe(413);
        // The rest of an oversized upload is not read as the connection's next request: it is closed.
        expect(over.headers.get('connection')).toBe('close');
        expect(((await over.json()) as { detail: string }).detail).toMatch(new RegExp(`the limit (is|of) ${limit} bytes \\(BODY_LIMIT_BYTES\\)`));
      }
    } finally {
      await gw.close();
    }
  });

  it('is held until the work on a request ends, even when its caller went away first', async () => {
    // Bodies over SMALL_BODY_BYTES, which alone the budget may refuse.
    const max = 4 * SMALL_BODY_BYTES;
    const gw = await startTestGateway({ BODY_LIMIT_BYTES: String(max), MAX_BODY_BYTES_IN_FLIGHT: String(max), COALESCE_PREDICTIONS: 'false' });
    // Inference held until the test lets it go: the work outlives the caller. (It was slowed by a
    // fixed 800 ms, which raced the test's own steps on a loaded machine: the caller could leave
    // before its body was read, or the scoring end before the second request came.)
    // Only the abandoned request's run (its one row; coalescing is off) is held: a later one that
    // took the budget too (4 rows) must be answered, not wait with it.
    const held = holdRuns(gw, 1);
    try {
      const gone = new AbortController();
      const abandoned = fetch(`${gw.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'budget-gone' }, body: JSON.stringify(LEGACY_PAYLOAD).padEnd(3 * SMALL_BODY_BYTES, ' '), signal: gone.signal }).catch(() => 'aborted');
      // Its body read (and held), its scoring under way: then the caller leaves.
      await waitFor('the scoring to start', () => held.started() === 1);
      gone.abort();
      expect(await abandoned).toBe('aborted');
      // The gateway saw it leave: the access line, written when the connection closes, says 499.
      await waitFor("the caller's leaving", () => gw.logs.some((l) => l['reqId'] === 'budget-gone' && l['msg'] === 'request' && l['status'] === 499));
      // 2 × SMALL_BODY_BYTES past its first are still being scored: 2.5 × more past its own first do not fit in 4 ×.
      const big = JSON.stringify([LEGACY_PAYLOAD, LEGACY_PAYLOAD, LEGACY_PAYLOAD, LEGACY_PAYLOAD]).padEnd(3.5 * SMALL_BODY_BYTES, ' ');
      const refused = await fetch(`${gw.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big });
      expect(refused.status).toBe(503);
      // Taken once the abandoned request's scoring has ended.
      held.release();
      let status = 0;
      await waitFor('the body to be taken', async () => {
        status = (await fetch(`${gw.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big })).status;
        return status === 200;
      });
      expect(status).toBe(200);
    } finally {
      held.restore();
      await gw.close();
    }
  });

  it('counts bodies still arriving: held partial uploads refuse a further large one (503) but not a single prediction, and give their share back when their callers leave', async () => {
    const max = 1024 * 1024;
    const gw = await startTestGateway({ BODY_LIMIT_BYTES: String(max), MAX_BODY_BYTES_IN_FLIGHT: String(max) });
    const { port } = new URL(gw.url);
    const large = (bytes: number, reqId = 'large') =>
      fetch(`${gw.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': reqId }, body: JSON.stringify(LEGACY_PAYLOAD).padEnd(bytes, ' ') });
    // Four uploads of 400 KiB, each stopped after 256 KiB and kept open: the whole budget, none complete.
    const holders = Array.from({ length: 4 }, (_, i) =>
      partialUpload(port, `POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nx-request-id: held-${i}\r\n`, 400 * 1024, max / 4, ' '),
    );
    const answeredEarly = holders.map(() => false);
    holders.forEach((socket, i) => socket.on('data', () => (answeredEarly[i] = true)));
    try {
      await waitFor('the held uploads counted as they arrive', () => gw.app.bodyBytesHeld() === max);
      const refused = await large(400 * 1024, 'refused-by-budget');
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(((await refused.json()) as { detail: string }).detail).toMatch(new RegExp(`bytes of request bodies past their first 64 KiB \\(MAX_BODY_BYTES_IN_FLIGHT ${max}\\)`));
      await waitFor("the refused upload's share given back", () => gw.app.bodyBytesHeld() === max);
      // Its access line names the refusal's code, which its detail starts with.
      await waitFor('the access line of the refused upload', () => gw.logs.some((l) => l['reqId'] === 'refused-by-budget' && l['msg'] === 'request'));
      expect(gw.logs.find((l) => l['reqId'] === 'refused-by-budget' && l['msg'] === 'request')).toMatchObject({ status: 503, code: 'OVERLOADED' });
      // And a line of its own, at warn with the request id, saying what the budget held (no body content).
      const refusal = gw.logs.filter((l) => l['reqId'] === 'refused-by-budget' && l['msg'] !== 'request');
      expect(refusal).toEqual([expect.objectContaining({ level: 'warn', msg: 'request body refused: MAX_BODY_BYTES_IN_FLIGHT full', code: 'OVERLOADED', max })]);
      // What was counted when it refused: the held uploads' bytes past their first 64 KiB, and this request's that fitted.
      expect(Number(refusal[0]?.['inUse'])).toBeGreaterThanOrEqual(max - 4 * SMALL_BODY_BYTES);
      expect(Number(refusal[0]?.['inUse'])).toBeLessThanOrEqual(max);
      expect(Object.keys(refusal[0] ?? {}).sort()).toEqual(['client', 'code', 'inUse', 'level', 'max', 'msg', 'reqId', 'service', 'time']);
      // What an on-call engineer reads: the budget full, its limit, and the one refusal (none of explanations).
      // Held apart: each upload's first 64 KiB, and what past them the max bounds.
      expect(await metricValue(gw.url, 'gateway_request_body_bytes_in_flight')).toBe(max - 4 * SMALL_BODY_BYTES);
      expect(await metricValue(gw.url, 'gateway_request_body_first_bytes_in_flight')).toBe(4 * SMALL_BODY_BYTES);
      expect(await metricValue(gw.url, 'gateway_request_body_bytes_in_flight_max')).toBe(max);
      expect(await metricValue(gw.url, 'gateway_budget_refusals_total{budget="body_bytes"}')).toBe(1);
      expect(await metricValue(gw.url, 'gateway_budget_refusals_total{budget="explanation_drivers"}')).toBe(0);
      // A single prediction is never refused by the budget (its body is under SMALL_BODY_BYTES), full as it is.
      const single = await postJson(gw.url, '/predict', LEGACY_PAYLOAD);
      expect(single.status).toBe(200);
      // The held uploads were still open and unanswered all along.
      expect(answeredEarly).toEqual([false, false, false, false]);
      expect(holders.every((h) => !h.destroyed)).toBe(true);
    } finally {
      for (const h of holders) h.destroy();
    }
    try {
      // Their callers gone, all they took comes back, and a large upload is read again.
      await waitFor('the budget given back', () => gw.app.bodyBytesHeld() === 0);
      expect((await large(max)).status).toBe(200);
      await waitFor('the budget given back', () => gw.app.bodyBytesHeld() === 0);
      expect(await metricValue(gw.url, 'gateway_request_body_bytes_in_flight')).toBe(0);
      expect(await metricValue(gw.url, 'gateway_request_body_first_bytes_in_flight')).toBe(0);
      expect(await metricValue(gw.url, 'gateway_budget_refusals_total{budget="body_bytes"}')).toBe(1);
    } finally {
      await gw.close();
    }
  });

  it('reads a batch past 64 KiB while more uploads than MAX_BODY_BYTES_IN_FLIGHT holds are stalled after their first 64 KiB', async () => {
    const max = 256 * 1024;
    const gw = await startTestGateway({ BODY_LIMIT_BYTES: String(max), MAX_BODY_BYTES_IN_FLIGHT: String(max) });
    const { port } = new URL(gw.url);
    // Six uploads stalled after their first 64 KiB: 384 KiB held, past the 256 KiB budget. Counted in
    // it, 520 such slices refused every batch past 64 KiB of a gateway at the default 32 MiB (503 OVERLOADED).
    const stalled = Array.from({ length: 6 }, (_, i) =>
      partialUpload(port, `POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nx-request-id: stalled-${i}\r\n`, 200 * 1024, SMALL_BODY_BYTES, ' '),
    );
    try {
      await waitFor('the stalled uploads held', () => gw.app.bodyBytesHeld() === 6 * SMALL_BODY_BYTES);
      const batch = JSON.stringify(Array.from({ length: 300 }, () => LEGACY_PAYLOAD));
      expect(batch.length).toBeGreaterThan(SMALL_BODY_BYTES);
      const res = await fetch(`${gw.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: batch });
      expect(res.status, await res.clone().text()).toBe(200);
      expect(((await res.json()) as unknown[]).length).toBe(300);
      expect(await metricValue(gw.url, 'gateway_budget_refusals_total{budget="body_bytes"}')).toBe(0);
      expect(stalled.every((s) => !s.destroyed)).toBe(true);
    } finally {
      for (const s of stalled) s.destroy();
      await gw.close();
    }
  });

  it('gives back what a request took when it is refused or abandoned mid-upload: 413, 503, a caller that leaves, 408', async () => {
    const max = 256 * 1024;
    const gw = await startTestGateway({ BODY_LIMIT_BYTES: String(max), MAX_BODY_BYTES_IN_FLIGHT: String(max), REQUEST_TIMEOUT_MS: '3000' });
    const { port } = new URL(gw.url);
    const body = (bytes: number) => JSON.stringify(LEGACY_PAYLOAD).padEnd(bytes, ' ');
    const header = (id: string) => `POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nx-request-id: ${id}\r\n`;
    const budgetEmpty = () => waitFor('the budget given back', () => gw.app.bodyBytesHeld() === 0);
    const answerOn = (socket: Socket) =>
      new Promise<string>((resolve) => {
        let text = '';
        socket.on('data', (d: Buffer) => (text += d.toString()));
        socket.on('close', () => resolve(text));
      });
    try {
      // 413: a chunked body that runs past BODY_LIMIT_BYTES.
      const chunked = await fetch(`${gw.url}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: new ReadableStream({
          start(c) {
            c.enqueue(new TextEncoder().encode(body(max)));
            c.enqueue(new TextEncoder().encode(' '));
            c.close();
          },
        }),
        duplex: 'half',
      } as RequestInit);
      expect(chunked.status).toBe(413);
      await budgetEmpty();
      // 503: a large body beside one still arriving; then that one's caller leaves mid-upload.
      const arriving = partialUpload(port, header('arriving'), max, 150 * 1024, ' ');
      try {
        await waitFor('the arriving body counted', () => gw.app.bodyBytesHeld() === 150 * 1024);
        // 86 KiB past the arriving body's first 64 KiB, and 186 KiB past this one's: over 256 KiB.
        const refused = await fetch(`${gw.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body(250 * 1024) });
        expect(refused.status).toBe(503);
        await waitFor("the refused body's share given back", () => gw.app.bodyBytesHeld() === 150 * 1024);
      } finally {
        arriving.destroy();
      }
      await budgetEmpty();
      // 408: an upload that stops, kept open until the gateway answers and closes it.
      const stalled = partialUpload(port, header('stalled'), max, 150 * 1024, ' ');
      const answer = answerOn(stalled);
      await waitFor('the stalled body counted', () => gw.app.bodyBytesHeld() === 150 * 1024);
      expect(await answer).toMatch(/^HTTP\/1\.1 408 /);
      await budgetEmpty();
      await waitFor('the access lines', () => ['arriving', 'stalled'].every((id) => gw.logs.some((l) => l['msg'] === 'request' && l['reqId'] === id)));
      expect(gw.logs.find((l) => l['msg'] === 'request' && l['reqId'] === 'arriving')).toMatchObject({ status: 499 });
      expect(gw.logs.find((l) => l['msg'] === 'request' && l['reqId'] === 'stalled')).toMatchObject({ status: 408 });
    } finally {
      await gw.close();
    }
  }, 60_000);

  it("is given back when a caller does not read its answer: the connection closes REQUEST_TIMEOUT_MS after the request's own timeout", async () => {
    // An 8,000-row batch with every row's drivers: an answer of ~10 MB, more than the loopback's
    // socket buffers take, to a caller that never reads it. Its ~3.4 MB body holds most of the budget.
    const body = JSON.stringify({
      query: 'mutation B($cs: [CustomerInput!]!) { predictBatch(customers: $cs) { churnProbability explanation { drivers { name contribution } } } }',
      variables: { cs: Array.from({ length: 8_000 }, () => GRAPHQL_CUSTOMER) },
    });
    // The answer must be ready before REQUEST_TIMEOUT_MS, so that it is being sent when the timeout
    // comes: ~2.5 s on an idle machine, against 6 s. A loaded machine can take longer; the request
    // is then answered 503 by its timeout, a small answer the socket takes whole, which shows
    // nothing about an answer not read. Such a try is made again with a timeout of 20 s.
    const tries: string[] = [];
    for (const timeoutMs of [6000, 20_000]) {
      const outcome = await unreadAnswer(body, timeoutMs);
      if (outcome === 'shown') return;
      tries.push(`REQUEST_TIMEOUT_MS ${timeoutMs}: the answer was not ready before the timeout`);
    }
    throw new Error(tries.join('; '));
  }, 150_000);
});

/**
 * Sends `body` to a new gateway with REQUEST_TIMEOUT_MS `timeoutMs` from a caller that never reads,
 * and checks the budget is held while the answer waits, then given back when its connection is
 * closed, REQUEST_TIMEOUT_MS after the timeout. 'not ready' when the request timed out before its
 * answer was ready (nothing to check).
 */
async function unreadAnswer(body: string, timeoutMs: number): Promise<'shown' | 'not ready'> {
  const gw = await startTestGateway({ REQUEST_TIMEOUT_MS: String(timeoutMs), BODY_LIMIT_BYTES: String(body.length + 1024), MAX_BODY_BYTES_IN_FLIGHT: String(body.length + 100_000) });
  // The batch is scored once its body is read and taken from the budget: the budget is probed only
  // then. (A probe sent while the body was still arriving, as a fixed 50 ms wait allowed on a loaded
  // machine, held its own share as the body's reading ended: the batch was refused, nothing held.)
  const session = sessionOf(gw);
  const run = session.run.bind(session);
  let runsStarted = 0;
  session.run = (...args: unknown[]) => {
    runsStarted++;
    return run(...args);
  };
  const timedOut = () => gw.logs.find((l) => l['reqId'] === 'unread' && l['msg'] === 'request timed out');
  const { port } = new URL(gw.url);
  const reader = connect(Number(port), '127.0.0.1');
  reader.on('error', () => undefined);
  try {
    reader.pause(); // never reads
    const sent = performance.now();
    reader.write(`POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nx-request-id: unread\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    const other = () => fetch(`${gw.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(LEGACY_PAYLOAD).padEnd(250_000, ' ') });
    await waitFor('the batch to be scored, or its timeout', () => runsStarted > 0 || timedOut() !== undefined, 30_000, 20);
    if (timedOut()) return 'not ready';
    // Held while the answer waits to be read: a body that does not fit is refused.
    expect((await other()).status).toBe(503);
    // Then given back: the answer's connection is closed at the request's timeout plus as long again.
    await waitFor('the budget given back', async () => (await other()).status === 200, 2 * timeoutMs + 30_000, 50);
    if (timedOut()) return 'not ready';
    expect(performance.now() - sent).toBeGreaterThan(2 * timeoutMs - 100);
    const line = gw.logs.find((l) => l['msg'] === 'answer not read in time: connection closed');
    expect(line).toMatchObject({ level: 'warn', reqId: 'unread', timeoutMs, bytesUnsent: expect.any(Number) });
    expect(line?.['bytesUnsent']).toBeGreaterThan(0);
    // Its access line is batched (ACCESS_LOG_FLUSH_MS): it may reach the log after the budget came back.
    await waitFor('its access line', () => gw.logs.some((l) => l['msg'] === 'request' && l['reqId'] === 'unread'));
    expect(gw.logs.find((l) => l['msg'] === 'request' && l['reqId'] === 'unread')).toMatchObject({ route: 'graphql', status: 499, rows: 8_000 });
    return 'shown';
  } finally {
    reader.destroy();
    session.run = run;
    await gw.close();
  }
}
