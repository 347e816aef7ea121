/**
 * OPS_PORT: a second listener for the load balancer's health check and the Prometheus scrape.
 * Node accepts one connection per turn of its event loop, so a health check sent to a busy PORT
 * is accepted after every connection queued there before it; on OPS_PORT it has a queue of its own.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { LEGACY_PAYLOAD, postJson, spawnGateway, startTestGateway, waitFor, type SpawnedGateway, type TestGateway } from './helpers/index.js';
import { freePort } from './helpers/mlflow-server.js';

/**
 * Sends `GET /` on a new connection to `url`'s port as soon as it connects, and resolves with the
 * answer's status line once its first bytes arrive.
 */
function healthCheck(url: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    socket.write(`GET / HTTP/1.1\r\nHost: ${hostname}\r\nConnection: close\r\nUser-Agent: ELB-HealthChecker/2.0\r\n\r\n`);
    socket.once('data', (chunk: Buffer) => {
      resolve(chunk.toString('latin1').split('\r\n')[0] ?? '');
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

describe('OPS_PORT', () => {
  let gw: TestGateway;
  let ops: string;
  beforeAll(async () => {
    gw = await startTestGateway({ OPS_PORT: '0' });
    if (gw.opsUrl === null) throw new Error('OPS_PORT was set, and the gateway has no operations URL');
    ops = gw.opsUrl;
  });
  afterAll(() => gw.close());

  it('answers GET / as PORT does, and says so on the ready line', async () => {
    expect(ops).not.toBe(gw.url);
    const [onOps, onPort] = await Promise.all([fetch(`${ops}/`), fetch(`${gw.url}/`)]);
    expect(onOps.status).toBe(200);
    expect(onOps.headers.get('cache-control')).toBe('no-store');
    expect(await onOps.json()).toEqual(await onPort.json());
    expect((await fetch(`${ops}/`, { method: 'HEAD' })).status).toBe(200);
    expect(gw.logs.find((l) => l['msg'] === 'ready')).toMatchObject({ url: gw.url, opsUrl: ops });
  });

  it('answers GET /metrics, counting the traffic PORT serves', async () => {
    expect((await postJson(gw.url, '/predict', LEGACY_PAYLOAD)).status).toBe(200);
    const res = await fetch(`${ops}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/^gateway_requests_total\{route="rest_predict",operation="",status="200"\} [1-9]/m);
  });

  it('refuses everything else with 404 naming PORT, before reading a body', async () => {
    for (const [method, path] of [
      ['POST', '/predict'],
      ['POST', '/graphql'],
      ['GET', '/ui'],
      ['GET', '/openapi.json'],
    ] as const) {
      const res = await fetch(`${ops}${path}`, method === 'POST' ? { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(LEGACY_PAYLOAD) } : { method });
      expect(res.status, `${method} ${path}`).toBe(404);
      const problem = (await res.json()) as { detail: string; requestId: string };
      expect(problem.detail).toBe(`the operations port (OPS_PORT) answers GET / and GET /metrics only, not ${method} ${path}; the gateway's routes are on PORT`);
      expect(problem.requestId).toBe(res.headers.get('x-request-id'));
    }
    // Refused methods on its two routes are refused as on PORT.
    const post = await fetch(`${ops}/`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it("accepts a health check apart from PORT's queue of connections waiting to be accepted", async () => {
    // A gateway busy with large batches: every turn of the event loop does some milliseconds of
    // work (here a wait in a chain of setImmediate, as chunked checking and scoring are chained).
    let busy = true;
    const turn = () => {
      const end = performance.now() + 4;
      while (performance.now() < end);
      if (busy) setImmediate(turn);
    };
    setImmediate(turn);
    try {
      // 40 connections queued on PORT, then one health check on PORT and one on OPS_PORT: the
      // system completes every connection at once, and node accepts one from each listener per turn.
      const queued = Array.from({ length: 40 }, () => healthCheck(gw.url));
      const order: string[] = [];
      const answered = (name: string) => (status: string) => {
        order.push(name);
        return status;
      };
      const tracked = queued.map((q, i) => q.then(answered(`queued ${i}`)));
      const onPort = healthCheck(gw.url).then(answered('PORT'));
      const onOps = healthCheck(ops).then(answered('OPS_PORT'));
      const statuses = await Promise.all([...tracked, onPort, onOps]);
      expect(new Set(statuses)).toEqual(new Set(['HTTP/1.1 200 OK']));
      // On PORT, the health check waits for the 40 before it: answered after at least 30 of them
      // (not strictly last: the system may queue the connections a little out of the order sent).
      expect(order.indexOf('PORT')).toBeGreaterThanOrEqual(30);
      // On OPS_PORT, it is accepted in one of the first turns: answered before 20 of the 40.
      expect(order.indexOf('OPS_PORT')).toBeLessThan(20);
    } finally {
      busy = false;
    }
  });
});

describe('OPS_PORT behind a proxy on PORT', () => {
  it("names the socket's peer as the client on OPS_PORT, where no proxy is, and reads no X-Forwarded-For there", async () => {
    const gw = await startTestGateway({ OPS_PORT: '0', TRUSTED_PROXY_HOPS: '1' });
    try {
      const forged = { 'x-forwarded-for': '6.6.6.6' };
      const onPort = await fetch(`${gw.url}/nowhere`, { headers: forged });
      const onOps = await fetch(`${gw.opsUrl ?? ''}/nowhere`, { headers: forged });
      expect([onPort.status, onOps.status]).toEqual([404, 404]);
      const clientOf = (res: Response) => gw.logs.find((l) => l['reqId'] === res.headers.get('x-request-id') && l['msg'] === 'request')?.['client'];
      // Access lines are written in batches (logger.ts).
      await waitFor('both access lines', () => clientOf(onPort) !== undefined && clientOf(onOps) !== undefined, 5000, 10);
      // PORT believes the right-most entry, as its one proxy (the ALB) appends it.
      expect(clientOf(onPort)).toBe('6.6.6.6');
      expect(clientOf(onOps)).toBe('127.0.0.1');
      // A request node refuses before routing: on OPS_PORT its peer is the client, not a proxy.
      const status = await new Promise<string>((resolve, reject) => {
        const { port } = new URL(gw.opsUrl ?? '');
        const socket = connect(Number(port), '127.0.0.1');
        socket.write('GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n');
        socket.once('data', (chunk: Buffer) => resolve(chunk.toString('latin1').split('\r\n')[0] ?? ''));
        socket.once('error', reject);
      });
      expect(status).toBe('HTTP/1.1 400 Bad Request');
      expect(gw.logs.filter((l) => l['msg'] === 'request refused before routing')).toEqual([expect.objectContaining({ client: '127.0.0.1' })]);
    } finally {
      await gw.close();
    }
  });
});

describe('OPS_PORT in a spawned gateway', () => {
  it('is told apart from PORT by the test helper, and the process answers on both', async () => {
    // A number, chosen free here and bound by the gateway only once tsx has started it (seconds, on a
    // loaded machine): another test's server may take it in between, and the gateway then stops at
    // start on EADDRINUSE. Such a start is made again on another port, up to three starts.
    let opsPort = 0;
    let gw: SpawnedGateway | undefined;
    for (let attempt = 1; gw === undefined; attempt++) {
      opsPort = await freePort();
      gw = await spawnGateway({ OPS_PORT: String(opsPort) }).catch((err: unknown) => {
        if (attempt < 3 && String(err).includes(`OPS_PORT ${opsPort}: listen EADDRINUSE`)) return undefined;
        throw err;
      });
    }
    try {
      expect(new URL(gw.url).port).not.toBe(String(opsPort));
      expect((await postJson(gw.url, '/predict', LEGACY_PAYLOAD)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${opsPort}/`)).status).toBe(200);
    } finally {
      gw.child.kill('SIGTERM');
      await gw.exited;
    }
  });

  it('refuses two ports of the kernel\'s choice, which it could not tell apart', async () => {
    await expect(spawnGateway({ OPS_PORT: '0' })).rejects.toThrow('give OPS_PORT a port number');
  });
});

describe('OPS_PORT unset', () => {
  it('opens no second listener', async () => {
    const gw = await startTestGateway();
    try {
      expect(gw.opsUrl).toBeNull();
      expect(gw.logs.find((l) => l['msg'] === 'ready')).toMatchObject({ url: gw.url, opsUrl: null });
    } finally {
      await gw.close();
    }
  });
});

describe('OPS_PORT refused', () => {
  it.each([
    [{ PORT: '8000', OPS_PORT: '8000' }, 'OPS_PORT: must differ from PORT (8000): it is a second listener beside it; got "8000"'],
    [{ OPS_PORT: '8000' }, 'OPS_PORT: must differ from PORT (8000): it is a second listener beside it; got "8000"'],
    [{ OPS_PORT: '65536' }, 'OPS_PORT: must be an integer from 0 to 65535; got "65536"'],
    [{ OPS_PORT: 'ops' }, 'OPS_PORT: must be an integer from 0 to 65535; got "ops"'],
  ])('%o', (env, problem) => {
    expect(() => loadConfig(env)).toThrow(problem);
  });

  it('takes an empty value as unset, and 0 on both ports as two ports the system picks', () => {
    expect(loadConfig({ OPS_PORT: '' }).OPS_PORT).toBeUndefined();
    expect(loadConfig({ PORT: '0', OPS_PORT: '0' }).OPS_PORT).toBe(0);
    expect(loadConfig({ OPS_PORT: '8001' }).OPS_PORT).toBe(8001);
  });

  it('stops the start when its port is taken, naming the port, and leaves PORT closed', async () => {
    const taken = await startTestGateway();
    try {
      const port = new URL(taken.url).port;
      await expect(startTestGateway({ OPS_PORT: port })).rejects.toThrow(`OPS_PORT ${port}: listen EADDRINUSE: address already in use 127.0.0.1:${port}`);
    } finally {
      await taken.close();
    }
  });
});

describe('OPS_PORT at shutdown', () => {
  it('stops accepting with PORT', async () => {
    const gw = await startTestGateway({ OPS_PORT: '0' });
    const ops = gw.opsUrl ?? '';
    expect((await fetch(`${ops}/`)).status).toBe(200);
    await gw.close();
    await expect(fetch(`${ops}/`)).rejects.toThrow('fetch failed');
    await expect(fetch(`${gw.url}/`)).rejects.toThrow('fetch failed');
  });
});
