/**
 * MAX_CONNECTIONS, on a real gateway and real sockets: past it, a connection's request is answered
 * 503 OVERLOADED with Retry-After and `connection: close`, as the other refusals before routing are
 * (logged at warn, counted by status), without its body being read; the operations port is never
 * refused. Without the cap, each stalled upload held its first 64 KiB for REQUEST_TIMEOUT_MS, and
 * 14,000 of them took a gateway past its task's 1 GiB.
 */
import type { Socket } from 'node:net';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SMALL_BODY_BYTES } from '../src/http.js';
import { LEGACY_PAYLOAD, metricValue, postJson, startTestGateway, waitFor, type TestGateway } from './helpers/index.js';

const MAX = 5;
let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ MAX_CONNECTIONS: String(MAX), OPS_PORT: '0' });
});
afterAll(() => gw.close());

/** A connection to `port` that sends an upload's headers (declaring 5 MB) and its first SMALL_BODY_BYTES, then stalls. */
function stalledUpload(port: number, id: string): Socket {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  socket.write(`POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nx-request-id: ${id}\r\nContent-Length: 5000000\r\n\r\n[${' '.repeat(SMALL_BODY_BYTES - 1)}`);
  return socket;
}

/** What `socket` receives until its answer's body (content-length) is whole; and whether it then closes. */
function answerOn(socket: Socket): Promise<{ head: string; body: Record<string, unknown>; closed: Promise<void> }> {
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return new Promise((resolve, reject) => {
    let text = '';
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      const length = /\r\ncontent-length: (\d+)\r\n/i.exec(text)?.[1];
      if (end < 0 || length === undefined || text.length < end + 4 + Number(length)) return;
      resolve({ head: text.slice(0, end + 2), body: JSON.parse(text.slice(end + 4)) as Record<string, unknown>, closed });
    });
    void closed.then(() => reject(new Error(`closed before a whole answer: ${JSON.stringify(text.slice(0, 200))}`)));
  });
}

describe('MAX_CONNECTIONS', () => {
  it('answers a request on a connection past it 503 OVERLOADED with Retry-After and connection: close, reads none of its body, logs and counts it; the operations port still answers', async () => {
    const port = Number(new URL(gw.url).port);
    const held = Array.from({ length: MAX }, (_, i) => stalledUpload(port, `held-${i}`));
    const sixth = stalledUpload(port, 'past-the-cap');
    try {
      await waitFor('the held uploads read', () => gw.app.bodyBytesHeld() === MAX * SMALL_BODY_BYTES);
      const { head, body, closed } = await answerOn(sixth);
      expect(head).toMatch(/^HTTP\/1\.1 503 /);
      expect(head).toContain('\r\nretry-after: 1\r\n');
      expect(head).toContain('\r\nconnection: close\r\n');
      expect(head).toContain('\r\ncontent-type: application/problem+json; charset=utf-8\r\n');
      expect(head).toContain('\r\nx-request-id: past-the-cap\r\n');
      expect(body).toEqual({ type: 'about:blank', title: 'Service Unavailable', status: 503, code: 'OVERLOADED', detail: `OVERLOADED: the gateway has MAX_CONNECTIONS (${MAX}) connections open; retry shortly`, requestId: 'past-the-cap' });
      // Its body was never taken: only the held uploads' first bytes are.
      expect(gw.app.bodyBytesHeld()).toBe(MAX * SMALL_BODY_BYTES);
      // Closed by the gateway, though the caller declared 5 MB and keeps the connection open (after LINGER_MS at most).
      await closed;
      expect(gw.logs.filter((l) => l['reqId'] === 'past-the-cap')).toEqual([
        expect.objectContaining({ level: 'warn', msg: 'request refused before routing', code: 'OVERLOADED', status: 503, maxConnections: MAX, client: '127.0.0.1' }),
      ]);
      // The operations port is not counted: the health check and /metrics answer, the cap full.
      const opsUrl = gw.opsUrl as string;
      expect((await fetch(`${opsUrl}/`)).status).toBe(200);
      expect(await metricValue(opsUrl, 'gateway_refused_before_routing_total{status="503"}')).toBe(1);
      // How close PORT is to the cap, for an operator: the held connections, not the refused one.
      expect(await metricValue(opsUrl, 'gateway_connections_open')).toBe(MAX);
      expect(await metricValue(opsUrl, 'gateway_connections_max')).toBe(MAX);
      // The held uploads were not disturbed.
      expect(held.every((s) => !s.destroyed)).toBe(true);
    } finally {
      sixth.destroy();
      for (const s of held) s.destroy();
    }
    // Their connections closed, the next connection is served.
    await waitFor('the held uploads given back', () => gw.app.bodyBytesHeld() === 0);
    await waitFor('their connections no longer counted', async () => (await metricValue(gw.opsUrl as string, 'gateway_connections_open')) === 0);
    expect((await postJson(gw.url, '/predict', LEGACY_PAYLOAD)).status).toBe(200);
  });
});
