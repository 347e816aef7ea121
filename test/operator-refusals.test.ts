/**
 * What an operator finds when the gateway will not start: in production the only record is
 * the task's log (CloudWatch, queried by the JSON fields of the lines on stdout), so every
 * start-up failure is a `fatal` line there, in the gateway's log format, as well as one plain
 * line on stderr for a person at a terminal. The real process, as `npm start` runs it.
 */
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, spawnGateway, waitFor, type SpawnedGateway } from './helpers/index.js';

/** The exit code, or 'still running' (and the process killed) when it did not exit within `ms`. */
async function exitedWithin(gw: SpawnedGateway, ms = 30_000): Promise<number | null | 'still running'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'still running'>((resolve) => (timer = setTimeout(() => resolve('still running'), ms)));
  const code = await Promise.race([gw.exited, late]);
  clearTimeout(timer);
  if (code === 'still running') gw.child.kill('SIGKILL');
  return code;
}

/** Every stdout line, parsed: each must be a JSON object (a plain-text line fails the test). */
function logLines(gw: SpawnedGateway): Record<string, unknown>[] {
  return gw
    .stdout()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe('a refused configuration', () => {
  it('is one fatal JSON line on stdout naming every bad variable, what was sent and what is allowed, never a secret', async () => {
    const token = ' secret-admin-token-0123';
    const password = 'Pa55wordSECRET';
    const gw = await spawnGateway(
      {
        PORT: 'abc',
        MAX_BATCH: '0',
        LOG_LEVEL: 'loud',
        ADMIN_TOKEN: token,
        MLFLOW_TRACKING_URI: `http://alice:${password}@mlflow:5000`,
        MODEL_URI: 'models:/telco-churn@champion',
        MAX_BACTH: '10',
      },
      { waitReady: false },
    );
    expect(await exitedWithin(gw)).toBe(1);
    const lines = logLines(gw);
    // The misspelling (which may be why the setting meant is refused), then the refusal.
    expect(lines.map((l) => [l['level'], l['msg']])).toEqual([
      ['warn', expect.stringContaining('environment variable MAX_BACTH is not read by the gateway; did you mean MAX_BATCH?')],
      ['fatal', 'cannot start'],
    ]);
    const fatal = lines[1] as Record<string, unknown>;
    expect(fatal).toMatchObject({ service: 'churn-gateway', time: expect.stringMatching(ISO_TIME) });
    expect(fatal['problems']).toEqual([
      { variable: 'PORT', problem: 'must be an integer from 0 to 65535', sent: 'abc' },
      { variable: 'LOG_LEVEL', problem: 'must be one of "fatal", "error", "warn", "info", "debug", "trace", "silent"', sent: 'loud' },
      { variable: 'MAX_BATCH', problem: 'must be an integer from 1 to 1000000', sent: '0' },
      { variable: 'MLFLOW_TRACKING_URI', problem: expect.stringMatching(/^must not contain credentials/), sent: 'http://***@mlflow:5000' },
      { variable: 'ADMIN_TOKEN', problem: expect.stringMatching(/^begins or ends with whitespace/) },
    ]);
    expect(fatal['err']).toMatch(/^invalid configuration: PORT: must be an integer from 0 to 65535; got "abc"; LOG_LEVEL: .*; MAX_BATCH: .*; got "0"; MLFLOW_TRACKING_URI: .*; ADMIN_TOKEN: begins or ends with whitespace/);

    // The same, in words, for a person running it in a terminal, in the same order.
    const stderr = gw.stderr().trim().split('\n');
    expect(stderr).toEqual([expect.stringContaining('environment variable MAX_BACTH is not read by the gateway'), `churn-gateway: ${String(fatal['err'])}`]);
    for (const secret of [token.trim(), password]) {
      expect(gw.stdout()).not.toContain(secret);
      expect(gw.stderr()).not.toContain(secret);
    }
  });

  it('follows LOG_LEVEL when it is valid: silent keeps stdout empty, error still logs the refusal', async () => {
    const silent = await spawnGateway({ LOG_LEVEL: 'silent', MAX_BATCH: 'ten' }, { waitReady: false });
    const error = await spawnGateway({ LOG_LEVEL: 'error', MAX_BATCH: 'ten' }, { waitReady: false });
    expect(await exitedWithin(silent)).toBe(1);
    expect(await exitedWithin(error)).toBe(1);
    expect(silent.stdout()).toBe('');
    expect(silent.stderr()).toBe('churn-gateway: invalid configuration: MAX_BATCH: must be an integer from 1 to 1000000; got "ten"\n');
    expect(logLines(error)).toEqual([expect.objectContaining({ level: 'fatal', msg: 'cannot start', problems: [{ variable: 'MAX_BATCH', problem: 'must be an integer from 1 to 1000000', sent: 'ten' }] })]);
  });
});

/** Listens on a free port of 127.0.0.1; resolves to it. */
async function listeningPort(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as { port: number }).port;
}

