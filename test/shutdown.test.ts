/**
 * Graceful shutdown of the real process: SIGTERM while predictions are in flight. Every
 * request the gateway accepted gets a complete answer; new connections are refused;
 * the process exits 0 within SHUTDOWN_TIMEOUT_MS.
 */
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { print } from 'graphql';
import { PredictBatchDocument } from '../src/generated/graphql.js';
import { PAST_SHUTDOWN_TIMEOUT_MS } from '../src/server.js';
import { GRAPHQL_CUSTOMER, LEGACY_PAYLOAD, LOYAL_CUSTOMER, spawnGateway, startTestGateway, type SpawnedGateway } from './helpers/index.js';

/** A spawned gateway with one request in flight whose body never finishes (abort `controller` to end it). */
async function gatewayWithAStuckRequest(shutdownTimeoutMs: string): Promise<{ gw: SpawnedGateway; controller: AbortController }> {
  const gw = await spawnGateway({ SHUTDOWN_TIMEOUT_MS: shutdownTimeoutMs, REQUEST_TIMEOUT_MS: '60000', HEADERS_TIMEOUT_MS: '60000' });
  const controller = new AbortController();
  const stream = new ReadableStream({ start: (c) => c.enqueue(new TextEncoder().encode('{"query":')) });
  void fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: stream, signal: controller.signal, duplex: 'half' } as RequestInit).catch(() => undefined);
  await new Promise((r) => setTimeout(r, 300));
  return { gw, controller };
}