describe('a port already in use, or a HOST that is not this machine', () => {
  it('is a fatal JSON line (with the revision) and one plain line naming PORT and the address, and exit 1', async () => {
    const holder = createServer();
    const port = await listeningPort(holder);
    try {
      const gw = await spawnGateway({ PORT: String(port), GATEWAY_REVISION: 'abc1234' }, { waitReady: false });
      expect(await exitedWithin(gw)).toBe(1);
      const fatal = logLines(gw).filter((l) => l['level'] === 'fatal');
      // With the build it happened on, as "why a task did not start" shows it.
      expect(fatal).toEqual([expect.objectContaining({ msg: 'cannot start', err: `PORT ${port}: listen EADDRINUSE: address already in use 127.0.0.1:${port}`, revision: 'abc1234' })]);
      expect(gw.stderr()).toBe(`churn-gateway: cannot start: PORT ${port}: listen EADDRINUSE: address already in use 127.0.0.1:${port}\n`);
    } finally {
      holder.close();
    }
  });

  it('names OPS_PORT when the operations port is the one taken', async () => {
    const holder = createServer();
    const port = await listeningPort(holder);
    try {
      const gw = await spawnGateway({ PORT: '0', OPS_PORT: String(port) }, { waitReady: false });
      expect(await exitedWithin(gw)).toBe(1);
      expect(gw.stderr()).toBe(`churn-gateway: cannot start: OPS_PORT ${port}: listen EADDRINUSE: address already in use 127.0.0.1:${port}\n`);
    } finally {
      holder.close();
    }
  });

  // 192.0.2.1 is TEST-NET-1: never this machine's. The value is quoted, so a trailing space shows.
  it.each(['192.0.2.1', '192.0.2.1 '])('names HOST, quoted, when HOST=%j is not an address of this machine', async (host) => {
    const gw = await spawnGateway({ PORT: '0', HOST: host }, { waitReady: false });
    expect(await exitedWithin(gw)).toBe(1);
    expect(gw.stderr()).toMatch(new RegExp(`^churn-gateway: cannot start: HOST ${JSON.stringify(host).replace(/\./g, '\\.')}: (listen EADDRNOTAVAIL|getaddrinfo E[A-Z_]+)[^\n]*\n$`));
  });
});

describe('stopping a gateway that is starting', () => {
  it('SIGTERM while the start-up load waits for MLflow ends the load and exits 0 at once, without falling back to the bundle', async () => {
    // An MLflow that accepts connections and never answers (a hung server, a black-holed route).
    const sockets: Socket[] = [];
    const mlflow = createServer((socket) => void sockets.push(socket));
    const port = await listeningPort(mlflow);
    try {
      const gw = await spawnGateway(
        { MLFLOW_TRACKING_URI: `http://127.0.0.1:${port}`, MODEL_URI: 'models:/telco-churn@champion', SHUTDOWN_TIMEOUT_MS: '20000' },
        { waitReady: false },
      );
      // waitFor's 30 s, as spawnGateway allows a start: tsx compiles the gateway first, slow on a loaded machine.
      await waitFor('the gateway to ask MLflow', () => sockets.length > 0 && gw.stdout().includes('"msg":"loading model from MLflow"'));
      // And to listen: the load starts before it, and its signal handlers are set up once it
      // listens (a SIGTERM before then ended the process by the signal, as a loaded machine saw).
      await waitFor('the gateway to listen', () => fetch(`${gw.url}/`).then((r) => r.status === 503, () => false));
      const signalledAt = Date.now();
      gw.child.kill('SIGTERM');
      expect(await exitedWithin(gw), gw.stderr()).toBe(0);
      expect(Date.now() - signalledAt).toBeLessThan(10_000);
      const lines = logLines(gw);
      expect(lines.map((l) => l['msg'])).toEqual(['loading model from MLflow', 'shutting down: draining', 'start-up load from MLflow stopped: shutting down', 'stopped']);
      expect(lines.at(-1)).toMatchObject({ drained: true });
      expect(gw.stderr()).toBe('');
    } finally {
      for (const s of sockets) s.destroy();
      mlflow.close();
    }
  });

  it('SIGTERM before the gateway listens (its model load under way) is handled: drained, exit 0, not killed by the signal', async () => {
    const gw = await spawnGateway({}, { waitReady: false, nodeArgs: ['--import', `${REPO_ROOT}test/fixtures/slow-listen.mjs`] });
    await waitFor('the gateway to start loading', () => gw.stdout().includes('"msg":"loading model bundle"'), 30_000, 20);
    expect(await fetch(`${gw.url}/`).then(() => 'listening', () => 'not listening')).toBe('not listening');
    gw.child.kill('SIGTERM');
    expect(await exitedWithin(gw), gw.stderr()).toBe(0);
    const msgs = logLines(gw).map((l) => l['msg']);
    expect(msgs).toContain('shutting down: draining');
    expect(logLines(gw).at(-1)).toMatchObject({ msg: 'stopped', drained: true });
  }, 60_000);

  it('SIGINT (Ctrl-C in a terminal) drains and exits 0 like SIGTERM', async () => {
    const gw = await spawnGateway({});
    gw.child.kill('SIGINT');
    expect(await exitedWithin(gw)).toBe(0);
    const lines = logLines(gw);
    expect(lines.find((l) => l['msg'] === 'shutting down: draining')).toMatchObject({ reason: 'SIGINT' });
    expect(lines.at(-1)).toMatchObject({ msg: 'stopped', drained: true });
  });
});