describe('graceful shutdown', () => {
  it('answers every accepted request completely after SIGTERM, then exits 0', async () => {
    const gw = await spawnGateway({ SHUTDOWN_TIMEOUT_MS: '25000' });
    const customers = Array.from({ length: 100 }, (_, i) => ({ ...(i % 2 ? GRAPHQL_CUSTOMER : LOYAL_CUSTOMER), customerId: `c${i}` }));
    const body = JSON.stringify({ query: print(PredictBatchDocument), variables: { customers } });
    type Attempt = { kind: 'answered'; rows: number } | { kind: 'refused' } | { kind: 'broken'; error: string };
    type Outcome = Attempt & { id: string };
    let counter = 0;
    const send = async (): Promise<Outcome> => {
      const id = `req-${counter++}`;
      const outcome = await attempt(id);
      return { id, ...outcome };
    };
    const attempt = async (id: string): Promise<Attempt> => {
      let res: Response;
      try {
        res = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': id }, body });
      } catch (err) {
        const code = ((err as Error).cause as { code?: string } | undefined)?.code;
        // Refused before it was accepted: the caller can retry on another task.
        return code === 'ECONNREFUSED' ? { kind: 'refused' } : { kind: 'broken', error: `${code} ${(err as Error).message}` };
      }
      try {
        const json = (await res.json()) as { data?: { predictBatch: { customerId: string }[] } };
        const rows = json.data?.predictBatch ?? [];
        if (res.status !== 200 || rows.length !== customers.length || rows[99]?.customerId !== 'c99') return { kind: 'broken', error: `status ${res.status}, ${rows.length} rows` };
        return { kind: 'answered', rows: rows.length };
      } catch (err) {
        return { kind: 'broken', error: `body cut: ${(err as Error).message}` };
      }
    };
    const inFlight = Array.from({ length: 60 }, send);
    await new Promise((r) => setTimeout(r, 150));
    const signalledAt = Date.now();
    gw.child.kill('SIGTERM');
    // Late = sent once the gateway has handled the signal (it logs the line, then closes its
    // listener in the same turn) and at least 300 ms after it. A fixed delay alone assumed the
    // signal is handled within it, which a busy machine does not guarantee.
    const draining = (async () => {
      while (!gw.stdout().includes('"msg":"shutting down: draining"')) await new Promise((r) => setTimeout(r, 10));
    })();
    const lateStart = Promise.all([draining, new Promise((r) => setTimeout(r, 300))]);
    const late = Array.from({ length: 20 }, () => lateStart.then(send));
    const outcomes = await Promise.all([...inFlight, ...late]);
    const exitCode = await gw.exited;

    expect(exitCode).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(25_000);
    const logs = gw.stdout().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    // Accepted = the gateway started handling it (its access log has the request id).
    const accepted = new Set(logs.filter((l) => l['msg'] === 'request').map((l) => l['reqId'] as string));
    const byId = new Map(outcomes.map((o) => [o.id, o]));
    const lost = [...accepted].filter((id) => byId.get(id)?.kind !== 'answered');
    expect(lost.map((id) => byId.get(id)), 'accepted but not answered completely').toEqual([]);
    expect(accepted.size).toBeGreaterThan(0);
    expect(logs.filter((l) => l['msg'] === 'request').every((l) => l['status'] === 200)).toBe(true);
    // A connection the gateway closed before reading a request may reset: that request was never accepted.
    const broken = outcomes.filter((o) => o.kind === 'broken');
    expect(broken.every((o) => !accepted.has(o.id))).toBe(true);
    expect(outcomes.slice(-20).every((o) => o.kind !== 'answered')).toBe(true);
    expect(logs.find((l) => l['msg'] === 'shutting down: draining')).toMatchObject({ reason: 'SIGTERM' });
    expect(logs.at(-1)).toMatchObject({ msg: 'stopped', drained: true });
  });

  it('turns GET / to 503 while draining, so the load balancer stops sending', async () => {
    const gw = await startTestGateway();
    try {
      expect((await fetch(`${gw.url}/`)).status).toBe(200);
      gw.app.startDraining();
      const res = await fetch(`${gw.url}/`);
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ status: 'draining' });
      expect(res.headers.get('connection')).toBe('close');
    } finally {
      await gw.close();
    }
  });

  it('answers a request that was in flight when draining began with connection: close', async () => {
    const gw = await startTestGateway();
    try {
      const { port } = new URL(gw.url);
      const body = JSON.stringify(LEGACY_PAYLOAD);
      const socket = connect(Number(port), '127.0.0.1');
      let received = '';
      socket.on('data', (d: Buffer) => (received += d.toString('utf8')));
      const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      // Headers and half the body: the gateway is handling the request, its answer not yet written.
      socket.write(`POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 100)}`);
      while (gw.app.inFlight() === 0) await new Promise((r) => setTimeout(r, 5));
      gw.app.startDraining();
      socket.write(body.slice(100));
      await closed;
      expect(received).toMatch(/^HTTP\/1\.1 200 /);
      expect(received.toLowerCase()).toContain('connection: close');
    } finally {
      await gw.close();
    }
  });

  it('exits cleanly on SIGTERM while the model is still loading', async () => {
    let caughtLoading = 0;
    for (let i = 0; i < 3; i++) {
      const gw = await spawnGateway({}, { waitReady: false });
      // Listening, model not ready yet (503): the ONNX session is being created and warmed up.
      let status = 0;
      let exited = false;
      void gw.exited.then(() => (exited = true));
      while (!exited && (status = await fetch(`${gw.url}/`).then((r) => r.status, () => 0)) !== 503 && status !== 200) await new Promise((r) => setTimeout(r, 5));
      if (status === 503) caughtLoading++;
      gw.child.kill('SIGTERM');
      expect(await gw.exited, gw.stderr()).toBe(0);
      expect(gw.stderr()).not.toMatch(/terminate called|Napi::Error/);
    }
    expect(caughtLoading).toBeGreaterThan(0); // at least one signal arrived while the model loaded
  });

  it('keeps draining when a second SIGTERM arrives', async () => {
    const { gw, controller } = await gatewayWithAStuckRequest('1500');
    const start = Date.now();
    gw.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    gw.child.kill('SIGTERM');
    expect(await gw.exited).toBe(1); // the stuck request outlasts SHUTDOWN_TIMEOUT_MS
    expect(Date.now() - start).toBeGreaterThanOrEqual(1400);
    expect(gw.stdout()).toMatch(/"signal":"SIGTERM".*already shutting down/);
    controller.abort();
  });

  it('answers a request still unanswered at SHUTDOWN_TIMEOUT_MS with 503 and Retry-After, logged as such (not 499)', async () => {
    const gw = await spawnGateway({ SHUTDOWN_TIMEOUT_MS: '800', REQUEST_TIMEOUT_MS: '60000', HEADERS_TIMEOUT_MS: '60000' });
    const body = JSON.stringify(Array.from({ length: 200 }, () => LEGACY_PAYLOAD));
    // Half-open allowed: the caller goes on sending after the gateway has ended its side, as an upload does.
    const socket = connect({ port: Number(new URL(gw.url).port), host: '127.0.0.1', allowHalfOpen: true });
    let received = '';
    socket.on('data', (d: Buffer) => (received += d.toString('utf8')));
    socket.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    // A slow upload: headers and half the body, the rest never comes.
    socket.write(`POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nx-request-id: slow-upload\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, body.length >> 1)}`);
    await new Promise((r) => setTimeout(r, 300));
    gw.child.kill('SIGTERM');
    // Still sending, slowly: the 503's connection lingers for what the caller sends (LINGER_MS).
    const trickle = setInterval(() => !socket.destroyed && socket.write(' '), 100);
    await closed;
    clearInterval(trickle);
    expect(await gw.exited).toBe(1); // not drained: the request did not finish
    // Before, the connection was closed with nothing written, and the access line said 499.
    expect(received).toMatch(/^HTTP\/1\.1 503 /);
    const head = received.slice(0, received.indexOf('\r\n\r\n')).toLowerCase();
    expect(head).toContain('retry-after: 1');
    expect(head).toContain('connection: close');
    expect(received).toContain('SHUTTING_DOWN: the gateway stopped (SHUTDOWN_TIMEOUT_MS, 800 ms) before it could answer');
    const logs = gw.stdout().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logs.filter((l) => l['reqId'] === 'slow-upload').map((l) => [l['msg'], l['status'] ?? null])).toEqual([
      ['shutdown timeout: request answered 503 before its work ended', null],
      ['request', 503],
    ]);
    expect(logs.find((l) => l['msg'] === 'shutdown timeout: closing remaining connections')).toMatchObject({ answered503: 1 });
    // The 503's connection lingers while the caller might still send (up to 2 s): the model's release
    // is not left waiting behind it, and gets its time beside it.
    expect(logs.map((l) => l['msg'])).not.toContain('shutdown timeout: the model was still being released');
  });

  it('gives up on a model release held by a hung ONNX worker at the deadline, instead of waiting for the worker', async () => {
    const gw = await startTestGateway({ SHUTDOWN_TIMEOUT_MS: '300' });
    const host = (gw.slot.current as unknown as { session: { hangForTest(ms: number): void } }).session;
    // The thread is stuck (as inside onnxruntime) for longer than the run's deadline (10 s): the
    // prediction sent now holds the model's release until the watchdog gives the thread up.
    host.hangForTest(12_000);
    const predicted = fetch(`${gw.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(LEGACY_PAYLOAD) });
    while (gw.app.inFlight() === 0) await new Promise((r) => setTimeout(r, 5));
    const started = Date.now();
    expect(await gw.shutdown('test: a hung worker')).toBe(false);
    expect(Date.now() - started).toBeLessThan(300 + PAST_SHUTDOWN_TIMEOUT_MS + 1500);
    expect((await predicted).status).toBe(503);
    expect(gw.logs.map((l) => l['msg'])).toContain('shutdown timeout: the model was still being released');
  });

  it('gives up after SHUTDOWN_TIMEOUT_MS and exits non-zero when a request will not finish', async () => {
    const { gw, controller } = await gatewayWithAStuckRequest('500');
    const start = Date.now();
    gw.child.kill('SIGTERM');
    expect(await gw.exited).toBe(1);
    expect(Date.now() - start).toBeLessThan(5000);
    expect(gw.stdout()).toMatch(/shutdown timeout: closing remaining connections/);
    controller.abort();
  });
});
